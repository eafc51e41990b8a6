"""The backlink export parsers, read from the seed files and from files written here."""

from __future__ import annotations

import codecs
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pymongo
import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import monitoring

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.commands.importlinks import store_rows
from linkcrawler.exceptions import ConfigurationError, ImportFormatError
from linkcrawler.imports import ExportReader, ImportRow, RowError, read_export
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DEMO = "http://demo.linkcrawler.test/"


def read_all(path: Path | str, default_target: str | None = None) -> tuple[ExportReader, list[ImportRow | RowError]]:
    reader = read_export(path, default_target=default_target)
    return reader, list(reader)


def rows_of(items: list[ImportRow | RowError]) -> list[ImportRow]:
    return [item for item in items if isinstance(item, ImportRow)]


def errors_of(items: list[ImportRow | RowError]) -> list[tuple[int, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, RowError)]


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- The seed files, one per format -------------------------------------------------


def test_ahrefs_utf16_tab_separated_export() -> None:
    path = SEEDS / "ahrefs-backlinks-utf16.tsv"
    assert path.read_bytes()[:2] == codecs.BOM_UTF16_LE

    reader, items = read_all(path)

    assert (reader.format, reader.encoding, reader.delimiter) == ("ahrefs", "utf-16", "\t")
    first, forum, partners = rows_of(items)
    assert first == ImportRow(
        line=2,
        source_url="https://blog.orchard-notes.test/2023/11/tools?a=1&b=2&utm_source=feed",
        target_url="http://demo.linkcrawler.test/features/",
        anchor_text="linkcrawler",
        authority=62.0,
        nofollow=False,
        first_seen=datetime(2023, 11, 2, 7, 45, 13, tzinfo=UTC),
        source_format="ahrefs",
    )
    assert forum.source_url == "https://cafe-forum.test/t/link-checkers/9912"
    assert forum.anchor_text == "Linkcrawler démo"  # non-breaking and repeated spaces folded
    assert forum.nofollow is True  # UGC
    assert partners.source_url == "http://partners.shopfront.test/sponsors"  # fragment dropped
    assert partners.target_url == DEMO + "pricing?plan=team&ref=partners"
    assert partners.nofollow is True  # Sponsored
    assert errors_of(items) == [(4, "source_url 'javascript:void(0)' is not an http(s) URL")]
    bad = next(item for item in items if isinstance(item, RowError))
    assert bad.raw.startswith('"Broken widget"\t"javascript:void(0)"')
    assert len(bad.raw) == 200


def test_ahrefs_utf8_bom_csv_with_a_multiline_title_keeps_line_numbers() -> None:
    reader, items = read_all(SEEDS / "ahrefs-backlinks.csv")

    assert (reader.format, reader.encoding, reader.delimiter) == ("ahrefs", "utf-8-sig", ",")
    roundup, news, forum = rows_of(items)
    assert (roundup.line, roundup.source_url) == (2, "https://www.weekly-digest.test/roundup/42")
    assert roundup.first_seen == datetime(2024, 1, 15, 9, 12, tzinfo=UTC)
    # The title of line 2 runs onto line 3: the next row starts on line 4.
    assert (news.line, news.authority, news.nofollow) == (4, 71.0, True)
    assert (forum.line, forum.target_url) == (6, "https://demo.linkcrawler.test/docs/install")
    assert errors_of(items) == [(5, "missing target_url")]
    assert reader.bytes_read == reader.total_bytes == (SEEDS / "ahrefs-backlinks.csv").stat().st_size


def test_semrush_export() -> None:
    reader, items = read_all(SEEDS / "semrush-backlinks.csv")

    assert reader.format == "semrush"
    article, bookmarks, gallery = rows_of(items)
    assert article == ImportRow(
        line=2,
        source_url="https://reader.fieldnotes.test/posts/link-rot",
        target_url="http://demo.linkcrawler.test/blog/link-rot",
        anchor_text="what link rot costs",
        authority=34.0,
        nofollow=False,
        first_seen=datetime(2023, 4, 26, 23, 19, 22, tzinfo=UTC),
        source_format="semrush",
    )
    assert (bookmarks.line, bookmarks.authority, bookmarks.nofollow) == (4, 17.0, True)
    # An image link: no anchor, no Page ascore, flagged sponsored.
    assert (gallery.anchor_text, gallery.authority, gallery.nofollow) == (None, None, True)
    assert errors_of(items) == [(3, "row has 3 fields, header has 19")]


