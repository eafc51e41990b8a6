"""Pure, streaming parsers of backlink exports (Ahrefs, SEMrush, Search Console, Majestic, CSV).

No database and no Scrapy here: ``scrapy importlinks`` reads files through
:func:`read_export` and stores what it yields.
"""

from __future__ import annotations

from linkcrawler.imports.formats import (
    FORMATS,
    ColumnMap,
    ExportFormat,
    detect_format,
    header_key,
)
from linkcrawler.imports.reader import (
    ExportReader,
    ImportRow,
    RowError,
    read_export,
    sniff_delimiter,
    sniff_encoding,
)

__all__ = [
    "FORMATS",
    "ColumnMap",
    "ExportFormat",
    "ExportReader",
    "ImportRow",
    "RowError",
    "detect_format",
    "header_key",
    "read_export",
    "sniff_delimiter",
    "sniff_encoding",
]
