"""What a check's outcome means for one backlink: a status and a reason a human reads.

Each function maps one kind of outcome, with plain inputs:

- :func:`classify_backlink`: a page that answered 200 (or another 2xx), read by
  :func:`~linkcrawler.web.page.analyze_page`.
- :func:`classify_http_status`: any other status code.
- :func:`failure_verdict`: a download that produced no response (DNS, TLS...).
- :func:`analyze_redirect_chain`: whether a chain of redirects loops or runs too long.
- :func:`apply_failure_policy`: when repeated failures become ``unreachable``.

Decisions, and why:

**Precedence when the link is present.** ``noindex`` > ``nofollow`` > ``canonicalized``
> ``live``, ordered by how surely the link's value is lost. A noindex page drops out of
the index with every link on it. A nofollow/ugc/sponsored link (or a meta-nofollow
page) is the linking site saying, for this very link, "pass no value". A canonical to
another URL only moves the page's signals to that URL, which as a duplicate normally
carries the same link, so value usually survives, and Google may ignore the hint
altogether. Every signal that applies is kept in ``extra["signals"]`` and named in the
reason, so nothing is hidden by the order.

**Self-canonical.** A canonical counts as "another URL" only if it differs from the
page's final URL by more than the spellings sites routinely canonicalize between:
scheme, a leading ``www.``, a trailing slash and tracking parameters (``utm_*``,
``gclid``...). See :func:`same_page`.

**Status codes.** 2xx: analyse the page. 304: :data:`NOT_MODIFIED` (keep every state).
404/410: ``page_gone``. 401/403/999: ``blocked`` (the contract), and 451 too: a legal
block is usually regional, so it says nothing about the page elsewhere. 407 (our proxy),
408, 425, 429 and 5xx: ``error``, transient. Every other 4xx (400, 402, 405, 406, 422...):
``page_gone``, as Google treats every 4xx but 429 as "this URL has no content". An
unfollowed 3xx, 1xx and codes outside 100-599 (999 aside): ``error``.

**Redirects.** A loop or a chain longer than ``max_hops`` (10, as Googlebot) never
delivers a page: it is a fetch failure, ``error``, counted towards ``unreachable``. A
chain that ends on a page without the link is ``redirected``; one that ends on a
404/410 is ``page_gone`` ("redirects to X, which answers HTTP 404"): there is no page.
An immediate meta refresh (or ``Refresh`` header) on a page without the link is a
redirect hop too (:func:`~linkcrawler.web.redirects.refresh_location`); a page that
carries the link keeps its own state, whatever its refresh says.

**Soft 404s.** A 2xx page without the link that says "not found" (its title or
heading is such a message; or it is short and says so) or that is the site's
answer for a URL that cannot exist is ``page_gone``, with a reason that starts
"soft 404:" and says which evidence (:mod:`linkcrawler.web.softnotfound`). A page
that carries the link is never a soft 404, nor a page carrying another known link.

**Download failures.** A host that does not answer (DNS, refused, reset, timeout,
TLS) is ``error``, also when it was robots.txt that could not be fetched: RFC 9309's
"assume complete disallow" says not to fetch the page now; it does not make a dead
host a robots decision. Only a robots.txt that answers and forbids the page is
``blocked``. A robots.txt answering 5xx is ``error`` too (the server is failing, as
a 5xx page is), and the spider fetches the page anyway on the check that would make
the link ``unreachable`` (see :mod:`linkcrawler.middlewares.robots`), so a link is
declared lost on its own page's answer only. A page larger than ``DOWNLOAD_MAXSIZE``
is ``blocked``: the server answers, the link just cannot be verified, and it must
never become ``unreachable``.

**Failure policy.** ``error`` becomes ``unreachable`` on the ``lost_after``-th
consecutive failure. Any other outcome, ``blocked`` included, resets the count: a
server that answers (even to refuse us) is reachable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from linkcrawler.backlinks.status import Status
from linkcrawler.defaults import LINKCRAWLER_LOST_AFTER
from linkcrawler.web import outcome
from linkcrawler.web.challenge import detect_challenge
from linkcrawler.web.headers import HeadersLike
from linkcrawler.web.links import Link
from linkcrawler.web.mentions import SEEN_IN_PHRASES
from linkcrawler.web.page import PageAnalysis
from linkcrawler.web.redirects import RedirectChain
from linkcrawler.web.softnotfound import PageFingerprint, soft_404_signals
from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

_TRACKING_PARAMS = frozenset(
    {"gclid", "dclid", "fbclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "_ga", "_gl"}
)


@dataclass(frozen=True)
class Verdict:
    """A backlink's status after one check, with the why."""

    status: Status
    reason: str
    """Human detail for ``status_reason``: "HTTP 404", "rel=nofollow", "DNS lookup failed"."""
    anchor_text: str | None = None
    """The anchor text of the reported link, when the link is present."""
    rel: tuple[str, ...] = ()
    """The reported link's rel tokens (lower-case), when the link is present."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Details worth storing: ``signals``, ``canonical``, ``seen_in``, ``exception``..."""

    @property
    def is_failure(self) -> bool:
        """Whether this outcome counts towards ``unreachable`` (:func:`apply_failure_policy`)."""
        return self.status in (Status.ERROR, Status.UNREACHABLE)


