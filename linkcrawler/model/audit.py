"""What a site audit finds, as pure functions: verdicts, redirect chains, trap limits,
sitemaps, and the 301 targets proposed for pages that are gone.

The ``site_audit`` spider only fetches; everything it decides is here, with plain
inputs, so it is tested without a crawl.

Statuses (``pages.status``, ``broken_links.status``) are an HTTP status code
(``int``) or one of the error kinds below (``str``).
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from lxml import etree

from linkcrawler import defaults
from linkcrawler.model.urls import normalize_url

Status: TypeAlias = int | str

# --- error kinds ---------------------------------------------------------------

#: The host name does not resolve.
DNS_ERROR = "dns_error"
#: The host refused the connection (nothing listens on that port).
CONNECTION_REFUSED = "connection_refused"
#: No answer within ``DOWNLOAD_TIMEOUT``.
TIMEOUT = "timeout"
#: The TLS handshake failed (bad or expired certificate when certificates are verified).
TLS_ERROR = "tls_error"
#: The connection was closed before a complete answer (dropped, reset, truncated).
CONNECTION_ERROR = "connection_error"
#: The redirects come back to a URL already visited.
REDIRECT_LOOP = "redirect_loop"
#: More redirects than the audit follows (``MAX_REDIRECTS``).
TOO_MANY_REDIRECTS = "too_many_redirects"
#: robots.txt does not let us fetch it (not checked: not a broken link).
ROBOTS_DISALLOWED = "robots_disallowed"
#: The address guard refused a private or loopback address (not checked).
REFUSED_ADDRESS = "refused_address"
#: The download failed in another way (too large, cancelled...).
DOWNLOAD_ERROR = "download_error"

#: Error kinds that mean "we could not check", not "broken".
UNCHECKED_KINDS = frozenset({ROBOTS_DISALLOWED, REFUSED_ADDRESS})
ERROR_KINDS = (
    DNS_ERROR, CONNECTION_REFUSED, TIMEOUT, TLS_ERROR, CONNECTION_ERROR, REDIRECT_LOOP,
    TOO_MANY_REDIRECTS, ROBOTS_DISALLOWED, REFUSED_ADDRESS, DOWNLOAD_ERROR,
)

#: The statuses a redirect is followed on.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Redirects followed from one URL before giving up (browsers stop at about 20).
MAX_REDIRECTS = 20


def is_broken(status: Status | None) -> bool:
    """True when a link whose target ends in ``status`` is broken for a visitor.

    Every 4xx and 5xx, a redirect that leads nowhere (a 3xx without a usable
    ``Location``), and every failure except robots.txt and the address guard,
    which mean the link was not checked.
    """
    if status is None:
        return False
    if isinstance(status, int):
        return status >= 300
    return status not in UNCHECKED_KINDS


def _names_in_chain(exc: BaseException) -> Iterator[tuple[str, str]]:
    """(module, class name) of ``exc``, its causes and the reasons Twisted wraps, depth first."""
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for cls in type(current).__mro__:
            yield cls.__module__, cls.__name__
        for nested in (current.__cause__, current.__context__):
            if nested is not None:
                stack.append(nested)
        for reason in getattr(current, "reasons", None) or ():  # ResponseFailed and kin
            value = getattr(reason, "value", reason)
            if isinstance(value, BaseException):
                stack.append(value)


_KIND_BY_CLASS = {
    "RobotsDisallowed": ROBOTS_DISALLOWED,
    "AddressRefused": REFUSED_ADDRESS,
    "CannotResolveHostError": DNS_ERROR,
    "DNSLookupError": DNS_ERROR,
    "DownloadConnectionRefusedError": CONNECTION_REFUSED,
    "ConnectionRefusedError": CONNECTION_REFUSED,
    "DownloadTimeoutError": TIMEOUT,
    "TCPTimedOutError": TIMEOUT,
    "TimeoutError": TIMEOUT,
}


def error_kind(exc: BaseException) -> str:
    """The error kind of a failed fetch (``failure.value`` in an errback)."""
    names = list(_names_in_chain(exc))
    for _, name in names[: len(type(exc).__mro__)]:
        if name in _KIND_BY_CLASS:
            return _KIND_BY_CLASS[name]
    if any("SSL" in module or "ssl" in module.split(".") or name == "SSLError" for module, name in names):
        return TLS_ERROR
    for _, name in names:
        if name in _KIND_BY_CLASS:
            return _KIND_BY_CLASS[name]
    if any(
        name in ("DownloadFailedError", "ResponseFailed", "ConnectionLost", "ConnectionDone",
                 "ResponseDataLossError", "ConnectError", "ConnectionResetError")
        for _, name in names
    ):
        return CONNECTION_ERROR
    return DOWNLOAD_ERROR


# --- redirect chains -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hop:
    url: str
    status: Status


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a URL leads: every hop from it to the final answer.

    ``hops`` starts with the URL itself. A chain ends with the final answer
    (``final_url``, ``final_status``); a loop ends with the URL it came back to
    (``final_url`` is ``None``, ``final_status`` is ``redirect_loop``).
    """

    hops: tuple[Hop, ...]
    final_url: str | None
    final_status: Status
    loop: bool = False

    @property
    def url(self) -> str:
        return self.hops[0].url

    @property
    def status(self) -> Status:
        """The URL's own answer (its first hop), or the loop/too-many verdict that replaces it."""
        if self.final_status in (REDIRECT_LOOP, TOO_MANY_REDIRECTS):
            return self.final_status
        return self.hops[0].status

    @property
    def redirects(self) -> int:
        """How many redirects were followed."""
        return len(self.hops) - 1 if len(self.hops) > 1 else 0

    @property
    def chain(self) -> list[dict[str, Status]]:
        """``redirect_chain`` as stored: every hop, empty when the URL did not redirect."""
        if self.redirects == 0:
            return []
        return [{"url": hop.url, "status": hop.status} for hop in self.hops]


