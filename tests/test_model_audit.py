"""The audit's pure functions: verdicts, chains and loops, trap limits, sitemaps, 301 targets and rules."""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter

import pytest
from OpenSSL import SSL
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from linkcrawler.audit.findings import (
    AuditFindings,
    BrokenTarget,
    format_findings,
    page_health,
)
from linkcrawler.audit.redirectmap import (
    FORMATS,
    GonePage,
    LivePage,
    RedirectRule,
    TargetMatcher,
    format_rules,
    judge_redirect,
    parse_rules,
    rank_rules,
    skipped_rules,
    target_score,
)
from linkcrawler.crawl.scope import ParamStripper, SiteScope
from linkcrawler.crawl.traps import TrapGuard, TrapLimits
from linkcrawler.middlewares.address_guard import AddressRefused
from linkcrawler.middlewares.robots import RobotsDisallowed
from linkcrawler.web.outcome import error_kind, is_broken
from linkcrawler.web.redirects import RedirectGraph, redirect_location
from linkcrawler.web.sitemaps import parse_sitemap, sitemap_urls_in_robots

# --- verdicts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "broken"),
    [(200, False), (204, False), (301, True), (404, True), (410, True), (500, True), (503, True),
     ("dns_error", True), ("timeout", True), ("redirect_loop", True), ("too_many_redirects", True),
     ("robots_disallowed", False), ("refused_address", False), (None, False)],
)
def test_what_is_broken(status: object, broken: bool) -> None:
    # A final 3xx is a redirect without a usable Location: it leads nowhere.
    assert is_broken(status) is broken  # type: ignore[arg-type]


def _tls_failure() -> DownloadFailedError:
    try:
        raise ResponseNeverReceived([Failure(SSL.Error([("SSL routines", "", "certificate verify failed")]))])
    except ResponseNeverReceived as exc:
        try:
            raise DownloadFailedError(str(exc)) from exc
        except DownloadFailedError as wrapped:
            return wrapped


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (CannotResolveHostError("no such host"), "dns_error"),
        (DownloadConnectionRefusedError("refused"), "connection_refused"),
        (DownloadTimeoutError("took longer than 30 seconds"), "timeout"),
        (_tls_failure(), "tls_error"),
        (DownloadFailedError("connection lost"), "connection_error"),
        (RobotsDisallowed("http://a/", "robots.txt disallows this page"), "robots_disallowed"),
        (AddressRefused("http://10.0.0.1/", "10.0.0.1", "private"), "refused_address"),
        (ValueError("what"), "download_error"),
    ],
)
def test_error_kinds(exc: BaseException, kind: str) -> None:
    assert error_kind(exc) == kind


# --- redirect chains -----------------------------------------------------------------------


def test_chain_keeps_every_hop() -> None:
    graph = RedirectGraph()
    graph.record("http://a/1", 301, "http://a/2")
    graph.record("http://a/2", 302, "http://a/3")
    assert graph.resolve("http://a/1") == "http://a/3"  # not answered yet
    graph.record("http://a/3", 200)
    chain = graph.resolve("http://a/1")
    assert not isinstance(chain, str)
    assert (chain.status, chain.final_url, chain.final_status, chain.redirects, chain.loop) == (
        301, "http://a/3", 200, 2, False)
    assert chain.chain == [{"url": "http://a/1", "status": 301}, {"url": "http://a/2", "status": 302},
                           {"url": "http://a/3", "status": 200}]
    plain = graph.resolve("http://a/3")
    assert not isinstance(plain, str) and plain.chain == [] and plain.redirects == 0


