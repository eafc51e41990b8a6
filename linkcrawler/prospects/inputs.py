"""What a prospect list and a prospect page tell beyond their links: authority and date."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone

from linkcrawler.imports.formats import FORMATS, header_key
from linkcrawler.imports.reader import parse_authority
from linkcrawler.web.page import PageAnalysis

__all__ = ["AUTHORITY_COLUMNS", "entry_authority", "page_date"]

logger = logging.getLogger(__name__)

#: Columns of a URL list that carry a site's authority (0-100), best first: those the backlink
#: exports use (Ahrefs' Domain rating, SEMrush's Page ascore, Majestic's Trust Flow...), then
#: ``authority``, ``dr``, ``da``.
AUTHORITY_COLUMNS = tuple(dict.fromkeys(
    [header_key(name) for export in FORMATS for name in export.authority] + ["authority", "dr", "da"]))


def entry_authority(fields: Mapping[str, str]) -> float | None:
    """The authority (0-100) a URL list's row gives its page, from the first authority column that has one."""
    by_key = {header_key(name): value for name, value in fields.items()}
    for key in AUTHORITY_COLUMNS:
        value = by_key.get(key)
        if value:
            authority = parse_authority(value)
            if authority is not None:
                return authority
    return None


def page_date(page: PageAnalysis, now: datetime) -> datetime | None:
    """When the page was last updated, as its markup says (htmldate: meta tags, JSON-LD, time elements), or None."""
    if not page.is_html or not page.source_text:
        return None
    from htmldate import find_date  # imported on first use: it loads lxml-heavy modules

    try:
        found = find_date(page.source_text[:500_000], extensive_search=False, original_date=False,
                          outputformat="%Y-%m-%d", max_date=now.strftime("%Y-%m-%d"))
    except Exception as exc:  # a third-party parser on third-party markup: never fatal
        logger.debug("prospects: no date for %s: %r", page.url, exc)
        return None
    if not found:
        return None
    return datetime.strptime(found, "%Y-%m-%d").replace(tzinfo=timezone.utc)
