"""The link gap (Ahrefs' Link Intersect, SEMrush's Backlink Gap): sites that link to our competitors, not to us.

Competitors' backlink exports are loaded into ``competitor_links`` (``scrapy
importlinks --competitor DOMAIN FILE``, the same parsers as our own imports);
:func:`link_gap` groups them by referring domain and keeps the domains linking
to at least N competitors and to none of our sites, ranked: most competitors
first, then authority, then how many of their pages link. The linking pages are
the prospects (``scrapy linkgap -o gap.csv`` writes a list ``prospects -a urls=`` reads).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkcrawler.imports.reader import ImportRow
from linkcrawler.prospects.store import COMPETITOR_LINKS
from linkcrawler.store.writer import WriteOp
from linkcrawler.web.urls import host_of, normalize_url, registrable_domain

_HOST_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}")

__all__ = ["GapDomain", "competitor_domain", "competitor_link_op", "gap_rows", "link_gap"]


def competitor_domain(value: str) -> str:
    """The registrable domain a ``--competitor`` value names (``https://www.rival.com/`` -> ``rival.com``);
    ``ValueError`` when it names none."""
    value = value.strip()
    host = host_of(normalize_url(value if "://" in value else f"http://{value}/"))
    if not _HOST_RE.fullmatch(host):
        raise ValueError(f"not a domain: {value!r}")
    return registrable_domain(host)


def competitor_link_op(competitor: str, row: ImportRow, imported_at: datetime) -> WriteOp:
    """The idempotent write of one row of a competitor's export (unique on competitor, source, target)."""
    fields: dict[str, Any] = {
        "source_domain": registrable_domain(host_of(row.source_url)),
        "anchor_text": row.anchor_text,
        "imported_at": imported_at,
        "imported_from": row.source_format,
    }
    if row.authority is not None:
        fields["authority"] = row.authority
    return WriteOp.upsert_on(
        COMPETITOR_LINKS, {"competitor": competitor, "source_url": row.source_url, "target_url": row.target_url},
        {"$set": fields})


@dataclass
class GapDomain:
    """A referring domain of the gap: which competitors it links to, from which pages."""

    domain: str
    competitors: set[str] = field(default_factory=set)
    pages: dict[str, None] = field(default_factory=dict)
    authority: float | None = None

    @property
    def rank_key(self) -> tuple[int, float, int, str]:
        return (-len(self.competitors), -(self.authority or 0.0), -len(self.pages), self.domain)


def link_gap(
    links: Iterable[Mapping[str, Any]],
    linking_to_us: Collection[str],
    own_domains: Collection[str] = (),
    min_competitors: int = 2,
) -> list[GapDomain]:
    """The referring domains of ``links`` (``competitor_links`` documents) that link to at least
    ``min_competitors`` competitors and are not in ``linking_to_us`` (registrable domains with a
    backlink to us), ranked (see the module docstring). Our own domains and the competitors
    themselves are never prospects."""
    domains: dict[str, GapDomain] = {}
    competitors: set[str] = set()
    for link in links:
        source = link.get("source_domain") or registrable_domain(host_of(link["source_url"]))
        competitors.add(link["competitor"])
        gap = domains.setdefault(source, GapDomain(source))
        gap.competitors.add(link["competitor"])
        gap.pages.setdefault(link["source_url"], None)
        authority = link.get("authority")
        if authority is not None and (gap.authority is None or authority > gap.authority):
            gap.authority = float(authority)
    excluded = set(linking_to_us) | competitors
    ours = [d.lower() for d in own_domains]
    found = [
        gap for gap in domains.values()
        if len(gap.competitors) >= min_competitors and gap.domain not in excluded
        and not any(gap.domain == d or gap.domain.endswith("." + d) for d in ours)
    ]
    return sorted(found, key=lambda gap: gap.rank_key)


def gap_rows(gaps: Iterable[GapDomain], pages_per_domain: int = 5) -> list[dict[str, Any]]:
    """One row per linking page (at most ``pages_per_domain`` per domain): the ``url`` column first,
    so the file is a valid ``prospects -a urls=`` list, with the domain's rank, competitors and authority."""
    rows = []
    for rank, gap in enumerate(gaps, 1):
        for url in list(gap.pages)[:pages_per_domain]:
            rows.append({
                "url": url, "rank": rank, "domain": gap.domain, "competitors": sorted(gap.competitors),
                "competitor_count": len(gap.competitors), "authority": gap.authority, "linking_pages": len(gap.pages),
            })
    return rows
