"""Streaming reader of backlink exports: one :class:`ImportRow` or :class:`RowError` per row.

Memory stays bounded whatever the file size: the file is decoded and parsed as a
stream, one physical line at a time, and a line or field too long to be a real
backlink row is skipped and reported rather than held.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TypeVar

import charset_normalizer
from dateutil import parser as dateparser

from linkcrawler.exceptions import ConfigurationError, ImportFormatError
from linkcrawler.imports.formats import ColumnMap, detect_format
from linkcrawler.web.urls import normalize_url

#: Longest physical line, and longest CSV field, taken as part of a row (1 MiB).
MAX_LINE_CHARS = 1 << 20
#: Bytes looked at to tell the encoding of a file without a BOM.
SNIFF_BYTES = 64 * 1024
#: Characters of a bad row kept in :attr:`RowError.raw`.
RAW_CHARS = 200
#: Longest URL accepted: both URLs are the key of a unique index, which must stay small.
MAX_URL_CHARS = 8192

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DELIMITERS = ("\t", ",", ";")
_QUOTED = re.compile(r'"[^"]*"')
_EXCEL_SEP_LINE = re.compile(r"^sep=(.)\r?\n?$")
# Bytes that did not decode: surrogateescape for UTF-8 and cp1252, U+FFFD for UTF-16.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_UNDECODABLE_UTF16 = re.compile("[\udc80-\udcff\ufffd]")
_TRUE = frozenset({"true", "yes", "y", "1", "+", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "-"})
_NOT_FOLLOWED = ("nofollow", "ugc", "sponsored")
_T = TypeVar("_T")
#: The legacy code pages spreadsheets and SEO tools write exports in, cp1252 first: what
#: charset-normalizer may choose from. Unrestricted, it calls a short German cp1252
#: export cp775 (Baltic DOS), measured; exports are not written in DOS code pages.
LEGACY_ENCODINGS = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "koi8_r", "koi8_u", "shift_jis", "euc_jp", "gb18030", "big5", "euc_kr",
)
# Two defaults that differ in year, month and day: a date that parses differently with each
# lacks a part (a bare "12" or "March 2024") and is no date.
_DATE_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
_DOTTED_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}\b")


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One backlink read from an export, its URLs normalized."""

    line: int
    source_url: str
    target_url: str
    anchor_text: str | None
    #: 0-100: Ahrefs Domain Rating (else UR), SEMrush Page ascore, Majestic Trust Flow
    #: (else Citation Flow), a generic file's ``authority`` column.
    authority: float | None
    #: True when the export flags the link nofollow, ugc or sponsored.
    nofollow: bool | None
    first_seen: datetime | None
    source_format: str
    #: 0-100: a toxicity score the export carried (SEMrush Backlink Audit), for the toxic audit.
    toxicity: float | None = None
    #: When a paid or temporary link ends (an ``expires_at`` column, any date format).
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be read: where it starts, why, and how it began."""

    line: int
    reason: str
    raw: str


class ExportReader:
    """An open backlink export: its format, progress, and its rows as an iterator.

    Iterate it once; it closes the file at the end (or use it as a context manager
    to close it early). Build it with :func:`read_export`.
    """

    def __init__(
        self,
        path: Path,
        binary: io.FileIO,
        encoding: str,
        default_target: str | None = None,
    ) -> None:
        self.path = path
        self.encoding = encoding
        self.total_bytes = os.fstat(binary.fileno()).st_size
        self._binary = binary
        self._bytes_read_at_close = 0
        self._default_target = default_target
        self._text = io.TextIOWrapper(
            io.BufferedReader(binary),
            encoding=encoding,
            errors="replace" if encoding.startswith("utf-16") else "surrogateescape",
            newline="",
        )
        undecodable = _UNDECODABLE_UTF16 if encoding.startswith("utf-16") else _UNDECODABLE
        self._lines = _PhysicalLines(self._text, encoding, undecodable)
        self.delimiter, self.header = self._read_header()
        self._columns = detect_format(self.header, str(path))
        #: Short name of the format: "ahrefs", "semrush", "gsc", "majestic" or "generic".
        self.format = self._columns.format.name
        #: What the format is, for people: "SEMrush Backlinks export"...
        self.label = self._columns.format.label
        if self._columns.target is None and default_target is None:
            raise ImportFormatError(
                f"{path}: a {self._columns.format.label} lists only the linking pages, "
                "not the page of the site they link to: give that page as the target "
                "(--target URL)"
            )

    @property
    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (ahead of the rows yielded by a buffer)."""
        if self._binary.closed:
            return self._bytes_read_at_close
        return self._binary.tell()

    def __iter__(self) -> Iterator[ImportRow | RowError]:
        if self._text.closed:
            return
        _raise_field_size_limit()
        reader = csv.reader(self._lines, delimiter=self.delimiter)
        try:
            while True:
                line = self._lines.begin_record()
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield RowError(line, f"malformed CSV: {exc}", self._lines.raw())
                    continue
                if self._lines.problem is not None:
                    yield RowError(line, self._lines.problem, self._lines.raw())
                elif "".join(fields).strip():  # blank lines and rows of empty cells are skipped
                    yield self._parse(fields, line)
        finally:
            self.close()

    def close(self) -> None:
        """Close the file; iterating afterwards yields nothing more."""
        if not self._binary.closed:
            self._bytes_read_at_close = self._binary.tell()
        self._text.close()

    def __enter__(self) -> ExportReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _read_header(self) -> tuple[str, tuple[str, ...]]:
        delimiter = None
        for line in self._lines:
            sep = _EXCEL_SEP_LINE.match(line)
            if sep:  # Excel's "sep=;" preamble names the delimiter
                delimiter = sep.group(1)
            elif line.strip():
                delimiter = delimiter or sniff_delimiter(line)
                header = next(csv.reader([line], delimiter=delimiter))
                return delimiter, tuple(cell.strip().strip('"') for cell in header)
        raise ImportFormatError(f"{self.path}: the file is empty: no header line")

    def _parse(self, fields: list[str], line: int) -> ImportRow | RowError:
        try:
            return _parse_row(fields, line, len(self.header), self._columns, self._default_target)
        except _BadRow as exc:
            return RowError(line, str(exc), self._lines.raw())