def redirect_location(url: str, status: Status, location: str | bytes | None) -> str | None:
    """The normalized URL a redirect answer sends to, or ``None`` when it is not a usable redirect."""
    if not isinstance(status, int) or status not in REDIRECT_STATUSES or not location:
        return None
    if isinstance(location, bytes):
        location = location.decode("latin-1")
    try:
        return normalize_url(urljoin(url, location.strip()))
    except ValueError:
        return None


class RedirectGraph:
    """Every answer of a crawl (status, and where a redirect sends), and the chains they form.

    Each URL is fetched once; a chain is put together from the answers of its
    hops, so a hop shared by many chains (``http://`` to ``https://``) is
    fetched once too, and a loop is seen as a URL coming back.
    """

    def __init__(self, max_redirects: int = MAX_REDIRECTS) -> None:
        self.max_redirects = max_redirects
        self._answers: dict[str, tuple[Status, str | None]] = {}

    def __contains__(self, url: object) -> bool:
        return url in self._answers

    def __len__(self) -> int:
        return len(self._answers)

    def record(self, url: str, status: Status, location: str | None = None) -> None:
        """``url`` answered ``status``; ``location`` is where a redirect sends (normalized)."""
        self._answers[url] = (status, location)

    def next_hop(self, url: str) -> str | None:
        """Where ``url`` redirects to, if it answered with a redirect."""
        answer = self._answers.get(url)
        return answer[1] if answer is not None else None

    def resolve(self, url: str) -> Resolution | str:
        """The chain from ``url``, or the first URL on the way that has not answered yet."""
        hops: list[Hop] = []
        visited: set[str] = set()
        current = url
        while True:
            answer = self._answers.get(current)
            if answer is None:
                return current
            status, location = answer
            if current in visited:
                hops.append(Hop(current, status))
                return Resolution(tuple(hops), None, REDIRECT_LOOP, loop=True)
            visited.add(current)
            hops.append(Hop(current, status))
            if location is None:
                return Resolution(tuple(hops), current, status)
            if len(hops) > self.max_redirects:
                return Resolution(tuple(hops), None, TOO_MANY_REDIRECTS)
            current = location


