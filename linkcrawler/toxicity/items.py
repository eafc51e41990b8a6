"""The item of the toxic audit that a crawl stores: one linking page's facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linkcrawler.toxicity.page import PageFacts


@dataclass(slots=True)
class LinkingPageFacts:
    """What the backlinks spider read about a linking page for the toxic audit.

    One per checked page (stored in ``linking_pages``, keyed by the page's URL as
    the backlinks name it), not per link. Not part of ``-o`` feed exports.
    """

    facts: PageFacts
    checked_at: datetime

    export_record = None
