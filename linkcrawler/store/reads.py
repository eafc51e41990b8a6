"""Reads the embedded server makes slow unless they are asked the right way."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pymongo.collection import Collection

__all__ = ["IDS_PER_LOOKUP", "find_by_ids"]

#: Ids per ``$in`` look-up. SecantusDB (0.7) fetches the documents of an ``_id``
#: ``$in`` by key but then matches each one found against the whole list, so one
#: look-up costs (ids found) x (list length): measured on 20,000 known backlinks,
#: 1,500 ids/s with lists of 1,000, 12,000/s with 50, 8,000/s with 10. Any other
#: condition beside the ``_id`` sends it through its index pickers first: callers
#: filter what comes back instead.
IDS_PER_LOOKUP = 50


def find_by_ids(
    collection: Collection[Any],
    ids: Iterable[Any],
    projection: Mapping[str, Any] | None = None,
    per_lookup: int = IDS_PER_LOOKUP,
) -> Iterator[dict[str, Any]]:
    """The documents of ``collection`` whose ``_id`` is one of ``ids`` (each once), ``per_lookup`` ids a query."""
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), per_lookup):
        yield from collection.find({"_id": {"$in": wanted[start:start + per_lookup]}}, projection)