def test_search_console_latest_links_take_the_target_given() -> None:
    reader, items = read_all(SEEDS / "gsc-latest-links.csv", default_target="http://Demo.Linkcrawler.test")

    assert reader.format == "gsc"
    rows = rows_of(items)
    assert [(row.line, row.source_url) for row in rows] == [
        (2, "https://stack.overflowish.test/questions/1234/link-checker"),
        (3, "http://planet-rss.test/feeds/week-11"),
        (5, "https://wiki.hobbyist.test/Link_checkers"),
    ]
    assert {row.target_url for row in rows} == {DEMO}
    assert {(row.anchor_text, row.authority, row.nofollow) for row in rows} == {(None, None, None)}
    assert errors_of(items) == [(4, "source_url 'ftp://files.mirror.test/links.txt' is not an http(s) URL")]


def test_search_console_export_without_target_is_one_clear_error() -> None:
    with pytest.raises(ImportFormatError) as error:
        read_export(SEEDS / "gsc-latest-links.csv")

    message = str(error.value)
    assert "gsc-latest-links.csv" in message
    assert "Google Search Console" in message
    assert "--target URL" in message


def test_majestic_export_prefers_trust_flow() -> None:
    reader, items = read_all(SEEDS / "majestic-backlinks.csv")

    assert reader.format == "majestic"
    weekly, garden, docs = rows_of(items)
    assert weekly == ImportRow(
        line=2,
        source_url="http://www.webdev-weekly.test/issues/311",
        target_url=DEMO,
        anchor_text="linkcrawler",
        authority=23.0,  # SourceTrustFlow, not SourceCitationFlow (31)
        nofollow=False,
        first_seen=datetime(2019, 3, 14, tzinfo=UTC),
        source_format="majestic",
    )
    assert (garden.source_url, garden.anchor_text, garden.nofollow) == (
        "https://comments.gardenblog.test/2020/05/spring",
        "my site",
        True,
    )
    assert (docs.line, docs.authority, docs.anchor_text) == (5, 27.0, None)  # no Trust Flow: Citation Flow
    assert errors_of(items) == [(4, "target_url 'mailto:hello@demo.linkcrawler.test' is not an http(s) URL")]


def test_generic_csv_in_any_column_order() -> None:
    reader, items = read_all(SEEDS / "generic.csv")

    assert reader.format == "generic"
    members, speakers = rows_of(items)
    assert (members.line, members.source_url, members.target_url, members.anchor_text) == (
        2,
        "https://friends.linkring.test/members",
        DEMO,
        "Demo Linkcrawler",
    )
    assert (speakers.target_url, speakers.anchor_text) == (DEMO + "about", 'the "about" page')
    assert (members.authority, members.nofollow, members.first_seen) == (None, None, None)
    assert errors_of(items) == [
        (4, "missing source_url"),
        (5, "target_url '/relative/path' is not an http(s) URL"),
    ]


# --- Header variants ----------------------------------------------------------------


def test_legacy_ahrefs_header_falls_back_to_url_rating(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '"#","Domain Rating","URL Rating (desc)","Referring Domains","Referring Page URL",'
        '"Referring Page Title","Internal Links Count","External Links Count","Link URL","TextPre",'
        '"Link Anchor","TextPost","Type","Backlink Status","First Seen","Last Check","Day Lost",'
        '"Language","Traffic","Keywords","Linked Domains"\n'
        '"1","","41","12","https://old.blog.test/post","Post","3","7","http://demo.linkcrawler.test/x",'
        '"see","the x page","","nofollow","live","2019-03-14T03:21:43Z","2020-01-01T00:00:00Z","","en",'
        '"0","0","5"\n',
    )

    reader, items = read_all(path)

    assert reader.format == "ahrefs"
    (row,) = rows_of(items)
    assert (row.target_url, row.anchor_text, row.authority) == (DEMO + "x", "the x page", 41.0)
    assert row.nofollow is True  # from the Type column
    assert row.first_seen == datetime(2019, 3, 14, 3, 21, 43, tzinfo=UTC)


def test_majestic_spaced_header_style(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Target URL,Source URL,Anchor Text,Source Crawl Date,Source First Found Date,"
        "Flag No Follow,Source Citation Flow,Source Trust Flow\n"
        "http://demo.linkcrawler.test/,http://links.example.test/,home,2024-01-02,2023-06-07,True,15,9\n",
    )

    reader, items = read_all(path)

    assert reader.format == "majestic"
    (row,) = rows_of(items)
    assert (row.source_url, row.authority, row.nofollow) == ("http://links.example.test/", 9.0, True)
    assert row.first_seen == datetime(2023, 6, 7, tzinfo=UTC)


