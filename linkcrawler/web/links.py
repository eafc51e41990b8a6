"""A page's links: what one is, how an href is read, and how a page's links are collected.

Links are kept as written (:data:`RawLink`) and resolved only when asked for; see
:class:`~linkcrawler.web.page.PageAnalysis`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias
from urllib.parse import urljoin, urlsplit

from linkcrawler.web.text import squash
from linkcrawler.web.urls import normalize_url

__all__ = [
    "MAX_ANCHOR_CHARS",
    "MAX_LINKS",
    "NOT_FOLLOWED_RELS",
    "Link",
    "LinkCollector",
    "RawLink",
    "anchor_text",
    "clean_href",
    "hidden_from_readers",
    "rel_tokens",
    "resolve_href",
    "scan_links",
]

#: Distinct hrefs kept per page. Tables of contents carry 14,000 links and more;
#: at 50,000 a page costs about 0.2 s and 30 MiB of Python objects (measured with
#: benchmarks/page). A page with more keeps the first ones (plus any link that may
#: point to one of the ``targets`` passed to analyze_page) and says so.
MAX_LINKS = 50_000
#: Anchor texts and titles longer than this are cut (they end up in documents and reports).
MAX_ANCHOR_CHARS = 500
#: rel tokens that stop a link passing value (Google treats all three as "do not follow").
NOT_FOLLOWED_RELS = frozenset({"nofollow", "ugc", "sponsored"})

SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_WHITESPACE_RE = re.compile(r"[\t\n\r]")


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


#: A link as found, before resolution: (href, href lower-cased, rel, anchor text, tag).
RawLink: TypeAlias = tuple[str, str, tuple[str, ...], str, str]


# --- reading an href ---------------------------------------------------------------


def clean_href(href: str) -> str:
    """An href as a browser reads it: trimmed, tabs and newlines inside removed."""
    href = href.strip()
    if "\n" in href or "\t" in href or "\r" in href:
        href = _URL_WHITESPACE_RE.sub("", href)
    return href


def resolve_href(href: str, base: str) -> str | None:
    """``href`` resolved against ``base`` and normalized; ``None`` if it is not http(s)."""
    try:
        return normalize_url(urljoin(base, clean_href(href)))
    except ValueError:
        return None


def rel_tokens(rel: str | None) -> tuple[str, ...]:
    """Lower-case tokens of a ``rel`` attribute, in order, without repeats."""
    if not rel:
        return ()
    return tuple(dict.fromkeys(rel.lower().split()))


@lru_cache(maxsize=32768)
def resolve_relative(base: str, href: str) -> str:
    return normalize_url(urljoin(base, href))


def is_relative(lowered_href: str) -> bool:
    return not lowered_href.startswith("//") and SCHEME_RE.match(lowered_href) is None


def could_point_to(lowered_href: str, hosts: frozenset[str], base_host: str) -> bool:
    """Whether an href, lower-cased, may resolve to one of ``hosts`` (cheap, no parsing)."""
    if is_relative(lowered_href):
        return base_host in hosts
    if not lowered_href.isascii() or "%" in lowered_href:
        return True
    return any(h in lowered_href for h in hosts)


def target_hosts(targets: Iterable[str]) -> Iterable[str]:
    for target in targets:
        try:
            yield (urlsplit(normalize_url(target)).hostname or "").lower()
        except ValueError:
            continue


# --- anchor texts ----------------------------------------------------------------------


def _squash(text: str) -> str:
    return squash(text, MAX_ANCHOR_CHARS)


def anchor_text(element: Any) -> str:
    """The text a link shows: its text, else its images' ``alt``, else ``aria-label``/``title``."""
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


# --- the fallback scan ----------------------------------------------------------------