def read_export(path: str | os.PathLike[str], default_target: str | None = None) -> ExportReader:
    """Open a backlink export, detect its encoding, delimiter and format, ready to stream.

    ``default_target``: the page of the site that the linking pages of a Google
    Search Console links export point to (those exports do not name it). It is the
    target of every row of a file without a target column, and unused otherwise.

    Raises :class:`ImportFormatError` when the header fits no known format, or when
    the format names no target and ``default_target`` is missing; ``OSError`` when
    the file cannot be read; :class:`ConfigurationError` for a bad ``default_target``.
    """
    target = _normalized_target(default_target)
    path = Path(path)
    binary = io.FileIO(path, "rb")
    try:
        encoding = sniff_encoding(binary.read(SNIFF_BYTES))
        binary.seek(0)
        return ExportReader(path, binary, encoding, target)
    except BaseException:
        binary.close()
        raise


def sniff_encoding(head: bytes) -> str:
    """The codec of a file that starts with ``head``.

    By its BOM (Ahrefs writes UTF-16 with one); UTF-16 without a BOM; UTF-8 when the
    bytes decode as UTF-8; else the legacy code page charset-normalizer finds likeliest
    among :data:`LEGACY_ENCODINGS`, cp1252 when that reads the same text.
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    # UTF-16 without a BOM: mostly ASCII text, so NUL in every other byte. Kept by hand:
    # exact and instant, where charset-normalizer would need the whole sample decoded.
    if _mostly_nul(head[1:512:2]):
        return "utf-16-le"
    if _mostly_nul(head[0:512:2]):
        return "utf-16-be"
    # UTF-8 checked first, by hand: charset-normalizer calls an all-ASCII sample
    # "ascii", whose codec would then refuse every accented byte past the sample.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    return _legacy_encoding(head)


def _legacy_encoding(head: bytes) -> str:
    if len(head) >= SNIFF_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # no character cut in two at the end
    best = charset_normalizer.from_bytes(head, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        return "cp1252"
    # cp1250 and cp1252 agree on most accented letters: on a short sample the library
    # may pick either; when they read the same text, the far commoner cp1252 is named.
    if head.decode("cp1252", errors="replace") == str(best):
        return "cp1252"
    return codecs.lookup(best.encoding).name


def sniff_delimiter(header_line: str) -> str:
    """Tab, comma or semicolon: whichever separates most cells of ``header_line``."""
    unquoted = _QUOTED.sub("", header_line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _parse_row(
    fields: list[str],
    line: int,
    header_width: int,
    columns: ColumnMap,
    default_target: str | None = None,
) -> ImportRow:
    """The backlink that the CSV ``fields`` of one row describe.

    ``default_target`` is normalized already. Raises :class:`_BadRow`, which the
    reader turns into a :class:`RowError`, when the row cannot be a backlink.
    """
    _check_width(fields, header_width)
    source = _url(fields, columns.source, "source_url")
    if columns.target is not None:
        target = _url(fields, columns.target, "target_url")
    elif default_target is not None:
        target = default_target
    else:
        raise _BadRow("missing target_url")
    return ImportRow(
        line=line,
        source_url=source,
        target_url=target,
        anchor_text=_anchor(fields, columns.anchor),
        authority=_first(_parse_authority, fields, columns.authority),
        toxicity=_first(_parse_authority, fields, columns.toxicity),
        nofollow=_nofollow(fields, columns),
        first_seen=_first(_parse_date, fields, columns.first_seen),
        source_format=columns.format.name,
        expires_at=_first(_parse_date, fields, columns.expires_at),
    )


def parse_authority(value: str) -> float | None:
    """A 0-100 score from an export cell ("37", "37.5", "37,5"), None if there is none."""
    return _parse_authority(value)


def _parse_authority(value: str) -> float | None:
    """A 0-100 score from an export cell ("37", "37.5", "37,5"), None if there is none."""
    value = value.strip().replace("%", "")
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        score = float(value)
    except ValueError:
        return None
    return score if 0 <= score <= 100 else None


def _parse_flag(value: str) -> bool | None:
    """True/False from an export's flag cell ("true", "Yes", "1", "+"...), None if blank."""
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def _parse_link_type(value: str) -> bool | None:
    """Whether a link-type cell says not followed ("nofollow", "UGC"), None if it says neither."""
    value = value.strip().lower()
    if not value:
        return None
    if any(kind in value for kind in _NOT_FOLLOWED):
        return True
    if "follow" in value:
        return False
    return None


