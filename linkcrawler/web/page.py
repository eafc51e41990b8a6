"""What one fetched page says: its links, robots signals, canonical, and where a URL appears.

:func:`analyze_page` runs on every page a spider fetches, so it is one lxml parse
and a handful of tree walks done in C (no ``LinkExtractor``, no Selector per link);
the readers of that one parse live beside it, one concern each:
:mod:`~linkcrawler.web.decode` (bytes to text), :mod:`~linkcrawler.web.headers`
(headers, robots directives, canonical and refresh values),
:mod:`~linkcrawler.web.links` (links and the cap on them),
:mod:`~linkcrawler.web.challenge` (bot challenges), :mod:`~linkcrawler.web.mentions`
(where a URL appears without a link).

Links are kept as written and normalized only when asked for: the backlink spider
asks "is there a link to T?" (:meth:`PageAnalysis.links_to`), which normalizes just
the hrefs that can point to T's host; a site audit asks for every link
(:attr:`PageAnalysis.links`), normalized once through a shared cache. The texts
that only a missing link needs (scripts, ``on*`` handlers, comments, visible text,
to say "the target appears only in a script") are extracted on demand.

Robust by construction: an unknown or non-text charset is skipped, NUL bytes are
dropped, binary bodies are not parsed, at most :data:`~linkcrawler.web.links.MAX_LINKS`
distinct links are kept (and :attr:`PageAnalysis.links_truncated` says so), markup
after ``</html>`` is read as a browser reads it, and a document nested deeper than
libxml2 will go (2048) has its links read by a tolerant scan of the source
(:attr:`PageAnalysis.parsed_fully` is then False).

The spider passes plain values: the URL the body came from, the body (``bytes``, or
``response.text`` with ``response.encoding``), and the headers (any mapping of
name -> value or list of values, ``str`` or ``bytes``: Scrapy's ``Headers`` works).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from linkcrawler.web.challenge import detect_challenge
from linkcrawler.web.decode import decode_body, is_binary
from linkcrawler.web.headers import (
    ROBOTS_META_NAMES,
    HeadersLike,
    link_header_canonicals,
    meta_robots_directives,
    normalize_headers,
    parse_refresh,
    robots_directives,
    robots_sources,
)
from linkcrawler.web.links import (
    MAX_ANCHOR_CHARS,
    MAX_LINKS,
    SCHEME_RE,
    Link,
    LinkCollector,
    RawLink,
    anchor_text,
    clean_href,
    could_point_to,
    hidden_from_readers,
    is_relative,
    rel_tokens,
    resolve_href,
    resolve_relative,
    scan_links,
    target_hosts,
)
from linkcrawler.web.mentions import mention_pattern, page_texts
from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

__all__ = ["PageAnalysis", "analyze_page", "parse_html"]

_HTML_MEDIA_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "application/html"}
)


# --- the result ---------------------------------------------------------------


@dataclass(frozen=True)
class PageAnalysis:
    """Everything a backlink check or a site audit needs from one page, as plain values."""

    url: str
    """The page's own URL, normalized (the final URL when the fetch was redirected)."""
    base_url: str
    """What relative links resolve against: the first ``<base href>``, else ``url``."""
    encoding: str | None = None
    content_type: str = ""
    """The media type from ``Content-Type`` (lower-case, no parameters); may be empty."""
    is_html: bool = True
    """False when the body was not parsed as HTML (PDF, image, plain text...)."""
    title: str = ""
    noindex: bool = False
    """Meta robots/googlebot or X-Robots-Tag says ``noindex`` (or ``none``)."""
    noindex_sources: tuple[str, ...] = ()
    """Where noindex was found: ``meta robots``, ``meta googlebot``, ``X-Robots-Tag``."""
    nofollow: bool = False
    """The page as a whole is nofollow (meta robots or X-Robots-Tag ``nofollow``/``none``)."""
    nofollow_sources: tuple[str, ...] = ()
    canonicals: tuple[str, ...] = ()
    """Distinct normalized canonical URLs: the HTTP ``Link`` header's first, then ``<head>``'s."""
    refresh_url: str | None = None
    """Where a meta refresh (or ``Refresh`` header) sends the browser, normalized."""
    refresh_delay: float | None = None
    challenge: str | None = None
    """The bot-protection vendor when the page is a challenge (see :func:`detect_challenge`)."""
    link_count: int = 0
    """http(s) links found on the page, kept or not, repeats included."""
    distinct_link_count: int = 0
    """Distinct http(s) hrefs (as written) on the page: what ``max_links`` caps."""
    links_truncated: bool = False
    """More than ``max_links`` distinct hrefs: only the first (and those to ``targets``)
    were kept. Spiders should record it: the page's links are incomplete."""
    parsed_fully: bool = True
    """False when libxml2 stopped early (nesting deeper than 2048): links were then
    read from the source with a tolerant scan instead of the tree."""
    content_after_end: bool = False
    """Markup after ``</html>`` (injected footers): read as part of the body, as a
    browser does, though libxml2 alone would drop it."""
    javascript_urls: tuple[str, ...] = field(default=(), repr=False)
    """``javascript:`` hrefs, as written."""
    raw_links: tuple[RawLink, ...] = field(default=(), repr=False, compare=False)
    tracked_hosts: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    """Hosts of the ``targets`` whose links were kept past the ``max_links`` cap."""
    source_text: str = field(default="", repr=False, compare=False)
    """The decoded body, kept for the rarely needed texts below (parsed again on demand)."""
    hidden_links: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)
    """``(href as written, how)`` of the links that may point to a ``targets`` host and
    that the markup hides from readers (:func:`~linkcrawler.web.links.hidden_from_readers`).
    Read from the tree only (empty when libxml2 gave up early)."""
    tree: Any = field(default=None, repr=False, compare=False)
    """The lxml root of the one parse when libxml2 read the whole document, else ``None``:
    the readers of a link's surroundings (:mod:`~linkcrawler.web.context`) walk it."""

    @cached_property
    def memo(self) -> dict[Any, Any]:
        """What readers of :attr:`tree` work out once per page, by a key of their own."""
        return {}

    @cached_property
    def _texts(self) -> dict[str, str]:
        # Only a missing link needs these: parsing again then is cheaper than
        # collecting them on every page.
        if not self.is_html:
            return {"visible": self.source_text}
        return page_texts(parse_html(self.source_text)[0], self.source_text, self.parsed_fully)

    @property
    def script_text(self) -> str:
        """The text of inline ``<script>`` elements (JSON-LD included), one per line."""
        return self._texts.get("script", "")

    @property
    def handler_text(self) -> str:
        """The values of ``on*`` attributes (onclick, onmousedown...), one per line."""
        return self._texts.get("handler", "")

    @property
    def comment_text(self) -> str:
        """The text of HTML comments, one per line."""
        return self._texts.get("comment", "")

    @property
    def visible_text(self) -> str:
        """The body's text without scripts, styles and comments (whitespace as written).

        For a non-HTML text page (``text/plain``...), the whole text.
        """
        return self._texts.get("visible", "")

    @property
    def canonical(self) -> str | None:
        """The canonical URL when the page declares exactly one, else ``None``.

        Conflicting canonicals are ignored, as Google ignores them.
        """
        return self.canonicals[0] if len(self.canonicals) == 1 else None

    @cached_property
    def _base_origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}/"

    def _resolution_base(self, href: str) -> str:
        # A root-relative href resolves the same from every page of a site: keyed
        # on the origin, the site's navigation is normalized once, not per page.
        if href.startswith("/") and not href.startswith("//"):
            return self._base_origin
        return self.base_url

    @cached_property
    def _base_host(self) -> str:
        return (urlsplit(self.base_url).hostname or "").lower()

    @cached_property
    def links(self) -> tuple[Link, ...]:
        """Every kept link, resolved and normalized, in document order."""
        result = []
        for raw in self.raw_links:
            link = self._resolve(raw)
            if link is not None:
                result.append(link)
        return tuple(result)

    def links_to(self, target_url: str) -> tuple[Link, ...]:
        """The links whose normalized URL equals ``target_url``'s, in document order.

        Only hrefs that can point to the target's host are normalized, which keeps
        this cheap on link-heavy pages. ``ValueError`` if ``target_url`` is not http(s).
        """
        target = normalize_url(target_url)
        host = (urlsplit(target).hostname or "").lower()
        relative_may_match = self._base_host == host
        matches = []
        for raw in self.raw_links:
            lowered = raw[1]
            if is_relative(lowered):
                if not relative_may_match:
                    continue
            elif host not in lowered and lowered.isascii() and "%" not in lowered:
                continue
            link = self._resolve(raw)
            if link is not None and link.url == target:
                matches.append(link)
        return tuple(matches)

    def links_to_domains(self, domains: Iterable[str]) -> tuple[Link, ...]:
        """The links to any of ``domains`` or their subdomains, in document order.

        As with :meth:`links_to`, only hrefs that can point there are normalized.
        """
        suffixes = tuple({d.strip().lower().lstrip(".") for d in domains if d.strip()})
        if not suffixes:
            return ()

        def on_domains(host: str) -> bool:
            return any(host == d or host.endswith("." + d) for d in suffixes)

        relative_may_match = on_domains(self._base_host)
        found = []
        for raw in self.raw_links:
            lowered = raw[1]
            if is_relative(lowered):
                if not relative_may_match:
                    continue
            elif lowered.isascii() and "%" not in lowered and not any(d in lowered for d in suffixes):
                continue
            link = self._resolve(raw)
            if link is not None and on_domains((urlsplit(link.url).hostname or "").lower()):
                found.append(link)
        return tuple(found)

    def mentions(self, target_url: str) -> tuple[str, ...]:
        """Where ``target_url`` appears on the page other than as a crawlable link.

        Keys of :data:`SEEN_IN_PHRASES`, in that order. The search is a hint for
        the reason of a ``removed`` verdict: host case, ``www.``, a scheme or its
        absence, JSON-escaped slashes and percent-decoded paths all match.
        """
        pattern = mention_pattern(normalize_url(target_url))
        places = []
        for place, text in (
            ("javascript_url", "\n".join(self.javascript_urls)),
            ("handler", self.handler_text),
            ("script", self.script_text),
            ("comment", self.comment_text),
            ("text", self.visible_text),
        ):
            if text and pattern.search(text):
                places.append(place)
        return tuple(places)

    def _resolve(self, raw: RawLink) -> Link | None:
        href, lowered, rel, anchor, tag = raw
        try:
            if lowered.startswith(("http://", "https://")):
                url = normalize_url(href)  # absolute: one cache entry across pages (it is cached)
            else:
                url = resolve_relative(self._resolution_base(href), href)
        except ValueError:
            return None
        return Link(url=url, href=href, rel=rel, anchor_text=anchor, tag=tag)