def test_headers_match_ignoring_case_quotes_and_spaces(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ' "SOURCE_URL" , Target_Url ,extra, Authority ,NoFollow,First_Seen\n'
        'http://a.test/1,http://demo.linkcrawler.test/,x,55.5,yes,"Jan 5, 2024"\n'
        "http://a.test/2,http://demo.linkcrawler.test/,x,250,no,1704412800\n",
    )

    reader, items = read_all(path)

    assert reader.format == "generic"
    first, second = rows_of(items)
    assert (first.authority, first.nofollow, first.first_seen) == (55.5, True, datetime(2024, 1, 5, tzinfo=UTC))
    # Out of 0-100 is no score; a Unix timestamp is a date.
    assert (second.authority, second.nofollow, second.first_seen) == (None, False, first.first_seen)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2023-11-02 07:45:13", datetime(2023, 11, 2, 7, 45, 13, tzinfo=UTC)),
        ("2024-03-05T10:00:00+02:00", datetime(2024, 3, 5, 8, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 10:00:00 GMT", datetime(2024, 3, 5, 10, tzinfo=UTC)),
        ("5 January 2024", datetime(2024, 1, 5, tzinfo=UTC)),
        ("March 5, 2024 3:30 PM", datetime(2024, 3, 5, 15, 30, tzinfo=UTC)),
        ("04.03.2024", datetime(2024, 3, 4, tzinfo=UTC)),  # dotted: day first
        ("03/04/2024", datetime(2024, 3, 4, tzinfo=UTC)),  # slashes: month first
        ("2024/03/04", datetime(2024, 3, 4, tzinfo=UTC)),
        ("13/04/2024", datetime(2024, 4, 13, tzinfo=UTC)),  # no month 13: day first
        ("March 2024", None),  # no day
        ("12", None),
        ("n/a", None),
    ],
)
def test_first_seen_dates_in_the_formats_exports_use(tmp_path: Path, cell: str, expected: datetime | None) -> None:
    path = write(tmp_path, f'source_url,target_url,first_seen\nhttp://a.test/,{DEMO},"{cell}"\n')

    _, items = read_all(path)

    (row,) = rows_of(items)
    assert row.first_seen == expected


def test_semicolon_delimited_with_decimal_commas(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "source_url;target_url;anchor_text;authority;first_seen\n"
        "https://de.blog.test/artikel;http://demo.linkcrawler.test/;Link-Prüfer;45,5;2024-02-03 10:00:00 UTC\n",
        encoding="cp1252",
    )

    reader, items = read_all(path)

    assert (reader.delimiter, reader.encoding) == (";", "cp1252")
    (row,) = rows_of(items)
    assert (row.anchor_text, row.authority) == ("Link-Prüfer", 45.5)
    assert row.first_seen == datetime(2024, 2, 3, 10, tzinfo=UTC)


def test_excel_sep_preamble_names_the_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "sep=|\nsource_url|target_url\nhttp://a.test/|http://demo.linkcrawler.test/\n")

    reader, items = read_all(path)

    assert reader.delimiter == "|"
    assert [(row.line, row.source_url) for row in rows_of(items)] == [(3, "http://a.test/")]


# --- Encodings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        (b"", "utf-16-le", "utf-16-le"),
        (b"", "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    ],
)
def test_utf16_and_utf8_bom_variants(tmp_path: Path, bom: bytes, codec: str, expected: str) -> None:
    text = (SEEDS / "ahrefs-backlinks-utf16.tsv").read_bytes().decode("utf-16")
    path = tmp_path / "variant.tsv"
    path.write_bytes(bom + text.encode(codec))

    reader, items = read_all(path)

    assert (reader.format, reader.encoding) == ("ahrefs", expected)
    assert [row.anchor_text for row in rows_of(items)] == [
        "linkcrawler",
        "Linkcrawler démo",
        "Link monitoring by linkcrawler",
    ]
    assert errors_of(items) == [(4, "source_url 'javascript:void(0)' is not an http(s) URL")]


def test_a_cp1251_export_reads_its_cyrillic_anchors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "source_url,target_url,anchor_text,first_seen\r\n"
        "https://blog.primer.test/statya,http://demo.linkcrawler.test/,Проверка ссылок,2024-02-03\r\n"
        "https://forum.primer.test/t/7,http://demo.linkcrawler.test/about,О нас и о сервисе,2024-02-04\r\n"
        "https://news.primer.test/2024/obzor,http://demo.linkcrawler.test/,обзор инструментов для SEO,2024-02-05\r\n",
        encoding="cp1251",
    )

    reader, items = read_all(path)

    assert reader.encoding == "cp1251"
    assert [row.anchor_text for row in rows_of(items)] == [
        "Проверка ссылок",
        "О нас и о сервисе",
        "обзор инструментов для SEO",
    ]
    assert errors_of(items) == []