def _parse_date(value: str) -> datetime | None:
    """A UTC datetime from the date formats exports use, None when there is none.

    ISO 8601 with or without time, ``T``, offset, ``Z`` or a trailing ``UTC``
    (Ahrefs, SEMrush, Majestic, Search Console); Unix timestamps (SEMrush's API);
    and what python-dateutil reads: "Jan 5, 2024", "5 Jan 2024", RFC 2822...
    Numeric dates: "04.03.2024" is day first (the dotted European style), "03/04/2024"
    month first (the US style of spreadsheets' default locale), "2024/03/04" year first.
    A value missing the day, month or year is no date. A date without a zone (or with
    a zone name dateutil does not know) is taken as UTC.
    """
    value = value.strip()
    if not value:
        return None
    if value.isdigit() and 9 <= len(value) <= 11:
        return datetime.fromtimestamp(int(value), UTC)
    if value.upper().endswith(" UTC"):
        value = value[:-4]
    parsed: datetime | None
    try:
        # The C parser first: the exports' own format, about 50 times faster than dateutil.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _parse_other_date(value)
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_other_date(value: str) -> datetime | None:
    dayfirst = bool(_DOTTED_DATE.match(value))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dateparser.UnknownTimezoneWarning)
            first, second = (dateparser.parse(value, default=default, dayfirst=dayfirst)
                             for default in _DATE_DEFAULTS)
    except (ValueError, OverflowError):
        return None
    return first if first == second else None


class _BadRow(ValueError):
    """Why a row is not a backlink: becomes the reason of a :class:`RowError`."""


