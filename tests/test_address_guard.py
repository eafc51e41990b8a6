"""AddressGuardMiddleware: which addresses are refused, and where in a crawl."""

from __future__ import annotations

import ipaddress
import pickle
import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import pytest
import pytest_twisted
from scrapy import Request, Spider
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.test import get_crawler
from twisted.internet.defer import fail, succeed
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from linkcrawler.exceptions import ConfigurationError, LinkcrawlerError
from linkcrawler.middlewares.address_guard import (
    AddressGuardMiddleware,
    AddressRefused,
    _resolve_with_asyncio,
    forbidden_kind,
    parse_networks,
    printable,
    refusal,
)
from tests.crawling import run_spider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Generator, Iterator

    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

    from tests.fixtures.web import MockServerFactory
    from tests.mockserver import MockServer

GUARD = "linkcrawler.middlewares.address_guard.AddressGuardMiddleware"

# --- which addresses --------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 well-known prefix
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:192.168.1.1", "private"),
        ("fd12:3456::1", "private"),  # unique local
        ("169.254.169.254", "link-local"),  # cloud metadata service
        ("169.254.0.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "shared"),  # carrier-grade NAT
        ("100.127.255.254", "shared"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("192.0.2.1", "private"),  # documentation range
        ("2001:db8::1", "private"),
    ],
)
def test_forbidden_addresses(address: str, kind: str) -> None:
    assert forbidden_kind(address) == kind


@pytest.mark.parametrize(
    "address",
    ["240.0.0.1", "255.255.255.255", "198.18.0.1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
)
def test_other_special_addresses_are_forbidden(address: str) -> None:
    # Which word fits depends on the Python version's ipaddress tables; refused in any case.
    assert forbidden_kind(address) is not None


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "100.63.255.255",  # just below the shared range
        "100.128.0.0",  # just above it
        "172.32.0.1",  # just above 172.16/12
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",  # NAT64 to a public address
        "2002:808:808::1",  # 6to4 of a public address
    ],
)
def test_public_addresses(address: str) -> None:
    assert forbidden_kind(address) is None


def test_forbidden_kind_takes_address_objects() -> None:
    assert forbidden_kind(ipaddress.ip_address("127.0.0.1")) == "loopback"


def test_allowed_networks_let_their_addresses_through() -> None:
    networks = parse_networks(["127.0.0.2/32", "10.0.0.0/8", "fd00::/8"])
    assert refusal("127.0.0.2", networks) is None
    assert refusal("::ffff:127.0.0.2", networks) is None
    assert refusal("10.200.1.1", networks) is None
    assert refusal("fd00::5", networks) is None
    assert refusal("127.0.0.1", networks) == "loopback"
    assert refusal("192.168.0.1", networks) == "private"
    assert refusal("8.8.8.8", networks) is None


def test_parse_networks_accepts_addresses_and_host_bits() -> None:
    assert parse_networks([" 10.1.2.3/8 ", "", "192.168.0.7", "::1"]) == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.0.7/32"),
        ipaddress.ip_network("::1/128"),
    ]


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "intranet", "300.1.2.3/8", "10.0.0.0/8/8"])
def test_parse_networks_names_the_bad_value(bad: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(f"LINKCRAWLER_ALLOWED_NETWORKS: '{bad}'")):
        parse_networks(["10.0.0.0/8", bad])


def test_printable_escapes_control_characters() -> None:
    assert printable("http://x/\r\nINFO: forged\x1b[31m\u2028") == ("http://x/\\r\\nINFO: forged\\x1b[31m\\u2028")
    assert printable("http://exämple.com/ü") == "http://exämple.com/ü"


def test_address_refused() -> None:
    error = AddressRefused("http://localhost:8000/x", "127.0.0.1", "loopback")
    assert isinstance(error, IgnoreRequest)
    assert isinstance(error, LinkcrawlerError)
    assert str(error) == (
        "refused 127.0.0.1 (loopback address) for http://localhost:8000/x; set "
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES or LINKCRAWLER_ALLOWED_NETWORKS to allow"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.url, copy.address, copy.kind, str(copy)) == (
        error.url,
        error.address,
        error.kind,
        str(error),
    )


# --- the component ----------------------------------------------------------


def _guard(settings: dict[str, Any] | None = None) -> tuple[AddressGuardMiddleware, Crawler]:
    crawler = get_crawler(settings_dict=settings)
    return AddressGuardMiddleware.from_crawler(crawler), crawler


def test_from_crawler_reads_settings_as_the_environment_gives_them() -> None:
    guard, _ = _guard(
        {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "False", "LINKCRAWLER_ALLOWED_NETWORKS": "10.0.0.0/8,fd00::/8"}
    )
    assert guard.allowed_networks == [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]


