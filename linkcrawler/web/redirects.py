"""One redirect model: which statuses redirect, a hop, a chain, the loop rule and the hop limit.

Two shapes of the same model, for two ways of fetching:

- :func:`analyze_redirect_chain` for a chain followed live, one request after the
  other (the backlink checker): call it with the hops so far and the ``Location``
  about to be followed, stop when :attr:`RedirectChain.should_stop`;
- :class:`RedirectGraph` for a crawl that fetches each URL once and records its
  answer (the site audit): chains are put together from the recorded answers.

**The loop rule** (:func:`find_cycle`): a chain loops when a redirect *edge* (from
one URL to the next) comes back. A URL may come back once: sites redirect to
themselves to set a cookie, and the second answer differs. In a graph where each
URL has one recorded answer, an edge comes back exactly when a URL does, so both
shapes stop at the same hop.

**The hop limit**: more than ``LINKCRAWLER_MAX_REDIRECTS`` redirects (default 10,
Googlebot's limit: a chain it will not follow passes no value) is too many. The
site audit used to allow 20 (a browser's limit); it now uses the same setting, so
a chain of 11 to 20 hops is reported ``too_many_redirects`` by both.

**Refresh hops**: a page that answers 2xx with an immediate refresh (``<meta
http-equiv=refresh content="0; url=...">`` or a ``Refresh`` header, delay at most
``LINKCRAWLER_REFRESH_MAX_DELAY`` seconds: see :func:`refresh_location`) is a hop
too, as Google treats an instant refresh as a redirect. It is a :class:`Hop` with
``refresh=True`` and keeps its real status (200): it counts towards the hop limit
and the loop rule like any redirect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from linkcrawler import defaults
from linkcrawler.web.outcome import ErrorKind, FetchStatus
from linkcrawler.web.urls import host_of, normalize_url, registrable_domain

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "REDIRECTOR_DOMAINS",
    "REDIRECT_STATUSES",
    "Hop",
    "RedirectChain",
    "RedirectGraph",
    "Resolution",
    "analyze_redirect_chain",
    "find_cycle",
    "is_redirect_status",
    "redirect_location",
    "refresh_location",
    "unrelated_landing",
]

#: Redirect hops followed before a chain counts as too long (``LINKCRAWLER_MAX_REDIRECTS``).
DEFAULT_MAX_REDIRECTS: int = defaults.LINKCRAWLER_MAX_REDIRECTS
#: Statuses that send the client to ``Location``.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: The longest refresh delay (seconds) that still counts as a redirect (``LINKCRAWLER_REFRESH_MAX_DELAY``).
DEFAULT_REFRESH_MAX_DELAY: float = defaults.LINKCRAWLER_REFRESH_MAX_DELAY


def is_redirect_status(status: FetchStatus | None) -> bool:
    """Whether ``status`` sends the client on to its ``Location``."""
    return isinstance(status, int) and status in REDIRECT_STATUSES


@dataclass(frozen=True, slots=True)
class Hop:
    """One answer of a chain: the URL requested and its status (an HTTP status or an error kind)."""

    url: str
    status: FetchStatus
    refresh: bool = False
    """The page answered (2xx) with an immediate refresh that was followed: a redirect too."""

    @property
    def redirects(self) -> bool:
        """Whether this answer sent the client on: a redirect status or a followed refresh."""
        return self.refresh or is_redirect_status(self.status)


def find_cycle(urls: Sequence[str]) -> tuple[str, ...]:
    """The loop in a walk of redirects, or ``()``: the first redirect edge seen twice.

    ``urls`` is the walk, the URL about to be followed last. The result is the
    URLs of the loop with its first one repeated at the end: ``(a, b, a)``.
    """
    span = _cycle_span(urls)
    return tuple(urls[span[0] : span[1]]) if span else ()


def _cycle_span(urls: Sequence[str]) -> tuple[int, int] | None:
    """Where :func:`find_cycle`'s loop stands in ``urls``: ``urls[start:end]``."""
    first_seen: dict[tuple[str, str], int] = {}
    for index in range(len(urls) - 1):
        edge = (urls[index], urls[index + 1])
        if edge in first_seen:
            return first_seen[edge], index + 1
        first_seen[edge] = index
    return None


def too_many(redirects: int, max_hops: int) -> bool:
    """The hop limit: more than ``max_hops`` redirects."""
    return redirects > max_hops


def redirect_location(url: str, status: FetchStatus, location: str | bytes | None) -> str | None:
    """The normalized URL a redirect answer sends to, or ``None`` when it is not a usable redirect."""
    if not is_redirect_status(status) or not location:
        return None
    if isinstance(location, bytes):
        location = location.decode("latin-1")
    try:
        return normalize_url(urljoin(url, location.strip()))
    except ValueError:
        return None


