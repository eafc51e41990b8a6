"""What a page says to a reader: its main text in blocks, and who wrote it when.

:func:`main_content` reads the page's main content with trafilatura, the
maintained main-content extractor (benchmarked against readability, jusText,
goose and boilerpipe in its own and third-party evaluations), so menus,
footers, sidebars, cookie banners, scripts, styles, HTML comments, ``alt``
attributes and URLs are left out without hand-written boilerplate rules.
The result is a list of :class:`Block` (headings, paragraphs, list items,
quotes, table cells) with the links trafilatura kept inside each, resolved
against the page URL: what "in the same paragraph" means.

:func:`page_metadata` says the page's title, author and publication date when
the page states them: schema.org JSON-LD (read with extruct) first, as the most
explicit statement, then trafilatura's metadata (``<meta>`` tags, Open Graph,
bylines) with htmldate for the date, restricted to dates the page states
(``extensive_search`` off: no guess from the text).

Both are pure and take the decoded HTML; they never raise on bad content.
Reused by every capability that reads a page as a person does (mentions; later
the toxic audit and lost-link proofs).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any

from linkcrawler.web.text import printable, squash

__all__ = ["Block", "PageContent", "PageMetadata", "main_content", "page_metadata"]

logger = logging.getLogger(__name__)

#: trafilatura's output tags that hold a reader's unit of text, and what each is.
_BLOCK_KINDS = {"head": "heading", "p": "paragraph", "item": "item", "quote": "quote",
                "cell": "cell", "code": "code"}
#: Longest metadata value kept (a title, an author list).
_MAX_META_CHARS = 300
#: schema.org types whose author and dates are the page's own.
_ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "techarticle",
    "scholarlyarticle", "analysisnewsarticle", "opinionnewsarticle", "reviewnewsarticle",
    "review", "webpage", "posting", "socialmediaposting", "discussionforumposting",
    "liveblogposting", "creativework", "medicalwebpage", "aboutpage", "qapage",
})
_DATE_PARAMS = {"extensive_search": False, "original_date": True}


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of the main text: a heading, paragraph, list item, quote or table cell."""

    kind: str
    text: str
    """The text as written (line breaks kept)."""
    links: tuple[tuple[str, str], ...] = ()
    """``(url, text)`` of the links inside the block, resolved against the page URL."""


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str = ""
    author: str | None = None
    published: datetime | None = None
    """When the page says it was first published (UTC; midnight when only a day is stated)."""
    sitename: str | None = None


@dataclass(frozen=True, slots=True)
class PageContent:
    """The main text of a page as blocks, in reading order, and its metadata."""

    blocks: tuple[Block, ...] = ()
    metadata: PageMetadata = field(default_factory=PageMetadata)
    has_links: bool = False
    """Whether the extracted blocks carry link information at all (trafilatura's
    last-resort extraction of very short pages keeps text only)."""


@cache
def load_extractors() -> tuple[Any, Any]:
    """trafilatura and extruct's JSON-LD extractor, imported on first use.

    Importing them (with bs4, which extruct brings) takes about 0.3 s. Scrapy
    imports every command and spider module whatever the command, so a
    module-level import would cost every ``scrapy`` command that, ``importlinks``
    and ``linkstatus`` included (measured: ``scrapy linkstatus --help`` 0.82 -> 0.52 s).
    The mentions spider, their one user, calls this when it is made, so the
    import never blocks a running crawl.
    """
    import trafilatura
    from extruct.jsonld import JsonLdExtractor

    # trafilatura logs a page without main content as WARNING/ERROR ("discarding data",
    # "empty HTML tree"), with the URL unescaped: an expected outcome here, and a third-party
    # string in a log line. What matters is counted by the spiders instead.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    return trafilatura, JsonLdExtractor