# --- the one parse -------------------------------------------------------------------

_HTML_END_RE = re.compile(r"</html\b[^>]*>", re.IGNORECASE)
_END_TAGS_RE = re.compile(r"</(?:body|html)\b[^>]*>", re.IGNORECASE)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


def _content_after_end(text: str) -> bool:
    """Whether something other than whitespace and comments follows the first ``</html>``.

    libxml2 (2.14) silently drops all of it and reports a complete parse; a browser
    reads it into the body (the HTML standard's "after after body" mode). Injected
    footers put links there. The first ``</html>`` may be inside a script: then this
    says yes where libxml2 would have read on, which only costs a little work.
    """
    end = _HTML_END_RE.search(text)
    return end is not None and bool(_COMMENT_RE.sub("", text[end.end() :]).strip())


def parse_html(text: str) -> tuple[Any, bool, bool]:
    """``(root, complete, content_after_end)`` for ``text``: the lxml root (or ``None``),
    whether libxml2 read the document to its end, and whether markup after ``</html>``
    had to be moved into the document for libxml2 to read it.

    libxml2 gives up, keeping what it built so far, on documents nested deeper than
    2048 elements (thousands of unclosed ``<font>`` or ``<div>`` tags do happen).
    """
    if not text.strip():
        return None, True, False
    after_end = _content_after_end(text)
    if after_end:
        # A browser ignores </body> and </html> end tags as far as what follows
        # goes: without them libxml2 reads on into the body too.
        text = _END_TAGS_RE.sub("", text)
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.LxmlError, ValueError):
        return None, False, after_end
    complete = not any(error.level_name == "FATAL" for error in parser.error_log)
    return root, complete, after_end