def test_loops_and_self_redirects() -> None:
    graph = RedirectGraph()
    graph.record("http://a/x", 302, "http://a/y")
    graph.record("http://a/y", 302, "http://a/x")
    graph.record("http://a/self", 301, "http://a/self")
    graph.record("http://a/in", 301, "http://a/x")
    loop = graph.resolve("http://a/x")
    assert not isinstance(loop, str)
    assert (loop.status, loop.final_url, loop.loop) == ("redirect_loop", None, True)
    assert [h.url for h in loop.hops] == ["http://a/x", "http://a/y", "http://a/x"]
    selfloop = graph.resolve("http://a/self")
    assert not isinstance(selfloop, str) and selfloop.loop and len(selfloop.hops) == 2
    into = graph.resolve("http://a/in")
    assert not isinstance(into, str) and into.loop and into.hops[0].status == 301


def test_too_many_redirects_and_failed_hops() -> None:
    graph = RedirectGraph(max_redirects=3)
    for i in range(10):
        graph.record(f"http://a/{i}", 302, f"http://a/{i + 1}")
    long = graph.resolve("http://a/0")
    assert not isinstance(long, str)
    assert (long.status, long.final_status, len(long.hops)) == ("too_many_redirects", "too_many_redirects", 4)
    graph.record("http://b/1", 301, "http://c/")
    graph.record("http://c/", "dns_error")
    failed = graph.resolve("http://b/1")
    assert not isinstance(failed, str) and (failed.status, failed.final_status, failed.final_url) == (
        301, "dns_error", "http://c/")


def test_redirect_location() -> None:
    assert redirect_location("http://a/b/c", 301, b"../d?x=1#f") == "http://a/d?x=1"
    assert redirect_location("http://a/", 302, "HTTPS://A:443/") == "https://a/"
    assert redirect_location("http://a/", 200, "/x") is None
    assert redirect_location("http://a/", 301, None) is None
    assert redirect_location("http://a/", 301, "mailto:x@y") is None


# --- what is crawled --------------------------------------------------------------------------


def test_session_ids_and_trackers_are_stripped() -> None:
    strip = ParamStripper()
    assert strip("http://a/p?id=3&jsessionid=XY&utm_source=n&UTM_Medium=m&gclid=1") == "http://a/p?id=3"
    assert strip("http://a/p;jsessionid=ABC?PHPSESSID=1") == "http://a/p"
    assert strip("http://a/p?sid=1") == "http://a/p"
    assert strip("http://a/p?side=1") == "http://a/p?side=1"
    assert strip("http://a/p") == "http://a/p"
    assert ParamStripper(["ref"])("http://a/p?ref=x&utm_source=y") == "http://a/p?utm_source=y"


def test_trap_guard() -> None:
    guard = TrapGuard(TrapLimits(max_depth=3, max_url_length=60, max_query_variants=2,
                                 max_segment_repeats=2, deny=(r"/logout\b",)))
    assert guard.refusal("http://a/p", 3) is None
    assert guard.refusal("http://a/p", 4) == "depth"
    assert guard.refusal("http://a/" + "x" * 80, 1) == "url_length"
    assert guard.refusal("http://a/logout", 1) == "deny"
    assert guard.refusal("http://a/a/b/a/b/a/", 1) == "repeated_segments"
    assert guard.refusal("http://a/2024/01/01/", 1) is None
    assert [guard.refusal(f"http://a/cal?m={m}", 1) for m in range(4)] == [None, None, "query_variants", "query_variants"]
    assert guard.refusal("http://a/other?m=1", 1) is None
    unlimited = TrapGuard(TrapLimits(max_depth=0, max_url_length=0, max_query_variants=0, max_segment_repeats=0))
    assert unlimited.refusal("http://a/a/a/a/a/a/a?x=" + "1" * 3000, 100) is None


def test_site_scope() -> None:
    scope = SiteScope("http://Example.com/start")
    assert scope.site == "example.com"
    assert scope.is_internal("https://example.com/x") and scope.is_internal("http://www.example.com/")
    assert not scope.is_internal("http://example.com.evil.net/") and not scope.is_internal("http://blog.example.com/")
    local = SiteScope("http://127.0.0.1:8080/")
    assert local.is_internal("http://127.0.0.1:8080/a") and not local.is_internal("http://127.0.0.1:8081/a")


# --- sitemaps -----------------------------------------------------------------------------------

