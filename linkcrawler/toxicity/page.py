"""What a linking page says about the site that links: its facts, read from one parse.

:func:`page_facts` runs in the backlinks spider on the
:class:`~linkcrawler.web.page.PageAnalysis` it already made for the link check:
no second fetch, and no main-text extraction (trafilatura would cost more than the
check). The visible text is lxml's (:attr:`PageAnalysis.visible_text`); the language is
identified later, by the audit, from a sample of it. The facts
are stored per linking page (``linking_pages``); which of them is a *signal*, and
how much it weighs, is decided later by :mod:`.signals`, so thresholds and
weights can change without crawling again.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from linkcrawler.toxicity.language import detect_language, prose_sample
from linkcrawler.toxicity.wordlists import POISON_WORDS
from linkcrawler.web.links import is_relative, resolve_href
from linkcrawler.web.page import PageAnalysis
from linkcrawler.web.urls import host_of, normalize_url, registrable_domain

#: Most distinct outbound domains recorded by name (the count is always exact).
MAX_DOMAINS_LISTED = 20
#: Pages with fewer words are not given a language (too little to tell, and not worth the time).
LANGUAGE_MIN_WORDS = 20
#: Characters of visible text searched for poison words (a huge page is judged by its start).
MAX_POISON_CHARS = 50_000


@lru_cache(maxsize=1)
def _poison_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(term, its first word, whole-word pattern) for every poison word, longest first."""
    terms = sorted({t for words in POISON_WORDS.values() for t in words}, key=len, reverse=True)
    return tuple(
        # The word boundary before is checked by hand: a pattern that starts with a
        # literal lets the regex engine skip ahead to it, a lookbehind does not (30x slower).
        (term, term.split()[0], re.compile(r"\s+".join(map(re.escape, term.split())) + r"(?!\w)"))
        for term in terms
    )


_PUNCTUATION_TO_SPACE = str.maketrans(string.punctuation, " " * len(string.punctuation))


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def poison_counts(text: str) -> dict[str, int]:
    """How often each poison word (:data:`POISON_WORDS`) occurs in ``text``, whole words only.

    A term is counted only where no longer term already matched ("online casino" is
    not also a "casino"). A term is searched for only when its first word is among the
    text's words (one split, then set look-ups): most pages contain none.
    """
    lowered = text.lower()
    words = set(lowered.translate(_PUNCTUATION_TO_SPACE).split())
    found: Counter[str] = Counter()
    taken: bytearray | None = None  # characters already matched by a longer term
    for term, first, pattern in _poison_patterns():
        if first not in words:
            continue
        if taken is None:
            taken = bytearray(len(lowered))
        for match in pattern.finditer(lowered):
            start, end = match.span()
            if (start and _is_word_char(lowered[start - 1])) or taken.find(1, start, end) != -1:
                continue
            taken[start:end] = b"\x01" * (end - start)
            found[term] += 1
    return dict(found.most_common())


@dataclass(slots=True)
class PageFacts:
    """The facts of one linking page the toxic audit weighs (stored in ``linking_pages``)."""

    url: str
    """The linking page as the backlinks know it (their ``source_url``)."""
    final_url: str
    domain: str
    words: int = 0
    """Words of visible text."""
    text_words: int = 0
    """Words of visible text that are not link text: the page's own prose."""
    language: str | None = None
    """ISO 639-1, identified by the audit from ``text_sample`` (see :func:`identify_language`)."""
    language_probability: float = 0.0
    text_sample: str = ""
    """About 500 characters of the page's prose, for the language (:func:`~.language.prose_sample`)."""
    outbound_links: int = 0
    """Links to other sites (repeats included)."""
    outbound_domains: int = 0
    """Distinct other sites linked to (a site as :func:`_site` reads a host)."""
    outbound_sample: list[str] = field(default_factory=list)
    poison: dict[str, int] = field(default_factory=dict)
    """Poison word -> occurrences in the visible text and title."""
    noindex: bool = False
    hidden_links: list[dict[str, str]] = field(default_factory=list)
    """Links to our targets hidden from readers: [{``url``, ``how``}]."""
    title: str = ""
    readable: bool = True
    """False for a page with no text to judge (not HTML, or a bot challenge): it counts as unread."""

    def document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PageFacts:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in names})


