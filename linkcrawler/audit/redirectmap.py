"""The redirect map: the live page a gone page should point to, and the rules as server configuration."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from linkcrawler.web.outcome import FetchStatus
from linkcrawler.web.redirects import REDIRECT_STATUSES
from linkcrawler.web.urls import normalize_url

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
    status: FetchStatus
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
    for mine, theirs in zip(gone_dirs, live_segments, strict=False):
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


    def best_elsewhere(self, gone: GonePage) -> RedirectRule | None:
        """The live page that best replaces ``gone``, a page of *another* site (a dead outbound
        link on a prospect's page), scored as :meth:`best` scores; ``None`` below ``min_score``.

        No fallback: the nearest ancestor of someone else's page means nothing on our site.
        """
        words = slug_tokens(gone.url) | frozenset().union(*(text_tokens(a) for a in gone.anchors))
        candidates = {url for word in words for url in self._index.get(word, ())}
        best_url, best_score = None, -1.0
        for url in sorted(candidates):
            score = target_score(gone, self.pages[url])
            if score > best_score or (score == best_score and best_url is not None and len(url) < len(best_url)):
                best_url, best_score = url, score
        if best_url is None or best_score < self.min_score:
            return None
        return RedirectRule(gone.url, best_url, gone.referring_domains, best_score, gone.backlinks)


def rank_rules(rules: Iterable[RedirectRule]) -> list[RedirectRule]:
    """Most referring domains first, then most backlinks, then by URL."""
    return sorted(rules, key=lambda r: (-r.referring_domains, -r.backlinks, r.source))


# --- redirect map: the rules as server configuration ---------------------------------------

FORMATS = ("nginx", "apache", "csv")


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# Characters a URL written into a server configuration never holds raw: they are
# percent-encoded, which names the same URL (RFC 3986: none of them is allowed raw).
_URL_SAFE = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in '"\\<>`{}|^')


def _encoded_url(url: str) -> str:
    """``url`` with whitespace, control characters, quotes and non-ASCII percent-encoded."""
    return quote(url, safe=_URL_SAFE)


def _target_for(rule: RedirectRule) -> str:
    """The target as the server writes it: a path on the same host, else the absolute URL.

    Percent-encoded where a character cannot stand raw in a URL, ``$`` too (nginx
    and Apache read ``$`` as a variable or a back-reference).
    """
    target = rule.target
    if urlsplit(rule.target).netloc == urlsplit(rule.source).netloc:
        target = _path_and_query(rule.target)
    return _encoded_url(target).replace("$", "%24")


# nginx reads \" \' \\ \t \r \n inside a quoted string (ngx_conf_read_token); no
# other control character can be written.
_NGINX_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\r": "\\r", "\n": "\\n"}


def _nginx_string(text: str) -> str:
    if re.search(r"[\s;{}\"'#\\$]", text):
        return '"' + "".join(_NGINX_ESCAPES.get(c, c) for c in text) + '"'
    return text


def _unprintable(text: str) -> str | None:
    """The first character of ``text`` that is neither printable nor a plain space, tab, CR or LF."""
    return next((c for c in text if not c.isprintable() and c not in " \t\r\n"), None)


def _regex_literal(text: str) -> str:
    r"""A PCRE pattern matching ``text`` exactly, with no whitespace, quote or control character in it.

    What the configuration parser would read differently (whitespace, quotes,
    backslashes, CR/LF, other control and invisible characters) is written as
    ``\xHH`` escapes of its UTF-8 bytes, which Apache passes to PCRE as they are;
    PCRE matches them against the decoded URL path byte by byte.
    """
    out = []
    for char in text:
        if char.isprintable() and char not in ' "\'\\':
            out.append(re.escape(char))
        else:
            out.append("".join(f"\\x{byte:02x}" for byte in char.encode("utf-8")))
    return "".join(out)


def _apache_string(text: str) -> str:
    # Inside quotes Apache reads \" as a quote and \\ as one backslash (ap_getword_conf).
    if re.search(r"[\s\"']", text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def skipped_rules(rules: Sequence[RedirectRule], fmt: str) -> list[tuple[RedirectRule, str]]:
    r"""The rules ``fmt`` cannot express, each with why; :func:`format_rules` leaves them out.

    Targets and query strings are URLs, percent-encoded where needed, so any can
    be written. nginx matches the *decoded* path and can write no control
    character in it but tab, CR and LF; a ``$`` in a query-string match would be
    read as a variable. Apache (``\xHH`` escapes) and CSV (quoting) write any path.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    skipped = []
    for rule in rules:
        parts = urlsplit(rule.source)
        if fmt == "nginx":
            if parts.query and "$" in _path_and_query(rule.source):
                skipped.append((rule, "nginx cannot match a request URI holding '$'"))
            elif not parts.query and (char := _unprintable(unquote(parts.path or "/"))) is not None:
                skipped.append((rule, f"nginx cannot write the character {char!a} of the decoded path"))
    return skipped


def format_rules(rules: Sequence[RedirectRule], fmt: str) -> str:
    r"""The rules as an nginx ``server`` block include, Apache directives, or CSV.

    - nginx: ``location = /old { return 301 /new; }`` (exact match on the decoded
      path, as nginx matches); a source with a query string becomes
      ``if ($request_uri = "/old?id=1") { return 301 /new; }``.
    - apache: ``RedirectMatch 301 ^/old$ /new``: an anchored match, because
      ``Redirect`` matches a path prefix (``Redirect 301 /docs /x`` would send
      ``/docs/intro`` to ``/x/intro`` too). Sources with a query string use mod_rewrite.
    - csv: ``source,target,referring_domains,score``, absolute URLs.

    What a format cannot hold raw is escaped: URLs are percent-encoded, nginx
    quoted strings use ``\r``/``\n``/``\"``, Apache patterns ``\xHH``. A rule the
    format cannot express at all (:func:`skipped_rules`) is left out, and a
    comment line says which and why (CSV needs none: it can write every rule).
    """
    skipped = dict((id(rule), why) for rule, why in skipped_rules(rules, fmt))
    out = io.StringIO()
    if fmt == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["source", "target", "referring_domains", "score"])
        for rule in rules:
            writer.writerow([_encoded_url(rule.source), _encoded_url(rule.target), rule.referring_domains,
                             f"{rule.score:.3f}"])
        return out.getvalue()
    comment = "#"
    out.write(f"{comment} 301 rules for pages that are gone but still have backlinks (linkcrawler redirectmap)\n")
    out.write(f"{comment} ranked by referring domains; score: how well the target matches (0..1)\n")
    needs_rewrite = fmt == "apache" and any(urlsplit(r.source).query for r in rules)
    if needs_rewrite:
        out.write("RewriteEngine On\n")
    for rule in rules:
        parts = urlsplit(rule.source)
        if id(rule) in skipped:
            # The URL percent-encoded: the comment stays one line whatever the source holds.
            out.write(f"{comment} SKIPPED {_encoded_url(rule.source)}: {skipped[id(rule)]}\n")
            continue
        target = _target_for(rule)
        note = f"{comment} {rule.referring_domains} referring domains, score {rule.score:.3f}" + (
            " (fallback: no close match)" if rule.fallback else "")
        out.write(note + "\n")
        if fmt == "nginx":
            if parts.query:
                source = _encoded_url(_path_and_query(rule.source))
                quoted = '"' + source.replace("\\", "\\\\").replace('"', '\\"') + '"'
                out.write(f"if ($request_uri = {quoted}) {{ return 301 {_nginx_string(target)}; }}\n")
            else:
                out.write(f"location = {_nginx_string(unquote(parts.path or '/'))} {{ return 301 {_nginx_string(target)}; }}\n")
        else:
            path = unquote(parts.path or "/")
            if parts.query:
                out.write(f"RewriteCond %{{QUERY_STRING}} ^{_regex_literal(parts.query)}$\n")
                # In a RewriteRule substitution %N is a RewriteCond back-reference; NE: the
                # target is already percent-encoded, mod_rewrite must not encode it again.
                out.write(f"RewriteRule ^{_regex_literal(path)}$ {_apache_string(target.replace('%', chr(92) + '%'))}? "
                          "[R=301,L,NE]\n")
            else:
                out.write(f"RedirectMatch 301 ^{_regex_literal(path)}$ {_apache_string(target)}\n")
    return out.getvalue()


