"""Feed exporters that write what a user expects from ``scrapy crawl SPIDER -o FILE``.

An item of linkcrawler may stand for several rows (a checked page for each of its
backlinks) or for none (the totals that complete pages already written, a shared
audit's internal facts). These exporters ask the item for its rows
(``export_rows()``) and write one clean row each, tagged with the collection it
belongs to (``record``: ``backlinks``, ``pages``, ``broken_links``...), with the
fields of that collection. CSV cells hold plain text: a list of words is joined
with spaces, anything structured (a redirect chain) is JSON, a time is ISO 8601.

Items that do not know about rows (a plain dict from a user's spider) are written
as Scrapy would. ``settings.py`` maps every feed format to these classes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exporters import (
    BaseItemExporter,
    CsvItemExporter,
    JsonItemExporter,
    JsonLinesItemExporter,
    XmlItemExporter,
)

__all__ = [
    "CsvRowExporter",
    "JsonLinesRowExporter",
    "JsonRowExporter",
    "XmlRowExporter",
    "export_fields",
    "export_rows",
]


def export_rows(item: Any) -> list[Any]:
    """The rows ``item`` stands for in a feed export."""
    if not hasattr(item, "export_record"):
        return [item]
    record = item.export_record
    if record is None:
        return []
    return [{"record": record, **row} for row in item.export_rows()]


def export_fields(item_types: Iterable[type]) -> list[str]:
    """The columns of a feed whose rows come from ``item_types``: ``record``, then each type's, in order."""
    fields: dict[str, None] = {}
    for item_type in item_types:
        if getattr(item_type, "export_record", None) is not None:
            fields.update(dict.fromkeys(getattr(item_type, "export_fields", ())))
    return list(fields)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


class _Rows(BaseItemExporter):
    def export_item(self, item: Any) -> None:
        for row in export_rows(item):
            super().export_item(row)  # type: ignore[safe-super]


class JsonLinesRowExporter(_Rows, JsonLinesItemExporter):
    """``-o FILE.jsonl``: one JSON object per row."""


class JsonRowExporter(_Rows, JsonItemExporter):
    """``-o FILE.json``: one JSON array of rows."""


class XmlRowExporter(_Rows, XmlItemExporter):
    """``-o FILE.xml``: one ``<item>`` per row."""


class CsvRowExporter(_Rows, CsvItemExporter):
    """``-o FILE.csv``: one line per row; the columns are those of the spider's records."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CsvRowExporter:
        if not kwargs.get("fields_to_export"):
            fields = export_fields(getattr(crawler.spidercls, "stored_items", ()))
            if fields:
                kwargs["fields_to_export"] = fields
        return cls(*args, **kwargs)

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return super().serialize_field(field, name, _cell(value))