def main_content(html: str, url: str | None = None) -> PageContent:
    """The main text of ``html`` (boilerplate removed) with its metadata; empty when there is none."""
    if not html or not html.strip():
        return PageContent()
    trafilatura, _ = load_extractors()
    structured = _json_ld(html, url)
    try:
        document = trafilatura.bare_extraction(
            html, url=url, include_links=True, include_comments=False, include_images=False,
            include_tables=True, with_metadata=True, date_extraction_params=_DATE_PARAMS,
        )
    except Exception as exc:  # trafilatura parses hostile input; one bad page must not stop a crawl
        logger.debug("content: trafilatura failed on %s: %s", printable(url or ""), printable(repr(exc))[:200])
        document = None
    if document is None:
        return PageContent(metadata=_merge_metadata(structured, None))
    body = getattr(document, "body", None)
    blocks = _blocks(body) if body is not None else ()
    has_links = body is not None and next(body.iter("ref"), None) is not None
    return PageContent(blocks=blocks, metadata=_merge_metadata(structured, document), has_links=has_links)


def page_metadata(html: str, url: str | None = None) -> PageMetadata:
    """Title, author, publication date and site name that the page states."""
    return main_content(html, url).metadata


# --- blocks -----------------------------------------------------------------------


def _blocks(body: Any) -> tuple[Block, ...]:
    blocks = []
    for element in body.iter(*_BLOCK_KINDS):
        # The innermost blocks only: a quote holding paragraphs is read as its paragraphs.
        if any(True for _ in element.iterdescendants(*_BLOCK_KINDS)):
            continue
        text = "".join(element.itertext())
        if not text.strip():
            continue
        links = tuple(
            (ref.get("target") or "", "".join(ref.itertext()))
            for ref in element.iter("ref") if ref.get("target")
        )
        blocks.append(Block(_BLOCK_KINDS[element.tag], text, links))
    return tuple(blocks)


# --- metadata ---------------------------------------------------------------------


def _json_ld(html: str, url: str | None) -> dict[str, Any]:
    """Title, author and date from the page's schema.org JSON-LD (its article-like object)."""
    try:
        _, json_ld_extractor = load_extractors()
        items = json_ld_extractor().extract(html, base_url=url)
    except Exception:  # malformed JSON-LD is common; it is simply not a statement
        return {}
    found: dict[str, Any] = {}
    for item in _flatten(items):
        types = item.get("@type")
        names = {str(t).lower() for t in (types if isinstance(types, list) else [types]) if t}
        if not names & _ARTICLE_TYPES:
            continue
        if "title" not in found:
            title = item.get("headline") or item.get("name")
            if isinstance(title, str) and title.strip():
                found["title"] = title
        if "author" not in found and (author := _names(item.get("author"))):
            found["author"] = author
        if "published" not in found:
            published = parse_date(item.get("datePublished") or item.get("dateCreated"))
            if published is not None:
                found["published"] = published
    return found


def _flatten(items: Any) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    stack = list(items) if isinstance(items, list) else [items]
    while stack and len(flat) < 200:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            flat.append(item)
            graph = item.get("@graph")
            if isinstance(graph, list):
                stack.extend(graph)
    return flat


def _names(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    names = []
    for entry in values:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip():
            names.append(squash(name))
    return squash("; ".join(dict.fromkeys(names)), _MAX_META_CHARS) or None


_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: Any) -> datetime | None:
    """A stated date or time (ISO 8601) as UTC; ``None`` when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if _DAY_RE.match(text):
            return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _merge_metadata(structured: dict[str, Any], document: Any) -> PageMetadata:
    def text(name: str) -> str | None:
        value = getattr(document, name, None) if document is not None else None
        return squash(value, _MAX_META_CHARS) or None if isinstance(value, str) else None

    title = structured.get("title") or text("title") or ""
    return PageMetadata(
        title=squash(title, _MAX_META_CHARS),
        author=structured.get("author") or text("author"),
        published=structured.get("published") or parse_date(text("date")),
        sitename=text("sitename"),
    )

