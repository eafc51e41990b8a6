"""Where the toxic audit keeps its data, and the writes of what a crawl found.

- ``linking_pages``: one document per checked linking page, ``_id`` its URL (the
  backlinks' ``source_url``): the facts of :class:`~.page.PageFacts` and
  ``checked_at``. Written by the backlinks spider, one write per page.
- ``toxicity``: one per linking domain, ``_id`` the domain (contract fields, plus
  ``checked_pages`` and ``unchecked_pages``: how many of its linking pages were
  never checked, so have no page signals; ``decided_at``).
- ``disavow_versions``: one per disavow file written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linkcrawler.store.writer import WriteOp
from linkcrawler.toxicity.items import LinkingPageFacts

LINKING_PAGES = "linking_pages"
TOXICITY = "toxicity"
VERSIONS = "disavow_versions"


def linking_page_ops(item: LinkingPageFacts) -> list[WriteOp]:
    """One write per linking page, on its URL: inserted, or its facts set again.

    Most pages' facts are read once, on their first check, so the write is an
    insert first (see :meth:`~linkcrawler.store.writer.WriteOp.insert_else_set`).
    """
    document = {"_id": item.facts.url, **item.facts.document(), "checked_at": item.checked_at}
    return [WriteOp.insert_else_set(LINKING_PAGES, document)]


#: How each item of this capability is stored (see :mod:`linkcrawler.store.writers`).
WRITERS: dict[type, Callable[[Any], list[WriteOp]]] = {LinkingPageFacts: linking_page_ops}
