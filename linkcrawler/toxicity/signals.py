"""The toxic audit's signals: each a name, a weight and evidence a person can check.

A signal fires on a linking page (from its stored :class:`~.page.PageFacts`), on one
of our backlinks (its anchor), or on the linking domain (its name, its address,
its links, what an import said). The score of a domain is the sum of the weights
of its signals, capped at 100 (:mod:`.score`). Weights are configurable
(``LINKCRAWLER_TOXIC_WEIGHTS``, a JSON object ``{"name": weight}``); the
thresholds below decide when a signal fires.

| name | fires when | weight |
| --- | --- | --- |
| ``hidden_link`` | the link to us is hidden from readers by its markup (``hidden_from_readers``) | 60 |
| ``poison_words`` | at least 3 poison words (:data:`~.wordlists.POISON_WORDS`) and at least 1 per 100 words, or 4 distinct ones | 35 |
| ``link_farm`` | the page links to at least 100 other domains | 35 |
| ``many_outbound_links`` | at least 40 other domains or 150 outbound links (and not a link farm) | 15 |
| ``foreign_language`` | the page is (probability at least 0.9, 20 words or more) in a language not in ``LINKCRAWLER_SITE_LANGUAGES`` | 20 |
| ``thin_content`` | under 100 words of the page's own text (link text not counted) | 10 |
| ``noindex`` | the linking page asks search engines not to index it | 10 |
| ``exact_match_anchor`` | one of our links from the domain has exactly a money term (``LINKCRAWLER_MONEY_TERMS``) as its anchor | 15 |
| ``anchor_over_optimisation`` | and at least 15% of all our anchored backlinks (of 10 or more) are exact-match money terms | 20 |
| ``abused_tld`` | the domain is under a TLD of :data:`~.wordlists.ABUSED_TLDS` | 15 |
| ``domain_shape`` | the domain's name has 3+ digits, 2+ hyphens, or 25+ characters | 10 |
| ``sitewide_links`` | the domain links to us from 10 pages or more | 10 |
| ``link_network`` | 3+ linking domains (this one included) resolve into one IPv4 /24 or IPv6 /48 | 30 |
| ``low_authority`` | an import gave the domain's links an authority under 10 (of 100) | 10 |
| ``import_toxicity`` | an import gave a toxicity score of 60 or more (SEMrush's "toxic") | 25 |

No signal is negative: a high-authority domain is not excused, so a person
reading the evidence sees everything that fired.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from linkcrawler.exceptions import ConfigurationError
from linkcrawler.toxicity.page import PageFacts
from linkcrawler.toxicity.wordlists import ABUSED_TLDS

DEFAULT_WEIGHTS: dict[str, int] = {
    "hidden_link": 60,
    "poison_words": 35,
    "link_farm": 35,
    "many_outbound_links": 15,
    "foreign_language": 20,
    "thin_content": 10,
    "noindex": 10,
    "exact_match_anchor": 15,
    "anchor_over_optimisation": 20,
    "abused_tld": 15,
    "domain_shape": 10,
    "sitewide_links": 10,
    "link_network": 30,
    "low_authority": 10,
    "import_toxicity": 25,
}

# When the signals fire (documented in the table above).
POISON_MIN_HITS = 3
POISON_MIN_PER_100_WORDS = 1.0
POISON_MIN_DISTINCT = 4
LINK_FARM_DOMAINS = 100
MANY_OUTBOUND_DOMAINS = 40
MANY_OUTBOUND_LINKS = 150
FOREIGN_MIN_PROBABILITY = 0.9
FOREIGN_MIN_WORDS = 20
THIN_TEXT_WORDS = 100
ANCHOR_SHARE = 0.15
ANCHOR_SHARE_MIN_LINKS = 10
SHAPE_DIGITS = 3
SHAPE_HYPHENS = 2
SHAPE_LENGTH = 25
SITEWIDE_PAGES = 10
NETWORK_MIN_DOMAINS = 3
LOW_AUTHORITY = 10.0
IMPORT_TOXIC = 60.0

#: Verdicts by score: ``toxic`` from 60, ``review`` from 30, else ``ok``.
TOXIC_AT = 60
REVIEW_AT = 30


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal that fired, as stored in ``toxicity.signals``."""

    name: str
    weight: int
    evidence: str

    def document(self) -> dict[str, Any]:
        return {"name": self.name, "weight": self.weight, "evidence": self.evidence}


