"""The URL lists that prospects, mentions and contacts read (-a urls=FILE_OR_URLS)."""

from __future__ import annotations

from linkcrawler.imports.reader import RowError
from linkcrawler.imports.urllist import UrlEntry, read_url_list


def _urls(value):
    return [(e.line, e.url) if isinstance(e, UrlEntry) else ("error", e.line) for e in read_url_list(value)]


def test_comma_separated_urls_are_normalized_and_bad_ones_reported():
    assert _urls("https://A.example/x, http://b.example:80/y,not a url") == [
        (1, "https://a.example/x"), (2, "http://b.example/y"), ("error", 3)]


def test_text_file_skips_blanks_and_comments(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# prospects\n\nhttps://a.example/\n  https://b.example/p  \nftp://c.example/\n")
    assert _urls(str(path)) == [(3, "https://a.example/"), (4, "https://b.example/p"), ("error", 5)]


def test_ahrefs_utf16_export_reads_the_referring_page_column_and_keeps_the_other_cells(tmp_path):
    path = tmp_path / "ahrefs.csv"
    text = ('"Referring page title"\t"Referring page URL"\t"Domain rating"\n'
            '"Tools"\t"https://blog.example/tools"\t"71"\n')
    path.write_bytes(text.encode("utf-16"))
    entries = list(read_url_list(str(path)))
    assert entries == [UrlEntry(2, "https://blog.example/tools", {"Referring page title": "Tools", "Domain rating": "71"})]


def test_csv_with_a_url_column_and_a_short_row(tmp_path):
    path = tmp_path / "brand24.csv"
    path.write_text("Title,URL,Date\nA post,https://news.example/a,2026-11-01\nbroken\n", encoding="utf-8")
    entries = list(read_url_list(str(path)))
    assert isinstance(entries[0], UrlEntry) and entries[0].url == "https://news.example/a"
    assert entries[0].fields == {"Title": "A post", "Date": "2026-11-01"}
    assert isinstance(entries[1], RowError) and entries[1].line == 3


def test_a_single_url_column_header(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("url\nhttps://a.example/\n")
    assert _urls(str(path)) == [(2, "https://a.example/")]