URLSET = (b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
          b"<url><loc> http://a/1 </loc><lastmod>2024-01-01</lastmod></url><url><loc>http://a/2</loc></url></urlset>")


def test_sitemaps_plain_gzip_and_index() -> None:
    assert parse_sitemap(URLSET).kind == "urlset"
    assert parse_sitemap(URLSET).locations == ("http://a/1", "http://a/2")
    assert parse_sitemap(gzip.compress(URLSET)).locations == ("http://a/1", "http://a/2")
    index = parse_sitemap(b"<sitemapindex><sitemap><loc>http://a/s1.xml.gz</loc></sitemap></sitemapindex>")
    assert (index.kind, index.locations) == ("sitemapindex", ("http://a/s1.xml.gz",))
    assert parse_sitemap(b"<html><body>not a sitemap</body></html>").kind is None
    assert parse_sitemap(b"").kind is None
    assert parse_sitemap(b"\x1f\x8bnot gzip").kind is None


def test_sitemap_entities_are_not_resolved() -> None:
    xxe = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<urlset><url><loc>http://a/&x;</loc></url></urlset>")
    content = parse_sitemap(xxe)
    assert all("root:" not in loc for loc in content.locations)


def test_sitemap_broken_midway_keeps_what_came_before() -> None:
    broken = URLSET.replace(b"</urlset>", b"<url><loc>http://a/3</loc></url><url><loc>http://a/4</l")
    assert parse_sitemap(broken).locations[:3] == ("http://a/1", "http://a/2", "http://a/3")


def test_gzip_sitemap_inflating_past_the_limit_is_refused() -> None:
    big = gzip.compress(URLSET.replace(b"</urlset>", b"<!--" + b" " * 10_000 + b"--></urlset>"))
    assert parse_sitemap(big, max_size=5_000).kind is None
    assert parse_sitemap(big, max_size=50_000).locations == ("http://a/1", "http://a/2")


def test_sitemaps_named_in_robots() -> None:
    robots = b"User-agent: *\nDisallow: /x\nSitemap: http://a/s.xml\nsitemap:/relative.xml\n"
    assert sitemap_urls_in_robots(robots, "http://a/robots.txt") == ["http://a/s.xml", "http://a/relative.xml"]
    assert sitemap_urls_in_robots(b"Sitemap:\n  SITEMAP: /s.xml\n", "http://a/robots.txt") == ["http://a/s.xml"]


# --- 301 targets ------------------------------------------------------------------------------------


def test_target_score_prefers_the_same_topic_and_section() -> None:
    gone = GonePage("http://s/blog/old-bread-recipe.html", 404, 3, anchors=("great bread recipe",))
    close = LivePage("http://s/blog/bread-recipe.html", "Bread recipe")
    same_words_elsewhere = LivePage("http://s/shop/bread-recipe.html", "Bread recipe")
    unrelated = LivePage("http://s/blog/cars.html", "Cars")
    assert target_score(gone, close) > target_score(gone, same_words_elsewhere) > target_score(gone, unrelated)
    assert 0 <= target_score(gone, unrelated) <= 1


def test_matcher_falls_back_to_the_nearest_live_ancestor() -> None:
    live = [LivePage("http://s/", "Home"), LivePage("http://s/docs/", "Docs"),
            LivePage("http://s/docs/install.html", "Installing"), LivePage("http://s/blog/x.html", "X")]
    matcher = TargetMatcher(live)
    rule = matcher.best(GonePage("http://s/docs/old-install-guide.html", 404, 2))
    assert rule is not None and rule.target == "http://s/docs/install.html" and not rule.fallback
    rule = matcher.best(GonePage("http://s/docs/zebra.html", 410, 1))
    assert rule is not None and (rule.target, rule.fallback) == ("http://s/docs/", True)
    rule = matcher.best(GonePage("http://s/nothing/zebra.html", 410, 1))
    assert rule is not None and rule.target == "http://s/"
    assert TargetMatcher([]).best(GonePage("http://s/a", 404, 1)) is None
    # A page on another host is never a target.
    assert TargetMatcher([LivePage("http://t/docs/install.html", "Installing")]).best(
        GonePage("http://s/docs/install.html", 404, 1)) is None


