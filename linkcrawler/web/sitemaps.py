"""Sitemaps and the ``Sitemap:`` lines of robots.txt, read with Scrapy's own sitemap code."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from lxml import etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

__all__ = ["SitemapContent", "parse_sitemap", "sitemap_urls_in_robots"]

_KINDS = frozenset({"urlset", "sitemapindex"})


@dataclass(frozen=True)
class SitemapContent:
    """``kind`` is ``urlset``, ``sitemapindex`` or ``None`` (not a sitemap)."""

    kind: str | None
    locations: tuple[str, ...] = ()


def sitemap_urls_in_robots(body: bytes, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, absolute (lines that are not UTF-8 are skipped)."""
    # An empty "Sitemap:" resolves to the robots.txt itself: not a sitemap to fetch.
    return [url for url in sitemap_urls_from_robots(body, base_url) if url != base_url]


def parse_sitemap(body: bytes, max_size: int = 50 * 1024 * 1024) -> SitemapContent:
    """The URLs of a sitemap (``<urlset>``) or the sitemaps of an index, gzip or plain.

    Never raises on bad content; entities are not resolved and nothing is fetched.
    A gzip body that inflates past ``max_size`` is refused (``kind`` ``None``), as
    Scrapy's ``SitemapSpider`` refuses it.
    """
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_size)
        except (OSError, EOFError, struct.error, zlib.error, ValueError):  # ValueError: past max_size
            return SitemapContent(None)
    if not body.strip():
        return SitemapContent(None)
    try:
        sitemap = Sitemap(body)
    except (etree.LxmlError, StopIteration):
        return SitemapContent(None)
    if sitemap.type not in _KINDS:
        return SitemapContent(None)
    locations: list[str] = []
    try:
        for entry in sitemap:
            if entry.get("loc"):
                locations.append(entry["loc"])
    except etree.LxmlError:
        pass  # broken past some point: what was read before it stands
    return SitemapContent(sitemap.type, tuple(locations))
