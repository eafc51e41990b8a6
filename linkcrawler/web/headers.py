"""HTTP headers as plain values, and the robots, canonical and refresh signals they
(and their ``<meta>`` twins) carry.

Robots signals are read the way Google reads them, because the value of a backlink
is its value to a search engine: ``robots`` and ``googlebot`` meta tags and
``X-Robots-Tag`` values that are unscoped or scoped to ``googlebot`` count; values
scoped to another crawler (``bingbot: noindex``) do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from linkcrawler.web.links import resolve_href

__all__ = [
    "RELEVANT_AGENTS",
    "ROBOTS_META_NAMES",
    "HeadersLike",
    "conditional_headers",
    "header_text",
    "link_header_canonicals",
    "meta_robots_directives",
    "normalize_headers",
    "parse_refresh",
    "robots_directives",
    "robots_sources",
]

#: ``<meta name=...>`` values whose robots directives apply to us.
ROBOTS_META_NAMES = frozenset({"robots", "googlebot"})
#: ``X-Robots-Tag: <agent>: ...`` scopes that apply to us (unscoped values always do).
RELEVANT_AGENTS = frozenset({"googlebot"})

#: Any mapping of name -> value or list of values, ``str`` or ``bytes``, or pairs
#: (Scrapy's ``Headers`` is one).
HeadersLike: TypeAlias = Mapping[Any, Any] | Iterable[tuple[Any, Any]]

_AGENT_SCOPE_RE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*:\s*(.*)$", re.DOTALL)
# X-Robots-Tag directives that carry a value after a colon: "name: value" is not an agent scope.
_VALUED_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
_TOKEN_SPLIT_RE = re.compile(r"[\s,]+")
_LINK_HEADER_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,<]*)*)")
_LINK_PARAM_REL_RE = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;,]+))""", re.I)
# w3lib.html.get_meta_refresh is not used: measured with w3lib 2.5, it answers
# (None, None) for "3, url=/y" (the HTML standard allows "," as well as ";"; see
# test_meta_refresh), it reads markup only (not a Refresh header value), and it
# scans the whole page again (0.1 ms per 96 KB page) when the parse has already
# found the <meta>. This reads one content value (5 us).
_REFRESH_RE = re.compile(
    r"""^\s*(?P<delay>\d+(?:\.\d*)?)?\s*[;,]?\s*(?:url\s*=\s*)?(?P<q>['"]?)(?P<url>.*?)(?P=q)\s*$""",
    re.IGNORECASE | re.DOTALL,
)


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


def meta_robots_directives(content: str) -> set[str]:
    """The lower-case directives of a ``<meta name="robots" content=...>`` value."""
    return {t for t in _TOKEN_SPLIT_RE.split(content.lower()) if t}


def robots_sources(
    meta: Mapping[str, set[str]], header: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(noindex sources, nofollow sources)``: ``meta robots``, ``meta googlebot``,
    ``X-Robots-Tag``, from the directives of each meta name and of the header."""
    noindex: list[str] = []
    nofollow: list[str] = []
    for name in sorted(meta):
        if meta[name] & {"noindex", "none"}:
            noindex.append(f"meta {name}")
        if meta[name] & {"nofollow", "none"}:
            nofollow.append(f"meta {name}")
    if header & {"noindex", "none"}:
        noindex.append("X-Robots-Tag")
    if header & {"nofollow", "none"}:
        nofollow.append("X-Robots-Tag")
    return tuple(noindex), tuple(nofollow)


def link_header_canonicals(values: Iterable[str], base: str) -> list[str]:
    """The normalized ``rel=canonical`` targets of HTTP ``Link`` header values."""
    found = []
    for value in values:
        for match in _LINK_HEADER_RE.finditer(value):
            for rel in _LINK_PARAM_REL_RE.finditer(match.group(2)):
                tokens = (rel.group(1) or rel.group(2) or rel.group(3) or "").lower().split()
                if "canonical" in tokens:
                    url = resolve_href(match.group(1), base)
                    if url:
                        found.append(url)
    return found


def parse_refresh(content: str, base: str) -> tuple[float | None, str | None]:
    """``(delay, normalized URL)`` of a ``Refresh`` header or meta refresh value;
    ``(None, None)`` when it names no URL (a plain reload)."""
    match = _REFRESH_RE.match(content)
    if not match or not match.group("url").strip():
        return None, None
    delay = float(match.group("delay")) if match.group("delay") else 0.0
    return delay, resolve_href(match.group("url"), base)


def conditional_headers(validators: Iterable[tuple[str | None, str | None]]) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` for a page whose stored readings agree.

    ``validators``: the (ETag, Last-Modified) each stored reading of the page was made
    from. When they differ (or there are none) the page must be fetched whole: a 304
    would vouch for only some of them.
    """
    etags: set[str | None] = set()
    modified: set[str | None] = set()
    for etag, last_modified in validators:
        etags.add(etag)
        modified.add(last_modified)
    if len(etags) != 1 or len(modified) != 1:
        return {}
    headers = {}
    if (etag := etags.pop()):
        headers["If-None-Match"] = etag
    if (last_modified := modified.pop()):
        headers["If-Modified-Since"] = last_modified
    return headers


def header_text(headers: Any, name: str) -> str | None:
    """The first value of header ``name`` of a Scrapy response's ``headers``, as text (latin-1)."""
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None
