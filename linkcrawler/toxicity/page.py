"""What a linking page says about the site that links: its facts, read from one parse.

:func:`page_facts` runs in the backlinks spider on the
:class:`~linkcrawler.web.page.PageAnalysis` it already made for the link check:
no second fetch, and no main-text extraction (trafilatura would cost more than the
check). The visible text is lxml's (:attr:`PageAnalysis.visible_text`). The facts
are stored per linking page (``linking_pages``); which of them is a *signal*, and
how much it weighs, is decided later by :mod:`.signals`, so thresholds and
weights can change without crawling again.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from linkcrawler.toxicity.language import detect_language
from linkcrawler.toxicity.wordlists import POISON_WORDS
from linkcrawler.web.links import is_relative, resolve_href
from linkcrawler.web.page import PageAnalysis
from linkcrawler.web.urls import host_of, normalize_url, registrable_domain

_WORD_RE = re.compile(r"\w+", re.UNICODE)
#: Most distinct outbound domains recorded by name (the count is always exact).
MAX_DOMAINS_LISTED = 20
#: Characters of visible text searched for poison words (a huge page is judged by its start).
MAX_POISON_CHARS = 200_000


@lru_cache(maxsize=1)
def _poison_pattern() -> re.Pattern[str]:
    terms = sorted({t for words in POISON_WORDS.values() for t in words}, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, term.split())) for term in terms)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def poison_counts(text: str) -> dict[str, int]:
    """How often each poison word (:data:`POISON_WORDS`) occurs in ``text``, whole words only."""
    found = Counter(" ".join(match.group(0).lower().split()) for match in _poison_pattern().finditer(text))
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
    language_probability: float = 0.0
    outbound_links: int = 0
    """Links to other registrable domains (repeats included)."""
    outbound_domains: int = 0
    """Distinct other registrable domains linked to."""
    outbound_sample: list[str] = field(default_factory=list)
    poison: dict[str, int] = field(default_factory=dict)
    """Poison word -> occurrences in the visible text and title."""
    noindex: bool = False
    hidden_links: list[dict[str, str]] = field(default_factory=list)
    """Links to our targets hidden from readers: [{``url``, ``how``}]."""
    title: str = ""

    def document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PageFacts:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in names})


def page_facts(source_url: str, page: PageAnalysis, targets: Iterable[str]) -> PageFacts:
    """The facts of ``page`` (fetched for the backlinks from ``source_url`` to ``targets``)."""
    domain = registrable_domain(host_of(page.url))
    facts = PageFacts(url=source_url, final_url=page.url, domain=domain, title=page.title,
                      noindex=page.noindex)
    if not page.is_html:
        return facts
    text = page.visible_text
    facts.words = len(_WORD_RE.findall(text))
    link_words = 0
    outbound: Counter[str] = Counter()
    for href, lowered, _rel, anchor, _tag in page.raw_links:
        link_words += len(_WORD_RE.findall(anchor))
        if is_relative(lowered):
            continue
        host = host_of(href if not href.startswith("//") else "http:" + href)
        other = registrable_domain(host) if host else ""
        if other and other != domain:
            outbound[other] += 1
    facts.text_words = max(0, facts.words - link_words)
    facts.outbound_links = sum(outbound.values())
    facts.outbound_domains = len(outbound)
    facts.outbound_sample = [name for name, _ in outbound.most_common(MAX_DOMAINS_LISTED)]
    facts.language, facts.language_probability = detect_language(text)
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