HIDDEN_RE = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|template)\b[^>]*>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_ANCHOR_RE = re.compile(r"<(a|area)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.IGNORECASE)
_ATTRIBUTE_RE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_ANCHOR_END_RE = re.compile(r"</a\s*>|<a\b", re.IGNORECASE)
TAG_RE = re.compile(r"<[^>]*>")
_ALT_RE = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def scan_links(text: str) -> list[tuple[str, dict[str, str], str]]:
    """``(tag, attributes, anchor text)`` of every link, read with regular expressions.

    The fallback for documents libxml2 could not read to the end: tolerant, and
    blind to structure, so comments, scripts, styles and templates are cut first.
    """
    visible = HIDDEN_RE.sub(" ", text)
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
        anchor = _squash(html.unescape(TAG_RE.sub(" ", inner)))
        if not anchor:
            alts = [a.group(1) or a.group(2) or a.group(3) or "" for a in _ALT_RE.finditer(inner)]
            anchor = _squash(html.unescape(" ".join(alts)))
        found.append((tag, attributes, anchor or _squash(attributes.get("aria-label", ""))))
    return found


# --- collecting --------------------------------------------------------------------------


class LinkCollector:
    """Gathers a page's http(s) links in document order, up to ``max_links`` distinct hrefs.

    The cap counts distinct hrefs (as written): a site's navigation repeated on a
    page costs nothing, and every occurrence of a kept href is kept (each has its
    own rel and anchor). Past the cap, an href that may point to a ``tracked``
    host is still kept. ``count`` and ``distinct`` say how many there were.
    """

    __slots__ = ("_seen", "base_host", "count", "distinct", "javascript_urls", "links", "max_links",
                 "tracked")

    def __init__(self, max_links: int, tracked: frozenset[str], base_host: str) -> None:
        self.max_links = max_links
        self.tracked = tracked
        self.base_host = base_host
        self.links: list[RawLink] = []
        self.javascript_urls: list[str] = []
        self.count = 0
        """http(s) hrefs seen, repeats included."""
        self.distinct = 0
        """Distinct http(s) hrefs seen."""
        self._seen: dict[str, tuple[str, str] | None] = {}

    @property
    def truncated(self) -> bool:
        return self.distinct > self.max_links

    def keep(self, href: str) -> tuple[str, str] | None:
        """``(href, href lower-cased)`` when the link is kept, else ``None``."""
        href = clean_href(href)
        if href in self._seen:  # a repeat is answered as the first occurrence was
            self.count += 1
            return self._seen[href]
        lowered = href.lower()
        scheme = SCHEME_RE.match(lowered)
        if scheme and scheme.group(1) not in ("http", "https"):
            if scheme.group(1) == "javascript":
                self.javascript_urls.append(href)
            return None
        self.count += 1
        self.distinct += 1
        kept: tuple[str, str] | None = (href, lowered)
        if self.distinct > self.max_links and not (
            self.tracked and could_point_to(lowered, self.tracked, self.base_host)
        ):
            kept = None
        self._seen[href] = kept
        return kept


# --- links hidden from readers ----------------------------------------------------------

_STYLE_DECLARATION_RE = re.compile(r"([a-z-]+)\s*:\s*([^;]+)")
_ZERO_RE = re.compile(r"^0(?:\.0+)?(?:px|em|rem|%|pt)?$")
_LENGTH_RE = re.compile(r"^(-?\d+(?:\.\d+)?)(px|em|rem|pt)?$")
#: Offsets (in px; an em counts 16) beyond which an element is placed off-screen.
OFF_SCREEN_PX = 500.0


def _style_hides(style: str) -> str | None:
    """How an inline ``style`` hides its element from readers, in words; ``None`` if it does not."""
    declarations = {name: value.strip().lower().removesuffix("!important").strip()
                    for name, value in _STYLE_DECLARATION_RE.findall(style.lower())}
    if declarations.get("display") == "none":
        return "display:none"
    if declarations.get("visibility") in ("hidden", "collapse"):
        return "visibility:hidden"
    if _ZERO_RE.match(declarations.get("opacity", "1")):
        return "opacity:0"
    for name in ("width", "height", "font-size", "max-height", "max-width"):
        value = declarations.get(name)
        if value is not None and _ZERO_RE.match(value):
            return f"{name}:0"
    for name in ("left", "top", "right", "text-indent", "margin-left", "margin-top"):
        match = _LENGTH_RE.match(declarations.get(name, ""))
        if match:
            offset = float(match.group(1)) * (16 if match.group(2) in ("em", "rem") else 1)
            if offset <= -OFF_SCREEN_PX:
                return f"off-screen ({name}:{declarations[name]})"
    return None


def hidden_from_readers(element: Any) -> str | None:
    """Why a link is hidden from a reader by the markup itself, or ``None``.

    Looks at inline ``style`` (``display:none``, ``visibility:hidden``, ``opacity:0``,
    a zero width, height or font size, an offset of :data:`OFF_SCREEN_PX` or more off
    the screen) and the ``hidden`` attribute, on the link and each of its ancestors.
    Stylesheets and scripts are not read: what this finds is written on the element.
    """
    node = element
    while node is not None and isinstance(node.tag, str):
        if node.get("hidden") is not None:
            how: str | None = "hidden attribute"
        else:
            style = node.get("style")
            how = _style_hides(style) if style else None
        if how is not None:
            return how if node is element else f"{how} on an enclosing <{node.tag}>"
        node = node.getparent()
    return None
