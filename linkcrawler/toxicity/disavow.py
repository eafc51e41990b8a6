"""Google's disavow file: parse and check one, write one, and tell two versions apart.

Google's rules (Search Console help, "Disavow links to your site"): a plain text
file, UTF-8 or 7-bit ASCII; one entry per line, either ``domain:example.com``
(every link from that domain and its subdomains) or a full URL (links from that
page); lines starting with ``#`` are comments; at most 100,000 lines (blank and
comment lines included) and 2 MB; URLs at most 2,048 characters. A ``domain:``
entry cannot name a path (``domain:example.com/blog`` is refused: list the
pages' URLs instead). Internationalized domain names are accepted in UTF-8 or in
punycode (Google Search Central, office hours 2017-10-01); linkcrawler writes
punycode (``domain:xn--bcher-kva.de``) and ASCII URLs, so what it writes is
7-bit ASCII, which every reader of the file decodes the same way.

:func:`check_disavow` reports problems with line numbers. Errors are what Google
would refuse or misread (a bad line, a path in a ``domain:`` entry, a wrong
encoding, a byte order mark, which glues itself to the first entry, a limit
passed); a duplicate is a warning (Google ignores repeats, but it shows the file
is not under control).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import idna
from w3lib.url import safe_url_string

from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.web.urls import registrable_domain

MAX_LINES = 100_000
#: 2 MB, read as the smaller of its two meanings: a file under it is under either.
MAX_BYTES = 2_000_000
MAX_URL_CHARS = 2048

_BOMS = {
    b"\xef\xbb\xbf": "UTF-8",
    b"\xff\xfe": "UTF-16 (little-endian)",
    b"\xfe\xff": "UTF-16 (big-endian)",
}
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


class DisavowError(LinkcrawlerError):
    """A disavow file cannot be written as asked (too long, an existing file with errors...)."""


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    """1-based line number; 0 for the file as a whole."""
    level: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.level}: {self.message}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a disavow file: a domain (in punycode) or a URL."""

    kind: Literal["domain", "url"]
    value: str
    line: int = 0

    @property
    def text(self) -> str:
        return f"domain:{self.value}" if self.kind == "domain" else self.value

    @property
    def domain(self) -> str:
        """The registrable domain the entry is about (what a ``keep`` decision names)."""
        host = self.value if self.kind == "domain" else (urlsplit(self.value).hostname or "")
        try:
            host = ascii_domain(host)
        except ValueError:
            pass
        return registrable_domain(host)


def ascii_domain(name: str) -> str:
    """``name`` as a disavow file names it: lower case, punycode; ``ValueError`` if it is no domain."""
    name = name.strip().rstrip(".").lower()
    if _IPV4_RE.match(name):
        return name
    try:
        encoded = idna.encode(name, uts46=True).decode("ascii") if not name.isascii() else name
    except idna.IDNAError as exc:
        raise ValueError(f"{name!r} is not a valid domain name ({exc})") from exc
    labels = encoded.split(".")
    if len(encoded) > 253 or len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise ValueError(f"{name!r} is not a valid domain name")
    return encoded


def _parse_line(text: str, number: int) -> Entry | Problem | None:
    """The entry on one line, a problem with it, or ``None`` for a blank or comment line."""
    line = text.strip()
    if not line or line.startswith("#"):
        return None
    if any(ch.isspace() for ch in line):
        return Problem(number, "error", f"whitespace inside an entry: {line[:80]!r} (one entry per line)")
    if line[:7].lower() == "domain:":
        value = line[7:]
        if "://" in value:
            return Problem(number, "error", f"{line[:80]!r}: a domain: entry takes a domain name, without http://")
        if "/" in value or "?" in value:
            return Problem(number, "error", f"{line[:80]!r}: path-level domain: entry; domain: covers a whole "
                                            "domain (list the pages' URLs instead, one per line)")
        if not value:
            return Problem(number, "error", "domain: without a domain name")
        try:
            return Entry("domain", ascii_domain(value), number)
        except ValueError as exc:
            return Problem(number, "error", str(exc))
    lowered = line.lower()
    if not lowered.startswith(("http://", "https://")):
        return Problem(number, "error", f"{line[:80]!r} is neither a URL (http:// or https://), a domain: entry, "
                                        "nor a # comment")
    if len(line) > MAX_URL_CHARS:
        return Problem(number, "error", f"URL of {len(line):,} characters (at most {MAX_URL_CHARS:,})")
    try:
        host = urlsplit(line).hostname
    except ValueError:
        host = None
    if not host:
        return Problem(number, "error", f"{line[:80]!r} has no host name")
    return Entry("url", line, number)