def test_rules_ranked_by_referring_domains() -> None:
    rules = [RedirectRule("http://s/b", "http://s/", 2, 0.5), RedirectRule("http://s/a", "http://s/", 9, 0.1),
             RedirectRule("http://s/c", "http://s/", 2, 0.5, backlinks=5)]
    assert [r.source for r in rank_rules(rules)] == ["http://s/a", "http://s/c", "http://s/b"]


RULES = [
    RedirectRule("http://s/old-page.html", "http://s/new/page.html", 5, 0.8),
    RedirectRule("http://s/caf%C3%A9%20menu", "http://s/menu", 3, 0.6),
    RedirectRule("http://s/list?id=7&x=1", "http://s/items/7", 2, 0.5),
    RedirectRule("http://s/gone", "https://partner.example/new", 1, 0.3, fallback=True),
]


def test_nginx_rules() -> None:
    text = format_rules(RULES, "nginx")
    assert "location = /old-page.html { return 301 /new/page.html; }" in text
    assert 'location = "/café menu" { return 301 /menu; }' in text
    assert 'if ($request_uri = "/list?id=7&x=1") { return 301 /items/7; }' in text
    assert "location = /gone { return 301 https://partner.example/new; }" in text


def test_apache_rules_match_exactly() -> None:
    text = format_rules(RULES, "apache")
    assert r"RedirectMatch 301 ^/old\-page\.html$ /new/page.html" in text
    assert r"RedirectMatch 301 ^/café\x20menu$ /menu" in text
    assert "RewriteEngine On" in text and r"RewriteCond %{QUERY_STRING} ^id=7\&x=1$" in text


def test_rules_read_back_from_every_format() -> None:
    expected_paths = [("/old-page.html", "/new/page.html"), ("/caf%C3%A9%20menu", "/menu"),
                      ("/list?id=7&x=1", "/items/7"), ("/gone", "https://partner.example/new")]
    for fmt in ("nginx", "apache"):
        assert parse_rules(format_rules(RULES, fmt)) == expected_paths, fmt
    csv_rules = parse_rules(format_rules(RULES, "csv"))
    assert csv_rules == [(r.source, r.target) for r in RULES]
    assert format_rules(RULES, "csv").splitlines()[1] == "http://s/old-page.html,http://s/new/page.html,5,0.800"
    with pytest.raises(ValueError, match="unknown format"):
        format_rules(RULES, "iis")


# A decoded CR/LF, a space, quotes and a non-ASCII letter: what a rule line must not take raw.
HOSTILE = RedirectRule("http://s/a%0D%0ARedirect%20301%20/x%20%22q%22%27s%27%20caf%C3%A9", "http://s/new page", 4, 0.7)


def test_every_format_escapes_what_it_cannot_hold_raw() -> None:
    rules = [HOSTILE, *RULES]
    for fmt in FORMATS:
        text = format_rules(rules, fmt)
        assert "\r" not in text and text.count("\n") == len(text.splitlines()), fmt  # no raw CR, one LF per line
        # Read back, every rule is the same URL again (a decoded path percent-encoded again).
        sources = [source for source, _ in parse_rules(text)]
        assert sources[0] in (HOSTILE.source, "/a%0D%0ARedirect%20301%20/x%20%22q%22's'%20caf%C3%A9"), fmt
        assert next(target for _, target in parse_rules(text)) in ("http://s/new%20page", "/new%20page"), fmt
        assert len(sources) == len(rules), fmt
        assert skipped_rules(rules, fmt) == []
    nginx = format_rules(rules, "nginx")
    assert 'location = "/a\\r\\nRedirect 301 /x \\"q\\"\'s\' café" { return 301 /new%20page; }' in nginx
    apache = format_rules(rules, "apache")
    assert r"RedirectMatch 301 ^/a\x0d\x0aRedirect\x20301\x20/x\x20\x22q\x22\x27s\x27\x20café$ /new%20page" in apache
    # Not a directive on the next line: the old output ended the line with a backslash.
    assert not any(line.startswith("Redirect 301") for line in apache.splitlines())
    rows = list(csv.DictReader(io.StringIO(format_rules(rules, "csv"))))
    assert rows[0]["source"] == HOSTILE.source and rows[0]["target"] == "http://s/new%20page"