# --- what is crawled -------------------------------------------------------------

#: Query parameters removed from every URL (session ids and click trackers make one
#: page look like many). ``fnmatch`` patterns, matched case-insensitively.
SESSION_PARAMS: tuple[str, ...] = tuple(defaults.LINKCRAWLER_AUDIT_STRIP_PARAMS)
_PATH_SESSION_RE = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)


class ParamStripper:
    """Removes session-id and tracking parameters from normalized URLs."""

    def __init__(self, patterns: Iterable[str] = SESSION_PARAMS) -> None:
        self.patterns = tuple(p.strip().lower() for p in patterns if p.strip())
        self._regex = re.compile(
            "|".join(fnmatch.translate(p) for p in self.patterns) or r"(?!)", re.IGNORECASE
        )

    def __call__(self, url: str) -> str:
        if "?" not in url and ";" not in url:
            return url
        parts = urlsplit(url)
        path = _PATH_SESSION_RE.sub("", parts.path) if ";" in parts.path else parts.path
        query = parts.query
        if query:
            kept = [pair for pair in query.split("&") if not self._regex.match(unquote(pair.split("=", 1)[0]))]
            query = "&".join(kept)
        if path == parts.path and query == parts.query:
            return url
        return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


@dataclass(frozen=True)
class TrapLimits:
    """Bounds that keep calendars, faceted filters and relative-link loops from trapping a crawl.

    A limit of 0 is no limit.
    """

    max_depth: int = 10
    max_url_length: int = 2000
    max_query_variants: int = 100
    max_segment_repeats: int = 3
    deny: tuple[str, ...] = ()


class TrapGuard:
    """Decides which newly found internal URLs are crawled (:meth:`admit`)."""

    def __init__(self, limits: TrapLimits = TrapLimits()) -> None:
        self.limits = limits
        self._deny = [re.compile(pattern) for pattern in limits.deny]
        self._variants: Counter[str] = Counter()

    def refusal(self, url: str, depth: int) -> str | None:
        """Why ``url`` found at ``depth`` is not crawled, or ``None``; counts it when admitted.

        Reasons: ``depth``, ``url_length``, ``deny``, ``repeated_segments``, ``query_variants``.
        """
        limits = self.limits
        if limits.max_depth and depth > limits.max_depth:
            return "depth"
        if limits.max_url_length and len(url) > limits.max_url_length:
            return "url_length"
        if any(pattern.search(url) for pattern in self._deny):
            return "deny"
        path, _, query = url.partition("?")
        if limits.max_segment_repeats and path.count("/") > limits.max_segment_repeats + 3:
            segments = [s for s in path.split("/")[3:] if s]
            if segments and Counter(segments).most_common(1)[0][1] > limits.max_segment_repeats:
                return "repeated_segments"
        if query and limits.max_query_variants:
            if self._variants[path] >= limits.max_query_variants:
                return "query_variants"
            self._variants[path] += 1
        return None


class SiteScope:
    """Which URLs are the audited site's: the start URL's host (and its ``www.`` twin), any scheme."""

    def __init__(self, start_url: str, extra_hosts: Iterable[str] = ()) -> None:
        parts = urlsplit(normalize_url(start_url))
        self.site = parts.netloc
        hosts = {parts.netloc, *(h.strip().lower() for h in extra_hosts if h.strip())}
        for host in list(hosts):
            hosts.add(host[4:] if host.startswith("www.") else f"www.{host}")
        self.hosts = frozenset(hosts)
        self._prefixes = tuple(f"{scheme}://{host}/" for host in sorted(hosts) for scheme in ("http", "https"))

    def is_internal(self, url: str) -> bool:
        """For normalized URLs (``scheme://host[:port]/...``)."""
        return url.startswith(self._prefixes)