def _entry_key(entry: Entry) -> str:
    if entry.kind == "domain":
        return entry.text
    return safe_url_string(entry.value).lower() if entry.value.isascii() else safe_url_string(entry.value)


def parse_disavow(data: bytes) -> tuple[list[Entry], list[Problem]]:
    """The entries of a disavow file and every problem found in it, by line."""
    problems: list[Problem] = []
    if len(data) > MAX_BYTES:
        problems.append(Problem(0, "error", f"{len(data):,} bytes: over Google's limit of 2 MB ({MAX_BYTES:,} bytes)"))
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            problems.append(Problem(1, "error", f"starts with a {name} byte order mark: save it as UTF-8 "
                                                "without BOM (the mark would stick to the first entry)"))
            data = data[len(bom):]
            break
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(Problem(line, "error", f"not UTF-8 or ASCII: byte 0x{data[exc.start]:02x} cannot be read "
                                               "(save the file as UTF-8)"))
        text = data.decode("utf-8", "replace")
    if "\x00" in text:
        problems.append(Problem(text[: text.index("\x00")].count("\n") + 1, "error",
                                "NUL byte: this is not a plain text file (UTF-16?)"))
        text = text.replace("\x00", "")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_LINES:
        problems.append(Problem(MAX_LINES + 1, "error", f"{len(lines):,} lines: over Google's limit of "
                                                        f"{MAX_LINES:,} (blank and comment lines count)"))
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        parsed = _parse_line(raw.rstrip("\r"), number)
        if isinstance(parsed, Problem):
            problems.append(parsed)
        elif parsed is not None:
            key = _entry_key(parsed)
            if key in seen:
                problems.append(Problem(number, "warning", f"duplicate of line {seen[key]}: {parsed.text[:80]}"))
                continue
            seen[key] = number
            entries.append(parsed)
    problems.sort(key=lambda p: (p.line, p.level))
    return entries, problems


def check_disavow(data: bytes) -> list[Problem]:
    """Every problem of a disavow file, by line (errors and warnings)."""
    return parse_disavow(data)[1]


# --- writing -----------------------------------------------------------------------


def render_disavow(header: Sequence[str], entries: Iterable[Entry]) -> str:
    """The file's text: ``#`` header lines, then ``domain:`` entries sorted, then URLs sorted.

    Raises :class:`DisavowError` when the result would break one of Google's limits:
    a list too long is refused with the reason, never cut short.
    """
    unique = {entry.text: entry for entry in entries}
    domains = sorted(text for text, entry in unique.items() if entry.kind == "domain")
    urls = sorted(text for text, entry in unique.items() if entry.kind == "url")
    lines = [f"# {line}" if line else "#" for line in header] + domains + urls
    text = "\n".join(lines) + "\n"
    if len(lines) > MAX_LINES:
        raise DisavowError(f"the disavow file would have {len(lines):,} lines, over Google's limit of "
                           f"{MAX_LINES:,}: nothing written (raise --min-score, or disavow whole domains)")
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise DisavowError(f"the disavow file would be {size:,} bytes, over Google's limit of 2 MB: "
                           "nothing written (raise --min-score, or disavow whole domains)")
    long_urls = [url for url in urls if len(url) > MAX_URL_CHARS]
    if long_urls:
        raise DisavowError(f"{len(long_urls)} URL(s) longer than {MAX_URL_CHARS:,} characters, which Google "
                           f"refuses (first: {long_urls[0][:100]}...): nothing written")
    return text


def entry_lines(text: str) -> list[str]:
    """The entry lines of a file's text (no comments, no blanks), in order."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def diff_entries(previous: Iterable[str], current: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(added, removed)``: entry lines of ``current`` not in ``previous``, and the reverse."""
    before, after = list(dict.fromkeys(previous)), list(dict.fromkeys(current))
    old, new = set(before), set(after)
    return [line for line in after if line not in old], [line for line in before if line not in new]


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