def test_a_rule_a_format_cannot_express_is_skipped_and_named() -> None:
    control = RedirectRule("http://s/bell%07", "http://s/new", 2, 0.5)
    dollar = RedirectRule("http://s/list?price=$5", "http://s/new", 1, 0.5)
    rules = [control, dollar, *RULES]
    assert [rule for rule, _ in skipped_rules(rules, "nginx")] == [control, dollar]
    nginx = format_rules(rules, "nginx")
    assert "# SKIPPED http://s/bell%07: nginx cannot write the character '\\x07' of the decoded path" in nginx
    assert "# SKIPPED http://s/list?price=$5: nginx cannot match a request URI holding '$'" in nginx
    assert "\x07" not in nginx
    assert [s for s, _ in parse_rules(nginx)] == [s for s, _ in parse_rules(format_rules(RULES, "nginx"))]
    # Apache writes any byte of a path as \xHH; CSV quotes or percent-encodes.
    assert r"^/bell\x07$" in format_rules(rules, "apache")
    assert skipped_rules(rules, "apache") == skipped_rules(rules, "csv") == []


def test_judge_redirect() -> None:
    ok = judge_redirect("http://d/old", "http://d/new", (301, "/new"), (200, None))
    assert ok is None
    assert judge_redirect("http://d/old", "http://d/new", (302, "/new"), (200, None)) == "answers 302, not 301"
    assert judge_redirect("http://d/old", "http://d/new", (404, None), None) == "answers 404, not 301"
    assert "redirects to http://d/other" in (judge_redirect("http://d/old", "http://d/new", (301, "/other"), (200, None)) or "")
    assert "more than one hop" in (judge_redirect("http://d/old", "http://d/new", (301, "/new"), (301, "/newer")) or "")
    assert judge_redirect("http://d/old", "http://d/new", (301, "/new"), (500, None)) == "the target answers 500, not 200"
    assert judge_redirect("http://d/old", "http://d/new", (301, None), None) == "answers 301 without a Location"


def test_page_health() -> None:
    assert page_health(200) == "ok"
    assert page_health(301, 200) == "redirect"
    assert page_health(301, 404) == "broken"
    assert page_health(404) == page_health("redirect_loop") == page_health("dns_error") == "broken"
    assert page_health(None) == page_health("robots_disallowed") == "unknown"
    # A redirect to a page the address guard or robots.txt kept us from was not checked.
    assert page_health(301, "refused_address") == page_health(302, "robots_disallowed") == "unknown"


def test_findings_report() -> None:
    findings = AuditFindings(site="s", pages=3, statuses=Counter({"200": 2, "404": 1}))
    findings.broken.append(BrokenTarget("http://s/x", 404, "internal", [("http://s/", "X marks"), ("http://s/a", "")]))
    findings.chains.append([{"url": "http://s/1", "status": 301}, {"url": "http://s/2", "status": 301},
                            {"url": "http://s/3", "status": 200}])
    findings.sitemap_only.extend(f"http://s/only{i}" for i in range(5))
    text = format_findings(findings, limit=2)
    assert "http://s/x [404] (internal), linked from:" in text
    assert '      http://s/  "X marks"' in text
    assert "http://s/1 [301] -> http://s/2 [301] -> http://s/3 [200]" in text
    assert "Pages found only in the sitemap (5)" in text and "... and 3 more" in text
    assert "Redirect loops (0)\n  none" in text