class _PhysicalLines:
    """The physical lines of a text stream, fed to ``csv.reader``, with line bookkeeping.

    Counts lines (so a row spread over several lines by a quoted newline keeps the
    line numbers of later rows right), keeps the start of the current row for error
    reports, and notes the first problem csv would not see: NUL bytes, undecodable
    bytes, a line over :data:`MAX_LINE_CHARS` (skipped without being held in memory).
    """

    def __init__(self, text: IO[str], encoding: str, undecodable: re.Pattern[str]) -> None:
        self.line = 0
        self.problem: str | None = None
        self._text = text
        self._encoding = encoding
        self._undecodable = undecodable
        self._raw: list[str] = []
        self._raw_chars = 0

    def begin_record(self) -> int:
        """Forget the last row; return the line number the next row starts on."""
        self.problem = None
        self._raw.clear()
        self._raw_chars = 0
        return self.line + 1

    def raw(self) -> str:
        """The current row as it stands in the file, cut to :data:`RAW_CHARS`."""
        return "".join(self._raw).rstrip("\r\n")[:RAW_CHARS]

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.line += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            self._keep(line)
            self._skip_rest_of_line()
            self._note(f"line {self.line} is longer than {MAX_LINE_CHARS} characters")
            return "\n"
        if "\x00" in line:
            self._note("row contains NUL bytes")
        if self._undecodable.search(line):
            self._note(f"row contains bytes that are not valid {self._encoding}")
        self._keep(line)
        return line

    def _keep(self, line: str) -> None:
        if self._raw_chars < RAW_CHARS:
            self._raw.append(line[:RAW_CHARS])
            self._raw_chars += len(self._raw[-1])

    def _note(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem

    def _skip_rest_of_line(self) -> None:
        while True:
            chunk = self._text.readline(MAX_LINE_CHARS)
            if not chunk or chunk.endswith(("\n", "\r")):
                return


def _mostly_nul(sample: bytes) -> bool:
    return len(sample) >= 2 and sample.count(0) * 4 > len(sample) * 3


def _normalized_target(default_target: str | None) -> str | None:
    if default_target is None:
        return None
    try:
        return normalize_url(default_target)
    except ValueError as exc:
        raise ConfigurationError(f"target {default_target!r} is not an absolute http(s) URL") from exc


def _check_width(fields: list[str], header_width: int) -> None:
    # Trailing empty cells (a delimiter at the end of each row) are harmless.
    if len(fields) == header_width or (
        len(fields) > header_width and not any(cell.strip() for cell in fields[header_width:])
    ):
        return
    raise _BadRow(f"row has {len(fields)} fields, header has {header_width}")


def _cell(fields: list[str], index: int | None) -> str:
    return fields[index].strip() if index is not None and index < len(fields) else ""


def _url(fields: list[str], index: int, name: str) -> str:
    value = _cell(fields, index)
    if not value:
        raise _BadRow(f"missing {name}")
    if len(value) > MAX_URL_CHARS:
        raise _BadRow(f"{name} is longer than {MAX_URL_CHARS} characters")
    try:
        return normalize_url(value)
    except ValueError:
        shown = value if len(value) <= 100 else value[:100] + "..."
        raise _BadRow(f"{name} {shown!r} is not an http(s) URL") from None


def _anchor(fields: list[str], index: int | None) -> str | None:
    return " ".join(_cell(fields, index).split()) or None


def _first(
    parse: Callable[[str], _T | None], fields: list[str], indexes: tuple[int, ...]
) -> _T | None:
    for index in indexes:
        value = parse(_cell(fields, index))
        if value is not None:
            return value
    return None


def _nofollow(fields: list[str], columns: ColumnMap) -> bool | None:
    """True if any flag says not followed, False if the flags say followed, else None."""
    if not columns.nofollow_flags and columns.link_type is None:
        return None
    answers = [_parse_flag(_cell(fields, index)) for index in columns.nofollow_flags]
    answers.append(_parse_link_type(_cell(fields, columns.link_type)))
    if True in answers:
        return True
    return False if False in answers else None


def _raise_field_size_limit() -> None:
    # csv's default (128 KiB) would stop the whole file on one long cell; past
    # MAX_LINE_CHARS a cell is reported as a bad row instead.
    if csv.field_size_limit() < MAX_LINE_CHARS:
        csv.field_size_limit(MAX_LINE_CHARS)