_QUOTED_ESCAPES = {"t": "\t", "r": "\r", "n": "\n"}


def _unquote_config(token: str) -> str:
    r"""A configuration token as the server reads it: quotes removed, ``\"``, ``\\`` (and nginx's ``\r``...) undone."""
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return re.sub(r"\\(.)", lambda m: _QUOTED_ESCAPES.get(m.group(1), m.group(1)), token[1:-1], flags=re.S)
    return token


def _unescape_regex(pattern: str) -> str:
    """The text an anchored literal pattern (as :func:`_regex_literal` writes it) matches."""
    pattern = _unquote_config(pattern)
    if pattern.startswith("^"):
        pattern = pattern[1:]
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1]
    # \xHH escapes are bytes of UTF-8: gather bytes, decode once.
    data = bytearray()
    for match in re.finditer(r"\\x([0-9a-fA-F]{2})|\\(.)|(.)", pattern, flags=re.S):
        if match.group(1) is not None:
            data.append(int(match.group(1), 16))
        else:
            data.extend((match.group(2) if match.group(2) is not None else match.group(3)).encode("utf-8"))
    return data.decode("utf-8", "replace")


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
            # \% in a substitution is a literal %, not a RewriteCond back-reference.
            target = _unquote_config(match.group(2).replace("\\%", "%")).rstrip("?")
            rules.append((source + (f"?{query}" if query else ""), target))
            query = None
    return rules


def judge_redirect(
    source_url: str,
    expected_target: str,
    first: tuple[FetchStatus, str | None],
    second: tuple[FetchStatus, str | None] | None,
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




