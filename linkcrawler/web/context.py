"""What surrounds a link on a page, and what a page's main content is: read from the one lxml parse.

Three readers of :attr:`PageAnalysis.tree <linkcrawler.web.page.PageAnalysis.tree>`,
no second parse and no main-text extractor (the monitor checks every page every
day; trafilatura would cost more than the whole check):

- :func:`link_context`: the text just before and after a link, its anchor, the
  heading it sits under and a fingerprint of its paragraph (the nearest block
  element around it), each bounded (:data:`CONTEXT_CHARS`);
- :func:`content_fingerprint`: a short hash of the page's main text (``<main>``,
  else ``<article>``, else ``<body>`` without navigation, header, footer and
  asides), whose change over checks says how often the page changes;
- :func:`paragraphs`: the block texts of a page, to find where a link's paragraph
  went (:mod:`linkcrawler.backlinks.proof`);
- :func:`looks_script_built`: little text and a JavaScript application's root
  (``<div id="root">``, ``app``, ``__next``...) or a ``<noscript>``: what a
  browser would show is not in the HTML.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from linkcrawler.web.links import resolve_href
from linkcrawler.web.page import PageAnalysis
from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

__all__ = [
    "CONTEXT_CHARS",
    "LinkContext",
    "content_fingerprint",
    "fingerprint_text",
    "link_context",
    "looks_script_built",
    "main_text",
    "paragraphs",
]

#: Characters kept of the text before and after a link, of its anchor and of its heading.
CONTEXT_CHARS = 120
#: Elements a link's "paragraph" can be: the nearest one around the link.
BLOCK_TAGS = frozenset({
    "p", "li", "dd", "dt", "td", "th", "blockquote", "figcaption", "pre", "address",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "div", "main", "body",
})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: Elements that separate words: their text never runs into their neighbours'.
_SPACED = BLOCK_TAGS | {"br", "hr", "tr", "ul", "ol", "table", "img"}
_SKIPPED = frozenset({"script", "style", "noscript", "template"})
#: Ids of the element a JavaScript framework renders the page into.
APP_ROOT_IDS = frozenset({"root", "app", "__next", "__nuxt", "___gatsby", "svelte", "q-app", "main-app"})
#: Below this many characters of main text, a page with scripts looks script-built.
LITTLE_TEXT = 250

_MAIN_TEXT = etree.XPath(
    "descendant-or-self::text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::nav or ancestor::header or ancestor::footer or ancestor::aside)]"
)
_HEADING_BEFORE = etree.XPath(
    "(ancestor-or-self::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
    " | preceding::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6])[last()]"
)


@dataclass(frozen=True, slots=True)
class LinkContext:
    """Where a link sits: enough to say later what happened to it, bounded in size."""

    before: str
    """Up to :data:`CONTEXT_CHARS` of the paragraph's text just before the anchor."""
    anchor: str
    after: str
    """Up to :data:`CONTEXT_CHARS` of the paragraph's text just after the anchor."""
    heading: str
    """The heading the link sits under (the nearest one before it), or ``""``."""
    paragraph: str
    """Fingerprint of the paragraph's whole text (:func:`fingerprint_text`)."""

    def as_document(self) -> dict[str, str]:
        return {"before": self.before, "anchor": self.anchor, "after": self.after,
                "heading": self.heading, "paragraph": self.paragraph}


def fingerprint_text(text: str) -> str:
    """A short, stable fingerprint of a text: case and whitespace do not count."""
    return hashlib.blake2b(squash(text).casefold().encode("utf-8"), digest_size=6).hexdigest()


def main_text(page: PageAnalysis) -> str | None:
    """The page's main text (squashed), or ``None`` when the page was not parsed whole."""
    root = page.tree
    if root is None:
        return None
    body = root.find("body")
    main = next(iter(root.iter("main")), None) or next(iter(root.iter("article")), None)
    scope = main if main is not None else (body if body is not None else root)
    return squash(" ".join(_MAIN_TEXT(scope)))


def content_fingerprint(page: PageAnalysis) -> str | None:
    """:func:`fingerprint_text` of :func:`main_text`; ``None`` for a page not parsed whole."""
    text = main_text(page)
    return None if text is None else fingerprint_text(text)


