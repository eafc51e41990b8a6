"""decode_body: bytes to text, as a browser decodes them, never raising."""

from __future__ import annotations

import pytest

from linkcrawler.web.decode import decode_body, is_binary, text_encoding


def test_declared_charsets_in_order_hint_header_meta():
    body = '<meta charset="iso-8859-15"><p>€</p>'.encode("iso-8859-15")
    assert decode_body(body) == ('<meta charset="iso-8859-15"><p>€</p>', "iso8859-15")
    assert decode_body("é".encode("cp1252"), "text/html; charset=windows-1252")[0] == "é"
    assert decode_body("é".encode(), "text/html; charset=windows-1252", "utf-8") == ("é", "utf-8")


def test_bom_wins_and_is_stripped():
    assert decode_body(b"\xef\xbb\xbfcaf\xc3\xa9", "text/html; charset=cp1252") == ("café", "utf-8")


def test_undeclared_bytes_are_utf8_else_cp1252():
    assert decode_body("café".encode()) == ("café", "utf-8")
    assert decode_body("café".encode("cp1252")) == ("café", "cp1252")


@pytest.mark.parametrize("label", ["rot13", "base64", "utf-7", "no-such-charset"])
def test_charsets_that_are_not_text_are_skipped_wherever_declared(label):
    body = f'<meta charset="{label}"><p>caf\xe9</p>'.encode("latin-1")
    for args in [(), (f"text/html; charset={label}",), (None, label)]:
        text, encoding = decode_body(body, *args)
        assert text.endswith("<p>café</p>") and encoding == "cp1252"
    assert text_encoding(label) is None


def test_meta_utf16_on_an_ascii_page_is_read_as_utf8():
    body = '<meta charset="utf-16"><p>café</p>'.encode()
    assert decode_body(body) == ('<meta charset="utf-16"><p>café</p>', "utf-8")


def test_binary_magic():
    assert is_binary(b"%PDF-1.7") and is_binary(b"\x89PNG\r\n") and not is_binary(b"<html>")