def refresh_location(
    url: str, delay: float | None, refresh_url: str | None, max_delay: float = DEFAULT_REFRESH_MAX_DELAY
) -> str | None:
    """Where a page's refresh sends the client, when it counts as a redirect; else ``None``.

    ``delay`` and ``refresh_url`` are what :func:`~linkcrawler.web.headers.parse_refresh`
    read (``PageAnalysis.refresh_delay``/``refresh_url``). Only an immediate refresh
    counts (``delay <= max_delay``): a page that refreshes after 30 s is a page a
    reader sees, not a move. A refresh to the page itself is a reload, not a move.
    """
    if refresh_url is None or delay is None or delay > max_delay:
        return None
    if _comparable(refresh_url) == _comparable(url):
        return None
    return refresh_url


# --- a chain followed live ----------------------------------------------------------


@dataclass(frozen=True)
class RedirectChain:
    """A chain of responses from the first URL to the last, and what is wrong with it."""

    hops: tuple[Hop, ...]
    next_url: str | None
    """The ``Location`` the last hop points to, when it is a redirect not yet followed."""
    loop: bool
    """The chain went round: a redirect from one URL to another was seen twice."""
    too_long: bool
    """More than ``max_hops`` redirects."""
    cycle: tuple[str, ...]
    """The URLs of the loop, first one repeated at the end: ``(a, b, a)``."""
    max_hops: int

    @property
    def redirects(self) -> int:
        """How many hops were redirects (refresh hops included)."""
        return sum(1 for hop in self.hops if hop.redirects)

    @property
    def final_url(self) -> str | None:
        """The URL of the last response."""
        return self.hops[-1].url if self.hops else None

    @property
    def complete(self) -> bool:
        """The last response is not a redirect: the chain delivered something."""
        return bool(self.hops) and not self.hops[-1].redirects

    @property
    def should_stop(self) -> bool:
        """Following ``next_url`` would go round or too far."""
        return self.loop or self.too_long

    @property
    def problem(self) -> tuple[ErrorKind, str] | None:
        """``(kind, reason)`` for a loop or an over-long chain, else ``None``."""
        if self.loop:
            return ErrorKind.REDIRECT_LOOP, "redirect loop: " + " -> ".join(self.cycle)
        if self.too_long:
            return ErrorKind.TOO_MANY_REDIRECTS, f"too many redirects (more than {self.max_hops})"
        return None

    def as_documents(self) -> list[dict[str, Any]]:
        """The chain as documents store it: ``[{url, status}]``."""
        return [{"url": hop.url, "status": hop.status} for hop in self.hops]


def _comparable(url: str) -> str:
    try:
        return normalize_url(url)
    except ValueError:
        return url


def analyze_redirect_chain(
    hops: Iterable[tuple[str, FetchStatus] | Hop],
    max_hops: int = DEFAULT_MAX_REDIRECTS,
    next_url: str | None = None,
) -> RedirectChain:
    """Whether a chain of ``(url, status)`` responses (or :class:`Hop`) loops or runs too long.

    Call it after each redirect with the chain so far and the ``Location`` about to
    be followed (``next_url``); stop when :attr:`RedirectChain.should_stop`. The
    loop rule is :func:`find_cycle`; too long is more than ``max_hops`` redirects.
    """
    chain = tuple(h if isinstance(h, Hop) else Hop(h[0], h[1]) for h in hops)
    redirects = sum(1 for hop in chain if hop.redirects)
    complete = bool(chain) and not chain[-1].redirects
    if complete:
        next_url = None
    sequence = [_comparable(hop.url) for hop in chain]
    shown = [hop.url for hop in chain]
    if next_url is not None:
        sequence.append(_comparable(next_url))
        shown.append(next_url)
    cycle: tuple[str, ...] = ()
    if not complete:
        # Found on the comparable URLs, shown as the chain spelled them.
        span = _cycle_span(sequence)
        if span is not None:
            cycle = tuple(shown[span[0] : span[1]])
    return RedirectChain(
        hops=chain,
        next_url=next_url,
        loop=bool(cycle),
        too_long=too_many(redirects, max_hops),
        cycle=cycle,
        max_hops=max_hops,
    )


# --- chains put together from recorded answers ------------------------------------------


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a URL leads: every hop from it to the final answer.

    ``hops`` starts with the URL itself. A chain ends with the final answer
    (``final_url``, ``final_status``); a loop ends with the URL it came back to
    (``final_url`` is ``None``, ``final_status`` is ``redirect_loop``).
    """

    hops: tuple[Hop, ...]
    final_url: str | None
    final_status: FetchStatus
    loop: bool = False

    @property
    def url(self) -> str:
        return self.hops[0].url

    @property
    def status(self) -> FetchStatus:
        """The URL's own answer (its first hop), or the loop/too-many verdict that replaces it."""
        if self.final_status in (ErrorKind.REDIRECT_LOOP, ErrorKind.TOO_MANY_REDIRECTS):
            return self.final_status
        return self.hops[0].status

    @property
    def redirects(self) -> int:
        """How many redirects were followed."""
        return len(self.hops) - 1 if len(self.hops) > 1 else 0

    @property
    def chain(self) -> list[dict[str, FetchStatus]]:
        """``redirect_chain`` as stored: every hop, empty when the URL did not redirect."""
        if self.redirects == 0:
            return []
        return [{"url": hop.url, "status": hop.status} for hop in self.hops]