# --- sitemaps ----------------------------------------------------------------------


@dataclass(frozen=True)
class SitemapContent:
    """``kind`` is ``urlset``, ``sitemapindex`` or ``None`` (not a sitemap)."""

    kind: str | None
    locations: tuple[str, ...] = ()


def sitemap_urls_in_robots(body: bytes, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, absolute."""
    found = []
    for line in body.splitlines():
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sitemap" and value.strip():
            found.append(urljoin(base_url, value.strip().decode("utf-8", "replace")))
    return found


def parse_sitemap(body: bytes, max_size: int = 50 * 1024 * 1024) -> SitemapContent:
    """The URLs of a sitemap (``<urlset>``) or the sitemaps of an index, gzip or plain.

    Never raises on bad content; entities are not resolved and nothing is fetched.
    """
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as unzipped:
                body = unzipped.read(max_size + 1)[:max_size]
        except (OSError, EOFError, zlib.error):
            return SitemapContent(None)
    if not body.strip():
        return SitemapContent(None)
    kind: str | None = None
    locations: list[str] = []
    try:
        for event, element in etree.iterparse(
            io.BytesIO(body), events=("start", "end"), recover=True, resolve_entities=False,
            no_network=True, remove_comments=True, remove_pis=True, huge_tree=False,
        ):
            name = _local_name(element.tag)
            if kind is None:
                if event == "start" and name in ("urlset", "sitemapindex"):
                    kind = name
                    continue
                if event == "start":
                    return SitemapContent(None)
            if event == "end" and name == "loc" and element.text and element.text.strip():
                locations.append(element.text.strip())
            if event == "end" and name in ("url", "sitemap"):
                element.clear()
    except etree.LxmlError:
        pass
    return SitemapContent(kind, tuple(locations))


def _local_name(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


# --- the findings, as a person reads them --------------------------------------------


@dataclass
class BrokenTarget:
    """One broken link target and every page that carries a link to it."""

    link_url: str
    status: Status
    kind: str
    carriers: list[tuple[str, str]] = field(default_factory=list)
    """(page URL, anchor text) of each page linking to it."""


@dataclass
class AuditFindings:
    """What an audit found, for the closing report (``format_findings``)."""

    site: str
    pages: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    broken: list[BrokenTarget] = field(default_factory=list)
    chains: list[list[dict[str, Status]]] = field(default_factory=list)
    """Redirect chains of two or more redirects, every hop."""
    loops: list[list[dict[str, Status]]] = field(default_factory=list)
    redirected_links: list[tuple[str, str, str]] = field(default_factory=list)
    """(page URL, link URL, final URL): internal links to fix to point at the final URL."""
    sitemap_only: list[str] = field(default_factory=list)
    not_checked: list[tuple[str, Status]] = field(default_factory=list)
    """Internal URLs robots.txt or the address guard kept us from fetching."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Internal URLs not crawled, by the trap limit that stopped them."""


def _hops_text(chain: Sequence[dict[str, Status]]) -> str:
    return " -> ".join(f"{hop['url']} [{hop['status']}]" for hop in chain)


def format_findings(findings: AuditFindings, limit: int = 20) -> str:
    """The findings as text: broken links with the pages carrying them, chains, loops...

    Each section shows at most ``limit`` entries and says how many more there are.
    """
    lines = [f"Site audit of {findings.site}: {findings.pages} URLs"]
    if findings.statuses:
        lines.append("  " + ", ".join(f"{status}: {count}" for status, count in sorted(findings.statuses.items())))

    def section(title: str, entries: Sequence[Any], render: Callable[[Any], list[str]]) -> None:
        lines.append("")
        lines.append(f"{title} ({len(entries)})")
        if not entries:
            lines.append("  none")
        for entry in entries[:limit]:
            lines.extend(render(entry))
        if len(entries) > limit:
            lines.append(f"  ... and {len(entries) - limit} more")

    def broken(target: BrokenTarget) -> list[str]:
        out = [f"  {target.link_url} [{target.status}] ({target.kind}), linked from:"]
        for page, anchor in target.carriers[:limit]:
            out.append(f"      {page}" + (f'  "{anchor}"' if anchor else ""))
        if len(target.carriers) > limit:
            out.append(f"      ... and {len(target.carriers) - limit} more pages")
        return out

    section("Broken links", sorted(findings.broken, key=lambda t: (-len(t.carriers), t.link_url)), broken)
    section("Redirect chains (2+ redirects)", findings.chains, lambda c: [f"  {_hops_text(c)}"])
    section("Redirect loops", findings.loops, lambda c: [f"  {_hops_text(c)}"])
    section(
        "Internal links to a redirect (point them at the final URL)",
        findings.redirected_links,
        lambda r: [f"  {r[0]}: {r[1]} -> {r[2]}"],
    )
    section("Pages found only in the sitemap", findings.sitemap_only, lambda u: [f"  {u}"])
    section("Not checked (robots.txt, address guard)", findings.not_checked, lambda r: [f"  {r[0]} [{r[1]}]"])
    if findings.skipped:
        lines.append("")
        lines.append("URLs not crawled by trap limits: " + ", ".join(
            f"{reason}: {count}" for reason, count in sorted(findings.skipped.items())))
    return "\n".join(lines)


# --- redirect map: the live page a gone page should point to -------------------------------

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_EXTENSIONS = frozenset({"html", "htm", "php", "asp", "aspx", "jsp", "cfm", "shtml", "xhtml"})
_STOPWORDS = frozenset(
    "a an and are as at be by for from how in is it of on or the to was what when where who why with "
    "www index page home".split()
)
#: Score weights of :func:`target_score`.
PATH_WEIGHT, TITLE_WEIGHT, SECTION_WEIGHT = 0.5, 0.3, 0.2
#: Below this score the best match is not trusted: the nearest live ancestor (else the home page) is used.
MIN_SCORE = 0.25


def text_tokens(text: str) -> frozenset[str]:
    """Lower-case words of ``text`` without stop words (``"How to bake bread"`` -> bake, bread)."""
    return frozenset(w for w in _WORD_RE.findall(text.lower()) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit()))


