"""Whether a mention links to us: the mention itself, or a link in the same paragraph.

The links come from :func:`linkcrawler.web.page.analyze_page` (one lxml parse:
hrefs resolved against ``<base>``, rel tokens, anchors); the paragraphs from
:func:`linkcrawler.web.content.main_content`, whose blocks say which links they
hold. A block's link is matched to the page's link by normalized URL (and by
anchor text when one URL is linked several times with different rels), which
gives its rel.

``followed`` when such a link to our domains is followed, ``nofollow`` when every
such link is nofollow, ugc or sponsored (or the page is meta nofollow), ``no``
otherwise. Of several links the one whose anchor holds the term (the mention
itself) is the one reported.

For a page so short that trafilatura kept only its text (no link information,
:attr:`~linkcrawler.web.content.PageContent.has_links` False), a link to us
counts as in the paragraph when its anchor text is written in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from linkcrawler.mentions.match import TermMatch, folded
from linkcrawler.web.content import Block
from linkcrawler.web.links import Link
from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

__all__ = ["FOLLOWED", "NO", "NOFOLLOW", "Linkage", "classify_linkage"]

NO = "no"
FOLLOWED = "followed"
NOFOLLOW = "nofollow"


@dataclass(frozen=True, slots=True)
class Linkage:
    linked: str
    """``no``, ``followed`` or ``nofollow``."""
    link_url: str | None = None
    rel: tuple[str, ...] = ()
    anchor_text: str | None = None


def classify_linkage(
    match: TermMatch, own_links: Sequence[Link], *, has_links: bool = True, page_nofollow: bool = False
) -> Linkage:
    """How ``match`` links to us, given the page's links to our domains (``own_links``)."""
    if not own_links:
        return Linkage(NO)
    by_url: dict[str, list[Link]] = {}
    for link in own_links:
        by_url.setdefault(link.url, []).append(link)
    term = folded(match.term)
    candidates: list[Link] = []
    seen_blocks: set[int] = set()
    for occurrence in match.occurrences:
        block = occurrence.block
        if id(block) in seen_blocks:
            continue
        seen_blocks.add(id(block))
        candidates += _block_links(block, by_url, own_links, has_links)
    if not candidates:
        return Linkage(NO)

    def rank(link: Link) -> tuple[bool, bool]:
        itself = bool(term) and f" {term} " in f" {folded(link.anchor_text)} "
        return (link.followed and not page_nofollow, itself)

    best = max(candidates, key=rank)
    linked = FOLLOWED if best.followed and not page_nofollow else NOFOLLOW
    return Linkage(linked, best.url, best.rel, best.anchor_text or None)


def _block_links(
    block: Block, by_url: dict[str, list[Link]], own_links: Sequence[Link], has_links: bool
) -> list[Link]:
    found: list[Link] = []
    for url, text in block.links:
        try:
            key = normalize_url(url)
        except ValueError:
            continue
        same_url = by_url.get(key)
        if not same_url:
            continue
        anchor = squash(text)
        found.append(next((link for link in same_url if link.anchor_text == anchor), same_url[0]))
    if not has_links:
        text = f" {folded(block.text)} "
        for link in own_links:
            anchor = folded(link.anchor_text)
            if len(anchor) >= 3 and f" {anchor} " in text:
                found.append(link)
    return found
