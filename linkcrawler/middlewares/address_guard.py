"""Refuse to fetch loopback, private and other non-public addresses.

A link checker is fed URLs written by third parties: without this guard a page
linking to ``http://169.254.169.254/`` or ``http://localhost:6800/`` would make
the crawler read the cloud metadata service or the Scrapyd API (SSRF). The
check runs on every request the downloader sends: start requests, each
redirect hop (RedirectMiddleware sends the new request through the whole
middleware chain again) and robots.txt fetches.

Settings:

``LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES`` (bool, default ``False``)
    Fetch any address; the middleware is then not enabled.
``LINKCRAWLER_ALLOWED_NETWORKS`` (list of CIDRs, default ``[]``)
    Networks fetched even when private addresses are refused (an intranet host).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, NoReturn, Self

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer

from linkcrawler import defaults
from linkcrawler.exceptions import ConfigurationError, LinkcrawlerError
from linkcrawler.web import outcome
from linkcrawler.web.text import printable

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.address import IPv4Address, IPv6Address
    from twisted.internet.interfaces import IHostResolution

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Schemes whose download handlers connect to the URL's host. data: and file:
# URLs have no host; s3:// names a bucket, not the host connected to.
_GUARDED_SCHEMES = frozenset({"http", "https", "ftp"})

# RFC 6598 carrier-grade NAT space: neither private nor global for ipaddress.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
# RFC 6052 well-known NAT64 prefix: the last 32 bits are the IPv4 address reached.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# First match names the kind: 169.254.169.254 is private too, but "link-local"
# says more; the last test catches what ipaddress knows as special in no other way.
_KINDS = (
    ("unspecified", lambda a: a.is_unspecified),
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("site-local", lambda a: isinstance(a, ipaddress.IPv6Address) and a.is_site_local),
    ("multicast", lambda a: a.is_multicast),
    ("shared", lambda a: a in _SHARED),
    ("private", lambda a: a.is_private),
    ("reserved", lambda a: a.is_reserved),
    ("non-global", lambda a: not a.is_global),
)


class AddressRefused(IgnoreRequest, LinkcrawlerError):
    """A request was not sent because its host is, or resolves to, a forbidden address.

    ``kind`` is one of ``unspecified``, ``loopback``, ``link-local``,
    ``site-local``, ``multicast``, ``shared``, ``private``, ``reserved``, ``non-global``.
    ``classified_failure`` is what :func:`linkcrawler.web.outcome.classify_failure`
    returns for it: ``refused_address``, with this message (which address, and how
    to allow it) as its reason.
    """

    def __init__(self, url: str, address: str, kind: str) -> None:
        self.url = url
        self.address = address
        self.kind = kind
        super().__init__(
            f"refused {printable(address)} ({kind} address) for {printable(url)}; set "
            "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES or LINKCRAWLER_ALLOWED_NETWORKS to allow"
        )
        self.classified_failure = outcome.Failure(
            outcome.ErrorKind.REFUSED_ADDRESS, "refused_address", str(self), f"{__name__}.{type(self).__qualname__}"
        )

    def __reduce__(self) -> tuple[type[AddressRefused], tuple[str, str, str]]:
        # The message is derived: rebuild from the fields (pickle, copy).
        return type(self), (self.url, self.address, self.kind)


def forbidden_kind(address: str | IPAddress) -> str | None:
    """The kind of non-public address ``address`` is, or ``None`` for a public one.

    The IPv4 address an IPv6 one stands for is judged instead (IPv4-mapped,
    NAT64 ``64:ff9b::/96``) or as well (6to4, Teredo): packets end up there.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    for candidate in _addresses_reached(ip):
        for kind, matches in _KINDS:
            if matches(candidate):
                return kind
    return None


def _addresses_reached(ip: IPAddress) -> list[IPAddress]:
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    # Translated to the IPv4 address on the way: only that one matters (the
    # IPv6 forms themselves are "private" or "reserved" for ipaddress).
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    # Tunnelled: judge the IPv4 ends first ("loopback" says more than the
    # prefix's kind), then the IPv6 address itself.
    embedded: list[IPAddress] = []
    if ip.sixtofour is not None:
        embedded.append(ip.sixtofour)
    if ip.teredo is not None:
        embedded.extend(ip.teredo)
    return [*embedded, ip]


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    """CIDR strings as networks; ``ConfigurationError`` names the first bad one.

    Host bits are allowed (``10.1.2.3/8`` is ``10.0.0.0/8``); a bare address is a /32 or /128.
    """
    networks: list[IPNetwork] = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ConfigurationError(
                f"LINKCRAWLER_ALLOWED_NETWORKS: {value!r} is not a network in CIDR notation ({exc})"
            ) from exc
    return networks