def test_bytes_invalid_in_the_sniffed_encoding_spoil_only_their_row(tmp_path: Path) -> None:
    good = "".join(f"http://a.test/{n},{DEMO},ok\n" for n in range(2000))  # past the sniffed part
    path = tmp_path / "export.csv"
    path.write_bytes(
        b"source_url,target_url,anchor_text\n" + good.encode() + b"http://b.test/,http://demo.linkcrawler.test/,caf\xe9\n"
        b"http://c.test/,http://demo.linkcrawler.test/,fine\n"
    )

    reader, items = read_all(path)

    assert reader.encoding == "utf-8"
    assert errors_of(items) == [(2002, "row contains bytes that are not valid utf-8")]
    assert rows_of(items)[-1].source_url == "http://c.test/"
    assert len(rows_of(items)) == 2001


# --- Malformed rows -----------------------------------------------------------------


def test_malformed_rows_are_reported_and_never_stop_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "source_url,target_url,anchor_text\r\n"
        'http://a.test/1,http://demo.linkcrawler.test/,"two\r\nlines"\r\n'
        "http://a.test/2,http://demo.linkcrawler.test/,\r\n"
        "\r\n"
        "http://a.test/3,http://demo.linkcrawler.test/,nul\x00byte\r\n"
        "http://a.test/4,http://demo.linkcrawler.test/,x,y,z\r\n"
        "http://a.test/5,http://demo.linkcrawler.test/,trailing,,\r\n"
        "  ,http://demo.linkcrawler.test/,no source\r\n"
        '"javascript:void(0)",http://demo.linkcrawler.test/,js\r\n'
        'http://a.test/6,http://demo.linkcrawler.test/,"quoted\n\nover three lines"\r\n'
        "http://a.test/7,http://demo.linkcrawler.test/,last\r\n",
    )

    _reader, items = read_all(path)

    assert [(row.line, row.source_url, row.anchor_text) for row in rows_of(items)] == [
        (2, "http://a.test/1", "two lines"),
        (4, "http://a.test/2", None),
        (8, "http://a.test/5", "trailing"),
        (11, "http://a.test/6", "quoted over three lines"),
        (14, "http://a.test/7", "last"),
    ]
    assert errors_of(items) == [
        (6, "row contains NUL bytes"),
        (7, "row has 5 fields, header has 3"),
        (9, "missing source_url"),
        (10, "source_url 'javascript:void(0)' is not an http(s) URL"),
    ]


def test_a_huge_field_is_a_row_error(tmp_path: Path) -> None:
    huge = "x" * 1_100_000
    path = write(
        tmp_path,
        "source_url,target_url,anchor_text\n"
        f"http://a.test/1,http://demo.linkcrawler.test/,{huge}\n"
        f'http://a.test/2,http://demo.linkcrawler.test/,"{huge[:600_000]}\n{huge[:600_000]}"\n'
        f"http://a.test/{huge[:9000]},http://demo.linkcrawler.test/,long url\n"
        "http://a.test/3,http://demo.linkcrawler.test/,after\n",
    )

    _, items = read_all(path)

    assert errors_of(items) == [
        (2, "line 2 is longer than 1048576 characters"),
        (3, "malformed CSV: field larger than field limit (1048576)"),
        (5, "source_url is longer than 8192 characters"),
    ]
    assert [(row.line, row.anchor_text) for row in rows_of(items)] == [(6, "after")]
    assert all(len(item.raw) <= 200 for item in items if isinstance(item, RowError))


# --- Unrecognised files and arguments -----------------------------------------------


def test_unknown_header_names_file_headers_and_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,Sessions,Landing page\n2024-01-01,3,/\n", name="analytics.csv")

    with pytest.raises(ImportFormatError) as error:
        read_export(path)

    message = str(error.value)
    assert "analytics.csv" in message
    assert "['Date', 'Sessions', 'Landing page']" in message
    for name in ("Ahrefs", "SEMrush", "Google Search Console", "Majestic", "source_url"):
        assert name in message


def test_search_console_summary_export_says_which_export_to_use(tmp_path: Path) -> None:
    path = write(tmp_path, "Site,Linking pages,Target pages\nexample.test,12,3\n", name="Top linking sites.csv")

    with pytest.raises(ImportFormatError, match="Latest links"):
        read_export(path)


def test_empty_file_is_an_import_format_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="empty"):
        read_export(write(tmp_path, "\n\n"))