def test_off_when_private_addresses_are_allowed() -> None:
    with pytest.raises(NotConfigured):
        _guard({"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True})


def test_bad_network_is_reported_even_when_off() -> None:
    with pytest.raises(ConfigurationError, match=re.escape("'10.0.0.0/99'")):
        _guard({"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "LINKCRAWLER_ALLOWED_NETWORKS": ["10.0.0.0/99"]})


def _check(guard: AddressGuardMiddleware, url: str) -> Deferred[None]:
    # As Scrapy runs it: an asyncio task under the asyncio reactor.
    return deferred_from_coro(guard.process_request(Request(url)))


@pytest_twisted.inlineCallbacks
def test_ip_literals_are_checked_without_resolution() -> Generator[Deferred[Any], Any, None]:
    guard, crawler = _guard()
    for url in ["http://127.0.0.1:8000/", "http://[::1]/", "https://[::ffff:169.254.169.254]/latest/", "http:///x"]:
        with pytest.raises(AddressRefused):
            yield _check(guard, url)
    assert (yield _check(guard, "http://8.8.8.8/")) is None
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["linkcrawler/address_guard/refused"] == 4
    assert stats["linkcrawler/address_guard/refused/loopback"] == 2
    assert stats["linkcrawler/address_guard/refused/link-local"] == 1
    assert stats["linkcrawler/address_guard/refused/unspecified"] == 1


@pytest_twisted.inlineCallbacks
def test_hosts_without_network_address_are_not_checked() -> Generator[Deferred[Any], Any, None]:
    guard, _ = _guard()
    assert (yield _check(guard, "data:text/plain,hello")) is None
    assert (yield _check(guard, "file:///etc/passwd")) is None  # refused by DOWNLOAD_HANDLERS instead


@pytest_twisted.inlineCallbacks
def test_refusal_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> Generator[Deferred[Any], Any, None]:
    guard, _ = _guard()
    caplog.set_level("INFO", logger="linkcrawler.middlewares.address_guard")
    with pytest.raises(AddressRefused):
        yield _check(guard, "http://127.0.0.1/%0d%0a")
    [record] = caplog.records
    assert record.levelname == "INFO"
    assert "refused 127.0.0.1 (loopback address) for http://127.0.0.1/%0d%0a" in record.getMessage()


@pytest_twisted.ensureDeferred
async def test_asyncio_resolution_for_reactorless_crawls() -> None:
    addresses = await deferred_from_coro(_resolve_with_asyncio("localhost"))
    assert "127.0.0.1" in addresses or "::1" in addresses


# --- in a crawl -------------------------------------------------------------


class ProbeSpider(Spider):
    """Requests ``urls``; yields ``{"url", "status"}`` per response, ``{"url", "error"}`` per failure."""

    name = "probe"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            yield Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield {"url": response.url, "status": response.status}

    def failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        yield {"url": failure.request.url, "error": failure.value}  # type: ignore[attr-defined]


def _refusing(**settings: Any) -> dict[str, Any]:
    # Explicit, so an environment that sets LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES cannot change the test.
    return {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": False, "LINKCRAWLER_ALLOWED_NETWORKS": [], **settings}


@pytest_twisted.inlineCallbacks
def test_loopback_address_is_refused(mockserver: MockServer) -> Generator[Deferred[Any], Any, None]:
    url = mockserver.url("/")
    result = yield run_spider(ProbeSpider, _refusing(), urls=[url])
    [item] = result.items
    error = item["error"]
    assert isinstance(error, AddressRefused)
    assert (error.url, error.address, error.kind) == (url, "127.0.0.1", "loopback")
    assert str(error).startswith(f"refused 127.0.0.1 (loopback address) for {url}; set ")
    assert result.stats["linkcrawler/address_guard/refused/loopback"] == 1
    # Refused before anything was sent, robots.txt included.
    assert mockserver.hits() == {}


@pytest_twisted.inlineCallbacks
def test_host_name_is_refused_after_resolution(mockserver: MockServer) -> Generator[Deferred[Any], Any, None]:
    url = mockserver.url("/").replace("127.0.0.1", "localhost")
    result = yield run_spider(ProbeSpider, _refusing(), urls=[url])
    [item] = result.items
    assert isinstance(item["error"], AddressRefused)
    assert (item["error"].url, item["error"].kind) == (url, "loopback")
    assert item["error"].address in ("127.0.0.1", "::1")
    assert mockserver.hits() == {}


@pytest_twisted.inlineCallbacks
def test_redirect_to_a_private_address_is_refused_at_the_hop(
    mockserver: MockServer, mockserver_factory: MockServerFactory
) -> Generator[Deferred[Any], Any, None]:
    allowed = mockserver_factory(host="127.0.0.2")
    target = mockserver.url("/chain/0")
    start = allowed.url(f"/redirect?to={quote(target, safe='')}")
    result = yield run_spider(ProbeSpider, _refusing(LINKCRAWLER_ALLOWED_NETWORKS=["127.0.0.2/32"]), urls=[start])
    [item] = result.items
    assert isinstance(item["error"], AddressRefused)
    assert (item["error"].url, item["error"].address) == (target, "127.0.0.1")
    # The allowed host answered the redirect (and its robots.txt); the other saw nothing.
    assert allowed.hits() == {"/robots.txt": 1, start.removeprefix(allowed.url("")): 1}
    assert mockserver.hits() == {}


@pytest_twisted.inlineCallbacks
def test_allowing_private_addresses_fetches_the_same_redirect(
    mockserver: MockServer, mockserver_factory: MockServerFactory
) -> Generator[Deferred[Any], Any, None]:
    allowed = mockserver_factory(host="127.0.0.2")
    target = mockserver.url("/chain/0")
    start = allowed.url(f"/redirect?to={quote(target, safe='')}")
    result = yield run_spider(ProbeSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True}, urls=[start])
    assert result.items == [{"url": target, "status": 200}]
    assert mockserver.hits() == {"/robots.txt": 1, "/chain/0": 1}
    assert "linkcrawler/address_guard/refused" not in result.stats


class RecordingGuard(AddressGuardMiddleware):
    """The guard, noting every request it is asked about."""

    seen: ClassVar[list[str]] = []

    async def process_request(self, request: Request) -> None:
        RecordingGuard.seen.append(request.url)
        await super().process_request(request)


@pytest.fixture
def recording_guard() -> Iterator[list[str]]:
    RecordingGuard.seen = []
    yield RecordingGuard.seen


@pytest_twisted.inlineCallbacks
def test_guard_sees_every_redirect_hop_and_robots_txt(
    mockserver: MockServer, recording_guard: list[str]
) -> Generator[Deferred[Any], Any, None]:
    settings = _refusing(
        LINKCRAWLER_ALLOWED_NETWORKS=["127.0.0.1/32"],
        DOWNLOADER_MIDDLEWARES={GUARD: None, f"{__name__}.RecordingGuard": 60},
    )
    result = yield run_spider(ProbeSpider, settings, urls=[mockserver.url("/chain/2")])
    assert result.items == [{"url": mockserver.url("/chain/0"), "status": 200}]
    assert sorted(recording_guard) == sorted(
        mockserver.url(path) for path in ["/chain/2", "/robots.txt", "/chain/1", "/chain/0"]
    )


# A resolver Scrapy can install (TWISTED_DNS_RESOLVER) answering from a fixed
# table: names resolve without any DNS server, and the test shows the guard
# asks the same resolver the download connects with.
_HOSTS = {"intranet.test": "127.0.0.1"}


@implementer(IResolverSimple)
class TableResolver:
    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> TableResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:
        if name in _HOSTS:
            return succeed(_HOSTS[name])
        return fail(DNSLookupError(name))


TABLE_RESOLVER = f"{__name__}.TableResolver"


@pytest_twisted.inlineCallbacks
def test_guard_resolves_with_the_crawlers_resolver(mockserver: MockServer) -> Generator[Deferred[Any], Any, None]:
    url = mockserver.url("/chain/0").replace("127.0.0.1", "intranet.test")
    refused = yield run_spider(ProbeSpider, _refusing(TWISTED_DNS_RESOLVER=TABLE_RESOLVER), urls=[url])
    [item] = refused.items
    assert isinstance(item["error"], AddressRefused)
    assert (item["error"].address, item["error"].kind) == ("127.0.0.1", "loopback")

    fetched = yield run_spider(
        ProbeSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "TWISTED_DNS_RESOLVER": TABLE_RESOLVER}, urls=[url]
    )
    assert fetched.items == [{"url": url, "status": 200}]


@pytest_twisted.inlineCallbacks
def test_unresolvable_name_is_left_to_the_download() -> Generator[Deferred[Any], Any, None]:
    url = "http://unknown.test/"
    # Without robots.txt, whose own DNS failure would stand in the way of the page's.
    settings = _refusing(TWISTED_DNS_RESOLVER=TABLE_RESOLVER, RETRY_ENABLED=False, ROBOTSTXT_OBEY=False)
    result = yield run_spider(ProbeSpider, settings, urls=[url])
    [item] = result.items
    # Scrapy 2.19 wraps Twisted's DNSLookupError in its own exception.
    assert isinstance(item["error"], CannotResolveHostError)
    assert "linkcrawler/address_guard/refused" not in result.stats


@pytest_twisted.inlineCallbacks
def test_bad_allowed_network_stops_the_crawl_at_start() -> Generator[Deferred[Any], Any, None]:
    with pytest.raises(ConfigurationError, match="'intranet'"):
        yield run_spider(ProbeSpider, _refusing(LINKCRAWLER_ALLOWED_NETWORKS=["intranet"]), urls=[])
