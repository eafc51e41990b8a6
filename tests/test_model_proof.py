"""The pure parts of W1 without false alarms: a link's context, the cause of a loss, the
schedule's formula, the render mode, the browser's address guard, an import's expires_at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymongo
import pytest
from scrapy.settings import Settings

from linkcrawler.backlinks.events import expiring_event
from linkcrawler.backlinks.items import backlink_id
from linkcrawler.backlinks.proof import QUOTE_CHARS, degraded_reason, explain_removal, short_url
from linkcrawler.backlinks.schedule import Schedule
from linkcrawler.backlinks.store import due_filter
from linkcrawler.commands.importlinks import store_rows
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.imports.reader import ImportRow, read_export
from linkcrawler.middlewares.address_guard import parse_networks
from linkcrawler.render.handler import BrowserRequestGuard
from linkcrawler.render.mode import RenderMode, playwright_settings, render_mode
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.context import (
    CONTEXT_CHARS,
    content_fingerprint,
    link_context,
    link_elements,
    link_headings,
    looks_script_built,
)
from linkcrawler.web.page import PageAnalysis, analyze_page
from tests.aio import asyncio_test

TARGET = "https://our.example/tool"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def parsed(body: str, url: str = "https://blog.example/post") -> PageAnalysis:
    return analyze_page(url, f"<html><head><title>t</title></head><body>{body}</body></html>".encode(),
                        {"Content-Type": "text/html; charset=utf-8"})


ARTICLE = (
    "<nav>Home About</nav><h2>Tools we tested</h2>"
    "<p>After a month of use, we found that {link} was the quickest to set up of all.</p>"
    "<p>Another paragraph.</p>"
)


def article(link: str) -> PageAnalysis:
    return parsed(ARTICLE.format(link=link))


def context_of(link: str = f'<a href="{TARGET}">Our <b>tool</b></a>') -> dict[str, str]:
    found = link_context(article(link), TARGET)
    assert found is not None
    return found.as_document()


# --- context -------------------------------------------------------------------------------------


def test_a_links_context_is_its_surroundings_bounded() -> None:
    context = context_of()
    assert context["before"] == "After a month of use, we found that"
    assert context["anchor"] == "Our tool"
    assert context["after"] == "was the quickest to set up of all."
    assert context["heading"] == "Tools we tested"
    long = parsed(f'<p>{"word " * 200}<a href="{TARGET}">x</a>{" more" * 200}</p>')
    bounded = link_context(long, TARGET)
    assert bounded is not None
    assert len(bounded.before) == CONTEXT_CHARS and len(bounded.after) == CONTEXT_CHARS
    assert link_context(parsed("<p>no link</p>"), TARGET) is None


def test_the_followed_link_is_the_one_whose_context_is_kept() -> None:
    page = parsed(f'<p>first <a rel="nofollow" href="{TARGET}">a</a></p><p>second <a href="{TARGET}">b</a></p>')
    found = link_context(page, TARGET)
    assert found is not None and (found.before, found.anchor) == ("second", "b")


@pytest.mark.parametrize(("body", "heading"), [
    (f'<h1>Top</h1><div><h2>Section</h2><p>x</p></div><div><p><a href="{TARGET}">t</a></p></div>', "Section"),
    (f'<h2>Around <a href="{TARGET}">t</a></h2>', "Around t"),
    (f'<h2>Outer</h2><section><h3>Inner <i>one</i></h3><ul><li><a href="{TARGET}">t</a></li></ul></section>', "Inner one"),
    (f'<p><a href="{TARGET}">t</a></p><h2>After the link</h2>', ""),
    (f'<h2>Kept</h2><div><a href="https://else.example/"><h3>Inside another link</h3></a><a href="{TARGET}">t</a></div>',
     "Inside another link"),
    (f'<h1>Page</h1><table><tr><td><h4>Cell</h4></td><td><a href="{TARGET}">t</a></td></tr></table>', "Cell"),
])
def test_a_links_heading_is_the_last_one_before_it_in_document_order(body: str, heading: str) -> None:
    page = parsed(body)
    found = link_context(page, TARGET)
    assert found is not None and found.heading == heading
    # The same as XPath's own reading of "the nearest heading before it (or around it)".
    (anchor,) = page.tree.xpath("//a[@href=$t]", t=TARGET)
    headings = anchor.xpath("(preceding::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
                            " | ancestor::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6])")
    assert link_headings(page)[anchor] is (headings[-1] if headings else None)


def test_each_of_a_pages_links_to_one_site_finds_its_own_elements() -> None:
    page = parsed(f'<p><a href="{TARGET}">one</a> <a href="https://our.example/other">two</a>'
                  f' <a href="{TARGET}#top">three</a> <a href="https://our.example.test/tool">four</a></p>')
    texts = {url: [e.text for e in link_elements(page, url)]
             for url in (TARGET, "https://our.example/other", "https://our.example/gone", "https://our.example.test/tool")}
    assert texts == {TARGET: ["one", "three"], "https://our.example/other": ["two"],
                     "https://our.example/gone": [], "https://our.example.test/tool": ["four"]}
    # The host spelled otherwise is found too (by the walk over every link).
    spelled = parsed('<p><a href="https://OUR.example/tool">upper</a></p>')
    assert [e.text for e in link_elements(spelled, TARGET)] == ["upper"]


def test_content_fingerprint_ignores_navigation_and_scripts_but_not_the_text() -> None:
    base = content_fingerprint(article("Our tool"))
    assert base is not None
    assert content_fingerprint(parsed(ARTICLE.format(link="Our tool").replace("Home About", "Shop"))) == base
    assert content_fingerprint(parsed(ARTICLE.format(link="Our tool") + "<script>var t=1</script>")) == base
    assert content_fingerprint(parsed(ARTICLE.format(link="Their tool"))) != base


def test_script_built_pages_are_recognised() -> None:
    assert looks_script_built(parsed('<div id="root"></div><script src="/app.js"></script>'))
    assert looks_script_built(parsed('<div id="__next"></div>'))
    assert looks_script_built(parsed("<noscript>Enable JavaScript</noscript><p>Loading</p>"))
    assert not looks_script_built(parsed(ARTICLE.format(link="x") * 5))
    assert not looks_script_built(parsed("<p>short page, no scripts</p>"))


# --- the cause of a loss -------------------------------------------------------------------------


def test_a_rewritten_paragraph() -> None:
    page = parsed("<h2>Other</h2><p>Entirely new words about something else.</p>")
    assert explain_removal(context_of(), page, TARGET, "no link") == "the link's paragraph is gone (content rewritten)"
    kept_heading = parsed("<h2>Tools we tested</h2><p>Entirely new words.</p>")
    assert explain_removal(context_of(), kept_heading, TARGET, "no link") == (
        "the link's paragraph is gone (content rewritten); its section “Tools we tested” is still there"
    )


def test_an_edited_out_link_is_quoted_bounded() -> None:
    reason = explain_removal(context_of(), article("our tool"), TARGET, "no link")
    assert reason == ("the paragraph is still there but the link was edited out: “After a month of use, "
                      "we found that our tool was the quickest to set up of all.”")
    # The words around it changed too, but the text before the link is still there.
    edited = parsed("<p>After a month of use, we found that nothing beats a spreadsheet. " + "x" * 400 + "</p>")
    long_reason = explain_removal(context_of(), edited, TARGET, "no link")
    assert long_reason.startswith("the paragraph is still there but the link was edited out: “After a month")
    assert len(long_reason) < 60 + QUOTE_CHARS + 2


def test_an_href_that_points_elsewhere_names_where() -> None:
    moved = article('<a href="https://www.competitor.example/best?ref=1">Our tool</a>')
    assert explain_removal(context_of(), moved, TARGET, "no link") == (
        "the link now points elsewhere: now links to www.competitor.example/best (another domain)"
    )
    same_site = article('<a href="https://our.example/other">Our tool</a>')
    assert explain_removal(context_of(), same_site, TARGET, "no link").endswith(
        "now links to our.example/other (same domain as the target)"
    )


def test_without_a_context_the_verdicts_reason_stands() -> None:
    assert explain_removal(None, article("x"), TARGET, "no link to T on the page") == "no link to T on the page"
    assert explain_removal(context_of(), article("our tool"), TARGET, "T appears only in a script",
                           keep_detail=True).endswith("; T appears only in a script")


def test_a_link_that_became_nofollow_says_so() -> None:
    assert degraded_reason("live", [], "nofollow", "rel=nofollow") == "the link became nofollow (rel=nofollow)"
    assert degraded_reason("live", ["sponsored"], "nofollow", "rel=nofollow") == "rel=nofollow"
    assert degraded_reason("removed", [], "nofollow", "rel=ugc") == "rel=ugc"
    assert degraded_reason("live", [], "noindex", "page is noindex") == "page is noindex"


def test_short_url() -> None:
    assert short_url("https://competitor.example/a/b?x=1") == "competitor.example/a/b"
    assert short_url("https://competitor.example/") == "competitor.example"
    assert len(short_url("https://c.example/" + "a" * 200)) == 80


# --- the schedule --------------------------------------------------------------------------------


def test_the_schedule_formula() -> None:
    schedule = Schedule(24, 168)
    daily = schedule.interval("live", 100, T0 - timedelta(hours=5), T0)
    weekly = schedule.interval("live", 0, None, T0)
    assert daily == timedelta(hours=24) and weekly == timedelta(hours=168)
    # Unknown authority is the middle of the scale; a change long ago counts less and less.
    assert schedule.interval("live", None, None, T0) == timedelta(hours=132)
    fading = [schedule.interval("live", 0, T0 - timedelta(hours=h), T0) for h in (100, 300, 500, 700)]
    assert fading == sorted(fading) and fading[0] == timedelta(hours=96) and fading[-1] == timedelta(hours=168)
    # A check that could not decide is repeated soon.
    assert schedule.interval("error", 0, None, T0) == timedelta(hours=24)
    with pytest.raises(ValueError, match="LINKCRAWLER_RECHECK_MAX_HOURS"):
        Schedule(48, 24)


def test_due_filter_keeps_links_from_before_the_schedule_due_by_the_old_rule() -> None:
    query = due_filter(T0, timedelta(hours=24))
    assert query["$or"][0] == {"next_check": {"$lte": T0}}
    assert {"next_check": None, "last_checked": {"$lt": T0 - timedelta(hours=24)}} in query["$or"]
    assert due_filter(T0, None) == {}


def test_expiring_events_are_keyed_by_link_and_notice() -> None:
    event = expiring_event(backlink_id="b1", source_url="https://s/", target_url=TARGET, status="live",
                           expires_at=T0 + timedelta(days=7), days=7, detected_at=T0)
    assert event["_id"] == "b1:expiring:7" and event["type"] == "expiring"
    assert event["reason"] == "the link expires as agreed on 2026-03-09 09:00 UTC (in 7 day(s); 7-day notice)"


# --- rendering -----------------------------------------------------------------------------------


def test_render_mode_from_the_settings(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    there = {"LINKCRAWLER_CHROMIUM_PATH": str(fake)}
    missing = {"LINKCRAWLER_CHROMIUM_PATH": str(tmp_path / "none")}
    assert render_mode(Settings(there)) == (RenderMode.CONFIRM, None)
    mode, why = render_mode(Settings(missing))
    assert mode is RenderMode.NEVER and why is not None and "no chromium at" in why
    assert render_mode(Settings({**there, "LINKCRAWLER_RENDER": "always"}))[0] is RenderMode.ALWAYS
    assert render_mode(Settings({**missing, "LINKCRAWLER_RENDER": "confirm"}))[0] is RenderMode.NEVER
    assert render_mode(Settings({**there, "LINKCRAWLER_RENDER": "NEVER"}))[0] is RenderMode.NEVER
    with pytest.raises(ConfigurationError, match="expected one of never, confirm, always"):
        render_mode(Settings({"LINKCRAWLER_RENDER": "sometimes"}))
    installed = playwright_settings(Settings({**there, "DOWNLOAD_HANDLERS": {"ftp": None}}))
    assert installed["DOWNLOAD_HANDLERS"]["ftp"] is None
    assert installed["DOWNLOAD_HANDLERS"]["https"] == "linkcrawler.render.handler.RenderDownloadHandler"
    assert installed["PLAYWRIGHT_LAUNCH_OPTIONS"]["executable_path"] == str(fake)


@dataclass
class BrowserRequest:
    url: str


@asyncio_test
async def test_the_browser_guard_refuses_private_addresses_and_other_schemes() -> None:
    guard = BrowserRequestGuard(False, parse_networks(["10.1.0.0/16"]))

    async def aborted(url: str) -> bool:
        return await guard.should_abort(BrowserRequest(url))

    assert await aborted("http://127.0.0.1:8080/x")
    assert await aborted("http://169.254.169.254/latest/meta-data/")
    assert await aborted("http://[::1]/")
    assert await aborted("http://localhost:6800/")  # a name, resolved off the loop
    assert await aborted("file:///etc/passwd")
    assert await aborted("ws://192.168.1.1/socket")
    assert not await aborted("http://10.1.2.3/intranet")
    assert not await aborted("https://93.184.216.34/")
    assert not await aborted("data:image/png;base64,AAAA")
    assert not await BrowserRequestGuard(True).should_abort(BrowserRequest("http://127.0.0.1/"))


# --- expires_at from an import -------------------------------------------------------------------


def test_an_imports_expires_at_is_kept_on_the_backlink(tmp_path: Path, mongo_db: pymongo.database.Database) -> None:
    export = tmp_path / "paid.csv"
    export.write_text(
        "source_url,target_url,Expiry date\n"
        "https://blog.example/a,https://our.example/,31.12.2026\n"
        "https://blog.example/b,https://our.example/,\"Jan 5, 2027\"\n"
        "https://blog.example/c,https://our.example/,\n"
    )
    ensure_indexes(mongo_db)

    def rows() -> list[ImportRow]:
        with read_export(export) as reader:
            return [row for row in reader if isinstance(row, ImportRow)]

    store_rows(mongo_db, rows(), T0, "test import")
    ends = {doc["source_url"][-1]: doc.get("expires_at") for doc in mongo_db.backlinks.find()}
    assert ends == {"a": datetime(2026, 12, 31, tzinfo=timezone.utc),
                    "b": datetime(2027, 1, 5, tzinfo=timezone.utc), "c": None}
    # A new end date in a later import moves it.
    export.write_text("source_url,target_url,expires_at\nhttps://blog.example/a,https://our.example/,2027-02-01\n")
    store_rows(mongo_db, rows(), T0, "test import")
    doc = mongo_db.backlinks.find_one({"_id": backlink_id("https://blog.example/a", "https://our.example/")})
    assert doc is not None and doc["expires_at"] == datetime(2027, 2, 1, tzinfo=timezone.utc)


def test_which_pages_are_rendered_before_their_verdicts_are_recorded() -> None:
    from linkcrawler.backlinks.items import KnownLink
    from linkcrawler.backlinks.status import Status
    from linkcrawler.backlinks.verdict import Verdict
    from linkcrawler.spiders.backlinks import needs_render

    link = KnownLink(id="x", source_url="https://s.example/", target_url=TARGET)
    ended = KnownLink(id="y", source_url="https://s.example/", target_url=TARGET, expires_at=T0 - timedelta(days=1))
    live, removed = Verdict(Status.LIVE, "found"), Verdict(Status.REMOVED, "no link")
    soft_404 = Verdict(Status.PAGE_GONE, "soft 404: same as the site's answer for a URL that cannot exist")
    built: list[bool] = []

    def script_built() -> bool:
        built.append(True)
        return True

    confirm, always, never = RenderMode.CONFIRM, RenderMode.ALWAYS, RenderMode.NEVER
    assert needs_render(confirm, True, [link], [removed], T0, script_built)
    assert not built  # asked only when a removal does not decide it already
    assert not needs_render(confirm, True, [link], [live], T0, script_built)
    assert not built
    assert needs_render(confirm, True, [link], [soft_404], T0, script_built)
    assert not needs_render(confirm, True, [link], [soft_404], T0, lambda: False)
    # An agreed end needs no browser; nor does a page that is not HTML.
    assert not needs_render(confirm, True, [ended], [removed], T0, lambda: False)
    assert not needs_render(confirm, False, [link], [removed], T0, script_built)
    assert needs_render(always, True, [link], [live], T0, lambda: False)
    assert not needs_render(never, True, [link], [removed], T0, script_built)