def test_bad_default_target_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not an absolute http"):
        read_export(SEEDS / "gsc-latest-links.csv", default_target="demo.linkcrawler.test")


# --- Streaming ----------------------------------------------------------------------


def test_a_large_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("source_url,target_url,anchor_text,notes\n")
        for n in range(200_000):
            out.write(
                f"https://site{n % 300}.test/posts/{n % 3000}?ref=feed,"
                f"{DEMO}page/{n % 50},anchor number {n},imported by the streaming test\n"
            )
    size = path.stat().st_size

    tracemalloc.start()
    try:
        reader = read_export(path)
        rows = errors = 0
        progress = []
        for item in reader:
            rows += isinstance(item, ImportRow)
            errors += isinstance(item, RowError)
            if rows % 50_000 == 0:
                progress.append(reader.bytes_read)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (rows, errors) == (200_000, 0)
    assert size > 20_000_000
    assert peak < 4_000_000, f"peak {peak} bytes while reading a {size}-byte file"
    assert progress == sorted(progress) and 0 < progress[0] < size
    assert reader.bytes_read == reader.total_bytes == size


# --- Storing: inserts of what is new, the same documents as the upserts -------------


class _Writes(monitoring.CommandListener):
    """The write commands a client sends."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("insert", "update", "delete", "findAndModify"):
            self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _row(n: int, source: str, authority: float | None, source_format: str = "generic") -> ImportRow:
    return ImportRow(line=n, source_url=source, target_url=DEMO, anchor_text=f"anchor {n}", authority=authority,
                     nofollow=None, first_seen=datetime(2023, 5, n, tzinfo=UTC), source_format=source_format)


def test_store_rows_makes_the_documents_upserts_make_and_a_reimport_writes_nothing(
    mongo_uri: str, mongo_db_name: str
) -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    how = "imported from a test"
    known = _row(1, "http://known.test/", 10.0, "ahrefs")
    half_written = _row(2, "http://half.test/", None)  # its event written, then the import died
    rows = [
        _row(3, "http://known.test/", 20.0),  # known: new authority, another format
        _row(4, "http://new.test/", None),
        _row(5, "http://new.test/", 30.0),  # twice in one batch: the later authority wins
        half_written,
        _row(6, "http://other.test/", 40.0),
        _row(7, "http://known.test/", 20.0),  # nothing new about it any more
    ]
    listener = _Writes()
    with pymongo.MongoClient(mongo_uri, tz_aware=True, event_listeners=[listener]) as client:
        stored, upserted = client[mongo_db_name], client[mongo_db_name + "_upserts"]
        try:
            for db in (stored, upserted):
                ensure_indexes(db, ["backlinks", "link_events"])
                assert not write_batch(db, new_backlink_ops(
                    known.source_url, DEMO, now, how, authority=10.0, anchor_text=known.anchor_text,
                    first_seen=known.first_seen, imported_from="ahrefs"))[1]
                db.backlinks.update_one({"source_url": "http://known.test/"}, {"$set": {"status": "live"}})
                event = new_backlink_ops(half_written.source_url, DEMO, now, how)[0]
                assert not write_batch(db, [event])[1]
            for row in rows:
                assert not write_batch(upserted, new_backlink_ops(
                    row.source_url, row.target_url, now, how, anchor_text=row.anchor_text, authority=row.authority,
                    first_seen=row.first_seen, imported_from=row.source_format))[1]

            result = store_rows(stored, rows, now, how)

            assert (result.new, result.known, result.unwritten) == (2, 4, [])
            for name in ("backlinks", "link_events"):
                raw = stored[name].with_options(codec_options=CodecOptions(RawBSONDocument))
                raw_upserted = upserted[name].with_options(codec_options=CodecOptions(RawBSONDocument))
                assert [doc.raw for doc in raw.find(sort=[("_id", 1)])] == [
                    doc.raw for doc in raw_upserted.find(sort=[("_id", 1)])
                ]
            known_doc = stored.backlinks.find_one({"source_url": "http://known.test/"})
            assert (known_doc["status"], known_doc["authority"], known_doc["imported_from"]) == (
                "live", 20.0, ["ahrefs", "generic"])
            assert stored.backlinks.find_one({"source_url": "http://new.test/"})["authority"] == 30.0
            assert stored.link_events.count_documents({"type": "new"}) == 4

            listener.commands.clear()
            again = store_rows(stored, rows, now, how)

            assert (again.new, again.known) == (0, len(rows))
            assert listener.commands == []
        finally:
            client.drop_database(mongo_db_name + "_upserts")