def path_tokens(url: str) -> frozenset[str]:
    """Words of a URL's path (``/blog/bake-bread.html`` -> blog, bake, bread)."""
    path = unquote(urlsplit(url).path)
    return frozenset(w for w in text_tokens(path.replace("-", " ").replace("_", " ")) if w not in _EXTENSIONS)


def slug_tokens(url: str) -> frozenset[str]:
    """Words of the last segment of a URL's path (``/blog/bake-bread.html`` -> bake, bread)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return path_tokens("/" + segments[-1]) if segments else frozenset()


def _directories(url: str) -> tuple[str, ...]:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return tuple(segments[:-1]) if segments else ()


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass(frozen=True)
class LivePage:
    """A page that answers 200, a candidate target."""

    url: str
    title: str = ""

    @property
    def words(self) -> frozenset[str]:
        return slug_tokens(self.url) | text_tokens(self.title)


@dataclass(frozen=True)
class GonePage:
    """A page that answers 404/410 and still has backlinks."""

    url: str
    status: Status
    referring_domains: int
    backlinks: int = 0
    anchors: tuple[str, ...] = ()


def target_score(gone: GonePage, live: LivePage) -> float:
    """How well ``live`` replaces ``gone``, 0..1.

    ``0.5 * path``: Dice of the words of the two URLs' last path segments
    (``old-bread-recipe`` and ``bread-recipe``), ``+ 0.3 * title``: Dice of the
    gone page's slug words and backlink anchor texts against the live page's
    title words, ``+ 0.2 * section``: the share of the gone page's directories
    the live page shares, from the root (``/blog/...`` and ``/blog/...``).
    """
    gone_slug = slug_tokens(gone.url)
    gone_words = gone_slug | frozenset().union(*(text_tokens(a) for a in gone.anchors))
    path_similarity = dice(gone_slug, slug_tokens(live.url))
    title_similarity = dice(gone_words, text_tokens(live.title))
    gone_dirs, live_segments = _directories(gone.url), [s for s in urlsplit(live.url).path.split("/") if s]
    shared = 0
    for mine, theirs in zip(gone_dirs, live_segments):
        if mine != theirs:
            break
        shared += 1
    section = shared / len(gone_dirs) if gone_dirs else 0.0
    return round(PATH_WEIGHT * path_similarity + TITLE_WEIGHT * title_similarity + SECTION_WEIGHT * section, 3)


@dataclass(frozen=True)
class RedirectRule:
    source: str
    target: str
    referring_domains: int
    score: float
    backlinks: int = 0
    fallback: bool = False
    """No page matched well enough: the target is the nearest live ancestor or the home page."""


class TargetMatcher:
    """Finds the best live page for each gone page (an inverted index keeps it fast)."""

    def __init__(self, live_pages: Iterable[LivePage], min_score: float = MIN_SCORE) -> None:
        self.min_score = min_score
        self.pages: dict[str, LivePage] = {page.url: page for page in live_pages}
        self._index: dict[str, list[str]] = {}
        for page in self.pages.values():
            for word in page.words:
                self._index.setdefault(word, []).append(page.url)

    def _ancestors(self, url: str) -> list[str]:
        """Live pages up the path (``/a/b/`` and ``/a/b``, then ``/a/``..., then ``/``), nearest first."""
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s][:-1]
        found = []
        for depth in range(len(segments), -1, -1):
            path = "/" + "/".join(segments[:depth])
            for candidate in dict.fromkeys([path.rstrip("/") + "/", path]):
                full = urlunsplit((parts.scheme, parts.netloc, candidate or "/", "", ""))
                if full in self.pages and full != url:
                    found.append(full)
        return found

    def best(self, gone: GonePage) -> RedirectRule | None:
        """The rule for ``gone``: its best-scoring live page, or the fallback; ``None`` if nothing is live."""
        host = urlsplit(gone.url).netloc
        words = slug_tokens(gone.url) | frozenset().union(*(text_tokens(a) for a in gone.anchors))
        candidates = {url for word in words for url in self._index.get(word, ())}
        candidates.update(self._ancestors(gone.url))
        best_url, best_score = None, -1.0
        for url in sorted(candidates):
            if url == gone.url or urlsplit(url).netloc != host:
                continue
            score = target_score(gone, self.pages[url])
            if score > best_score or (score == best_score and best_url is not None and len(url) < len(best_url)):
                best_url, best_score = url, score
        if best_url is not None and best_score >= self.min_score:
            return RedirectRule(gone.url, best_url, gone.referring_domains, best_score, gone.backlinks)
        ancestors = self._ancestors(gone.url)
        if not ancestors:
            return None
        fallback = ancestors[0]
        return RedirectRule(
            gone.url, fallback, gone.referring_domains, target_score(gone, self.pages[fallback]),
            gone.backlinks, fallback=True,
        )


def rank_rules(rules: Iterable[RedirectRule]) -> list[RedirectRule]:
    """Most referring domains first, then most backlinks, then by URL."""
    return sorted(rules, key=lambda r: (-r.referring_domains, -r.backlinks, r.source))


# --- redirect map: the rules as server configuration ---------------------------------------

FORMATS = ("nginx", "apache", "csv")


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _target_for(rule: RedirectRule) -> str:
    """The target as the server writes it: a path on the same host, else the absolute URL."""
    if urlsplit(rule.target).netloc == urlsplit(rule.source).netloc:
        return _path_and_query(rule.target).replace("$", "%24")
    return rule.target.replace("$", "%24")


def _nginx_string(text: str) -> str:
    if re.search(r"[\s;{}\"'#\\$]", text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _apache_string(text: str) -> str:
    # Apache keeps backslashes inside quotes as they are; only a quote needs one.
    if re.search(r"[\s\"]", text):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def format_rules(rules: Sequence[RedirectRule], fmt: str) -> str:
    """The rules as an nginx ``server`` block include, Apache directives, or CSV.

    - nginx: ``location = /old { return 301 /new; }`` (exact match on the decoded
      path, as nginx matches); a source with a query string becomes
      ``if ($request_uri = "/old?id=1") { return 301 /new; }``.
    - apache: ``RedirectMatch 301 ^/old$ /new``: an anchored match, because
      ``Redirect`` matches a path prefix (``Redirect 301 /docs /x`` would send
      ``/docs/intro`` to ``/x/intro`` too). Sources with a query string use mod_rewrite.
    - csv: ``source,target,referring_domains,score``, absolute URLs.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = io.StringIO()
    if fmt == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["source", "target", "referring_domains", "score"])
        for rule in rules:
            writer.writerow([rule.source, rule.target, rule.referring_domains, f"{rule.score:.3f}"])
        return out.getvalue()
    comment = "#"
    out.write(f"{comment} 301 rules for pages that are gone but still have backlinks (linkcrawler redirectmap)\n")
    out.write(f"{comment} ranked by referring domains; score: how well the target matches (0..1)\n")
    needs_rewrite = fmt == "apache" and any(urlsplit(r.source).query for r in rules)
    if needs_rewrite:
        out.write("RewriteEngine On\n")
    for rule in rules:
        parts = urlsplit(rule.source)
        target = _target_for(rule)
        note = f"{comment} {rule.referring_domains} referring domains, score {rule.score:.3f}" + (
            " (fallback: no close match)" if rule.fallback else "")
        out.write(note + "\n")
        if fmt == "nginx":
            if parts.query:
                source = _path_and_query(rule.source)
                quoted = '"' + source.replace("\\", "\\\\").replace('"', '\\"') + '"'
                out.write(f"if ($request_uri = {quoted}) {{ return 301 {_nginx_string(target)}; }}\n")
            else:
                out.write(f"location = {_nginx_string(unquote(parts.path or '/'))} {{ return 301 {_nginx_string(target)}; }}\n")
        else:
            path = unquote(parts.path or "/")
            if parts.query:
                out.write(f"RewriteCond %{{QUERY_STRING}} ^{re.escape(parts.query)}$\n")
                out.write(f"RewriteRule {_apache_string('^' + re.escape(path) + '$')} {_apache_string(target)}? [R=301,L]\n")
            else:
                out.write(f"RedirectMatch 301 {_apache_string('^' + re.escape(path) + '$')} {_apache_string(target)}\n")
    return out.getvalue()


