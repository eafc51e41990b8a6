"""Candidate pages from alert feeds (RSS 0.9x/1.0/2.0, Atom), streamed.

Google Alerts, Talkwalker and most monitoring services deliver to a feed. Google
Alerts' item links are redirects, ``https://www.google.com/url?rct=j&sa=t&url=REAL&...``:
:func:`unwrap_alert_url` reads the real URL from the query, offline (Google is
never fetched).

Memory: a feed is read with lxml's ``iterparse``, one entry at a time, each
element cleared once read, so a 50,000-entry feed takes a few MB (measured in
benchmarks/mentions). feedparser, which builds the whole document (a
50,000-entry, 21 MB Atom feed: 330 MB resident and over a minute, measured),
is kept as the fallback for the small documents that are not XML at all (an
RSS feed with HTML soup inside), where its tolerance matters and their size does not.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from linkcrawler.imports.reader import MAX_URL_CHARS
from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

__all__ = ["FeedEntry", "FeedError", "read_feed", "unwrap_alert_url"]

logger = logging.getLogger(__name__)

#: The largest document read with feedparser (whole, in memory) when it is not XML.
FEEDPARSER_MAX_BYTES = 2 * 1024 * 1024
_ENTRY_TAGS = frozenset({"item", "entry"})
#: Root elements of RSS (0.9x, 2.0), RSS 1.0 (RDF) and Atom documents.
_FEED_ROOTS = frozenset({"rss", "rdf", "feed", "channel"})


class FeedError(ValueError):
    """The value is neither a readable feed file nor a feed document."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed: the page it points to (unwrapped, normalized) and its position."""

    position: int
    url: str
    title: str = ""


def unwrap_alert_url(url: str) -> str:
    """The real URL of a Google redirect link (``google.TLD/url?...&url=REAL``), else ``url`` as it is."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    is_google = "google" in labels[:-1] and labels[-1] not in ("", "google") and (
        labels[0] in ("google", "www") or labels[:2] == ["news", "google"])
    if is_google and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            for value in query.get(key, []):
                if value.lower().startswith(("http://", "https://")):
                    return value
    return url.strip()


def read_feed(source: str | bytes) -> Iterator[FeedEntry]:
    """The entries of a feed: ``source`` is a file path or the document's bytes.

    Entries without a usable http(s) link are skipped (and logged at debug level).
    ``FeedError`` when the document holds no feed at all.
    """
    if isinstance(source, bytes):
        stream: IO[bytes] = io.BytesIO(source)
        size = len(source)
    else:
        try:
            # Closed by the ``with`` below: the generator owns it.
            stream = open(source, "rb")
        except OSError as exc:
            raise FeedError(f"cannot read the feed {source!r}: {exc.strerror or exc}") from None
        size = os.fstat(stream.fileno()).st_size
    with stream:
        count = 0
        root: list[str] = []
        try:
            for entry in _iterparse(stream, root):
                count += 1
                if entry is not None:
                    yield entry
        except etree.XMLSyntaxError as exc:
            if count:
                logger.warning("feed: not well-formed after %d entries (%s); the rest is skipped", count, exc)
                return
        if count or (root and root[0] in _FEED_ROOTS):
            return  # a feed, possibly empty (an alert with nothing new)
        if size > FEEDPARSER_MAX_BYTES:
            raise FeedError(f"not an RSS or Atom feed (no entry read from {size} bytes)")
        stream.seek(0)
        yield from _feedparser_entries(stream.read())


def _iterparse(stream: IO[bytes], root: list[str]) -> Iterator[FeedEntry | None]:
    """The entries of the document, each cleared once read; ``root`` gets the root element's name."""
    position = 0
    context = etree.iterparse(
        stream, events=("start", "end"), recover=True, resolve_entities=False, no_network=True, huge_tree=True,
    )
    for event, element in context:
        if not isinstance(element.tag, str):
            continue
        if event == "start":
            if not root:
                root.append(etree.QName(element).localname.lower())
            continue
        if etree.QName(element).localname not in _ENTRY_TAGS:
            continue
        position += 1
        link, title = _entry_link(element)
        yield _entry(position, link, title)
        # Bounded memory: the entry and everything before it is dropped once read.
        element.clear()
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]


def _entry_link(element: Any) -> tuple[str | None, str]:
    link = None
    title = ""
    fallback = None
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "link":
            href = child.get("href")
            if href is not None:  # Atom: the alternate link (rel absent means alternate)
                if child.get("rel") in (None, "alternate") and link is None:
                    link = href
            elif child.text and child.text.strip() and link is None:
                link = child.text.strip()
        elif name == "guid" and child.get("isPermaLink", "true").lower() != "false" and child.text:
            fallback = child.text.strip()
        elif name == "title" and child.text:
            title = child.text
    if link is None:
        about = element.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        link = fallback or about
    return link, title


def _entry(position: int, link: str | None, title: str) -> FeedEntry | None:
    if not link or len(link) > MAX_URL_CHARS:
        logger.debug("feed: entry %d has no usable link", position)
        return None
    try:
        url = normalize_url(unwrap_alert_url(link))
    except ValueError:
        logger.debug("feed: entry %d links to an unusable URL", position)
        return None
    return FeedEntry(position, url, squash(title, 300))


def _feedparser_entries(document: bytes) -> Iterator[FeedEntry]:
    import feedparser  # only for the rare document that is not XML

    parsed = feedparser.parse(document, resolve_relative_uris=False, sanitize_html=False)
    if not parsed.entries:
        raise FeedError("not an RSS or Atom feed (no entry found)")
    for position, item in enumerate(parsed.entries, start=1):
        entry = _entry(position, item.get("link"), item.get("title") or "")
        if entry is not None:
            yield entry
