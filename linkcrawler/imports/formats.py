"""The backlink export formats linkcrawler reads, and telling them apart by their header.

Each tool names its columns its own way, and renames them between versions, so a
format lists every spelling of a column it is known to use. Header cells are compared
by :func:`header_key`: case, surrounding quotes and whitespace, and the spaces,
underscores, hyphens and dots inside a name do not matter. That one rule matches
Majestic's compact (``SourceTrustFlow``) and spaced (``Source Trust Flow``) styles,
and Ahrefs' ``Domain rating`` as well as its older ``Domain Rating``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from linkcrawler.exceptions import ImportFormatError

_IGNORED_IN_NAMES = re.compile(r"[\s_.\-]+")
_QUOTES_AND_SPACE = " \t\r\n\ufeff\"'"


def header_key(cell: str) -> str:
    """The form of a header cell that all spellings of one column name share."""
    return _IGNORED_IN_NAMES.sub("", cell.strip(_QUOTES_AND_SPACE).lower())


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One known export layout: which columns carry what, in order of preference.

    ``markers``: when not empty, at least one of these columns must be present too,
    which tells apart formats whose URL columns are spelled alike (SEMrush, Majestic
    and the generic CSV all have a "source url" column).
    """

    name: str
    label: str
    source: tuple[str, ...]
    target: tuple[str, ...]
    anchor: tuple[str, ...] = ()
    authority: tuple[str, ...] = ()
    nofollow_flags: tuple[str, ...] = ()
    link_type: tuple[str, ...] = ()
    first_seen: tuple[str, ...] = ()
    #: When a paid or temporary link ends: a column the user adds to any export.
    expires_at: tuple[str, ...] = (
        "expires_at", "Expires at", "Expires", "Expiry", "Expiry date", "Expiration", "Expiration date",
        "End date", "Ends", "Valid until",
    )
    markers: tuple[str, ...] = ()
    #: False when the export may name only the linking pages (Search Console).
    target_in_file: bool = True
    #: A tool's toxicity score of the link (0-100), read for the toxic audit.
    toxicity: tuple[str, ...] = ()


AHREFS = ExportFormat(
    name="ahrefs",
    label="Ahrefs Backlinks export (UTF-16 tab-separated or UTF-8 CSV)",
    source=("Referring page URL", "Referring page"),
    target=("Target URL", "Link URL"),
    anchor=("Anchor", "Link Anchor"),
    # Domain Rating first: it is on every row and always 0-100; UR when DR is absent.
    authority=("Domain rating", "DR", "UR", "URL Rating (desc)", "URL Rating"),
    nofollow_flags=("Nofollow", "UGC", "Sponsored"),
    link_type=("Type",),
    first_seen=("First seen",),
)

SEMRUSH = ExportFormat(
    name="semrush",
    label="SEMrush Backlinks export",
    source=("Source url",),
    target=("Target url",),
    anchor=("Anchor",),
    authority=("Page ascore",),
    nofollow_flags=("Nofollow", "Ugc", "Sponsored"),
    first_seen=("First seen",),
    markers=("Page ascore", "Source title", "Sitewide", "New link", "Lost link"),
    # The Backlink Audit export's score (SEMrush calls 60-100 toxic).
    toxicity=("Toxicity score", "Toxic score"),
)

MAJESTIC = ExportFormat(
    name="majestic",
    label="Majestic Backlinks export",
    source=("SourceURL",),
    target=("TargetURL",),
    anchor=("AnchorText",),
    # Trust Flow first: it measures links from trusted seeds, which spam inflates
    # far less than the raw link volume behind Citation Flow.
    authority=("SourceTrustFlow", "SourceCitationFlow"),
    nofollow_flags=("FlagNoFollow",),
    link_type=("LinkType",),
    first_seen=("FirstIndexedDate", "SourceFirstFoundDate"),
    markers=(
        "SourceTrustFlow", "SourceCitationFlow", "FlagNoFollow", "FirstIndexedDate",
        "LastSeenDate", "SourceCrawlDate", "SourceFirstFoundDate", "FlagRedirect",
        "FlagImageLink", "FlagImages", "FlagFrame", "FlagAltText", "FlagMention",
    ),
)