@dataclass(frozen=True)
class Rules:
    """What the audit is configured with: weights, our languages and money terms, verdict thresholds."""

    weights: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    languages: frozenset[str] = frozenset({"en"})
    money_terms: frozenset[str] = frozenset()
    review_at: int = REVIEW_AT
    toxic_at: int = TOXIC_AT

    @classmethod
    def from_settings(cls, settings: Any) -> Rules:
        return cls.build(
            weights=settings.get("LINKCRAWLER_TOXIC_WEIGHTS") or {},
            languages=settings.getlist("LINKCRAWLER_SITE_LANGUAGES") or ["en"],
            money_terms=settings.getlist("LINKCRAWLER_MONEY_TERMS"),
            review_at=settings.getint("LINKCRAWLER_TOXIC_REVIEW_AT", REVIEW_AT),
            toxic_at=settings.getint("LINKCRAWLER_TOXIC_AT", TOXIC_AT),
        )

    @classmethod
    def build(cls, weights: Mapping[str, Any] | str | None = None, languages: Iterable[str] = ("en",),
              money_terms: Iterable[str] = (), review_at: int = REVIEW_AT, toxic_at: int = TOXIC_AT) -> Rules:
        """Rules from plain values; ``ConfigurationError`` on an unknown signal or a bad weight."""
        if weights is None:
            weights = {}
        if isinstance(weights, str):
            try:
                weights = json.loads(weights) if weights.strip() else {}
            except ValueError as exc:
                raise ConfigurationError(f"LINKCRAWLER_TOXIC_WEIGHTS is not a JSON object: {exc}") from exc
        if not isinstance(weights, Mapping):
            raise ConfigurationError("LINKCRAWLER_TOXIC_WEIGHTS must be an object: {\"signal name\": weight}")
        merged = dict(DEFAULT_WEIGHTS)
        for name, value in weights.items():
            if name not in DEFAULT_WEIGHTS:
                raise ConfigurationError(
                    f"LINKCRAWLER_TOXIC_WEIGHTS: unknown signal {name!r}; known: {', '.join(DEFAULT_WEIGHTS)}"
                )
            try:
                merged[name] = int(value)
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"LINKCRAWLER_TOXIC_WEIGHTS: weight of {name!r} is not a number") from exc
        if not 0 < review_at <= toxic_at <= 100:
            raise ConfigurationError(
                f"need 0 < LINKCRAWLER_TOXIC_REVIEW_AT ({review_at}) <= LINKCRAWLER_TOXIC_AT ({toxic_at}) <= 100"
            )
        return cls(
            weights=merged,
            languages=frozenset(lang.strip().lower() for lang in languages if lang.strip()),
            money_terms=frozenset(normalize_anchor(term) for term in money_terms if term.strip()),
            review_at=review_at,
            toxic_at=toxic_at,
        )

    def signal(self, name: str, evidence: str) -> Signal:
        return Signal(name, self.weights[name], evidence)

    def verdict(self, score: int) -> str:
        if score >= self.toxic_at:
            return "toxic"
        return "review" if score >= self.review_at else "ok"


def normalize_anchor(text: str) -> str:
    """An anchor as exact-match compares it: lower case, whitespace collapsed."""
    return " ".join(text.lower().split())


# --- page signals --------------------------------------------------------------------


def page_signals(facts: PageFacts, rules: Rules) -> list[Signal]:
    """The signals one linking page's facts fire, each with its evidence."""
    found = []
    if facts.hidden_links:
        hidden = facts.hidden_links[0]
        found.append(rules.signal("hidden_link", f"the link to {hidden['url']} is hidden from readers "
                                                 f"({hidden['how']}) on {facts.final_url}"))
    hits = sum(facts.poison.values())
    density = 100.0 * hits / max(facts.words, 1)
    if (hits >= POISON_MIN_HITS and density >= POISON_MIN_PER_100_WORDS) or len(facts.poison) >= POISON_MIN_DISTINCT:
        listed = ", ".join(f"{word} x{count}" for word, count in list(facts.poison.items())[:6])
        found.append(rules.signal("poison_words", f"{hits} poison words in {facts.words} words "
                                                  f"({listed}) on {facts.final_url}"))
    if facts.outbound_domains >= LINK_FARM_DOMAINS:
        found.append(rules.signal("link_farm", f"{facts.final_url} links to {facts.outbound_domains} other "
                                               f"domains ({facts.outbound_links} outbound links)"))
    elif facts.outbound_domains >= MANY_OUTBOUND_DOMAINS or facts.outbound_links >= MANY_OUTBOUND_LINKS:
        found.append(rules.signal("many_outbound_links", f"{facts.final_url} links to {facts.outbound_domains} "
                                                         f"other domains ({facts.outbound_links} outbound links)"))
    if (
        facts.language
        and facts.language not in rules.languages
        and facts.language_probability >= FOREIGN_MIN_PROBABILITY
        and facts.words >= FOREIGN_MIN_WORDS
    ):
        found.append(rules.signal("foreign_language", f"{facts.final_url} is in '{facts.language}' "
                                                      f"(p={facts.language_probability:.2f}); our audience reads "
                                                      f"{', '.join(sorted(rules.languages))}"))
    if facts.text_words < THIN_TEXT_WORDS:
        found.append(rules.signal("thin_content", f"{facts.final_url} has {facts.text_words} words of its own "
                                                  f"text besides link text (under {THIN_TEXT_WORDS})"))
    if facts.noindex:
        found.append(rules.signal("noindex", f"{facts.final_url} asks search engines not to index it (noindex)"))
    return found


# --- domain signals -------------------------------------------------------------------


def domain_shape(domain: str) -> str | None:
    """What is odd about a domain's name (digits, hyphens, length), or ``None``."""
    label = domain.split(".", 1)[0]
    odd = []
    digits = sum(ch.isdigit() for ch in label)
    if digits >= SHAPE_DIGITS:
        odd.append(f"{digits} digits")
    if label.count("-") >= SHAPE_HYPHENS:
        odd.append(f"{label.count('-')} hyphens")
    if len(label) >= SHAPE_LENGTH:
        odd.append(f"{len(label)} characters")
    return ", ".join(odd) or None


_IP_RE = re.compile(r"^[\d.]+$|:")


def name_signals(domain: str, rules: Rules) -> list[Signal]:
    """Signals of the domain's name alone: an abused TLD, an odd shape. IP addresses have no name."""
    if _IP_RE.search(domain) or "." not in domain:
        return []
    found = []
    tld = domain.rsplit(".", 1)[-1]
    if tld in ABUSED_TLDS:
        found.append(rules.signal("abused_tld", f".{tld} is among the most abused top-level domains"))
    shape = domain_shape(domain)
    if shape:
        found.append(rules.signal("domain_shape", f"the name {domain} has {shape}"))
    return found
