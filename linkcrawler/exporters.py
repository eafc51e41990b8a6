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

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import IO, Any

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
    "spreadsheet_safe",
    "write_csv",
]

#: What a spreadsheet takes for the start of a formula (OWASP's CSV injection list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet shows as text, never runs as a formula.

    Third-party text (an anchor, a title, a name) that starts like a formula gets a
    leading apostrophe, as OWASP advises; numbers and everything else are unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: IO[str], fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write ``rows`` (extra keys ignored) under a header of ``fields``, every cell made
    :func:`spreadsheet_safe` and plain (lists joined, times ISO 8601); the count written."""
    writer = csv.writer(out)
    writer.writerow(fields)
    count = 0
    for row in rows:
        writer.writerow([spreadsheet_safe(_cell(row.get(name))) for name in fields])
        count += 1
    return count


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
    """``-o FILE.csv``: one line per row; the columns are those of the spider's records.

    Cells that would start a spreadsheet formula are written as text (:func:`spreadsheet_safe`).
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CsvRowExporter:
        if not kwargs.get("fields_to_export"):
            fields = export_fields(getattr(crawler.spidercls, "stored_items", ()))
            if fields:
                kwargs["fields_to_export"] = fields
        return cls(*args, **kwargs)

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return spreadsheet_safe(super().serialize_field(field, name, _cell(value)))
