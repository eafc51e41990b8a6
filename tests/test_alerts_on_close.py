"""The alert digests after a backlinks crawl (LINKCRAWLER_ALERT_ON_CLOSE): delivered off the reactor, never failing it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
import pytest_twisted

from tests.alerting import Webhook
from tests.fixtures.services import free_port
from tests.mockserver import MockServer
from tests.test_backlinks_crawl import OUR, Site, link, page, write


@pytest.fixture
def site(site_dir: Path, mockserver: MockServer, mongo_db: pymongo.database.Database,
         mongo_uri: str, mongo_db_name: str) -> Site:
    return Site(site_dir, mockserver, mongo_db, mongo_uri, mongo_db_name)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


@pytest_twisted.inlineCallbacks
def test_lost_link_reaches_the_webhook_when_the_crawl_ends(site: Site, webhook: Webhook) -> None:
    write(site.root, "kept.html", page(link()))
    write(site.root, "dropped.html", page("<p>no link any more</p>"))
    site.know("/kept.html", f"{OUR}/a", authority=60)
    site.know("/dropped.html", f"{OUR}/a", authority=80)
    result: Any = yield site.crawl(LINKCRAWLER_ALERT_ON_CLOSE=True, LINKCRAWLER_ALERT_URLS=webhook.url())
    assert result.stats["finish_reason"] == "finished"
    assert len(webhook.posts) == 1
    message = webhook.messages()[0]
    assert "dropped.html" in message and "the linking page no longer carries the link" in message
    assert "kept.html" not in message
    assert site.db.alert_deliveries.count_documents({"status": "acknowledged"}) == 1

    # Nothing new on the next crawl: nothing sent.
    yield site.crawl(LINKCRAWLER_ALERT_ON_CLOSE=True, LINKCRAWLER_ALERT_URLS=webhook.url())
    assert len(webhook.posts) == 1


@pytest_twisted.inlineCallbacks
def test_a_channel_down_never_fails_the_crawl(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    write(site.root, "dropped.html", page("<p>no link</p>"))
    site.know("/dropped.html", f"{OUR}/a")
    result: Any = yield site.crawl(LINKCRAWLER_ALERT_ON_CLOSE=True,
                                   LINKCRAWLER_ALERT_URLS=f"json://127.0.0.1:{free_port()}/down")
    assert result.stats["finish_reason"] == "finished"
    assert site.db.backlinks.find_one({"status": "removed"}) is not None
    assert site.db.alert_deliveries.count_documents({"status": "failed"}) == 1
    assert "failed" in caplog.text


@pytest_twisted.inlineCallbacks
def test_off_by_default(site: Site, webhook: Webhook) -> None:
    write(site.root, "dropped.html", page("<p>no link</p>"))
    site.know("/dropped.html", f"{OUR}/a")
    yield site.crawl(LINKCRAWLER_ALERT_URLS=webhook.url())
    assert webhook.posts == []
    assert site.db.alert_deliveries.count_documents({}) == 0
