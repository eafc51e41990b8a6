"""Bytes to text: how a fetched body is decoded, and which bodies are not text at all."""

from __future__ import annotations

import codecs

from w3lib.encoding import html_to_unicode, http_content_type_encoding, read_bom, resolve_encoding

__all__ = ["BINARY_MAGIC", "decode_body", "is_binary", "text_encoding"]

#: Leading bytes of formats that are never HTML, whatever the ``Content-Type`` says.
BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"PK\x03\x04")

# What html_to_unicode makes of a <meta charset="utf-16">: a meta readable as
# ASCII cannot be UTF-16, and the HTML standard reads such a page as UTF-8.
_WIDE_ENCODINGS = frozenset({"utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le"})


def is_binary(body: bytes) -> bool:
    """True when ``body`` starts like a PDF, an image or an archive."""
    return body.startswith(BINARY_MAGIC)


def text_encoding(name: str | None) -> str | None:
    """The Python codec for the charset label ``name``, or ``None`` when it is
    unknown or not a text encoding (``rot13``, ``base64`` and ``utf-7`` are refused)."""
    if not name:
        return None
    try:
        codec = resolve_encoding(name)
        if codec is None or not getattr(codecs.lookup(codec), "_is_text_encoding", True):
            return None
    except (LookupError, TypeError, ValueError):
        return None
    return codec


def _utf8_or_cp1252(body: bytes) -> str:
    # What a browser falls back to for an undeclared Western page.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode_body(body: bytes, content_type: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of an HTML body, decoded as a browser would; never raises.

    :func:`w3lib.encoding.html_to_unicode` does the work (BOM, ``Content-Type``
    charset, ``<meta>`` / XML declaration, then UTF-8 or cp1252). Around it: ``hint``
    (e.g. Scrapy's ``response.encoding``) comes before the header; a charset that
    is unknown or not a text encoding is skipped instead of failing the decoding;
    a ``<meta>`` declaring UTF-16/32 is read as UTF-8. Undecodable bytes become U+FFFD.
    """
    declared = text_encoding(hint) or text_encoding(http_content_type_encoding(content_type))
    header = f"text/html; charset={declared}" if declared else None
    try:
        encoding, text = html_to_unicode(header, body, auto_detect_fun=_utf8_or_cp1252)
    except LookupError:
        # A <meta charset> naming a codec that is not a text encoding (rot13):
        # html_to_unicode trusts it, a browser ignores it.
        encoding = _utf8_or_cp1252(body)
        return body.decode(encoding, "replace"), encoding
    if declared is None and encoding in _WIDE_ENCODINGS and read_bom(body)[0] is None:
        encoding = _utf8_or_cp1252(body)
        text = body.decode(encoding, "replace")
    return text, encoding

