"""What surrounds a link on a page, and what a page's main content is: read from the one lxml parse.

Three readers of :attr:`PageAnalysis.tree <linkcrawler.web.page.PageAnalysis.tree>`,
no second parse and no main-text extractor (the monitor checks every page every
day; trafilatura would cost more than the whole check):

- :func:`link_context`: the text just before and after a link, its anchor, the
  heading it sits under and a fingerprint of its paragraph (the nearest block
  element around it), each bounded (:data:`CONTEXT_CHARS`);
- :func:`content_fingerprint`: a short hash of the page's main text (:func:`main_text_bytes`: ``<main>``,
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from linkcrawler.web.links import anchor_text, resolve_href
from linkcrawler.web.page import PageAnalysis, parse_html
from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

__all__ = [
    "CONTEXT_CHARS",
    "LinkContext",
    "content_fingerprint",
    "fingerprint_text",
    "link_context",
    "looks_script_built",
    "main_text_bytes",
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
#: Below this many bytes of main text (whitespace not counted), a page with scripts looks script-built.
LITTLE_TEXT = 250

_HREF_CONTAINS = etree.XPath("descendant::a[contains(@href, $host)]")
#: Left out of the main text: code, and what a site repeats on every page.
_WHITESPACE = b" \t\n\r\x0b\x0c"
_NOT_MAIN = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside")


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


def fingerprint_text(text: str, *, squashed: bool = False) -> str:
    """A short, stable fingerprint of a (paragraph's) text: case and whitespace do not count.

    ``squashed``: ``text`` is :func:`squash`'s already (as :func:`paragraphs` gives it).
    """
    if not squashed:
        text = squash(text)
    return hashlib.blake2b(text.lower().encode("utf-8", "replace"), digest_size=6).hexdigest()


def main_text_bytes(page: PageAnalysis) -> bytes | None:
    """The page's main text as UTF-8 without any whitespace, or ``None`` when the page was not parsed whole.

    What the page's fingerprint and "little text" are made of; never stored or shown.
    Cheap (the one lxml parse, on every backlink check); :func:`linkcrawler.web.content.main_content`
    is the precise reader (trafilatura, for what people read: mentions), at tens of ms a page.
    """
    root = page.tree
    if root is None:
        return None
    body = root.find("body")
    main = next(iter(root.iter("main")), None)
    if main is None:
        main = next(iter(root.iter("article")), None)
    scope = main if main is not None else (body if body is not None else root)
    # Serializing as text is done in C, and so is deleting whitespace from bytes: a
    # 12 KB page costs about 0.03 ms, where an XPath over its text nodes costs 0.7 ms
    # and a str.split() 0.16 ms (measured). The left-out parts are cut the same way.
    text = _bytes_of(scope)
    for element in scope.iter(*_NOT_MAIN):
        part = _bytes_of(element)
        if part:
            text = text.replace(part, b" ", 1)
    return text.translate(None, _WHITESPACE)


def _bytes_of(element: Any) -> bytes:
    text: bytes = etree.tostring(element, method="text", encoding="utf-8", with_tail=False)
    return text


def _text_of(element: Any) -> str:
    text: str = etree.tostring(element, method="text", encoding=str, with_tail=False)
    return text


def content_fingerprint(page: PageAnalysis, content: bytes | None = None) -> str | None:
    """A short hash of :func:`main_text_bytes` (case and whitespace do not count); ``None``
    for a page not parsed whole. ``content``: :func:`main_text_bytes` already computed."""
    if content is None:
        content = main_text_bytes(page)
    if content is None:
        return None
    return hashlib.blake2b(content.lower(), digest_size=6).hexdigest()


def looks_script_built(page: PageAnalysis, content: bytes | None = None) -> bool:
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
    if content is None:
        content = main_text_bytes(page) or b""
    if len(content) >= LITTLE_TEXT:
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
    if host and host != base_host:
        # The usual case, the link to another site: XPath picks the candidates in C;
        # an href spelling the host otherwise (case, percent-encoding) falls through to the loop.
        quick = _anchors_naming(page, host).get(target)
        if quick:
            return list(quick)
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


def _anchors_naming(page: PageAnalysis, host: str) -> dict[str, list[Any]]:
    """The ``<a>`` elements whose href contains ``host``, by resolved URL, in document order.

    Read once per page and host (:attr:`PageAnalysis.memo`): a page's backlinks
    mostly point to one site, and each of them is looked up.
    """
    key = ("anchors naming", host)
    found: dict[str, list[Any]] | None = page.memo.get(key)
    if found is None:
        found = {}
        for element in _HREF_CONTAINS(page.tree, host=host):
            url = resolve_href(element.get("href"), page.base_url)
            if url is not None:
                found.setdefault(url, []).append(element)
        page.memo[key] = found
    return found


def link_headings(page: PageAnalysis) -> dict[Any, Any]:
    """The nearest heading before each ``<a>``/``<area>`` element of ``page``'s tree.

    Nearest in document order: the last heading that starts before the link (one
    around it included), ``None`` when there is none. One walk of the page for all
    its links, kept in :attr:`PageAnalysis.memo`; a walk back from each link would
    cost each link the size of the page before it.
    """
    found: dict[Any, Any] | None = page.memo.get("link headings")
    if found is not None:
        return found
    found = page.memo["link headings"] = {}
    if page.tree is None:
        return found
    heading = None
    for element in page.tree.iter(*_HEADINGS, "a", "area"):
        if element.tag in _HEADINGS:
            heading = element
        else:
            found[element] = heading
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
    heading_element = link_headings(page).get(anchor)
    heading = squash(_text_of(heading_element), CONTEXT_CHARS) if heading_element is not None else ""
    before_text = squash(before)
    return LinkContext(
        before=before_text[-CONTEXT_CHARS:],
        anchor=squash(inside or anchor.get("alt") or anchor.get("title") or "", CONTEXT_CHARS),
        after=squash(after, CONTEXT_CHARS),
        heading=heading,
        paragraph=fingerprint_text(before + inside + after),
    )


def paragraphs(page: PageAnalysis, max_chars: int = 2000) -> Iterator[tuple[Any, str]]:
    """(element, squashed text) of the page's text blocks of at most ``max_chars``, in document order.

    Blocks nest (a ``<div>`` around ``<p>`` elements): both are given, a caller
    looking for a paragraph takes the smallest that matches. One walk of the
    tree gives every block's text as a slice of the page's: linear however deep
    the nesting (a walk per block would cost depth x size).
    """
    root = page.tree
    if root is None:
        return
    pieces: list[str] = []
    length = 0
    spans: list[tuple[Any, int, int]] = []
    opened: dict[Any, int] = {}
    skipping = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if not isinstance(tag, str) or tag in _SKIPPED:
                skipping += 1
                continue
            if skipping:
                continue
            if tag in _SPACED:
                pieces.append(" ")
                length += 1
            if tag in BLOCK_TAGS:
                opened[element] = length
            if element.text:
                pieces.append(element.text)
                length += len(element.text)
        else:
            if not isinstance(tag, str) or tag in _SKIPPED:
                skipping -= 1
            elif not skipping:
                if tag in BLOCK_TAGS and element in opened:
                    spans.append((element, opened.pop(element), length))
                if tag in _SPACED:
                    pieces.append(" ")
                    length += 1
            if element is not root and element.tail and not skipping:
                pieces.append(element.tail)
                length += len(element.tail)
    text = "".join(pieces)
    spans.sort(key=lambda span: span[1])
    for element, begin, end in spans:
        if end - begin > 2 * max_chars:
            continue
        block = squash(text[begin:end])
        if block and len(block) <= max_chars:
            yield element, block


def link_contexts(page: PageAnalysis, urls: Iterable[str]) -> dict[str, str]:
    """The text around the first link to each of ``urls`` (normalized) on ``page``, for people.

    The link's block (paragraph, list item, cell...) as one string, cut to
    :data:`CONTEXT_CHARS` on each side of the anchor ("..." where cut): what an
    opportunity shows of where a dead link stands. Same block and split as
    :func:`link_context`; one walk of the page for all the URLs.
    """
    wanted = set(urls)
    found: dict[str, str] = {}
    root = page.tree
    if root is None and wanted and page.is_html and page.source_text:
        root = parse_html(page.source_text)[0]
    if root is None:
        return found
    for element in root.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        url = resolve_href(href, page.base_url)
        if url is None or url not in wanted or url in found:
            continue
        before, inside, after = _split_around(_block_of(element), element)
        before, after = squash(before), squash(after)
        anchor = squash(inside) or anchor_text(element)
        found[url] = " ".join(part for part in (
            ("..." + before[-CONTEXT_CHARS:].lstrip()) if len(before) > CONTEXT_CHARS else before,
            anchor,
            (squash(after, CONTEXT_CHARS).rstrip() + "...") if len(after) > CONTEXT_CHARS else after,
        ) if part)
        if len(found) == len(wanted):
            break
    return found