class RedirectGraph:
    """Every answer of a crawl (status, and where a redirect sends), and the chains they form.

    Each URL is fetched once; a chain is put together from the answers of its
    hops, so a hop shared by many chains (``http://`` to ``https://``) is
    fetched once too.
    """

    def __init__(self, max_redirects: int = DEFAULT_MAX_REDIRECTS) -> None:
        self.max_redirects = max_redirects
        self._answers: dict[str, tuple[FetchStatus, str | None]] = {}

    def __contains__(self, url: object) -> bool:
        return url in self._answers

    def __len__(self) -> int:
        return len(self._answers)

    def record(self, url: str, status: FetchStatus, location: str | None = None) -> None:
        """``url`` answered ``status``; ``location`` is where a redirect sends (normalized)."""
        self._answers[url] = (status, location)

    def next_hop(self, url: str) -> str | None:
        """Where ``url`` redirects to, if it answered with a redirect."""
        answer = self._answers.get(url)
        return answer[1] if answer is not None else None

    def resolve(self, url: str) -> Resolution | str:
        """The chain from ``url``, or the first URL on the way that has not answered yet."""
        hops: list[Hop] = []
        walk: list[str] = []
        current = url
        while True:
            answer = self._answers.get(current)
            if answer is None:
                return current
            status, location = answer
            hops.append(Hop(current, status))
            walk.append(current)
            if location is None:
                return Resolution(tuple(hops), current, status)
            if find_cycle([*walk, location]):
                return Resolution(tuple(hops), None, ErrorKind.REDIRECT_LOOP.value, loop=True)
            if too_many(len(hops), self.max_redirects):
                return Resolution(tuple(hops), None, ErrorKind.TOO_MANY_REDIRECTS.value)
            current = location


# --- where a chain ends up ------------------------------------------------------------

#: Paths that are a site's front door, not a page about anything (``/``, ``/index.html``, ``/en/``...).
_FRONT_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php", "/home", "/default.aspx"})


def _is_front_page(url: str) -> bool:
    parts = urlsplit(url)
    path = parts.path.lower().rstrip("/")
    if path in _FRONT_PATHS or path + "/" in _FRONT_PATHS:
        return True
    segments = [s for s in path.split("/") if s]
    # A language root ("/en", "/de-de") is a front page too.
    return len(segments) == 1 and len(segments[0]) in (2, 5) and segments[0][:2].isalpha() \
        and (len(segments[0]) == 2 or segments[0][2] in "-_")


#: Link shorteners and redirectors: their short paths are meant to send elsewhere, home pages included.
REDIRECTOR_DOMAINS = frozenset({
    "bit.ly", "t.co", "goo.gl", "tinyurl.com", "ow.ly", "buff.ly", "lnkd.in", "amzn.to", "rebrand.ly", "is.gd",
    "t.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "s.id", "fb.me", "dlvr.it", "trib.al", "bl.ink",
})
_SLUG_RE = re.compile(r"[-_.]")


def _looks_like_content(url: str) -> bool:
    """A path that names a page (``/guides/seo``, ``/old-post.html``), not a short code (``/3xYz9``)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return len(segments) >= 2 or (len(segments) == 1 and _SLUG_RE.search(segments[0]) is not None)


def unrelated_landing(start_url: str, final_url: str) -> str | None:
    """Why a redirect chain from ``start_url`` to ``final_url`` says the linked page is gone, or ``None``.

    An old deep URL (a path that names a page) that now lands on the front
    page of *another* registrable domain: the domain changed hands (or the
    content was dropped) and the new owner sends every old URL home. A move to
    a deep URL, within the same domain, or of a front page is not that: the
    content may well live on there. Nor is a short code (``/3xYz9``) or any
    URL of a link shortener (:data:`REDIRECTOR_DOMAINS`), made to send elsewhere.
    """
    if _is_front_page(start_url) or not _is_front_page(final_url) or not _looks_like_content(start_url):
        return None
    if registrable_domain(host_of(start_url)) in REDIRECTOR_DOMAINS:
        return None
    if registrable_domain(host_of(start_url)) == registrable_domain(host_of(final_url)):
        return None
    return f"redirects to the home page of another site ({final_url})"
