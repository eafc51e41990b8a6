"""Which writes an item stands for: ``write_ops(item)``, one function per item type.

The module that defines an item type registers how it is stored
(``@write_ops.register``); the writer pipeline stays generic.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from linkcrawler.store.writer import WriteOp


@singledispatch
def write_ops(item: Any) -> list[WriteOp] | None:
    """The writes ``item`` stands for, or ``None`` for an item the store does not keep."""
    return None


@write_ops.register
def _(item: WriteOp) -> list[WriteOp]:
    return [item]