def _unquote_config(token: str) -> str:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _unescape_regex(pattern: str) -> str:
    pattern = _unquote_config(pattern)
    if pattern.startswith("^"):
        pattern = pattern[1:]
    if pattern.endswith("$"):
        pattern = pattern[:-1]
    return re.sub(r"\\(.)", r"\1", pattern)


_CONFIG_TOKEN = r'("(?:[^"\\]|\\.)*"|[^\s;{}]+)'
_NGINX_LOCATION = re.compile(rf"^\s*location\s*=\s*{_CONFIG_TOKEN}\s*\{{\s*return\s+301\s+{_CONFIG_TOKEN}\s*;\s*\}}")
_NGINX_IF = re.compile(rf"^\s*if\s*\(\$request_uri\s*=\s*{_CONFIG_TOKEN}\)\s*\{{\s*return\s+301\s+{_CONFIG_TOKEN}\s*;\s*\}}")
_APACHE_MATCH = re.compile(rf"^\s*RedirectMatch\s+301\s+{_CONFIG_TOKEN}\s+{_CONFIG_TOKEN}")
_APACHE_REDIRECT = re.compile(rf"^\s*Redirect\s+(?:301|permanent)\s+{_CONFIG_TOKEN}\s+{_CONFIG_TOKEN}")
_APACHE_COND = re.compile(r"^\s*RewriteCond\s+%\{QUERY_STRING\}\s+(\S+)")
_APACHE_RULE = re.compile(rf"^\s*RewriteRule\s+{_CONFIG_TOKEN}\s+{_CONFIG_TOKEN}\s+\[R=301")