_SECOND_LEVELS = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "nic"})


def _host(lowered_href: str) -> str:
    """The host of an absolute (or protocol-relative) href, lower-cased, by string operations."""
    rest = lowered_href.split("//", 1)[1] if "//" in lowered_href[:8] else ""
    for stop in "/?#":
        rest = rest.split(stop, 1)[0]
    rest = rest.rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest.split("]", 1)[0] + "]"
    return rest.split(":", 1)[0].rstrip(".")


def _site(host: str) -> str:
    """The site a host belongs to, for counting outbound domains: its last two labels, or
    three under a country's second level (``example.co.uk``).

    An approximation of the registrable domain that costs a microsecond where the
    public suffix list costs a hundred, on pages that link to hundreds of hosts.
    Hosts under a shared suffix (``*.blogspot.com``) count as one site, which only
    lowers a link-farm count.
    """
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVELS:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _word_count(text: str) -> int:
    # Whitespace-separated words: ten times cheaper than a \w+ scan on a long page.
    return len(text.split())


def page_facts(source_url: str, page: PageAnalysis, targets: Iterable[str]) -> PageFacts:
    """The facts of ``page`` (fetched for the backlinks from ``source_url`` to ``targets``)."""
    domain = registrable_domain(host_of(page.url))
    facts = PageFacts(url=source_url, final_url=page.url, domain=domain, title=page.title,
                      noindex=page.noindex)
    if not page.is_html or page.challenge:
        facts.readable = False
        return facts
    text = page.visible_text
    facts.words = _word_count(text)
    link_words = 0
    outbound: Counter[str] = Counter()
    own = f".{domain}"
    for _href, lowered, _rel, anchor, _tag in page.raw_links:
        link_words += _word_count(anchor)
        if is_relative(lowered):
            continue
        host = _host(lowered)
        if host and host != domain and not host.endswith(own):
            outbound[_site(host)] += 1
    facts.text_words = max(0, facts.words - link_words)
    facts.outbound_links = sum(outbound.values())
    facts.outbound_domains = len(outbound)
    facts.outbound_sample = [name for name, _ in outbound.most_common(MAX_DOMAINS_LISTED)]
    if facts.words >= LANGUAGE_MIN_WORDS:
        facts.text_sample = prose_sample(text)
    facts.poison = poison_counts(f"{page.title}\n{text[:MAX_POISON_CHARS]}")
    wanted = set()
    for target in targets:
        try:
            wanted.add(normalize_url(target))
        except ValueError:
            continue
    for href, how in page.hidden_links:
        url = resolve_href(href, page.base_url)
        if url is not None and url in wanted:
            facts.hidden_links.append({"url": url, "how": how})
    return facts


def identify_language(facts: PageFacts) -> bool:
    """Fill ``facts.language`` from its text sample when it has none yet; True when it did.

    Done by the audit, not the crawl: py3langid's model takes about 115 MB of memory
    and its classifier a millisecond a page, which the monitor need not pay.
    """
    if facts.language is not None or not facts.text_sample:
        return False
    facts.language, facts.language_probability = detect_language(facts.text_sample)
    return True


def facts_due(source_url: str, first_check: bool, now: datetime, every_days: int) -> bool:
    """Whether the backlinks spider reads this page's facts on this check.

    Always on a page's first check; then once every ``every_days`` days
    (``LINKCRAWLER_TOXIC_PAGE_FACTS_DAYS``), on a day that depends on the URL, so the
    cost (a few milliseconds a page) is spread over the days of a daily monitor.
    ``every_days`` 1: on every check; 0: never.
    """
    if every_days <= 0:
        return False
    if first_check or every_days == 1:
        return True
    slot = int(hashlib.sha1(source_url.encode("utf-8")).hexdigest()[:8], 16) % every_days
    return slot == now.toordinal() % every_days
