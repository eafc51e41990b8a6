"""Bot challenges and block pages: a page that stands between the crawler and the real one."""

from __future__ import annotations

import re

from linkcrawler.web.headers import HeadersLike, normalize_headers

__all__ = ["CHALLENGE_MAX_LINKS", "detect_challenge"]

_CAPTCHA_TITLE_RE = re.compile(
    r"\b(captcha|are you (?:a )?(?:human|robot)|verify(?:ing)? (?:that )?you are (?:a )?human"
    r"|human verification|bot (?:check|verification)|security check)\b",
    re.IGNORECASE,
)


#: A page with more links than this is a real page, whatever its text says.
CHALLENGE_MAX_LINKS = 20


def detect_challenge(
    headers: HeadersLike | None,
    text: str,
    title: str | None = None,
    link_count: int | None = None,
) -> str | None:
    """The vendor of a bot challenge or block page, or ``None`` for an ordinary page.

    Conservative on purpose: every marker below appears on the interstitial or block
    page only, never in the scripts vendors add to ordinary pages (Cloudflare's
    ``/cdn-cgi/challenge-platform/`` detection script and DataDome's ``tags.js`` are
    not markers). The classifier only uses this when the link is missing, so a false
    positive can turn ``removed`` into ``blocked`` but never hide a present link.
    Challenge pages carry almost no links: with ``link_count`` above
    :data:`CHALLENGE_MAX_LINKS` only the headers are trusted (an article quoting
    ``_cf_chl_opt`` is not a challenge).

    - ``cloudflare``: ``cf-mitigated: challenge`` header; ``_cf_chl_opt`` / ``cf-chl-``
      in the page; titles "Just a moment..." or "Attention Required! | Cloudflare".
    - ``aws-waf``: ``x-amzn-waf-action: challenge|captcha`` header.
    - ``akamai``: a reference to ``errors.edgesuite.net`` (its "Access Denied" page).
    - ``perimeterx``: the ``px-captcha`` element of its block page.
    - ``datadome``: a frame from ``captcha-delivery.com``.
    - ``imperva``: "Incapsula incident ID".
    - ``sucuri``: "Sucuri WebSite Firewall" in the title.
    - ``captcha``: a title asking to prove one is human ("Captcha", "Are you a robot?").
    """
    fields = normalize_headers(headers)
    if any("challenge" in v.lower() for v in fields.get("cf-mitigated", ())):
        return "cloudflare"
    if any(
        v.strip().lower() in ("challenge", "captcha") for v in fields.get("x-amzn-waf-action", ())
    ):
        return "aws-waf"
    if link_count is not None and link_count > CHALLENGE_MAX_LINKS:
        return None
    lowered_title = (title or "").strip().lower()
    if "_cf_chl_opt" in text or "cf-chl-" in text or lowered_title.startswith("just a moment"):
        return "cloudflare"
    if lowered_title.startswith("attention required!") and "cloudflare" in lowered_title:
        return "cloudflare"
    if "errors.edgesuite.net" in text:
        return "akamai"
    if "px-captcha" in text:
        return "perimeterx"
    if "captcha-delivery.com" in text:
        return "datadome"
    if "incapsula incident id" in text.lower():
        return "imperva"
    if "sucuri website firewall" in lowered_title:
        return "sucuri"
    if _CAPTCHA_TITLE_RE.search(lowered_title):
        return "captcha"
    return None
