"""The soft-404 detector (web/softnotfound.py), refresh hops in the redirect model, and their verdicts."""

from __future__ import annotations

import pytest

from linkcrawler.backlinks.status import Status
from linkcrawler.backlinks.verdict import classify_backlink
from linkcrawler.web.page import PageAnalysis, analyze_page
from linkcrawler.web.redirects import Hop, analyze_redirect_chain, refresh_location
from linkcrawler.web.softnotfound import (
    fingerprint,
    needs_probe,
    probe_url,
    same_template,
    says_not_found,
    soft_404_signals,
)

TARGET = "https://our.example/a"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def html(title: str = "A page", body: str = "", url: str = "https://blog.example/post", head: str = "") -> PageAnalysis:
    text = f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"
    return analyze_page(url, text.encode(), HTML)


ARTICLE = "<p>" + "A long article about caching, which says a key was not found in the map. " * 15 + "</p>"


@pytest.mark.parametrize("title", [
    "Page not found",
    "404",
    "404 Not Found",
    "Page Not Found – My Blog",
    "My Blog | Page not found",
    "Oops! That page can’t be found.",
    "Error 404 - The page you were looking for doesn't exist",
    "Nothing found",
    "Seite nicht gefunden - Beispiel GmbH",
    "Page introuvable",
    "Cette page n'existe pas",
    "Página no encontrada",
    "Página não encontrada",
    "Pagina non trovata",
    "Pagina niet gevonden",
    "Strona nie została znaleziona",
    "Страница не найдена",
    "Sayfa bulunamadı",
    "ページが見つかりません",
    "页面不存在 - 示例网站",
    "페이지를 찾을 수 없습니다",
])
def test_a_title_that_is_a_not_found_message(title: str) -> None:
    reason = says_not_found(html(title, ARTICLE))
    assert reason is not None and reason.startswith("title says ")


@pytest.mark.parametrize("title", [
    "How to fix 404 Page Not Found errors in WordPress",
    "Page not found errors: a guide | SEO Blog",
    "Room 404 | Grand Hotel",
    "Error",
    "Oops",
    "Nothing found for “foo” was a surprise",
    "Not found: a novel",
])
def test_a_title_that_only_mentions_it_is_not(title: str) -> None:
    assert says_not_found(html(title, ARTICLE)) is None


def test_a_heading_or_a_short_body_that_says_so() -> None:
    heading = html("Some Blog", "<h1>Oops! That page can’t be found.</h1><p>Try the search.</p>")
    assert says_not_found(heading) == "heading says 'Oops! That page can’t be found.'"
    short = html("Some Blog", "<p>Sorry, the page you requested could not be found on this server.</p>")
    assert says_not_found(short) == "short page says 'page you requested could not be found'"


def test_an_article_mentioning_not_found_is_not_a_soft_404() -> None:
    body = "<h1>Debugging lookups</h1>" + "<p>The page not found error is common; a key not found too.</p>" * 12
    page = html("Debugging lookups | Blog", body)
    assert soft_404_signals(page) is None
    # Short, but it says nothing about a *page* missing.
    assert soft_404_signals(html("Search", "<p>Your search for shoes: not found.</p>")) is None


TEMPLATE = (
    "<nav>Home | Shoes | Hats</nav><p>Browse our catalogue of shoes and hats, new arrivals every week, "
    "free returns on every order, and a shop assistant happy to help.</p>"
)


def test_the_sites_template_for_unknown_urls() -> None:
    probe = fingerprint(html("Acme", TEMPLATE + "<p>/f00-linkcrawler-probe</p>", url=probe_url("https://shop.example/x", "f00")))
    assert probe.url == "https://shop.example/f00-linkcrawler-probe"
    reason = same_template(html("Acme", TEMPLATE, url="https://shop.example/old-post"), probe)
    assert reason is not None and reason.startswith(
        "same page as the site answers for a URL that cannot exist (https://shop.example/f00-linkcrawler-probe)")
    # Same title, another text; another title, same text; the root page; no template.
    assert same_template(html("Acme", ARTICLE, url="https://shop.example/p"), probe) is None
    assert same_template(html("Acme hats", TEMPLATE, url="https://shop.example/p"), probe) is None
    assert same_template(html("Acme", TEMPLATE, url="https://shop.example/"), probe) is None
    assert same_template(html("Acme", TEMPLATE, url="https://shop.example/p"), None) is None
    # An app shell, the same at every URL, real or not, says nothing.
    shell = '<div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript>'
    shell_probe = fingerprint(html("App", shell, url="https://app.example/f00-linkcrawler-probe"))
    assert same_template(html("App", shell, url="https://app.example/dashboard"), shell_probe) is None


def test_a_probe_is_needed_only_when_the_page_does_not_settle_it() -> None:
    assert needs_probe(html("A post", ARTICLE))
    assert not needs_probe(html("Page not found", ARTICLE))
    assert not needs_probe(html("Home", ARTICLE, url="https://blog.example/"))


def test_verdicts_for_soft_404s() -> None:
    gone = html("Page not found", "<p>nothing here</p>")
    verdict = classify_backlink(gone, TARGET, "https://blog.example/post")
    assert (verdict.status, verdict.reason) == (Status.PAGE_GONE, "soft 404: title says 'Page not found'")
    moved = classify_backlink(gone, TARGET, "https://blog.example/older-post")
    assert moved.status is Status.PAGE_GONE
    assert moved.reason == "redirects to https://blog.example/post, which is a soft 404: title says 'Page not found'"
    # The link is there: never a soft 404; another known link there: not either.
    with_link = html("Page not found", f'<a href="{TARGET}">us</a>')
    assert classify_backlink(with_link, TARGET).status is Status.LIVE
    assert classify_backlink(gone, TARGET, soft_404=False).status is Status.REMOVED


# --- refresh hops ---------------------------------------------------------------------


def test_only_an_immediate_refresh_elsewhere_is_a_redirect() -> None:
    page = "https://a.example/old"
    assert refresh_location(page, 0.0, "https://a.example/new") == "https://a.example/new"
    assert refresh_location(page, 5.0, "https://a.example/new") == "https://a.example/new"
    assert refresh_location(page, 30.0, "https://a.example/new") is None
    assert refresh_location(page, 0.0, "https://a.example/old") is None  # a reload
    assert refresh_location(page, None, None) is None
    parsed = html(head='<meta http-equiv="refresh" content="0; URL=\'/new\'">', url=page)
    assert refresh_location(parsed.url, parsed.refresh_delay, parsed.refresh_url) == "https://a.example/new"


def test_refresh_hops_follow_the_loop_rule_and_the_hop_limit() -> None:
    a, b = "https://a.example/a", "https://a.example/b"
    hops = [Hop(a, 200, refresh=True), Hop(b, 200, refresh=True)]
    assert not analyze_redirect_chain(hops, next_url=a).loop
    looped = analyze_redirect_chain([*hops, Hop(a, 200, refresh=True)], next_url=b)
    assert looped.loop and looped.problem is not None and looped.problem[1] == f"redirect loop: {a} -> {b} -> {a}"
    many = [Hop(f"https://a.example/{n}", 200 if n % 2 else 301, refresh=bool(n % 2)) for n in range(11)]
    assert analyze_redirect_chain(many, max_hops=10, next_url="https://a.example/11").too_long
    # A 200 answer that is not a followed refresh ends the chain.
    done = analyze_redirect_chain([Hop(a, 301), Hop(b, 200)])
    assert done.complete and done.redirects == 1