def parse_rules(text: str) -> list[tuple[str, str]]:
    """(source, target) pairs of rules written by :func:`format_rules` in any format.

    Sources and targets are paths (with their query) or absolute URLs, as written;
    nginx and Apache paths are percent-encoded again.
    """
    from urllib.parse import quote

    def encode(path: str) -> str:
        return quote(path, safe="/%?=&;:@!$'()*+,~-._")

    stripped = text.lstrip()
    if stripped.startswith("source,"):
        import csv

        return [(row["source"], row["target"]) for row in csv.DictReader(io.StringIO(stripped))]
    rules: list[tuple[str, str]] = []
    query: str | None = None
    for line in text.splitlines():
        if match := _NGINX_LOCATION.match(line):
            rules.append((encode(_unquote_config(match.group(1))), _unquote_config(match.group(2))))
        elif match := _NGINX_IF.match(line):
            rules.append((_unquote_config(match.group(1)), _unquote_config(match.group(2))))
        elif match := _APACHE_MATCH.match(line) or _APACHE_REDIRECT.match(line):
            rules.append((encode(_unescape_regex(match.group(1))), _unquote_config(match.group(2))))
        elif match := _APACHE_COND.match(line):
            query = _unescape_regex(match.group(1))
        elif match := _APACHE_RULE.match(line):
            source = encode(_unescape_regex(match.group(1)))
            rules.append((source + (f"?{query}" if query else ""), _unquote_config(match.group(2)).rstrip("?")))
            query = None
    return rules


