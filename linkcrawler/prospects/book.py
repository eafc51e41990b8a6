"""From what a prospects crawl fetched to opportunities: pure, without Scrapy or MongoDB.

:func:`build_opportunities` takes the prospect pages of a run (what each carried),
the verdict of every outbound URL, the opportunities already known for those
pages, and our site's pages (for the suggested replacement and the relevance),
and gives back the items to store:

- an :class:`~linkcrawler.prospects.items.OpportunityItem` per (page, broken link),
  scored, with how many of the run's pages cite the same dead URL;
- an :class:`~linkcrawler.prospects.items.OpportunityChange` per known
  opportunity a re-check moved: ``won`` when the page now links to one of our
  domains (whatever else changed), else ``fixed`` when the page no longer links to
  the dead URL (or it answers again). A page that could not be fetched moves nothing.

A single process calls it with what it holds in memory; a shared crawl's report
with what every worker stored (:func:`~linkcrawler.prospects.store.load_run`): the same items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.audit.redirectmap import GonePage, LivePage, TargetMatcher, slug_tokens, text_tokens
from linkcrawler.backlinks.events import wayback_url
from linkcrawler.prospects.items import OpportunityChange, OpportunityItem, ProspectPage
from linkcrawler.prospects.score import ScoreInputs, opportunity_score, relevance
from linkcrawler.prospects.verdict import CheckState, LinkVerdict

__all__ = ["OurSite", "build_opportunities"]


@dataclass
class OurSite:
    """Our live pages (from the audited ``pages``): what we can offer, and the words our site uses."""

    pages: list[LivePage]

    def __post_init__(self) -> None:
        self.matcher = TargetMatcher(self.pages)
        self.words: frozenset[str] = frozenset().union(*(page.words for page in self.pages)) if self.pages \
            else frozenset()

    def suggestion(self, link_url: str, anchor_text: str) -> tuple[str | None, float | None]:
        """Our page that best replaces ``link_url`` (by its words and the anchor), with its score."""
        if not self.pages:
            return None, None
        rule = self.matcher.best_elsewhere(GonePage(link_url, 404, 0, anchors=(anchor_text,) if anchor_text else ()))
        if rule is None:
            return None, None
        return rule.target, rule.score

    def relevance(self, page: ProspectPage) -> float | None:
        return relevance(text_tokens(page.title) | slug_tokens(page.url), self.words)


def build_opportunities(
    pages: Iterable[ProspectPage],
    verdicts: Mapping[str, LinkVerdict],
    previous: Mapping[str, Mapping[str, Any]],
    our_site: OurSite,
    now: datetime,
) -> list[OpportunityItem | OpportunityChange]:
    """The opportunities of a run, and the moves of known ones (see the module docstring)."""
    fetched = [page for page in pages if page.fetched]
    citations: Counter[str] = Counter()
    for page in fetched:
        for url in {link.url for link in page.outbound}:
            verdict = verdicts.get(url)
            if verdict is not None and verdict.broken:
                citations[url] += 1
    known_by_page: dict[str, list[Mapping[str, Any]]] = {}
    for doc in previous.values():
        known_by_page.setdefault(doc["page_url"], []).append(doc)

    items: list[OpportunityItem | OpportunityChange] = []
    for page in fetched:
        broken = [link for link in page.outbound if (v := verdicts.get(link.url)) is not None and v.broken]
        known = {doc["link_url"]: doc for doc in known_by_page.get(page.url, ())}
        carried = {link.url for link in page.outbound}
        page_relevance = our_site.relevance(page)
        won = bool(page.our_links)
        for link in broken:
            if won and link.url in known:
                continue  # the page links to us now: the opportunity is won below
            if known.get(link.url, {}).get("status") == "won":
                continue
            verdict = verdicts[link.url]
            target, match = our_site.suggestion(link.url, link.anchor_text)
            assert verdict.broken_reason is not None
            score, reasons = opportunity_score(ScoreInputs(
                broken_reason=verdict.broken_reason, authority=page.authority, relevance=page_relevance,
                suggestion_score=match, linked_from_pages=citations[link.url], broken_on_page=len(broken),
                page_date=page.page_date, now=now,
            ))
            items.append(OpportunityItem(
                page_url=page.url, page_domain=page.domain, page_title=page.title, link_url=link.url,
                anchor_text=link.anchor_text, context=link.context, broken_reason=verdict.broken_reason,
                http_status=verdict.http_status, linked_from_pages=citations[link.url],
                wayback_url=wayback_url(link.url), suggested_target=target, suggestion_score=match,
                score=score, score_reasons=reasons, last_checked=page.checked_at, check_reason=verdict.reason,
                authority=page.authority,
            ))
        for link_url, doc in known.items():
            status = doc.get("status")
            if status == "won":
                continue
            if won:
                ours = ", ".join(link.url for link in page.our_links[:3])
                items.append(OpportunityChange(page.url, link_url, "won", f"the page now links to us ({ours})",
                                               page.checked_at, won_links=list(page.our_links)))
                continue
            if status != "open":
                continue
            verdict = verdicts.get(link_url)
            if link_url not in carried:
                items.append(OpportunityChange(page.url, link_url, "fixed", "the page no longer links to the dead URL",
                                               page.checked_at))
            elif verdict is not None and verdict.state is CheckState.OK:
                items.append(OpportunityChange(page.url, link_url, "fixed",
                                               f"the linked URL answers again ({verdict.reason})", page.checked_at))
    return items

