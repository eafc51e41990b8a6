"""What one fetched page says: its links, robots signals, canonical, and where a URL appears.

:func:`analyze_page` runs on every page a spider fetches, so it is one lxml parse
and a handful of tree walks done in C (no ``LinkExtractor``, no Selector per link).
Links are kept as written and normalized only when asked for: the backlink spider
asks "is there a link to T?" (:meth:`PageAnalysis.links_to`), which normalizes just
the hrefs that can point to T's host; a site audit asks for every link
(:attr:`PageAnalysis.links`), normalized once through a shared cache. The texts
that only a missing link needs (scripts, ``on*`` handlers, comments, visible text,
to say "the target appears only in a script") are extracted on demand.

Robust by construction: an unknown or non-text charset is skipped, NUL bytes are
dropped, binary bodies are not parsed, at most :data:`MAX_LINKS` links are kept, and
a document nested deeper than libxml2 will go (2048) has its links read by a
tolerant scan of the source (:attr:`PageAnalysis.parsed_fully` is then False).

Robots and canonical signals are read the way Google reads them, because the
value of a backlink is its value to a search engine: ``robots`` and ``googlebot``
meta tags and ``X-Robots-Tag`` values that are unscoped or scoped to ``googlebot``
count; values scoped to another crawler (``bingbot: noindex``) do not.

The spider passes plain values: the URL the body came from, the body (``bytes``, or
``response.text`` with ``response.encoding``), and the headers (any mapping of
name -> value or list of values, ``str`` or ``bytes``: Scrapy's ``Headers`` works).
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, TypeAlias
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

__all__ = [
    "CHALLENGE_MAX_LINKS",
    "MAX_ANCHOR_CHARS",
    "MAX_LINKS",
    "NOT_FOLLOWED_RELS",
    "RELEVANT_AGENTS",
    "ROBOTS_META_NAMES",
    "SEEN_IN_PHRASES",
    "HeadersLike",
    "Link",
    "PageAnalysis",
    "analyze_page",
    "detect_challenge",
    "normalize_headers",
    "robots_directives",
]

#: Links kept per page; a page with more keeps the first ones (plus, beyond the
#: cap, any link that may point to one of the ``targets`` passed to analyze_page).
MAX_LINKS = 10_000
#: Anchor texts and titles longer than this are cut (they end up in documents and reports).
MAX_ANCHOR_CHARS = 500
#: rel tokens that stop a link passing value (Google treats all three as "do not follow").
NOT_FOLLOWED_RELS = frozenset({"nofollow", "ugc", "sponsored"})
#: ``<meta name=...>`` values whose robots directives apply to us.
ROBOTS_META_NAMES = frozenset({"robots", "googlebot"})
#: ``X-Robots-Tag: <agent>: ...`` scopes that apply to us (unscoped values always do).
RELEVANT_AGENTS = frozenset({"googlebot"})

#: Where a URL can appear on a page without being a crawlable link, in the order
#: reasons list them, with the words a reason uses.
SEEN_IN_PHRASES: dict[str, str] = {
    "javascript_url": "as a javascript: URL",
    "handler": "in an onclick handler",
    "script": "in a script",
    "comment": "in an HTML comment",
    "text": "as plain text",
}

HeadersLike: TypeAlias = Mapping[Any, Any] | Iterable[tuple[Any, Any]]

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_WHITESPACE_RE = re.compile(r"[\t\n\r]")
_TOKEN_SPLIT_RE = re.compile(r"[\s,]+")
_REFRESH_RE = re.compile(
    r"""^\s*(?P<delay>\d+(?:\.\d*)?)?\s*[;,]?\s*(?:url\s*=\s*)?(?P<q>['"]?)(?P<url>.*?)(?P=q)\s*$""",
    re.IGNORECASE | re.DOTALL,
)
_LINK_HEADER_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,<]*)*)")
_LINK_PARAM_REL_RE = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;,]+))""", re.I)
_AGENT_SCOPE_RE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*:\s*(.*)$", re.DOTALL)
# X-Robots-Tag directives that carry a value after a colon: "name: value" is not an agent scope.
_VALUED_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)

_HTML_MEDIA_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "application/html"}
)
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"PK\x03\x04")


# --- headers ----------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def normalize_headers(headers: HeadersLike | None) -> dict[str, list[str]]:
    """Headers as ``{lower-case name: [values...]}`` from any usual shape.

    Accepts a mapping (``dict``, Scrapy's ``Headers``) or pairs; names and values may
    be ``str`` or ``bytes`` (decoded as latin-1, as HTTP defines), values single or lists.
    """
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, list[str]] = {}
    for name, value in items:
        key = _text(name).strip().lower()
        if isinstance(value, (str, bytes)) or value is None:
            values = [] if value is None else [value]
        else:
            values = list(value)
        result.setdefault(key, []).extend(_text(v) for v in values)
    return result


def robots_directives(
    values: Iterable[str], agents: frozenset[str] = RELEVANT_AGENTS
) -> frozenset[str]:
    """The robots directives in ``X-Robots-Tag`` header values that apply to ``agents``.

    Each value is read as Google documents it: ``noindex, nofollow`` applies to every
    crawler; ``googlebot: noindex`` only to that one, and the scope runs to the end of
    the header value (``otherbot: noindex, nofollow`` is all for ``otherbot``).
    ``unavailable_after: <date>`` and ``max-snippet: 20`` are directives, not scopes.
    Returned directives are lower-case (``noindex``, ``nofollow``, ``none``...).
    """
    found: set[str] = set()
    for value in values:
        scope: str | None = None
        for segment in value.split(","):
            match = _AGENT_SCOPE_RE.match(segment)
            if match and match.group(1).lower() not in _VALUED_DIRECTIVES:
                scope = match.group(1).lower()
                segment = match.group(2)
            if scope is not None and scope not in agents:
                continue
            found.update(t.lower() for t in segment.split() if t)
    return frozenset(found)


# --- the result ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """One crawlable link (``<a href>`` or ``<area href>``) of a page."""

    url: str
    """Absolute, normalized (:func:`~linkcrawler.web.urls.normalize_url`)."""
    href: str
    """The attribute as written (whitespace trimmed)."""
    rel: tuple[str, ...]
    """Lower-case rel tokens, in document order, without repeats."""
    anchor_text: str
    """Whitespace-normalized text; an image link's ``alt`` when it has no text; capped."""
    tag: str = "a"

    @property
    def followed(self) -> bool:
        """False when a rel token (nofollow, ugc, sponsored) asks not to follow it."""
        return not NOT_FOLLOWED_RELS.intersection(self.rel)

    @property
    def not_followed_by(self) -> tuple[str, ...]:
        """The rel tokens that make the link not followed, in document order."""
        return tuple(t for t in self.rel if t in NOT_FOLLOWED_RELS)


# A link as found, before resolution: (href, href lower-cased, rel, anchor text, tag).
_RawLink: TypeAlias = tuple[str, str, tuple[str, ...], str, str]


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
    """http(s) links found on the page, kept or not."""
    links_truncated: bool = False
    """More than ``max_links`` links: only the first (and those to ``targets``) were kept."""
    parsed_fully: bool = True
    """False when libxml2 stopped early (nesting deeper than 2048): links were then
    read from the source with a tolerant scan instead of the tree."""
    javascript_urls: tuple[str, ...] = field(default=(), repr=False)
    """``javascript:`` hrefs, as written."""
    raw_links: tuple[_RawLink, ...] = field(default=(), repr=False, compare=False)
    tracked_hosts: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    """Hosts of the ``targets`` whose links were kept past the ``max_links`` cap."""
    source_text: str = field(default="", repr=False, compare=False)
    """The decoded body, kept for the rarely needed texts below (parsed again on demand)."""

    @cached_property
    def _texts(self) -> dict[str, str]:
        # Only a missing link needs these: parsing again then is cheaper than
        # collecting them on every page.
        if not self.is_html:
            return {"visible": self.source_text}
        root = _parse_html(self.source_text)
        texts: dict[str, str] = {}
        if root is not None:
            texts["script"] = "\n".join(
                s.text for s in root.iter("script") if s.text and s.text.strip()
            )
            texts["handler"] = "\n".join(root.xpath("//@*[starts-with(name(), 'on')]"))
            texts["comment"] = "\n".join(c.text or "" for c in root.iter(etree.Comment))
            etree.strip_elements(root, "script", "style", etree.Comment, with_tail=False)
            body = root.find("body")
            texts["visible"] = "".join((body if body is not None else root).itertext())
        if not self.parsed_fully:
            # The tree stops where libxml2 gave up; the source goes on.
            texts["visible"] = html.unescape(
                _TAG_RE.sub(" ", _HIDDEN_RE.sub(" ", self.source_text))
            )
        return texts

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
            if _is_relative(lowered):
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
            if _is_relative(lowered):
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
        pattern = _mention_pattern(normalize_url(target_url))
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

    def _resolve(self, raw: _RawLink) -> Link | None:
        href, lowered, rel, anchor, tag = raw
        try:
            if lowered.startswith(("http://", "https://")):
                url = normalize_url(href)  # absolute: one cache entry across pages (it is cached)
            else:
                url = _resolve_relative(self._resolution_base(href), href)
        except ValueError:
            return None
        return Link(url=url, href=href, rel=rel, anchor_text=anchor, tag=tag)


@lru_cache(maxsize=32768)
def _resolve_relative(base: str, href: str) -> str:
    return normalize_url(urljoin(base, href))


def _is_relative(lowered_href: str) -> bool:
    return not lowered_href.startswith("//") and _SCHEME_RE.match(lowered_href) is None


def _could_point_to(lowered_href: str, hosts: frozenset[str], base_host: str) -> bool:
    if _is_relative(lowered_href):
        return base_host in hosts
    if not lowered_href.isascii() or "%" in lowered_href:
        return True
    return any(h in lowered_href for h in hosts)


def _target_hosts(targets: Iterable[str]) -> Iterable[str]:
    for target in targets:
        try:
            yield (urlsplit(normalize_url(target)).hostname or "").lower()
        except ValueError:
            continue


@lru_cache(maxsize=4096)
def _mention_pattern(target: str) -> re.Pattern[str]:
    parts = urlsplit(target)
    host = parts.hostname or ""
    if host.startswith("www."):
        host = host[4:]
    port = r"(?::(?:80|443))?" if parts.port is None else f":{parts.port}"
    slash = r"\\?/"

    def path_pattern(path: str) -> str:
        return slash.join(re.escape(segment) for segment in path.split("/"))

    path = parts.path or "/"
    if path == "/" and not parts.query:
        path_re = f"(?:{slash})?"
    else:
        spellings = dict.fromkeys([path, unquote(path)])
        path_re = "(?:" + "|".join(path_pattern(p) for p in spellings) + ")"
        if parts.query:
            path_re += r"\?" + re.escape(parts.query)
    return re.compile(
        r"(?<![\w.@-])(?:https?:)?(?:\\?/\\?/)?(?:www\.)?"
        + re.escape(host)
        + port
        + path_re
        # Not followed by more of a URL: "/page" must not match "/page/2" or "/pages".
        + r"(?![\w%~+=&/-]|\.\w|\\/|\?)",
        re.IGNORECASE,
    )


# --- decoding -------------------------------------------------------------------


def _try_decode(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        name = resolve_encoding(encoding)
        if name is None or not getattr(codecs.lookup(name), "_is_text_encoding", True):
            return None
        return body.decode(name, "replace")
    except (LookupError, TypeError, ValueError):
        return None


def _decode(body: bytes, content_type: str | None, hint: str | None) -> tuple[str, str]:
    """Decode like a browser, never raising: BOM, hint, header, meta, then UTF-8/cp1252."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        text = _try_decode(body[len(bom) :], bom_encoding)
        if text is not None:
            return text, bom_encoding
    declared = [hint, http_content_type_encoding(content_type) if content_type else None]
    meta = html_body_declared_encoding(body[:4096])
    # HTML: a meta charset of UTF-16 is a mistake (the meta itself was ASCII-readable).
    declared.append("utf-8" if meta and meta.startswith("utf-16") else meta)
    for candidate in declared:
        text = _try_decode(body, candidate)
        if text is not None:
            return text, resolve_encoding(candidate) or str(candidate)
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace"), "cp1252"


# --- extraction -----------------------------------------------------------------


def _parse_html(text: str) -> Any:
    """The lxml root of ``text``, or ``None`` when there is nothing to parse."""
    return _parse_html_checked(text)[0]


def _parse_html_checked(text: str) -> tuple[Any, bool]:
    """The lxml root of ``text`` (or ``None``), and whether libxml2 read all of it.

    libxml2 gives up, keeping what it built so far, on documents nested deeper than
    2048 elements (thousands of unclosed ``<font>`` or ``<div>`` tags do happen).
    """
    if not text.strip():
        return None, True
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.LxmlError, ValueError):
        return None, False
    complete = not any(error.level_name == "FATAL" for error in parser.error_log)
    return root, complete


_HIDDEN_RE = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|template)\b[^>]*>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_ANCHOR_RE = re.compile(r"<(a|area)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.IGNORECASE)
_ATTRIBUTE_RE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_ANCHOR_END_RE = re.compile(r"</a\s*>|<a\b", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")
_ALT_RE = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def _scan_links(text: str) -> list[tuple[str, dict[str, str], str]]:
    """``(tag, attributes, anchor text)`` of every link, read with regular expressions.

    The fallback for documents libxml2 could not read to the end: tolerant, and
    blind to structure, so comments, scripts, styles and templates are cut first.
    """
    visible = _HIDDEN_RE.sub(" ", text)
    found = []
    for match in _ANCHOR_RE.finditer(visible):
        attributes: dict[str, str] = {}
        for attribute in _ATTRIBUTE_RE.finditer(match.group(2)):
            name = attribute.group(1).lower()
            value = attribute.group(2) or attribute.group(3) or attribute.group(4) or ""
            attributes.setdefault(name, html.unescape(value))
        tag = match.group(1).lower()
        if tag == "area":
            found.append((tag, attributes, _squash(attributes.get("alt", ""))))
            continue
        end = _ANCHOR_END_RE.search(visible, match.end())
        inner = visible[match.end() : end.start() if end else match.end() + 2000]
        anchor = _squash(html.unescape(_TAG_RE.sub(" ", inner)))
        if not anchor:
            alts = [a.group(1) or a.group(2) or a.group(3) or "" for a in _ALT_RE.finditer(inner)]
            anchor = _squash(html.unescape(" ".join(alts)))
        found.append((tag, attributes, anchor or _squash(attributes.get("aria-label", ""))))
    return found


def _squash(text: str, limit: int = MAX_ANCHOR_CHARS) -> str:
    return squash(text, limit)


def _anchor_text(element: Any) -> str:
    if element.tag == "area":
        return _squash(element.get("alt") or element.get("title") or "")
    if len(element) == 0:  # the usual <a>text</a>: no tree walk needed
        text = _squash(element.text or "")
    else:
        text = _squash("".join(element.itertext()))
    if text:
        return text
    alts = [img.get("alt") or "" for img in element.iter("img")]
    text = _squash(" ".join(alts))
    return text or _squash(element.get("aria-label") or element.get("title") or "")


def _clean_href(href: str) -> str:
    """An href as a browser reads it: trimmed, tabs and newlines inside removed."""
    href = href.strip()
    if "\n" in href or "\t" in href or "\r" in href:
        href = _URL_WHITESPACE_RE.sub("", href)
    return href


def _rel_tokens(rel: str | None) -> tuple[str, ...]:
    if not rel:
        return ()
    return tuple(dict.fromkeys(rel.lower().split()))


def _try_normalize(url: str, base: str) -> str | None:
    try:
        return normalize_url(urljoin(base, _clean_href(url)))
    except ValueError:
        return None


def _link_header_canonicals(values: Iterable[str], base: str) -> list[str]:
    found = []
    for value in values:
        for match in _LINK_HEADER_RE.finditer(value):
            for rel in _LINK_PARAM_REL_RE.finditer(match.group(2)):
                tokens = (rel.group(1) or rel.group(2) or rel.group(3) or "").lower().split()
                if "canonical" in tokens:
                    url = _try_normalize(match.group(1), base)
                    if url:
                        found.append(url)
    return found


def _parse_refresh(content: str, base: str) -> tuple[float | None, str | None]:
    match = _REFRESH_RE.match(content)
    if not match or not match.group("url").strip():
        return None, None
    delay = float(match.group("delay")) if match.group("delay") else 0.0
    return delay, _try_normalize(match.group("url"), base)


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
    is the raw bytes (decoded here: BOM, then ``encoding``, the ``Content-Type``
    charset, a ``<meta>`` charset, then UTF-8 or cp1252; an unknown or non-text
    charset is skipped) or text already decoded, e.g. Scrapy's ``response.text``.
    ``targets``: URLs the caller will look for; links to them are kept even past
    ``max_links``. Empty, binary, malformed or NUL-ridden bodies give an analysis
    with what could be read (possibly nothing).
    """
    fields = normalize_headers(headers)
    content_type_header = (fields.get("content-type") or [""])[0]
    media_type = content_type_header.split(";", 1)[0].strip().lower()
    try:
        page_url = normalize_url(url)
    except ValueError:
        page_url = url
    raw = body if isinstance(body, bytes) else b""
    binary = bool(raw[:8]) and raw.startswith(_BINARY_MAGIC)
    if media_type and media_type not in _HTML_MEDIA_TYPES and "html" not in media_type:
        textual = media_type.startswith("text/") or media_type.endswith(("json", "javascript"))
        if not textual or binary:
            return PageAnalysis(url=page_url, base_url=url, content_type=media_type, is_html=False)
        text, used = (
            (body, encoding)
            if isinstance(body, str)
            else _decode(raw, content_type_header, encoding)
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
        text, used_encoding = _decode(raw, content_type_header, encoding)
    if "\x00" in text:
        text = text.replace("\x00", "")

    base_url = url
    root, parsed_fully = _parse_html_checked(text)

    # Signals from the headers hold even when the body is empty.
    noindex_sources: list[str] = []
    nofollow_sources: list[str] = []
    header_directives = robots_directives(fields.get("x-robots-tag", ()))
    canonicals = _link_header_canonicals(fields.get("link", ()), url)
    refresh_delay, refresh_url = None, None
    for value in fields.get("refresh", ())[:1]:
        refresh_delay, refresh_url = _parse_refresh(value, url)

    title = ""
    links: list[_RawLink] = []
    javascript_urls: list[str] = []
    link_count = 0
    meta_directives: dict[str, set[str]] = {}

    if root is not None:
        for base in root.iter("base"):
            href = base.get("href")
            if href is not None:
                candidate = urljoin(url, _clean_href(href))
                if _SCHEME_RE.match(candidate) and candidate.lower().startswith(
                    ("http:", "https:")
                ):
                    base_url = candidate
                break

        for meta in root.iter("meta"):
            name = (meta.get("name") or "").strip().lower()
            content = meta.get("content") or ""
            if name in ROBOTS_META_NAMES:
                tokens = {t for t in _TOKEN_SPLIT_RE.split(content.lower()) if t}
                meta_directives.setdefault(name, set()).update(tokens)
            elif (
                meta.get("http-equiv") or ""
            ).strip().lower() == "refresh" and refresh_url is None:
                refresh_delay, refresh_url = _parse_refresh(content, base_url)

        head = root.find("head")
        if head is not None:
            for link in head.iter("link"):
                href = link.get("href")
                if href is not None and "canonical" in _rel_tokens(link.get("rel")):
                    normalized = _try_normalize(href, base_url)
                    if normalized:
                        canonicals.append(normalized)
            title_element = head.find("title")
        else:
            title_element = root.find(".//title")
        if title_element is not None:
            title = _squash("".join(title_element.itertext()))

    # Links: from the tree, or from a scan of the source when libxml2 gave up early.
    tracked = frozenset(_target_hosts(targets))
    base_host = (urlsplit(base_url).hostname or "").lower()

    def keep(href: str) -> tuple[str, str] | None:
        nonlocal link_count
        href = _clean_href(href)
        lowered = href.lower()
        scheme = _SCHEME_RE.match(lowered)
        if scheme and scheme.group(1) not in ("http", "https"):
            if scheme.group(1) == "javascript":
                javascript_urls.append(href)
            return None
        link_count += 1
        if link_count > max_links and not (
            tracked and _could_point_to(lowered, tracked, base_host)
        ):
            return None
        return href, lowered

    if root is not None and parsed_fully:
        for element in root.iter("a", "area"):
            href = element.get("href")
            if href is not None and (kept := keep(href)) is not None:
                rel = _rel_tokens(element.get("rel"))
                links.append((*kept, rel, _anchor_text(element), element.tag))
    elif text.strip():
        for tag, attributes, anchor in _scan_links(text):
            href = attributes.get("href")
            if href is not None and (kept := keep(href)) is not None:
                links.append((*kept, _rel_tokens(attributes.get("rel")), anchor, tag))

    for name in sorted(meta_directives):
        if meta_directives[name] & {"noindex", "none"}:
            noindex_sources.append(f"meta {name}")
        if meta_directives[name] & {"nofollow", "none"}:
            nofollow_sources.append(f"meta {name}")
    if header_directives & {"noindex", "none"}:
        noindex_sources.append("X-Robots-Tag")
    if header_directives & {"nofollow", "none"}:
        nofollow_sources.append("X-Robots-Tag")

    return PageAnalysis(
        url=page_url,
        base_url=base_url,
        encoding=used_encoding,
        content_type=media_type,
        is_html=True,
        title=title,
        noindex=bool(noindex_sources),
        noindex_sources=tuple(noindex_sources),
        nofollow=bool(nofollow_sources),
        nofollow_sources=tuple(nofollow_sources),
        canonicals=tuple(dict.fromkeys(canonicals)),
        refresh_url=refresh_url,
        refresh_delay=refresh_delay,
        challenge=detect_challenge(fields, text[:200_000], title, link_count),
        link_count=link_count,
        links_truncated=link_count > max_links,
        parsed_fully=parsed_fully,
        javascript_urls=tuple(javascript_urls),
        raw_links=tuple(links),
        tracked_hosts=tracked if link_count > max_links else frozenset(),
        source_text=text,
    )