def looks_script_built(page: PageAnalysis, text: str | None = None) -> bool:
    """Whether what a browser shows is likely built by scripts rather than in the HTML.

    An empty application root (``<div id="root">`` and the like), or little main
    text (under :data:`LITTLE_TEXT` characters) on a page with scripts or a ``<noscript>``.
    """
    root = page.tree
    if root is None or not page.is_html:
        return False
    for element in root.iter("div", "main", "section", "app-root"):
        if (element.get("id") or "").strip().lower() in APP_ROOT_IDS and len(squash("".join(element.itertext()))) < 50:
            return True
    if text is None:
        text = main_text(page) or ""
    if len(text) >= LITTLE_TEXT:
        return False
    return next(iter(root.iter("script", "noscript")), None) is not None


def link_elements(page: PageAnalysis, target_url: str) -> list[Any]:
    """The ``<a>``/``<area>`` elements of ``page`` whose href is ``target_url``, in document order."""
    root = page.tree
    if root is None:
        return []
    target = normalize_url(target_url)
    host = (urlsplit(target).hostname or "").lower()
    base_host = (urlsplit(page.base_url).hostname or "").lower()
    found = []
    for element in root.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        lowered = href.strip().lower()
        absolute = lowered.startswith(("http:", "https:", "//"))
        if absolute and host not in lowered and lowered.isascii() and "%" not in lowered:
            continue
        if not absolute and base_host != host:
            continue
        if resolve_href(href, page.base_url) == target:
            found.append(element)
    return found


def _block_of(element: Any) -> Any:
    for ancestor in element.iterancestors():
        if isinstance(ancestor.tag, str) and ancestor.tag in BLOCK_TAGS:
            return ancestor
    return element.getparent() if element.getparent() is not None else element


def _split_around(block: Any, anchor: Any) -> tuple[str, str, str]:
    """The text of ``block`` before ``anchor``, inside it, and after it (scripts and styles left out)."""
    before: list[str] = []
    inside: list[str] = []
    after: list[str] = []
    current = before
    skipping = 0
    for event, element in etree.iterwalk(block, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if not isinstance(tag, str) or tag in _SKIPPED:
                skipping += 1
                continue
            if skipping:
                continue
            if element is anchor:
                current = inside
            elif tag in _SPACED and element is not block:
                current.append(" ")
            if element.text:
                current.append(element.text)
        else:
            if not isinstance(tag, str) or tag in _SKIPPED:
                skipping -= 1
            elif element is anchor and not skipping:
                current = after
            elif tag in _SPACED and not skipping:
                current.append(" ")
            if element is not block and element.tail and not skipping:
                current.append(element.tail)
    return "".join(before), "".join(inside), "".join(after)


def link_context(page: PageAnalysis, target_url: str) -> LinkContext | None:
    """The surroundings of the link to ``target_url`` (a followed one first), or ``None``.

    ``None`` when the page has no such link or was not parsed whole.
    """
    elements = link_elements(page, target_url)
    if not elements:
        return None
    followed = [e for e in elements if not {"nofollow", "ugc", "sponsored"} & set((e.get("rel") or "").lower().split())]
    anchor = (followed or elements)[0]
    block = _block_of(anchor)
    before, inside, after = _split_around(block, anchor)
    heading_elements = _HEADING_BEFORE(anchor)
    heading = squash("".join(heading_elements[0].itertext()), CONTEXT_CHARS) if heading_elements else ""
    before_text = squash(before)
    return LinkContext(
        before=before_text[-CONTEXT_CHARS:],
        anchor=squash(inside or anchor.get("alt") or anchor.get("title") or "", CONTEXT_CHARS),
        after=squash(after, CONTEXT_CHARS),
        heading=heading,
        paragraph=fingerprint_text(before + inside + after),
    )


def paragraphs(page: PageAnalysis, max_chars: int = 5000) -> Iterator[tuple[Any, str]]:
    """(element, squashed text) of the page's text blocks of at most ``max_chars``, in document order.

    Blocks nest (a ``<div>`` around ``<p>`` elements): both are given, a caller
    looking for a paragraph takes the smallest that matches.
    """
    root = page.tree
    if root is None:
        return
    for element in root.iter(*BLOCK_TAGS):
        text = squash(_split_around(element, None)[0])
        if text and len(text) <= max_chars:
            yield element, text