@dataclass(frozen=True)
class NotModified:
    """HTTP 304: the page has not changed since the stored validators; keep every state."""

    reason: str = "HTTP 304 not modified"


#: What :func:`classify_http_status` returns for 304.
NOT_MODIFIED = NotModified()


def _normalized_or_none(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return normalize_url(url)
    except ValueError:
        return None


def _page_identity(url: str) -> tuple[str, int | None, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair
        and not (
            (name := pair.split("=", 1)[0].lower()).startswith("utm_") or name in _TRACKING_PARAMS
        )
    )
    return host, parts.port, path, query


def same_page(a: str, b: str) -> bool:
    """Whether two URLs name one page, up to the spellings sites canonicalize between.

    Equal after normalization, or differing only by scheme, a leading ``www.``, a
    trailing slash, or tracking parameters (``utm_*``, ``gclid``, ``fbclid``...).
    """
    na, nb = _normalized_or_none(a) or a, _normalized_or_none(b) or b
    return na == nb or _page_identity(na) == _page_identity(nb)


# --- a page that answered -----------------------------------------------------------


def _joined(phrases: Sequence[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def classify_backlink(
    page: PageAnalysis,
    target_url: str,
    page_url: str | None = None,
    *,
    not_found: PageFingerprint | None = None,
    soft_404: bool = True,
) -> Verdict:
    """The state of the link to ``target_url`` on a page that answered 2xx.

    ``page_url`` is where the check started (the backlink's ``source_url``); when
    it is not the same page as ``page.url`` (the final URL), the fetch was
    redirected and a missing link means ``redirected``. Links match by normalized
    URL. With several links to the target, a followed one wins and its anchor text
    is reported; otherwise the first. ``ValueError`` if ``target_url`` is not http(s).

    A page without the link that is a soft 404 (:func:`~linkcrawler.web.softnotfound.soft_404_signals`:
    it says "not found", or it is the site's answer for a URL that cannot exist,
    whose fingerprint is ``not_found``) is ``page_gone``. ``soft_404=False`` turns
    that off: the caller knows the page carries another link it looks for, so
    it is a real page.
    """
    target = normalize_url(target_url)
    matches = page.links_to(target)
    if matches:
        return _present(page, target, matches)
    return _absent(page, target, page_url, not_found if soft_404 else None, soft_404)


def _present(page: PageAnalysis, target: str, matches: Sequence[Link]) -> Verdict:
    followed = [link for link in matches if link.followed]
    chosen = followed[0] if followed else matches[0]
    reasons: dict[Status, str] = {}
    if page.noindex:
        reasons[Status.NOINDEX] = f"page is noindex ({', '.join(page.noindex_sources)})"
    if not followed:
        reasons[Status.NOFOLLOW] = "rel=" + " ".join(chosen.not_followed_by)
    elif page.nofollow:
        reasons[Status.NOFOLLOW] = f"page is nofollow ({', '.join(page.nofollow_sources)})"
    canonical = page.canonical
    if canonical is not None and not same_page(canonical, page.url):
        reasons[Status.CANONICALIZED] = f"canonical points to {canonical}"
    extra: dict[str, Any] = {"links": len(matches), "signals": [s.value for s in reasons]}
    if canonical is not None:
        extra["canonical"] = canonical
    if not reasons:
        status, reason = Status.LIVE, "followed link found"
    else:
        status, reason = next(iter(reasons.items()))
        others = list(reasons.values())[1:]
        if others:
            reason += "; also " + "; ".join(others)
    return Verdict(status, reason, anchor_text=chosen.anchor_text, rel=chosen.rel, extra=extra)


def _absent(
    page: PageAnalysis, target: str, page_url: str | None, not_found: PageFingerprint | None, soft_404: bool
) -> Verdict:
    extra: dict[str, Any] = {"links": 0}
    if page.challenge:
        extra["challenge"] = page.challenge
        return Verdict(Status.BLOCKED, f"bot challenge ({page.challenge})", extra=extra)
    source = _normalized_or_none(page_url)
    moved = source is not None and not same_page(source, page.url)
    why = soft_404_signals(page, not_found) if soft_404 else None
    if why is not None:
        extra["soft_404"] = why
        if moved:
            extra["final_url"] = page.url
            return Verdict(Status.PAGE_GONE, f"redirects to {page.url}, which is a soft 404: {why}", extra=extra)
        return Verdict(Status.PAGE_GONE, f"soft 404: {why}", extra=extra)
    places = page.mentions(target)
    extra["seen_in"] = list(places)
    if page.refresh_url:
        extra["refresh_url"] = page.refresh_url
    if places:
        detail = f"{target} appears only " + _joined([SEEN_IN_PHRASES[p] for p in places])
    else:
        detail = f"no link to {target} on the page"
    if not page.is_html:
        detail += f" ({page.content_type or 'not HTML'})"
    host = (urlsplit(target).hostname or "").lower()
    if page.links_truncated and host not in page.tracked_hosts:
        kept = len(page.raw_links)
        detail += f" (only the first {kept:,} of {page.link_count:,} links were read)"
    if moved:
        extra["final_url"] = page.url
        reason = f"redirects to {page.url}, which has no link to {target}"
        if places:
            reason += f" ({detail})"
        return Verdict(Status.REDIRECTED, reason, extra=extra)
    return Verdict(Status.REMOVED, detail, extra=extra)


# --- status codes -------------------------------------------------------------------


def _retry_after(value: str | None) -> tuple[str, dict[str, Any]]:
    if not value or not value.strip():
        return "", {}
    value = squash(value, 64)
    if value.isdigit():
        return f", retry after {int(value)} s", {"retry_after": int(value)}
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return "", {"retry_after": value}
    return f", retry after {value}", {"retry_after": value, "retry_after_at": when}


def classify_http_status(
    status: int, retry_after: str | None = None, headers: HeadersLike | None = None
) -> Verdict | NotModified | None:
    """The verdict for a response status, or ``None`` when the page must be analysed.

    ``None`` for 2xx, :data:`NOT_MODIFIED` for 304. ``retry_after`` (the header's
    value, seconds or an HTTP date) is noted on transient errors. With ``headers``,
    a challenge announced by a header (``cf-mitigated: challenge``) makes any status
    ``blocked``. The full mapping and its reasons are in the module docstring.
    """
    if 200 <= status < 300:
        return None
    if status == 304:
        return NOT_MODIFIED
    extra: dict[str, Any] = {"http_status": status}
    challenge = detect_challenge(headers, "") if headers is not None else None
    if challenge:
        extra["challenge"] = challenge
        return Verdict(Status.BLOCKED, f"bot challenge ({challenge}), HTTP {status}", extra=extra)
    if status in (404, 410):
        return Verdict(Status.PAGE_GONE, f"HTTP {status}", extra=extra)
    if status in (401, 403, 999):
        return Verdict(Status.BLOCKED, f"HTTP {status}", extra=extra)
    if status == 451:
        return Verdict(Status.BLOCKED, "HTTP 451 (unavailable for legal reasons)", extra=extra)
    if 400 <= status < 500 and status not in (407, 408, 425, 429):
        return Verdict(Status.PAGE_GONE, f"HTTP {status}", extra=extra)
    if 300 <= status < 400:
        return Verdict(Status.ERROR, f"HTTP {status} redirect not followed", extra=extra)
    if not 100 <= status < 600:
        return Verdict(Status.ERROR, f"HTTP {status} (not a valid status)", extra=extra)
    suffix, retry = _retry_after(retry_after)
    extra.update(retry)
    return Verdict(Status.ERROR, f"HTTP {status}{suffix}", extra=extra)



# --- download failures --------------------------------------------------------------


def failure_verdict(failure: BaseException | str | Any) -> Verdict:
    """The verdict for a download that produced no usable response.

    The failure is classified by the one classifier every capability shares
    (:func:`linkcrawler.web.outcome.classify_failure`); for a backlink, a
    robots.txt that answers and refuses is ``blocked``, and so are a host the
    address guard refuses and a page larger
    than ``DOWNLOAD_MAXSIZE`` (it answers, but cannot be verified); an
    ``HttpError`` is classified by its status; everything else is ``error`` with
    the classifier's reason (a robots.txt that could not be read included: its
    host is unreachable or failing).
    ``extra["failure"]`` is the precise cause (``dns_error``, ``connection_reset``...).
    """
    found = outcome.classify_failure(failure)
    if found.http_status is not None:
        verdict = classify_http_status(found.http_status)
        if isinstance(verdict, Verdict):
            return verdict
    extra: dict[str, Any] = {"failure": found.cause, "exception": found.exception}
    if found.message:
        extra["message"] = found.message
    if found.cause == "too_large":
        return Verdict(Status.BLOCKED, _too_large_reason(found.message), extra=extra)
    if found.kind is outcome.ErrorKind.ROBOTS_DISALLOWED and found.cause != outcome.ROBOTS_SERVER_ERROR:
        return Verdict(Status.BLOCKED, found.reason, extra=extra)
    if found.kind is outcome.ErrorKind.REFUSED_ADDRESS:
        # The address guard would not let us fetch it: not verified, not a failure of the page.
        return Verdict(Status.BLOCKED, found.reason, extra=extra)
    return Verdict(Status.ERROR, found.reason, extra=extra)


_MAX_SIZE = re.compile(r"max size \((\d+)\)")
_SIZE = re.compile(r"(\d+) bytes")


def _too_large_reason(message: str) -> str:
    """"cannot be verified: page larger than DOWNLOAD_MAXSIZE (N bytes)", from Scrapy's message."""
    limit = _MAX_SIZE.search(message)
    size = _SIZE.search(message)
    reason = "cannot be verified: page larger than DOWNLOAD_MAXSIZE"
    if limit:
        reason += f" ({int(limit.group(1)):,} bytes)"
    if size:
        reason += f"; it has {int(size.group(1)):,} bytes"
    return reason


def redirect_failure(chain: RedirectChain) -> Verdict | None:
    """The ``error`` verdict for a redirect loop or an over-long chain, else ``None``."""
    problem = chain.problem
    if problem is None:
        return None
    kind, reason = problem
    return Verdict(Status.ERROR, reason, extra={"failure": str(kind), "redirect_chain": chain.as_documents()})


# --- the failure policy -------------------------------------------------------------


def apply_failure_policy(
    verdict: Verdict,
    consecutive_failures_before: int,
    lost_after: int = LINKCRAWLER_LOST_AFTER,
) -> tuple[Status, int]:
    """The status to store and the new ``consecutive_failures`` count.

    A failure (``error``) adds one to the count and is stored as ``unreachable``
    once the count reaches ``lost_after`` (``LINKCRAWLER_LOST_AFTER``), ``error``
    before. Any other verdict resets the count to 0 and keeps its status;
    ``blocked`` too, since a server that refuses us did answer. (A 304 keeps the
    previous states; reset the count for it as well.)
    """
    if lost_after < 1:
        raise ValueError(f"lost_after must be at least 1, got {lost_after}")
    if not verdict.is_failure:
        return verdict.status, 0
    count = max(0, consecutive_failures_before) + 1
    return (Status.UNREACHABLE if count >= lost_after else Status.ERROR), count




def with_redirect_context(verdict: Verdict, chain: RedirectChain) -> Verdict:
    """``verdict`` for the end of a redirect chain, its reason saying where it went.

    A destination answering 404/410 keeps ``page_gone`` ("redirects to X, which
    answers HTTP 404"): there is no page. A verdict from :func:`classify_backlink`
    already speaks of the redirect and is returned as it is.
    """
    if not chain.redirects or verdict.status in (Status.REDIRECTED,) or chain.final_url is None:
        return verdict
    if verdict.status in (Status.PAGE_GONE, Status.BLOCKED, Status.ERROR):
        reason = f"redirects to {chain.final_url}, which answers {verdict.reason}"
        if not verdict.reason.startswith("HTTP"):
            reason = f"redirects to {chain.final_url}: {verdict.reason}"
        extra = {**verdict.extra, "final_url": chain.final_url}
        return Verdict(verdict.status, reason, verdict.anchor_text, verdict.rel, extra)
    return verdict


