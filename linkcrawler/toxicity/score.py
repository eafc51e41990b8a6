"""The roll-up: a linking domain's signals, score (0-100) and verdict.

Page signals of a domain are counted once each, whatever the number of its pages
they fire on (the evidence says on how many); the score is the sum of the weights
of every signal that fired, capped at 100. Verdicts: ``toxic`` from
``LINKCRAWLER_TOXIC_AT`` (60), ``review`` from ``LINKCRAWLER_TOXIC_REVIEW_AT`` (30),
else ``ok``.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkcrawler.toxicity.page import PageFacts
from linkcrawler.toxicity.signals import (
    ANCHOR_SHARE,
    ANCHOR_SHARE_MIN_LINKS,
    IMPORT_TOXIC,
    LOW_AUTHORITY,
    NETWORK_MIN_DOMAINS,
    SITEWIDE_PAGES,
    Rules,
    Signal,
    name_signals,
    normalize_anchor,
    page_signals,
)

#: Domains named in a ``link_network`` signal's evidence, at most.
NETWORK_NAMES_LISTED = 8


@dataclass(frozen=True, slots=True)
class LinkFacts:
    """One of our backlinks from the domain, as the audit reads it."""

    source_url: str
    anchor_text: str | None = None
    authority: float | None = None
    import_toxicity: float | None = None


@dataclass(frozen=True, slots=True)
class AnchorProfile:
    """How many of our backlinks have an anchor, and how many of those are exact-match money terms."""

    anchored: int = 0
    exact_match: int = 0

    @property
    def share(self) -> float:
        return self.exact_match / self.anchored if self.anchored else 0.0

    @property
    def over_optimised(self) -> bool:
        return self.anchored >= ANCHOR_SHARE_MIN_LINKS and self.share >= ANCHOR_SHARE


def anchor_profile(anchors: Iterable[str | None], rules: Rules) -> AnchorProfile:
    anchored = exact = 0
    for anchor in anchors:
        if anchor and anchor.strip():
            anchored += 1
            exact += normalize_anchor(anchor) in rules.money_terms
    return AnchorProfile(anchored, exact)


@dataclass(frozen=True, slots=True)
class Network:
    """The subnet a domain resolves into, and the other linking domains in it."""

    subnet: str
    others: tuple[str, ...]


@dataclass
class Assessment:
    """A linking domain's audit: what ``toxicity`` stores for it (but the person's decision)."""

    domain: str
    score: int
    verdict: str
    signals: list[Signal]
    links: int
    checked_pages: int
    unchecked_pages: list[str] = field(default_factory=list)

    def document(self, scored_at: datetime) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "score": self.score,
            "verdict": self.verdict,
            "signals": [signal.document() for signal in self.signals],
            "links": self.links,
            "checked_pages": self.checked_pages,
            "unchecked_pages": len(self.unchecked_pages),
            "scored_at": scored_at,
        }


def _rolled_up_page_signals(pages: Sequence[PageFacts], rules: Rules) -> list[Signal]:
    fired: dict[str, list[Signal]] = {}
    for facts in pages:
        for signal in page_signals(facts, rules):
            fired.setdefault(signal.name, []).append(signal)
    rolled = []
    for name, signals in fired.items():
        evidence = signals[0].evidence
        if len(pages) > 1:
            evidence += f" (fires on {len(signals)} of {len(pages)} checked pages)"
        rolled.append(rules.signal(name, evidence))
    return rolled


def assess_domain(
    domain: str,
    links: Sequence[LinkFacts],
    pages: Mapping[str, PageFacts],
    rules: Rules,
    profile: AnchorProfile = AnchorProfile(),
    network: Network | None = None,
) -> Assessment:
    """Every signal of ``domain`` (its ``links`` to us; ``pages``: the facts of the
    checked linking pages, by source URL), its score and verdict."""
    source_urls = list(dict.fromkeys(link.source_url for link in links))
    checked = [pages[url] for url in source_urls if url in pages and pages[url].readable]
    unchecked = [url for url in source_urls if url not in pages or not pages[url].readable]
    signals = _rolled_up_page_signals(checked, rules)

    exact = [link for link in links if link.anchor_text and normalize_anchor(link.anchor_text) in rules.money_terms]
    if exact:
        anchors = sorted({normalize_anchor(link.anchor_text or "") for link in exact})
        signals.append(rules.signal("exact_match_anchor", f"{len(exact)} of its {len(links)} links to us use "
                                                          f"the money anchor(s) {', '.join(map(repr, anchors))}"))
        if profile.over_optimised:
            signals.append(rules.signal(
                "anchor_over_optimisation",
                f"{profile.share:.0%} of our {profile.anchored} anchored backlinks are exact-match money "
                f"terms (over-optimised from {ANCHOR_SHARE:.0%}); this domain carries {len(exact)} of them",
            ))
    signals += name_signals(domain, rules)
    if len(source_urls) >= SITEWIDE_PAGES:
        signals.append(rules.signal("sitewide_links", f"links to us from {len(source_urls)} pages "
                                                      f"(sitewide from {SITEWIDE_PAGES})"))
    if network is not None and len(network.others) + 1 >= NETWORK_MIN_DOMAINS:
        named = ", ".join(network.others[:NETWORK_NAMES_LISTED])
        more = len(network.others) - NETWORK_NAMES_LISTED
        signals.append(rules.signal("link_network", f"resolves into {network.subnet} with {len(network.others)} "
                                                    f"other linking domain(s): {named}"
                                                    + (f" and {more} more" if more > 0 else "")))
    authorities = [link.authority for link in links if link.authority is not None]
    if authorities and statistics.median(authorities) < LOW_AUTHORITY:
        signals.append(rules.signal("low_authority", f"imported authority {statistics.median(authorities):g} "
                                                     f"of 100 (under {LOW_AUTHORITY:g})"))
    toxicities = [link.import_toxicity for link in links if link.import_toxicity is not None]
    if toxicities and max(toxicities) >= IMPORT_TOXIC:
        signals.append(rules.signal("import_toxicity", f"an import scored it {max(toxicities):g} of 100 "
                                                       f"for toxicity (toxic from {IMPORT_TOXIC:g})"))
    signals = [signal for signal in signals if signal.weight > 0]
    signals.sort(key=lambda s: (-s.weight, s.name))
    score = min(100, sum(signal.weight for signal in signals))
    return Assessment(domain=domain, score=score, verdict=rules.verdict(score), signals=signals,
                      links=len(links), checked_pages=len(checked), unchecked_pages=unchecked)