def analyze_page(
    url: str,
    body: bytes | str,
    headers: HeadersLike | None = None,
    encoding: str | None = None,
    *,
    targets: Iterable[str] = (),
    max_links: int = MAX_LINKS,
) -> PageAnalysis:
    """Read one fetched page into a :class:`PageAnalysis`; never raises on bad content.

    ``url`` is the URL the body came from (the final one after redirects). ``body``
    is the raw bytes (decoded by :func:`~linkcrawler.web.decode.decode_body`:
    ``encoding`` first, then BOM, ``Content-Type`` charset, ``<meta>`` charset,
    UTF-8 or cp1252) or text already decoded, e.g. Scrapy's ``response.text``.
    ``targets``: URLs the caller will look for; links to them are kept even past
    ``max_links`` distinct hrefs. Empty, binary, malformed or NUL-ridden bodies give
    an analysis with what could be read (possibly nothing).
    """
    fields = normalize_headers(headers)
    content_type_header = (fields.get("content-type") or [""])[0]
    media_type = content_type_header.split(";", 1)[0].strip().lower()
    try:
        page_url = normalize_url(url)
    except ValueError:
        page_url = url
    raw = body if isinstance(body, bytes) else b""
    binary = is_binary(raw)
    if media_type and media_type not in _HTML_MEDIA_TYPES and "html" not in media_type:
        textual = media_type.startswith("text/") or media_type.endswith(("json", "javascript"))
        if not textual or binary:
            return PageAnalysis(url=page_url, base_url=url, content_type=media_type, is_html=False)
        text, used = (
            (body, encoding)
            if isinstance(body, str)
            else decode_body(raw, content_type_header, encoding)
        )
        return PageAnalysis(
            url=page_url,
            base_url=url,
            encoding=used,
            content_type=media_type,
            is_html=False,
            source_text=text.replace("\x00", ""),
        )
    if binary:
        return PageAnalysis(url=page_url, base_url=url, content_type=media_type, is_html=False)

    if isinstance(body, str):
        text, used_encoding = body, encoding
    else:
        text, used_encoding = decode_body(raw, content_type_header, encoding)
    if "\x00" in text:
        text = text.replace("\x00", "")

    base_url = url
    root, parsed_fully, after_end = parse_html(text)

    # Signals from the headers hold even when the body is empty.
    header_directives = robots_directives(fields.get("x-robots-tag", ()))
    canonicals = link_header_canonicals(fields.get("link", ()), url)
    refresh_delay, refresh_url = None, None
    for value in fields.get("refresh", ())[:1]:
        refresh_delay, refresh_url = parse_refresh(value, url)

    title = ""
    meta_directives: dict[str, set[str]] = {}

    if root is not None:
        for base in root.iter("base"):
            href = base.get("href")
            if href is not None:
                candidate = urljoin(url, clean_href(href))
                if SCHEME_RE.match(candidate) and candidate.lower().startswith(
                    ("http:", "https:")
                ):
                    base_url = candidate
                break

        for meta in root.iter("meta"):
            name = (meta.get("name") or "").strip().lower()
            content = meta.get("content") or ""
            if name in ROBOTS_META_NAMES:
                meta_directives.setdefault(name, set()).update(meta_robots_directives(content))
            elif (
                meta.get("http-equiv") or ""
            ).strip().lower() == "refresh" and refresh_url is None:
                refresh_delay, refresh_url = parse_refresh(content, base_url)

        head = root.find("head")
        if head is not None:
            for link in head.iter("link"):
                href = link.get("href")
                if href is not None and "canonical" in rel_tokens(link.get("rel")):
                    normalized = resolve_href(href, base_url)
                    if normalized:
                        canonicals.append(normalized)
            title_element = head.find("title")
        else:
            title_element = root.find(".//title")
        if title_element is not None:
            title = squash("".join(title_element.itertext()), MAX_ANCHOR_CHARS)

    # Links: from the tree, or from a scan of the source when libxml2 gave up early.
    collector = LinkCollector(
        max_links, frozenset(target_hosts(targets)), (urlsplit(base_url).hostname or "").lower()
    )
    keep = collector.keep
    links = collector.links
    hidden: list[tuple[str, str]] = []
    if root is not None and parsed_fully:
        tracked, base_host = collector.tracked, collector.base_host
        for element in root.iter("a", "area"):
            href = element.get("href")
            if href is not None and (kept := keep(href)) is not None:
                links.append((*kept, rel_tokens(element.get("rel")), anchor_text(element), element.tag))
                # Only links that may be ours: the walk up the tree is not paid for every link.
                if tracked and could_point_to(kept[1], tracked, base_host) and (
                    how := hidden_from_readers(element)
                ):
                    hidden.append((kept[0], how))
    elif text.strip():
        for tag, attributes, anchor in scan_links(text):
            href = attributes.get("href")
            if href is not None and (kept := keep(href)) is not None:
                links.append((*kept, rel_tokens(attributes.get("rel")), anchor, tag))

    noindex_sources, nofollow_sources = robots_sources(meta_directives, header_directives)
    truncated = collector.truncated
    return PageAnalysis(
        url=page_url,
        base_url=base_url,
        encoding=used_encoding,
        content_type=media_type,
        is_html=True,
        title=title,
        noindex=bool(noindex_sources),
        noindex_sources=noindex_sources,
        nofollow=bool(nofollow_sources),
        nofollow_sources=nofollow_sources,
        canonicals=tuple(dict.fromkeys(canonicals)),
        refresh_url=refresh_url,
        refresh_delay=refresh_delay,
        challenge=detect_challenge(fields, text[:200_000], title, collector.count),
        link_count=collector.count,
        distinct_link_count=collector.distinct,
        links_truncated=truncated,
        parsed_fully=parsed_fully,
        content_after_end=after_end,
        javascript_urls=tuple(collector.javascript_urls),
        raw_links=tuple(links),
        tracked_hosts=collector.tracked if truncated else frozenset(),
        source_text=text,
        hidden_links=tuple(hidden),
        tree=root if parsed_fully else None,
    )

