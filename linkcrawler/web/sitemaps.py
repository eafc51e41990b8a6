"""Sitemaps and the ``Sitemap:`` lines of robots.txt."""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

# --- sitemaps ----------------------------------------------------------------------


@dataclass(frozen=True)
class SitemapContent:
    """``kind`` is ``urlset``, ``sitemapindex`` or ``None`` (not a sitemap)."""

    kind: str | None
    locations: tuple[str, ...] = ()


def sitemap_urls_in_robots(body: bytes, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, absolute."""
    found = []
    for line in body.splitlines():
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sitemap" and value.strip():
            found.append(urljoin(base_url, value.strip().decode("utf-8", "replace")))
    return found


def parse_sitemap(body: bytes, max_size: int = 50 * 1024 * 1024) -> SitemapContent:
    """The URLs of a sitemap (``<urlset>``) or the sitemaps of an index, gzip or plain.

    Never raises on bad content; entities are not resolved and nothing is fetched.
    """
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as unzipped:
                body = unzipped.read(max_size + 1)[:max_size]
        except (OSError, EOFError, zlib.error):
            return SitemapContent(None)
    if not body.strip():
        return SitemapContent(None)
    kind: str | None = None
    locations: list[str] = []
    try:
        for event, element in etree.iterparse(
            io.BytesIO(body), events=("start", "end"), recover=True, resolve_entities=False,
            no_network=True, remove_comments=True, remove_pis=True, huge_tree=False,
        ):
            name = _local_name(element.tag)
            if kind is None:
                if event == "start" and name in ("urlset", "sitemapindex"):
                    kind = name
                    continue
                if event == "start":
                    return SitemapContent(None)
            if event == "end" and name == "loc" and element.text and element.text.strip():
                locations.append(element.text.strip())
            if event == "end" and name in ("url", "sitemap"):
                element.clear()
    except etree.LxmlError:
        pass
    return SitemapContent(kind, tuple(locations))


def _local_name(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]




