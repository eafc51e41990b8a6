"""W1 without false alarms, against local pages: rendered confirmation, the cause of a loss,
the schedule and expiring links, with the clock set by LINKCRAWLER_NOW."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from linkcrawler.backlinks.items import backlink_id
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.render.mode import chromium_available
from linkcrawler.spiders.backlinks import BacklinksSpider
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.crawling import run_spider
from tests.fixtures.web import MockServerFactory
from tests.test_backlinks_crawl import OUR, Site, link, page, site, write

__all__ = ["site"]

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not chromium_available(CHROMIUM), reason=f"no chromium at {CHROMIUM}: rendered confirmation cannot be tested"
)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def at(when: datetime) -> str:
    return when.isoformat()


def crawl(site: Site, when: datetime, *, check_all: bool = True, **settings: Any) -> Any:
    kwargs = {"all": "1"} if check_all else {}
    return run_spider(BacklinksSpider, {**site.settings, "LINKCRAWLER_NOW": at(when), **settings}, **kwargs)


def know(site: Site, path: str, target: str = f"{OUR}/a", **extra: Any) -> str:
    url = site.url(path)
    ensure_indexes(site.db)
    authority = extra.pop("authority", None)
    _, failed = write_batch(site.db, new_backlink_ops(url, target, T0 - timedelta(days=30), "test import",
                                                      authority=authority, extra=extra or None))
    assert not failed
    return backlink_id(url, target)


def script_page(inner_html: str, *, extra: str = "") -> str:
    """A page built by script: an empty app root the script fills."""
    quoted = inner_html.replace("\\", "\\\\").replace("'", "\\'")
    return page(
        f'<div id="root"></div>{extra}<noscript>Enable JavaScript</noscript>'
        f"<script>document.getElementById('root').innerHTML = '{quoted}';</script>"
    )


# --- rendered confirmation -----------------------------------------------------------------------


@needs_chromium
@pytest_twisted.inlineCallbacks
def test_a_link_inserted_by_script_is_live_and_never_lost(site: Site) -> None:
    write(site.root, "app.html", script_page(f"<p>We recommend {link(text='Our tool')} for this.</p>"))
    app = know(site, "/app.html")
    result = yield crawl(site, T0)
    doc = site.status(app)
    assert doc["status"] == "live"
    assert doc["status_reason"].startswith("inserted by script")
    assert doc["anchor_text"] == "Our tool"
    assert doc["context"]["before"] == "We recommend" and doc["context"]["after"] == "for this."
    assert result.stats["linkcrawler/render/inserted_by_script"] == 1
    yield crawl(site, T0 + timedelta(days=1))
    assert site.status(app)["status"] == "live"
    assert site.event_types(app) == ["new"]


@needs_chromium
@pytest_twisted.inlineCallbacks
def test_a_script_built_page_whose_link_was_removed_is_removed_after_rendering(site: Site) -> None:
    write(site.root, "app.html", script_page(f"<p>We recommend {link(text='Our tool')} for this.</p>"))
    app = know(site, "/app.html")
    yield crawl(site, T0)
    assert site.status(app)["status"] == "live"

    write(site.root, "app.html", script_page("<p>We recommend another tool for this.</p>"))
    result = yield crawl(site, T0 + timedelta(days=1))
    doc = site.status(app)
    assert doc["status"] == "removed"
    assert doc["status_reason"].endswith("(confirmed in a browser)")
    # The rendered page still has the paragraph, without the link.
    assert "the link was edited out" in doc["status_reason"]
    assert "We recommend another tool for this." in doc["status_reason"]
    assert result.stats["linkcrawler/render/rendered"] == 1
    assert site.event_types(app) == ["new", "lost"]
    lost = site.events(app)[1]
    assert lost["reason"] == doc["status_reason"]
    # The Wayback capture of the page as it was with the link: before the last live check.
    assert lost["wayback_url"] == f"https://web.archive.org/web/{T0:%Y%m%d%H%M%S}/{site.url('/app.html')}"


@needs_chromium
@pytest_twisted.inlineCallbacks
def test_a_static_page_without_the_link_is_confirmed_in_a_browser_before_removed(site: Site) -> None:
    write(site.root, "plain.html", page("<p>Nothing to see</p>"))
    plain = know(site, "/plain.html")
    result = yield crawl(site, T0)
    assert site.status(plain)["status"] == "removed"
    assert site.status(plain)["status_reason"].endswith("(confirmed in a browser)")
    assert result.stats["linkcrawler/render/rendered"] == 1
    # Off: no browser, the HTML's word stands.
    write(site.root, "plain2.html", page("<p>Nothing either</p>"))
    plain2 = know(site, "/plain2.html")
    result = yield crawl(site, T0, LINKCRAWLER_RENDER="never")
    assert site.status(plain2)["status"] == "removed"
    assert "browser" not in site.status(plain2)["status_reason"]
    assert "linkcrawler/render/requests" not in result.stats
    # Over the budget: recorded, saying it was not confirmed.
    write(site.root, "plain3.html", page("<p>Nothing here</p>"))
    plain3 = know(site, "/plain3.html")
    result = yield crawl(site, T0, LINKCRAWLER_RENDER_MAX_PER_RUN=0)
    assert site.status(plain3)["status"] == "removed"
    assert site.status(plain3)["status_reason"].endswith(
        "; not confirmed in a browser: LINKCRAWLER_RENDER_MAX_PER_RUN reached")
    assert result.stats["linkcrawler/render/over_budget"] == 3


@needs_chromium
@pytest_twisted.inlineCallbacks
def test_a_render_that_hangs_is_given_up_and_recorded(site: Site) -> None:
    # The page's script never arrives: the browser's load event never fires.
    write(site.root, "hang.html", page('<p>no link here</p><script src="/delay?s=30"></script>'))
    hang = know(site, "/hang.html")
    result = yield crawl(site, T0, LINKCRAWLER_RENDER_TIMEOUT=1.5)
    doc = site.status(hang)
    assert doc["status"] == "removed"
    assert doc["status_reason"].endswith("not confirmed in a browser: the browser timed out after 1.5 s")
    assert result.stats["linkcrawler/render/failed/timeout"] == 1


@needs_chromium
@pytest_twisted.inlineCallbacks
def test_a_rendered_page_requesting_a_private_address_or_a_popup_is_refused(
    site: Site, mockserver_factory: MockServerFactory, tmp_path: Path
) -> None:
    inner_dir = tmp_path / "inner"
    inner_dir.mkdir()
    write(inner_dir, "secret.js", "document.title = 'read the intranet';")
    inner = mockserver_factory(host="127.0.0.2", site_dir=inner_dir)
    write(site.root, "app.html", script_page(
        f"<p>See {link()}</p>",
        extra=f'<script src="{inner.url("/secret.js")}"></script><script>window.open("/popup.html")</script>',
    ))
    write(site.root, "popup.html", page("<p>a popup</p>"))
    app = know(site, "/app.html")
    # Our own test server is allowed by network; every other private address is not.
    result = yield crawl(site, T0, LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=False,
                         LINKCRAWLER_ALLOWED_NETWORKS=["127.0.0.1/32"])
    assert result.stats["linkcrawler/render/refused_address"] == 1
    assert result.stats["linkcrawler/render/refused_address/loopback"] == 1
    assert inner.hits() == {}
    assert site.status(app)["status"] == "live"
    # A popup the page opens is closed at once.
    assert result.stats["linkcrawler/render/popups_closed"] == 1


# --- the cause of a loss -------------------------------------------------------------------------


ARTICLE = """
<h2>Tools we tested</h2>
<p>After a month of use, we found that {link} was the quickest to set up of all.</p>
<p>Another paragraph that stays the same for everyone.</p>
"""


@pytest_twisted.inlineCallbacks
def test_each_cause_of_a_loss_has_its_own_reason(site: Site) -> None:
    names = ("rewritten", "edited", "elsewhere", "nofollow", "gone")
    for name in names:
        write(site.root, f"{name}.html", page(ARTICLE.format(link=link(text="Our tool"))))
    ids = {name: know(site, f"/{name}.html") for name in names}
    yield crawl(site, T0, LINKCRAWLER_RENDER="never")
    assert {site.status(i)["status"] for i in ids.values()} == {"live"}

    write(site.root, "rewritten.html", page("<h2>Tools</h2><p>We now write about something else entirely.</p>"))
    write(site.root, "edited.html", page(ARTICLE.format(link="Our tool")))
    write(site.root, "elsewhere.html", page(ARTICLE.format(
        link='<a href="https://competitor.example/best-tool">Our tool</a>')))
    write(site.root, "nofollow.html", page(ARTICLE.format(link=link(text="Our tool", rel="nofollow"))))
    write(site.root, "gone.html", status=404)
    yield crawl(site, T0 + timedelta(days=1), LINKCRAWLER_RENDER="never")
    reasons = {name: site.status(i)["status_reason"] for name, i in ids.items()}
    assert reasons["rewritten"] == "the link's paragraph is gone (content rewritten)"
    assert reasons["edited"] == (
        "the paragraph is still there but the link was edited out: “After a month of use, we found that "
        "Our tool was the quickest to set up of all.”"
    )
    assert reasons["elsewhere"] == (
        "the link now points elsewhere: now links to competitor.example/best-tool (another domain)"
    )
    assert reasons["nofollow"] == "the link became nofollow (rel=nofollow)"
    assert reasons["gone"] == "HTTP 404"
    for name in ("rewritten", "edited", "elsewhere", "gone"):
        lost = site.events(ids[name])[-1]
        assert lost["type"] == "lost" and lost["reason"] == reasons[name]
    assert site.events(ids["nofollow"])[-1]["type"] == "degraded"


@pytest_twisted.inlineCallbacks
def test_an_unchanged_page_does_not_rewrite_the_context(site: Site) -> None:
    write(site.root, "a.html", page(ARTICLE.format(link=link(text="Our tool"))))
    a = know(site, "/a.html")
    yield crawl(site, T0, LINKCRAWLER_RENDER="never")
    first = site.status(a)
    assert first["context"]["heading"] == "Tools we tested"
    assert first["page_fingerprint"] and "page_changed_at" not in first
    yield crawl(site, T0 + timedelta(days=5), LINKCRAWLER_RENDER="never")
    second = site.status(a)
    assert second["context"] == first["context"] and second["page_fingerprint"] == first["page_fingerprint"]
    assert "page_changed_at" not in second
    # The page changes around the link: a change is counted, the context follows.
    write(site.root, "a.html", page(ARTICLE.format(link=link(text="Our tool")) + "<p>Updated.</p>"))
    yield crawl(site, T0 + timedelta(days=10), LINKCRAWLER_RENDER="never")
    third = site.status(a)
    assert third["page_changes"] == 1 and third["page_changed_at"] == T0 + timedelta(days=10)
    assert third["context"] == first["context"]


# --- the schedule --------------------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_the_schedule_checks_valuable_changing_pages_first(site: Site) -> None:
    for name in ("high", "low", "busy"):
        write(site.root, f"{name}.html", page(f"<p>{name} {link()}</p>"))
    high = know(site, "/high.html", authority=90)
    low = know(site, "/low.html", authority=10)
    busy = know(site, "/busy.html", authority=100)
    never = {"LINKCRAWLER_RENDER": "never"}

    def checked(result: Any) -> int:
        return int(result.stats.get("linkcrawler/backlinks/checked", 0))

    result = yield crawl(site, T0, check_all=False, **never)
    assert checked(result) == 3
    # interval = 168 - 144 * (value + changing) / 2 hours; nothing changed yet.
    assert site.status(high)["next_check"] == T0 + timedelta(hours=168 - 144 * 0.45)
    assert site.status(low)["next_check"] == T0 + timedelta(hours=168 - 144 * 0.05)
    assert site.status(busy)["next_check"] == T0 + timedelta(hours=96)
    # A day later, nothing is due (the old rule re-checked everything daily).
    result = yield crawl(site, T0 + timedelta(hours=25), check_all=False, **never)
    assert checked(result) == 0
    # The busy page changes: checked at 96 h, then daily.
    write(site.root, "busy.html", page(f"<p>busy, updated {link()}</p>"))
    result = yield crawl(site, T0 + timedelta(hours=97), check_all=False, **never)
    assert checked(result) == 1
    assert site.status(busy)["next_check"] == T0 + timedelta(hours=97 + 24)
    result = yield crawl(site, T0 + timedelta(hours=110), check_all=False, **never)
    assert checked(result) == 1 and site.status(high)["last_checked"] == T0 + timedelta(hours=110)
    result = yield crawl(site, T0 + timedelta(hours=122), check_all=False, **never)
    assert checked(result) == 1 and site.status(busy)["last_checked"] == T0 + timedelta(hours=122)
    # The stable low-value page waits almost a week.
    result = yield crawl(site, T0 + timedelta(hours=161), check_all=False, **never)
    assert site.status(low)["last_checked"] == T0 + timedelta(hours=161)


@pytest_twisted.inlineCallbacks
def test_links_stored_before_the_schedule_are_due_by_the_old_rule(site: Site) -> None:
    for name in ("old", "recent"):
        write(site.root, f"{name}.html", page(link()))
    old, recent = know(site, "/old.html"), know(site, "/recent.html")
    site.db.backlinks.update_one({"_id": old}, {"$set": {"last_checked": T0 - timedelta(hours=30)}})
    site.db.backlinks.update_one({"_id": recent}, {"$set": {"last_checked": T0 - timedelta(hours=3)}})
    result = yield crawl(site, T0, check_all=False, LINKCRAWLER_RENDER="never")
    assert result.stats["linkcrawler/backlinks/checked"] == 1
    assert site.status(old)["last_checked"] == T0 and site.status(recent)["last_checked"] == T0 - timedelta(hours=3)
    assert "next_check" in site.status(old) and "next_check" not in site.status(recent)


@pytest_twisted.inlineCallbacks
def test_a_site_gets_a_bounded_number_of_checks_a_day(site: Site) -> None:
    for n in range(3):
        write(site.root, f"p{n}.html", page(link()))
    ids = [know(site, f"/p{n}.html") for n in range(3)]
    bound = {"LINKCRAWLER_RENDER": "never", "LINKCRAWLER_RECHECK_MAX_PER_SITE_PER_DAY": 2}
    result = yield crawl(site, T0, check_all=False, **bound)
    assert result.stats["linkcrawler/backlinks/checked"] == 2
    assert result.stats["linkcrawler/backlinks/deferred_site_bound"] == 1
    result = yield crawl(site, T0 + timedelta(hours=2), check_all=False, **bound)
    assert "linkcrawler/backlinks/checked" not in result.stats
    result = yield crawl(site, T0 + timedelta(hours=25), check_all=False, **bound)
    assert result.stats["linkcrawler/backlinks/checked"] == 1
    assert all(site.status(i)["status"] == "live" for i in ids)


# --- expiring links ------------------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_expiring_notices_at_7_and_2_days_once_each_then_expired_as_agreed(site: Site) -> None:
    end = T0 + timedelta(days=10)
    write(site.root, "paid.html", page(f"<p>Sponsored review: {link(text='Our tool')}</p>"))
    paid = know(site, "/paid.html", expires_at=end)
    write(site.root, "other.html", page(link()))
    other = know(site, "/other.html")

    def expiring() -> list[str]:
        return sorted(e["_id"] for e in site.events(paid) if e["type"] == "expiring")

    for days_before, expected in ((8, []), (7, ["7"]), (6, ["7"]), (2, ["7", "2"]), (1, ["7", "2"])):
        yield crawl(site, end - timedelta(days=days_before), check_all=False, LINKCRAWLER_RENDER="never")
        assert expiring() == sorted(f"{paid}:expiring:{d}" for d in expected), days_before
    notice = site.db.link_events.find_one({"_id": f"{paid}:expiring:2"})
    assert notice is not None and notice["reason"].startswith("the link expires as agreed on 2026-03-12")
    assert notice["expires_at"] == end
    assert [e["type"] for e in site.events(other)] == ["new"]

    write(site.root, "paid.html", page("<p>Sponsored review: nothing here any more</p>"))
    result = yield crawl(site, end + timedelta(days=1))
    doc = site.status(paid)
    assert doc["status"] == "removed"
    assert doc["status_reason"].startswith("expired as agreed (ended 2026-03-12)")
    [lost] = [e for e in site.events(paid) if e["type"] == "lost"]
    assert lost["reason"] == doc["status_reason"]
    # Its end was agreed: no browser is needed to confirm it.
    assert "linkcrawler/render/requests" not in result.stats


@pytest_twisted.inlineCallbacks
def test_an_expiring_notice_is_written_when_no_link_is_due(site: Site) -> None:
    end = T0 + timedelta(days=10)
    write(site.root, "paid.html", page(link()))
    paid = know(site, "/paid.html", expires_at=end)
    site.db.backlinks.update_one({"_id": paid}, {"$set": {"next_check": end + timedelta(days=30)}})
    result = yield crawl(site, end - timedelta(days=2), check_all=False, LINKCRAWLER_RENDER="never")
    assert "response_received_count" not in result.stats  # nothing due: no page fetched
    assert [e["_id"] for e in site.events(paid) if e["type"] == "expiring"] == [f"{paid}:expiring:2"]


@pytest_twisted.inlineCallbacks
def test_a_page_limit_checks_that_many_pages_and_still_writes_the_expiring_notices(site: Site) -> None:
    end = T0 + timedelta(days=10)
    for name in ("one.html", "two.html"):
        write(site.root, name, page(link()))
    paid = know(site, "/one.html", expires_at=end)
    know(site, "/two.html")
    result = yield run_spider(BacklinksSpider, {**site.settings, "LINKCRAWLER_NOW": at(end - timedelta(days=2)),
                                                "LINKCRAWLER_RENDER": "never"}, all="1", limit="1")
    assert result.stats["linkcrawler/backlinks/checked"] == 1
    assert [e["_id"] for e in site.events(paid) if e["type"] == "expiring"] == [f"{paid}:expiring:2"]


def test_a_bad_render_mode_is_one_line_and_exit_code_2(mongo_uri: str, mongo_db_name: str) -> None:
    from tests.test_cli import scrapy

    done = scrapy("crawl", "backlinks", "-s", "LINKCRAWLER_RENDER=sometimes",
                  env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: LINKCRAWLER_RENDER='sometimes': expected one of never, confirm, always"
    )
    assert "Traceback" not in done.stderr
