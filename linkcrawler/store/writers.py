"""The item-to-writer table: which writes each item the store keeps stands for.

One explicit table, assembled from each capability's ``store`` module (no
registration by import side effects). An item type with no writer is an error:
:func:`check_writers` refuses it when a spider opens (its ``stored_items``), and
:func:`write_ops` raises on it, so nothing is silently left unstored.

A new capability adds its ``WRITERS`` here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from linkcrawler.audit import store as audit_store
from linkcrawler.backlinks import store as backlinks_store
from linkcrawler.contacts import store as contacts_store
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.mentions import store as mentions_store
from linkcrawler.prospects import store as prospects_store
from linkcrawler.store.writer import WriteOp
from linkcrawler.toxicity import store as toxicity_store

__all__ = ["WRITERS", "NoWriter", "check_writers", "write_ops"]

Writer = Callable[[Any], list[WriteOp]]


def _write_op(op: WriteOp) -> list[WriteOp]:
    return [op]


WRITERS: Mapping[type, Writer] = {
    WriteOp: _write_op,
    **backlinks_store.WRITERS,
    **audit_store.WRITERS,
    **mentions_store.WRITERS,
    **contacts_store.WRITERS,
    **toxicity_store.WRITERS,
    **prospects_store.WRITERS,
}


class NoWriter(ConfigurationError):
    """An item reached the store that no writer is registered for."""

    def __init__(self, item_type: type) -> None:
        super().__init__(
            f"no writer for items of type {item_type.__module__}.{item_type.__qualname__}: "
            "add it to linkcrawler.store.writers.WRITERS (or keep it out of the MongoDB pipeline)"
        )
        self.item_type = item_type


def check_writers(item_types: Iterable[type]) -> None:
    """Raise :class:`NoWriter` for the first of ``item_types`` that has no writer."""
    for item_type in item_types:
        if item_type not in WRITERS:
            raise NoWriter(item_type)


def write_ops(item: Any) -> list[WriteOp]:
    """The writes ``item`` stands for; :class:`NoWriter` if its type has none."""
    writer = WRITERS.get(type(item))
    if writer is None:
        raise NoWriter(type(item))
    return writer(item)
