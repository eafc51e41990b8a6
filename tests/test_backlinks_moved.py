"""Linking pages that moved by meta refresh, and linking pages that became soft 404s.

Crawls of the backlinks spider against local servers, the state pipeline writing
to SecantusDB (the helpers of test_backlinks_crawl).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest_twisted

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.fixtures.web import MockServerFactory
from tests.test_backlinks_crawl import OUR, Site, link, page, site, write

__all__ = ["site"]  # the fixture, imported for the tests below


def refresh(to: str, delay: int = 0, body: str = "<p>This page has moved.</p>") -> str:
    return page(body, head=f'<meta http-equiv="refresh" content="{delay}; url={to}">', title="Moved")


def probes(hits: dict[str, int]) -> int:
    return sum(count for path, count in hits.items() if path.endswith("-linkcrawler-probe"))


# --- meta refresh -----------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_an_immediate_refresh_is_followed_like_a_redirect(site: Site) -> None:
    w = site.root
    write(w, "old.html", refresh("/new.html"))
    write(w, "new.html", page(link(text="Found after the refresh")))
    write(w, "header-old.html", "", headers={"Refresh": "0;url=/new.html"})
    write(w, "hop.html", status=301, headers={"Location": "/old.html"})
    write(w, "old-away.html", refresh("/nolink.html", delay=2))
    write(w, "nolink.html", page("<p>nothing</p>"))
    meta = site.know("/old.html", f"{OUR}/a")
    header = site.know("/header-old.html", f"{OUR}/a")
    both = site.know("/hop.html", f"{OUR}/a")
    away = site.know("/old-away.html", f"{OUR}/a")

    yield site.crawl()

    found = site.status(meta)
    assert (found["status"], found["final_url"], found["anchor_text"]) == (
        "live", site.url("/new.html"), "Found after the refresh")
    # A refresh hop is recorded with the status it answered, 200.
    assert found["redirect_chain"] == [{"url": site.url("/old.html"), "status": 200}]
    assert site.status(header)["status"] == "live"
    assert site.status(header)["redirect_chain"] == [{"url": site.url("/header-old.html"), "status": 200}]
    chained = site.status(both)
    assert chained["status"] == "live"
    assert chained["redirect_chain"] == [
        {"url": site.url("/hop.html"), "status": 301},
        {"url": site.url("/old.html"), "status": 200},
    ]
    moved_away = site.status(away)
    assert moved_away["status"] == "redirected"
    assert moved_away["final_url"] == site.url("/nolink.html")
    assert moved_away["status_reason"].startswith(f"redirects to {site.url('/nolink.html')}")


@pytest_twisted.inlineCallbacks
def test_a_refresh_loop_is_an_error_with_the_loop_rule(site: Site) -> None:
    w = site.root
    write(w, "a.html", refresh("/b.html"))
    write(w, "b.html", refresh("/a.html"))
    looping = site.know("/a.html", f"{OUR}/a")

    yield site.crawl()

    found = site.status(looping)
    assert found["status"] == "error"
    assert found["status_reason"].startswith("redirect loop: ")
    assert [hop["url"] for hop in found["redirect_chain"]][:2] == [site.url("/a.html"), site.url("/b.html")]
    assert {hop["status"] for hop in found["redirect_chain"]} == {200}


@pytest_twisted.inlineCallbacks
def test_a_delayed_refresh_and_a_page_with_the_link_are_not_followed(site: Site) -> None:
    w = site.root
    write(w, "slow.html", refresh("/slow-target.html", delay=30))
    write(w, "slow-target.html", page(link()))
    # The link is on the page itself: the page's own state, wherever it refreshes to.
    write(w, "carries.html", refresh("/elsewhere.html", body=link(text="still here")))
    write(w, "elsewhere.html", page("<p>nothing</p>"))
    slow = site.know("/slow.html", f"{OUR}/a")
    carries = site.know("/carries.html", f"{OUR}/a")

    yield site.crawl()

    assert site.status(slow)["status"] == "removed"
    assert site.status(slow)["redirect_chain"] == []
    found = site.status(carries)
    assert (found["status"], found["final_url"], found["anchor_text"]) == (
        "live", site.url("/carries.html"), "still here")
    hits = site.server.hits()
    assert "/slow-target.html" not in hits and "/elsewhere.html" not in hits


# --- soft 404s ----------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_a_page_that_says_not_found_is_page_gone(site: Site) -> None:
    w = site.root
    write(w, "gone.html", page("<h1>Sorry</h1><p>We looked everywhere.</p>", title="Page not found | Some Blog"))
    article = (
        "<h1>Debugging missing keys</h1>"
        + "<p>When a key is not found, the lookup raises, and the error page says not found. </p>" * 20
    )
    write(w, "article.html", page(article, title="Debugging missing keys | Some Blog"))
    gone = site.know("/gone.html", f"{OUR}/a")
    article_id = site.know("/article.html", f"{OUR}/a")

    yield site.crawl()

    found = site.status(gone)
    assert found["status"] == "page_gone"
    assert found["status_reason"] == "soft 404: title says 'Page not found | Some Blog'"
    assert site.event_types(gone) == ["new", "lost"]
    assert site.status(article_id)["status"] == "removed"


@pytest_twisted.inlineCallbacks
def test_a_page_showing_the_sites_template_for_unknown_urls_is_page_gone(site: Site) -> None:
    w = site.root
    template = page(
        "<nav>Home | Shoes | Hats | Bags</nav><p>Browse our catalogue of shoes, hats and bags, "
        "new arrivals every week, free returns on every order.</p><footer>Acme Shop 2024</footer>",
        title="Acme Shop",
    )
    write(w, "_missing.html", template)  # every unknown URL answers 200 with it
    write(w, "real.html", page("<p>Our own review of hats, written by a person, without the link now.</p>",
                               title="Acme Shop"))
    deleted = site.know("/post/deleted-review", f"{OUR}/a")
    real = site.know("/real.html", f"{OUR}/a")

    yield site.crawl()

    found = site.status(deleted)
    assert found["status"] == "page_gone", found["status_reason"]
    assert found["status_reason"].startswith("soft 404: same page as the site answers for a URL that cannot exist")
    assert "title 'Acme Shop'" in found["status_reason"]
    # Same title, other text: a real page that lost the link.
    assert site.status(real)["status"] == "removed"


@pytest_twisted.inlineCallbacks
def test_the_random_url_is_asked_once_per_host_per_run_and_never_for_pages_with_the_link(
    site: Site, tmp_path: Path, mockserver_factory: MockServerFactory
) -> None:
    w = site.root
    for n in range(4):
        write(w, f"nolink{n}.html", page(f"<p>An article, number {n}, without the link.</p>"))
    ids = [site.know(f"/nolink{n}.html", f"{OUR}/a") for n in range(4)]
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = mockserver_factory(host="127.0.0.2", site_dir=other_dir)
    write(other_dir, "live.html", page(link()))
    write(other_dir, "live2.html", page(link(text="again")))
    now = datetime.now(timezone.utc)
    ensure_indexes(site.db)
    for path in ("/live.html", "/live2.html"):
        _, failed = write_batch(site.db, new_backlink_ops(other.url(path), f"{OUR}/a", now, "test import"))
        assert not failed

    result = yield site.crawl()

    assert [site.status(i)["status"] for i in ids] == ["removed"] * 4
    assert probes(site.server.hits()) == 1
    assert probes(other.hits()) == 0
    assert result.stats["linkcrawler/backlinks/soft_404_probes"] == 1

    site.server.reset_hits()
    yield site.crawl()
    assert probes(site.server.hits()) == 1
