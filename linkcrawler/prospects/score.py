"""How much a broken-link opportunity is worth: a score 0-100 and its reasons in words.

Each part adds points and says so ("authority 62 (from the import): +19"), so a
person reading the list sees why one page ranks above another:

- **authority** of the prospect's site, when an import gave one (0-100): up to 30;
- **relevance** of the prospect page to our site (its title's words found on our
  pages): up to 20;
- **a replacement of ours** (:attr:`suggestion_score` from the redirect map's matcher): up to 15;
- **citations**: other prospect pages linking to the same dead URL (a resource
  worth recreating): 5 per page, up to 20;
- **the page's other broken links**: a few make a useful notice (+5); a page full
  of them is abandoned (-10);
- **freshness**: a page updated in the last year is looked after (+10), one not
  touched for three years rarely is (-5);
- **certainty**: a 404, a 410 or a gone domain is beyond doubt (+5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["ScoreInputs", "opportunity_score", "relevance"]

AUTHORITY_POINTS = 30
RELEVANCE_POINTS = 20
SUGGESTION_POINTS = 15
CITATION_POINTS, MAX_CITATION_POINTS = 5, 20
ABANDONED_BROKEN_LINKS = 20
CERTAIN_REASONS = frozenset({"http_404", "http_410", "dns_nxdomain"})


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """What the score of one opportunity is made of."""

    broken_reason: str
    authority: float | None = None
    relevance: float | None = None
    """0..1: the share of the prospect page's title words our site uses (None: unknown)."""
    suggestion_score: float | None = None
    linked_from_pages: int = 1
    broken_on_page: int = 1
    page_date: datetime | None = None
    now: datetime | None = None


def relevance(page_words: frozenset[str], site_words: frozenset[str]) -> float | None:
    """The share of ``page_words`` (a prospect page's title) that our site's pages use; None if either is empty."""
    if not page_words or not site_words:
        return None
    return round(len(page_words & site_words) / len(page_words), 3)


def opportunity_score(inputs: ScoreInputs) -> tuple[int, list[str]]:
    """``(score 0-100, reasons)``: see the module docstring."""
    points = 0.0
    reasons: list[str] = []

    def add(value: float, why: str) -> None:
        nonlocal points
        points += value
        reasons.append(f"{why}: {'+' if value >= 0 else ''}{round(value)}")

    if inputs.authority is not None:
        add(AUTHORITY_POINTS * max(0.0, min(inputs.authority, 100.0)) / 100,
            f"site authority {inputs.authority:g} (from the import)")
    else:
        reasons.append("site authority unknown (no import gave one): +0")
    if inputs.relevance is not None:
        add(RELEVANCE_POINTS * inputs.relevance, f"page topic matches our site ({inputs.relevance:.0%} of its title words)")
    if inputs.suggestion_score is not None:
        add(SUGGESTION_POINTS * inputs.suggestion_score,
            f"we have a page to offer in its place (match {inputs.suggestion_score:.2f})")
    else:
        reasons.append("no page of ours matches the dead link: +0")
    others = max(0, inputs.linked_from_pages - 1)
    if others:
        add(min(MAX_CITATION_POINTS, CITATION_POINTS * others),
            f"{inputs.linked_from_pages} prospect pages link to the same dead URL")
    if inputs.broken_on_page > ABANDONED_BROKEN_LINKS:
        add(-10, f"{inputs.broken_on_page} broken links on the page: it looks abandoned")
    elif inputs.broken_on_page > 1:
        add(5, f"{inputs.broken_on_page} broken links on the page: a useful notice for its owner")
    if inputs.page_date is not None and inputs.now is not None:
        age = (inputs.now - inputs.page_date).days
        if age <= 365:
            add(10, f"page updated {inputs.page_date:%Y-%m-%d}, within a year")
        elif age > 3 * 365:
            add(-5, f"page last updated {inputs.page_date:%Y-%m-%d}, over three years ago")
    if inputs.broken_reason in CERTAIN_REASONS:
        add(5, f"beyond doubt ({inputs.broken_reason})")
    return max(0, min(100, round(points))), reasons
