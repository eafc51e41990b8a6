"""The one-off fetcher of commands (linkcrawler/web/fetch.py), run in the test's reactor."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest_twisted
from scrapy.crawler import CrawlerRunner
from twisted.internet.defer import Deferred

from linkcrawler.web.fetch import FetchedChain, crawl_chains
from tests.crawling import _install_resolver, crawl_settings
from tests.fixtures.web import MockServerFactory
from tests.mockserver import MockServer


def fetch(urls: list[str], **settings: Any) -> Deferred[dict[str, FetchedChain]]:
    runner = CrawlerRunner(crawl_settings({"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 0, **settings}))
    _install_resolver(runner)
    return crawl_chains(runner, urls)


@pytest_twisted.inlineCallbacks
def test_chains_follow_redirects_hop_by_hop_by_the_redirect_model(
    mockserver: MockServer,
) -> Generator[Deferred[Any], Any, None]:
    urls = [mockserver.url(p) for p in ("/chain/2", "/loop/a", "/chain/4", "/status/404", "/redirect?to=/status/410")]
    chains = yield fetch(urls, LINKCRAWLER_MAX_REDIRECTS=3)
    assert list(chains) == urls

    two = chains[urls[0]]
    assert [(h.url, h.status) for h in two.hops] == [
        (mockserver.url("/chain/2"), 302), (mockserver.url("/chain/1"), 302), (mockserver.url("/chain/0"), 200)]
    assert (two.status, two.location, two.final_status, two.final_url) == (
        302, "/chain/1", 200, mockserver.url("/chain/0"))

    loop = chains[urls[1]]
    assert loop.final_status == "redirect_loop"
    # The loop rule is on edges: a URL may come back once, the edge a -> b may not.
    assert [h.url for h in loop.hops] == [mockserver.url(p) for p in ("/loop/a", "/loop/b", "/loop/a")]
    assert "redirect loop" in loop.reason

    long = chains[urls[2]]
    assert long.final_status == "too_many_redirects"
    assert len(long.hops) == 4  # the fourth redirect is one too many: its Location is not fetched

    assert (chains[urls[3]].status, chains[urls[3]].final_status) == (404, 404)
    assert (chains[urls[4]].status, chains[urls[4]].final_status) == (302, 410)


@pytest_twisted.inlineCallbacks
def test_a_failure_is_named_by_the_one_classifier(mockserver: MockServer) -> Generator[Deferred[Any], Any, None]:
    chains = yield fetch([mockserver.url("/drop"), mockserver.url("/delay?s=3")], DOWNLOAD_TIMEOUT=1, ROBOTSTXT_OBEY=False)
    assert chains[mockserver.url("/drop")].final_status == "connection_error"
    assert chains[mockserver.url("/delay?s=3")].final_status == "timeout"
    assert chains[mockserver.url("/delay?s=3")].reason == "download timed out"


@pytest_twisted.inlineCallbacks
def test_a_hop_to_a_refused_address_is_not_fetched(
    mockserver_factory: MockServerFactory,
) -> Generator[Deferred[Any], Any, None]:
    inside = mockserver_factory(host="127.0.0.2")
    ours = mockserver_factory(host="127.0.0.1")
    start = ours.url(f"/redirect?to={inside.url('/status/200')}")
    chains = yield fetch([start, "http://127.0.0.1:1/"], LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=False,
                         LINKCRAWLER_ALLOWED_NETWORKS=["127.0.0.1/32"])
    chain = chains[start]
    assert [h.status for h in chain.hops] == [302, "refused_address"]
    assert chain.final_status == "refused_address"
    assert "refused 127.0.0.2 (loopback address)" in chain.reason
    assert inside.hits() == {}
    # An allowed host that does not answer: its robots.txt is unreachable, so
    # RFC 9309 disallows the page for now, as in every spider; what is recorded
    # is what happened to the host, not a robots decision.
    down = chains["http://127.0.0.1:1/"]
    assert down.final_status == "connection_refused"
    assert "robots.txt unreachable" in down.reason
