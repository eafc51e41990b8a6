"""Streaming reader of URL lists: the ``-a urls=FILE_OR_URLS`` of prospects, mentions, contacts.

A value is a path to a file, else comma-separated URLs. A file is either plain text
(one URL per line; blank lines and ``#`` comments skipped) or a CSV export whose header
names a URL column (``url``, ``source_url``, Ahrefs' ``Referring page URL``, SEMrush's
``Source url``, Brand24's and Mention's ``URL``/``Link``...): the other cells of the row
come along in :attr:`UrlEntry.fields` (an export's authority, title, date...).

Memory stays bounded: rows are read one at a time. Encodings as for backlink exports
(BOM, UTF-16, UTF-8, else the likeliest legacy code page).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from linkcrawler.imports.formats import header_key
from linkcrawler.imports.reader import MAX_URL_CHARS, SNIFF_BYTES, RowError, sniff_delimiter, sniff_encoding
from linkcrawler.web.urls import normalize_url

__all__ = ["URL_COLUMNS", "UrlEntry", "read_url_list"]

#: Header cells (compared by :func:`header_key`) naming the URL column, best first.
URL_COLUMNS = (
    "url", "source_url", "referring_page_url", "source_page_url", "page_url",
    "mention_url", "link", "address", "page", "source",
)
_URL_KEYS = tuple(header_key(name) for name in URL_COLUMNS)


@dataclass(frozen=True, slots=True)
class UrlEntry:
    """One URL of a list, normalized, with where it was read and its row's other cells."""

    line: int
    url: str
    fields: dict[str, str] = field(default_factory=dict)


def read_url_list(value: str) -> Iterator[UrlEntry | RowError]:
    """The URLs that ``value`` names, one :class:`UrlEntry` (or :class:`RowError`) at a time.

    ``value`` is an existing file's path, else comma-separated URLs. Raises ``OSError``
    when a path-like value cannot be read; a bad URL is a :class:`RowError`, never fatal.
    """
    if os.path.isfile(value):
        yield from _read_file(Path(value))
        return
    for position, raw in enumerate(value.split(","), start=1):
        if raw.strip():
            yield _entry(raw, position, {})


def _entry(raw: str, line: int, fields: dict[str, str]) -> UrlEntry | RowError:
    raw = raw.strip()
    if len(raw) > MAX_URL_CHARS:
        return RowError(line, f"URL longer than {MAX_URL_CHARS} characters", raw[:200])
    try:
        return UrlEntry(line, normalize_url(raw), fields)
    except ValueError as exc:
        return RowError(line, str(exc), raw[:200])


def _read_file(path: Path) -> Iterator[UrlEntry | RowError]:
    with open(path, "rb") as binary:
        encoding = sniff_encoding(binary.read(SNIFF_BYTES))
    errors = "replace" if encoding.startswith("utf-16") else "surrogateescape"
    with open(path, encoding=encoding, errors=errors, newline="") as text:
        first, first_line = _first_line(text)
        if first is None:
            return
        header = _csv_header(first)
        if header is None:
            entry = _text_line(first, first_line)
            if entry is not None:
                yield entry
            for line, raw in enumerate(text, start=first_line + 1):
                entry = _text_line(raw, line)
                if entry is not None:
                    yield entry
            return
        delimiter, cells, column = header
        names = [cell.strip().strip('"') for cell in cells]
        # Line numbers: the header's line, then one per physical line (multi-line cells are rare in URL lists).
        for line, row in enumerate(csv.reader(text, delimiter=delimiter), start=first_line + 1):
            if not "".join(row).strip():
                continue
            if column >= len(row):
                yield RowError(line, f"no {names[column]!r} cell in this row", delimiter.join(row)[:200])
                continue
            fields = {name: row[i] for i, name in enumerate(names) if i < len(row) and i != column}
            yield _entry(row[column], line, fields)


def _first_line(text: io.TextIOBase) -> tuple[str | None, int]:
    for line, raw in enumerate(text, start=1):
        if raw.strip() and not raw.lstrip().startswith("#") and not raw.startswith("sep="):
            return raw, line
    return None, 0


def _csv_header(line: str) -> tuple[str, list[str], int] | None:
    """(delimiter, header cells, URL column) when ``line`` is a CSV header naming a URL column."""
    stripped = line.strip()
    if "://" in stripped or ("," not in stripped and "\t" not in stripped and ";" not in stripped):
        # One cell: a header only when it is a URL column's name ("url" alone on the line).
        if header_key(stripped) in _URL_KEYS:
            return ",", [stripped], 0
        return None
    delimiter = sniff_delimiter(stripped)
    cells = next(csv.reader([stripped], delimiter=delimiter))
    keys = [header_key(cell.strip().strip('"')) for cell in cells]
    for key in _URL_KEYS:
        if key in keys:
            return delimiter, cells, keys.index(key)
    return None


def _text_line(raw: str, line: int) -> UrlEntry | RowError | None:
    raw = raw.strip()
    if not raw or raw.startswith("#"):
        return None
    return _entry(raw, line, {})