def judge_redirect(
    source_url: str,
    expected_target: str,
    first: tuple[Status, str | None],
    second: tuple[Status, str | None] | None,
) -> str | None:
    """Why a deployed rule is wrong, or ``None`` when it answers one 301 hop to a 200.

    ``first`` is (status, Location) of ``source_url`` fetched without following
    redirects; ``second`` the same for where it sends (``None`` if not fetched).
    """
    status, location = first
    if status != 301:
        return f"answers {status}, not 301"
    if not location:
        return "answers 301 without a Location"
    sent_to = urljoin(source_url, location)
    try:
        same = normalize_url(sent_to) == normalize_url(expected_target)
    except ValueError:
        same = False
    if not same:
        return f"redirects to {sent_to}, not {expected_target}"
    if second is None:
        return "the target was not fetched"
    target_status, target_location = second
    if isinstance(target_status, int) and target_status in REDIRECT_STATUSES:
        return f"the target answers {target_status} (to {target_location}): more than one hop"
    if target_status != 200:
        return f"the target answers {target_status}, not 200"
    return None


# --- most linked pages ---------------------------------------------------------------------


def page_health(status: Status | None, final_status: Status | None = None) -> str:
    """``ok`` (answers 200), ``redirect`` (redirects to a page that answers 2xx),
    ``broken`` (anything else a visitor would see as an error), ``unknown`` (not audited,
    or not checked: robots.txt, address guard)."""
    if status is None or status in UNCHECKED_KINDS:
        return "unknown"
    if status == 200:
        return "ok"
    if isinstance(status, int) and status in REDIRECT_STATUSES and isinstance(final_status, int) \
            and 200 <= final_status < 300:
        return "redirect"
    if isinstance(status, int) and 200 <= status < 300:
        return "ok"
    return "broken"