GSC = ExportFormat(
    name="gsc",
    label="Google Search Console links export (Latest links or More sample links)",
    source=("Linking page",),
    target=("Target page", "Target URL"),
    target_in_file=False,
)

GENERIC = ExportFormat(
    name="generic",
    label="any CSV with source_url and target_url columns (anchor_text, authority, "
    "nofollow, first_seen, expires_at read when present)",
    source=("source_url",),
    target=("target_url",),
    anchor=("anchor_text", "anchor"),
    authority=("authority",),
    nofollow_flags=("nofollow",),
    first_seen=("first_seen",),
    toxicity=("toxicity", "toxicity_score"),
)

#: Tried in this order; the generic layout last, as it asks the least of a header.
FORMATS: tuple[ExportFormat, ...] = (AHREFS, SEMRUSH, MAJESTIC, GSC, GENERIC)

# Search Console's summary tables count links per site, page or anchor but list none.
_GSC_SUMMARY_COLUMNS = frozenset(
    header_key(name)
    for name in (
        "Linking pages", "Linking sites", "Incoming links", "Target pages",
        "Linking text", "Top linking sites", "Top linked pages", "Top linking text",
    )
)


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where one file keeps what linkcrawler reads: column indexes, by preference."""

    format: ExportFormat
    source: int
    target: int | None
    anchor: int | None
    authority: tuple[int, ...]
    nofollow_flags: tuple[int, ...]
    link_type: int | None
    first_seen: tuple[int, ...]
    toxicity: tuple[int, ...] = ()
    expires_at: tuple[int, ...] = ()


def detect_format(header: Sequence[str], source_name: str = "<export>") -> ColumnMap:
    """The known format whose columns ``header`` carries, mapped to their indexes.

    Raises :class:`ImportFormatError`, naming ``source_name``, the header seen and
    the supported formats, when no format fits.
    """
    keys = [header_key(cell) for cell in header]
    for export_format in FORMATS:
        columns = _match(export_format, keys)
        if columns is not None:
            return columns
    if not any(key == header_key("Linking page") for key in keys) and _GSC_SUMMARY_COLUMNS & set(keys):
        raise ImportFormatError(
            f"{source_name}: this is a Google Search Console summary table (top linking "
            "sites, top linked pages or top linking text): it counts links but lists none. "
            "In Search Console open Links, click 'Export external links' and choose "
            "'Latest links' (or 'More sample links'), then import that file with --target URL."
        )
    raise ImportFormatError(
        f"{source_name}: unrecognised header {_describe_header(header)}. Supported formats: "
        + "; ".join(export_format.label for export_format in FORMATS)
    )


def _match(export_format: ExportFormat, keys: list[str]) -> ColumnMap | None:
    source = _first_index(keys, export_format.source)
    target = _first_index(keys, export_format.target)
    if source is None or (target is None and export_format.target_in_file):
        return None
    if export_format.markers and _first_index(keys, export_format.markers) is None:
        return None
    return ColumnMap(
        format=export_format,
        source=source,
        target=target,
        anchor=_first_index(keys, export_format.anchor),
        authority=_all_indexes(keys, export_format.authority),
        nofollow_flags=_all_indexes(keys, export_format.nofollow_flags),
        link_type=_first_index(keys, export_format.link_type),
        first_seen=_all_indexes(keys, export_format.first_seen),
        toxicity=_all_indexes(keys, export_format.toxicity),
        expires_at=_all_indexes(keys, export_format.expires_at),
    )


def _first_index(keys: list[str], names: tuple[str, ...]) -> int | None:
    found = _all_indexes(keys, names)
    return found[0] if found else None


def _all_indexes(keys: list[str], names: tuple[str, ...]) -> tuple[int, ...]:
    """Indexes of the columns called any of ``names``, in the order of ``names``."""
    indexes: list[int] = []
    for name in names:
        key = header_key(name)
        if key in keys and keys.index(key) not in indexes:
            indexes.append(keys.index(key))
    return tuple(indexes)


def _describe_header(header: Sequence[str], limit: int = 30) -> str:
    cells = [repr(cell.strip()[:60]) for cell in header[:limit]]
    more = f", ... ({len(header)} columns)" if len(header) > limit else ""
    return "[" + ", ".join(cells) + more + "]"
