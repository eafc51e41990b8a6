"""Why a link was lost, in words, from what surrounded it at its last live check.

Every live check keeps the link's context (:class:`~linkcrawler.web.context.LinkContext`:
the text just before and after the anchor, the anchor, its heading and a
fingerprint of its paragraph). When a later check finds the page without the
link, :func:`explain_removal` compares that context with the page as it is now
and says which of these happened:

- the href now points elsewhere: "the link now points elsewhere: now links to
  competitor.example/best-tools (another domain)": a link in the same paragraph
  (or, the paragraph gone, anywhere on the page) has the old anchor text;
- the paragraph is still there but the link was edited out: the paragraph is
  found (same fingerprint, or holding the text that was just before or after the
  link) and quoted, bounded;
- the link's paragraph is gone (content rewritten): none of it is found.

The page being gone, redirected or noindexed keep their own reasons
(:mod:`linkcrawler.backlinks.verdict`); a link that turns nofollow gets
:func:`degraded_reason`. Pure functions of plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from linkcrawler.web.context import CONTEXT_CHARS, fingerprint_text, paragraphs
from linkcrawler.web.links import NOT_FOLLOWED_RELS, resolve_href
from linkcrawler.web.page import PageAnalysis
from linkcrawler.web.text import squash
from linkcrawler.web.urls import host_of, normalize_url, registrable_domain

__all__ = ["QUOTE_CHARS", "degraded_reason", "explain_removal", "short_url"]

#: Characters of a paragraph quoted in a reason.
QUOTE_CHARS = 160
#: Characters of the text around a link that must be found again to recognise its paragraph.
_PROBE_CHARS = 40
_MIN_PROBE = 12


def short_url(url: str, limit: int = 80) -> str:
    """``host/path`` of ``url`` (no scheme, no query), at most ``limit`` characters."""
    parts = urlsplit(url)
    text = (parts.hostname or "") + (parts.path if parts.path not in ("", "/") else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(text: str) -> str:
    text = squash(text)
    return "“" + (text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…") + "”"


def _same_words(a: str, b: str) -> bool:
    return bool(a) and squash(a).casefold() == squash(b).casefold()


def _probes(context: Mapping[str, Any]) -> list[str]:
    before = squash(context.get("before") or "")[-_PROBE_CHARS:].casefold()
    after = squash(context.get("after") or "")[:_PROBE_CHARS].casefold()
    return [probe for probe in (before, after) if len(probe) >= _MIN_PROBE]


def _find_paragraph(page: PageAnalysis, context: Mapping[str, Any]) -> tuple[Any, str] | None:
    """The block of ``page`` that was the link's paragraph: same fingerprint, else the
    smallest holding the text that was just before or after the link."""
    fingerprint = context.get("paragraph")
    probes = _probes(context)
    best: tuple[Any, str] | None = None
    for element, text in paragraphs(page):
        if fingerprint and fingerprint_text(text, squashed=True) == fingerprint:
            return element, text
        folded = text.casefold()
        if probes and any(probe in folded for probe in probes) and (best is None or len(text) < len(best[1])):
            best = (element, text)
    return best


def _elsewhere(element: Any, base_url: str, anchor: str, target: str) -> str | None:
    """Where a link under ``element`` with the old anchor text now points, when not to ``target``.

    The anchor text is compared first: only matching links are resolved (a page
    may carry thousands of links).
    """
    if not anchor:
        return None
    for link in element.iter("a", "area"):
        href = link.get("href")
        if href is None or not _same_words("".join(link.itertext()), anchor):
            continue
        url = resolve_href(href, base_url)
        if url and url != target:
            return url
    return None


def _now_links_to(url: str, target: str) -> str:
    other = registrable_domain(host_of(url)) != registrable_domain(host_of(target))
    where = "another domain" if other else "same domain as the target"
    return f"the link now points elsewhere: now links to {short_url(url)} ({where})"


def explain_removal(
    previous: Mapping[str, Any] | None, page: PageAnalysis, target_url: str, detail: str, *, keep_detail: bool = False
) -> str:
    """The reason a link found missing on ``page`` was lost, from its last live ``previous`` context.

    ``detail`` is the verdict's own reason ("no link to T on the page", "T appears
    only in a script"); it is returned as it is when there is no context to compare
    with (a link never seen live, a page not parsed whole), and kept after the
    cause with ``keep_detail`` (where the target still appears says something).
    """
    if not previous or page.tree is None:
        return detail
    target = normalize_url(target_url)
    anchor = previous.get("anchor") or ""
    found = _find_paragraph(page, previous)
    cause: str
    if found is not None:
        element, text = found
        moved_to = _elsewhere(element, page.base_url, anchor, target)
        if moved_to is not None:
            cause = _now_links_to(moved_to, target)
        else:
            cause = f"the paragraph is still there but the link was edited out: {_quote(text)}"
    else:
        moved_to = _elsewhere(page.tree, page.base_url, anchor, target)
        if moved_to is not None:
            cause = _now_links_to(moved_to, target)
        else:
            cause = "the link's paragraph is gone (content rewritten)"
            heading = previous.get("heading") or ""
            if heading and heading.casefold() in squash(page.visible_text).casefold():
                cause += f"; its section {_quote(heading[:CONTEXT_CHARS])} is still there"
    return f"{cause}; {detail}" if keep_detail else cause


def degraded_reason(previous_status: str, previous_rel: Sequence[str], status: str, reason: str) -> str:
    """``reason`` for a link now ``status``, saying "the link became nofollow" when it was followed."""
    was_followed = NOT_FOLLOWED_RELS.isdisjoint(r.lower() for r in previous_rel)
    if status == "nofollow" and previous_status == "live" and was_followed:
        return f"the link became nofollow ({reason})"
    return reason
