"""URL normalization shared by imports, link matching and the collections' keys."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import tldextract
from w3lib.url import canonicalize_url, safe_url_string

_DEFAULT_PORTS = {"http": 80, "https": 443}

# The bundled Public Suffix List snapshot: never fetched from the network.
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=32768)
def normalize_url(url: str, base: str | None = None) -> str:
    """The form of ``url`` that two spellings of one address share.

    Lower-cased scheme and host, no default port, percent-encoding made uniform,
    dot segments resolved, query arguments sorted, fragment dropped. A
    protocol-relative URL takes the scheme of ``base`` (``http`` without one).
    Raises ``ValueError`` for what is not an absolute http(s) URL. Cached: the
    same targets and navigation links come back on page after page.
    """
    url = url.strip()
    if url.startswith("//"):
        scheme = urlsplit(base).scheme if base else "http"
        url = f"{scheme or 'http'}:{url}"
    parts = urlsplit(safe_url_string(url))
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    canonical = urlsplit(canonicalize_url(urlunsplit(parts)))
    host = canonical.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = canonical.port
    except ValueError as exc:
        raise ValueError(f"bad port in URL: {url!r}") from exc
    if port is not None and port != _DEFAULT_PORTS[canonical.scheme]:
        host = f"{host}:{port}"
    return urlunsplit((canonical.scheme, host, canonical.path or "/", canonical.query, ""))


def host_of(url: str) -> str:
    """The lower-cased host name of ``url`` (no port)."""
    return (urlsplit(url).hostname or "").lower()


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """The registrable domain of a host (``blog.example.co.uk`` -> ``example.co.uk``).

    Hosts without a public suffix (IP addresses, ``localhost``) are returned as they are.
    """
    host = host.lower().rstrip(".")
    parts = _extract(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host
