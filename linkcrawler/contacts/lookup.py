"""The best known contact of each domain: what listings of other ways show beside an item."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.database import Database

__all__ = ["best_contacts"]


def best_contacts(db: Database[Any], domains: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{domain: contact document}``: each domain's most confident contact in ``contacts``.

    Domains without a known contact are absent. One query for all the domains.
    """
    wanted = sorted(set(domains))
    best: dict[str, dict[str, Any]] = {}
    if not wanted:
        return best
    cursor = db["contacts"].find({"domain": {"$in": wanted}}).sort([("domain", 1), ("confidence", -1), ("_id", 1)])
    for contact in cursor:
        best.setdefault(contact["domain"], contact)
    return best