def refusal(address: str, networks: Sequence[IPNetwork]) -> str | None:
    """The kind that forbids ``address`` unless one of ``networks`` allows it, else ``None``."""
    ip = _parse_ip(address)
    if ip is None:
        return None
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    if any(ip in network or (mapped is not None and mapped in network) for network in networks):
        return None
    return forbidden_kind(ip)


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    # A zone index (fe80::1%eth0, %25 when it came from a URL) does not change
    # which address it is.
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


class AddressGuardMiddleware:
    """Downloader middleware raising :class:`AddressRefused` for non-public addresses.

    IP-literal hosts are checked as they are; host names are resolved first and
    refused when any of their addresses is forbidden. A name that does not
    resolve is let through: the download then fails with the DNS error.
    """

    def __init__(
        self,
        allow_private: bool,
        allowed_networks: Sequence[str] = (),
        stats: StatsCollector | None = None,
        use_reactor: bool = True,
    ) -> None:
        self.allow_private = allow_private
        self.allowed_networks = parse_networks(allowed_networks)
        self.stats = stats
        self._resolve = _resolve_with_reactor if use_reactor else _resolve_with_asyncio

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        allow_private = settings.getbool(
            "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES", defaults.LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES
        )
        # Parsed even when off, so a typo surfaces now rather than the day it is turned on.
        guard = cls(
            allow_private,
            settings.getlist("LINKCRAWLER_ALLOWED_NETWORKS", defaults.LINKCRAWLER_ALLOWED_NETWORKS),
            crawler.stats,
            use_reactor=settings.getbool("TWISTED_REACTOR_ENABLED", True),
        )
        if allow_private:
            # Not enabled rather than a no-op: no per-request cost, and the
            # "Enabled downloader middlewares" log line shows the guard is off.
            raise NotConfigured("LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES is on: private and loopback addresses are fetched")
        return guard

    async def process_request(self, request: Request) -> None:
        if self.allow_private:
            return
        url = urlparse_cached(request)
        if url.scheme not in _GUARDED_SCHEMES:
            return
        refused = await host_refusal(url.hostname or "", self.allowed_networks, self._resolve)
        if refused is not None:
            self._refuse(request, *refused)

    def _refuse(self, request: Request, address: str, kind: str) -> NoReturn:
        error = AddressRefused(request.url, address, kind)
        if self.stats is not None:
            self.stats.inc_value("linkcrawler/address_guard/refused")
            self.stats.inc_value(f"linkcrawler/address_guard/refused/{kind}")
        logger.info("Address guard: %s", error)
        raise error


async def host_refusal(
    host: str,
    networks: Sequence[IPNetwork],
    resolve: Callable[[str], Awaitable[list[str]]] | None = None,
) -> tuple[str, str] | None:
    """``(address, kind)`` of the first address of ``host`` the guard refuses, else ``None``.

    An IP literal is its own address; a name is resolved with ``resolve`` (getaddrinfo
    through asyncio by default); a name that does not resolve is not refused here (the
    fetch reports it). Shared by this middleware and the browser's request guard.
    """
    if not host:
        # Twisted resolves an empty host name to 0.0.0.0, which is this machine.
        return "0.0.0.0", "unspecified"
    addresses = [host] if _parse_ip(host) is not None else await (resolve or _resolve_with_asyncio)(host)
    for address in addresses:
        kind = refusal(address, networks)
        if kind is not None:
            return address, kind
    return None


async def _resolve_with_reactor(host: str) -> list[str]:
    """Every address of ``host``, from the resolver the download will connect with.

    Scrapy's HTTP/1.1 handler connects through Twisted's ``HostnameEndpoint``,
    which calls ``reactor.nameResolver.resolveHostName`` exactly like this and
    tries each address it gets, so any of them may be the one reached. Scrapy
    installs its ``TWISTED_DNS_RESOLVER`` there (``reactor.resolve()`` would
    only give the first IPv4 address); with the default caching resolver the
    connection is then served from the same cache entry this check filled, so
    a DNS answer cannot change in between unless the cache is disabled.
    """
    from twisted.internet import reactor

    receiver = _AddressCollector()
    reactor.nameResolver.resolveHostName(receiver, host)
    return await maybe_deferred_to_future(receiver.done)


async def _resolve_with_asyncio(host: str) -> list[str]:
    """Every address of ``host`` from getaddrinfo, as Scrapy's reactorless aiohttp handler gets them."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:  # socket.gaierror: the download will report it
        return []
    return [str(info[4][0]) for info in infos]


@implementer(IResolutionReceiver)
class _AddressCollector:
    """Gathers the addresses of one resolution; ``done`` fires with them."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.done: Deferred[list[str]] = Deferred()

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        pass

    def addressResolved(self, address: IPv4Address | IPv6Address) -> None:
        # Name resolution only ever gives IP addresses (IAddress in the interface).
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:
        # No address at all (NXDOMAIN, timeout) fires with an empty list.
        self.done.callback(self.addresses)
