"""The prospects model without a crawl: verdicts, parked pages, redirects, DNS, score, opportunities."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest
from twisted.internet import error as tx

from linkcrawler.audit.redirectmap import LivePage
from linkcrawler.prospects.book import OurSite, build_opportunities
from linkcrawler.prospects.inputs import entry_authority, page_date
from linkcrawler.prospects.items import OpportunityChange, OpportunityItem, OutboundLink, ProspectPage, opportunity_id
from linkcrawler.prospects.score import ScoreInputs, opportunity_score
from linkcrawler.prospects.verdict import CheckState, LinkVerdict, failure_verdict, page_verdict, status_verdict
from linkcrawler.web.context import link_contexts
from linkcrawler.web.dns import lookup_failure
from linkcrawler.web.outcome import DNS_NXDOMAIN, DNS_TEMPORARY, ErrorKind, classify_failure, dns_failure
from linkcrawler.web.page import analyze_page
from linkcrawler.web.parked import parked_reason, parking_evidence
from linkcrawler.web.redirects import unrelated_landing
from linkcrawler.web.softnotfound import fingerprint

NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)


def html(body: str, title: str = "A page", head: str = "") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def analyzed(url: str, body: str) -> object:
    return analyze_page(url, body.encode(), {"Content-Type": "text/html"})


# --- statuses and failures ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "state", "reason"), [
    (404, CheckState.BROKEN, "http_404"),
    (410, CheckState.BROKEN, "http_410"),
    (500, CheckState.UNVERIFIED, None),
    (503, CheckState.UNVERIFIED, None),
    (401, CheckState.UNVERIFIED, None),
    (403, CheckState.UNVERIFIED, None),
    (429, CheckState.UNVERIFIED, None),
    (451, CheckState.UNVERIFIED, None),
    (400, CheckState.UNVERIFIED, None),
])
def test_status_verdicts(status: int, state: CheckState, reason: str | None) -> None:
    verdict = status_verdict("http://a.example/x", status)
    assert verdict is not None
    assert (verdict.state, verdict.broken_reason, verdict.http_status) == (state, reason, status)


def test_a_404_at_the_end_of_a_redirect_chain_says_so() -> None:
    verdict = status_verdict("http://a.example/x", 404, "http://a.example/y", [("http://a.example/x", 301)])
    assert verdict is not None and verdict.broken_reason == "http_404"
    assert verdict.reason == "redirects to http://a.example/y, which answers HTTP 404"
    assert verdict.redirect_chain == (("http://a.example/x", 301),)


def test_a_2xx_needs_its_body() -> None:
    assert status_verdict("http://a.example/x", 200) is None


def test_only_nxdomain_and_refused_connections_are_broken_failures() -> None:
    url = "http://gone.example/x"
    nx = failure_verdict(url, dns_failure(socket.gaierror(socket.EAI_NONAME, "Name or service not known")))
    assert (nx.state, nx.broken_reason) == (CheckState.BROKEN, "dns_nxdomain")
    for code in (socket.EAI_AGAIN, socket.EAI_FAIL):
        temporary = failure_verdict(url, dns_failure(socket.gaierror(code, "Temporary failure in name resolution")))
        assert temporary.state is CheckState.UNVERIFIED and temporary.broken_reason is None
    # What Twisted raises says nothing about the cause: a plain DNS failure is not NXDOMAIN.
    plain = failure_verdict(url, classify_failure(tx.DNSLookupError("no results for hostname lookup: gone.example")))
    assert plain.state is CheckState.UNVERIFIED
    refused = failure_verdict(url, classify_failure(tx.ConnectionRefusedError()))
    assert (refused.state, refused.broken_reason) == (CheckState.BROKEN, "connection_refused")
    for exc in (tx.TimeoutError(), tx.TCPTimedOutError(), tx.ConnectionLost(), ConnectionResetError(104, "reset")):
        assert failure_verdict(url, classify_failure(exc)).state is CheckState.UNVERIFIED
    for name in ("AddressRefused", "RobotsDisallowed", "SSLError"):  # the guard, robots.txt, TLS: not checked
        assert failure_verdict(url, classify_failure(name)).state is CheckState.UNVERIFIED


def test_dns_failure_causes() -> None:
    assert dns_failure(socket.EAI_NONAME).cause == DNS_NXDOMAIN
    assert dns_failure(socket.EAI_AGAIN).cause == DNS_TEMPORARY
    assert dns_failure(socket.EAI_FAIL).cause == DNS_TEMPORARY
    assert dns_failure(socket.EAI_SERVICE).cause == "dns_error"
    assert {dns_failure(code).kind for code in (socket.EAI_NONAME, socket.EAI_AGAIN)} == {ErrorKind.DNS_ERROR}


def test_the_resolver_answers_nxdomain_for_a_reserved_invalid_name() -> None:
    # RFC 2606: .invalid never resolves; the system resolver says EAI_NONAME, on this machine without
    # any network too (a resolver that cannot be reached would say EAI_AGAIN, and the check fails).
    failure = lookup_failure("no-such-host-linkcrawler.invalid")
    assert failure is not None and failure.cause == DNS_NXDOMAIN
    assert lookup_failure("localhost") is None


# --- pages ---------------------------------------------------------------------------------------

PARKED_TEXTS = [
    html("<h1>example-tools.com</h1><p>This domain may be for sale!</p>", title="example-tools.com"),
    html("<p>Buy this domain. The owner is ready to sell.</p>", title="Welcome"),
    html("<p>This domain is parked free, courtesy of GoDaddy.com.</p>", title="oldtools.net"),
    html('<script src="//www.sedoparking.com/frmpark/oldtools.net/1"></script>', title="oldtools.net"),
    html('<iframe src="https://parkingcrew.net/park?d=x"></iframe>', title="x"),
]


@pytest.mark.parametrize("body", PARKED_TEXTS)
def test_parked_pages(body: str) -> None:
    page = analyzed("http://oldtools.example/resources/list.html", body)
    verdict = page_verdict("http://oldtools.example/resources/list.html", page)  # type: ignore[arg-type]
    assert verdict is not None and verdict.broken_reason == "parked_domain", verdict


def test_an_article_about_buying_domains_is_not_parked() -> None:
    article = html(
        "<h1>How to buy a domain that is for sale</h1>"
        + "<p>When a domain is for sale, you can make an offer through a broker. " * 60 + "</p>",
        title="How to buy a domain that is for sale")
    page = analyzed("http://blog.example/how-to-buy-domains", article)
    assert parked_reason(page) is None  # type: ignore[arg-type]
    assert not parking_evidence(page).strong  # type: ignore[arg-type]
    # Nor a long review that links to a marketplace's listing.
    review = html("<p>" + "We compared domain marketplaces for a month. " * 50
                  + '<a href="https://www.hugedomains.com/domain_profile.cfm?d=x.com">a HugeDomains listing</a></p>')
    assert parked_reason(analyzed("http://blog.example/marketplaces", review)) is None  # type: ignore[arg-type]


def test_weak_parking_signals_count_only_when_every_path_answers_the_same_page() -> None:
    lander = html("<p>Related searches</p><ul><li>Tools</li></ul>", title="quiet-domain.example")
    page = analyzed("http://quiet-domain.example/old/page.html", lander)
    probe = analyzed("http://quiet-domain.example/0123-linkcrawler-probe", lander)
    assert page_verdict(page.url, page) is None  # type: ignore[arg-type,attr-defined]  # asks for the probe
    alone = page_verdict(page.url, page, probed=True, not_found=None)  # type: ignore[arg-type,attr-defined]
    assert alone is not None and alone.state is CheckState.OK
    same = page_verdict(page.url, page, probed=True, not_found=fingerprint(probe))  # type: ignore[arg-type,attr-defined]
    assert same is not None and same.broken_reason == "parked_domain"
    assert "every path answers the same page" in same.reason


def test_soft_404_by_words_and_by_template() -> None:
    url = "http://shop.example/products/widget"
    said = analyzed(url, html("<h1>Page not found</h1>", title="Shop"))
    verdict = page_verdict(url, said)  # type: ignore[arg-type]
    assert verdict is not None and verdict.broken_reason == "soft_404"
    template = html("<p>" + "Our catalogue has many products for every need and budget. " * 10 + "</p>", title="Shop")
    page, probe = analyzed(url, template), analyzed("http://shop.example/x-linkcrawler-probe", template)
    verdict = page_verdict(url, page, probed=True, not_found=fingerprint(probe))  # type: ignore[arg-type,arg-type]
    assert verdict is not None and verdict.broken_reason == "soft_404"


def test_a_challenge_is_unverified() -> None:
    page = analyze_page("http://a.example/x", html("<p>Checking your browser</p>", title="Just a moment..."),
                        {"cf-mitigated": "challenge"})
    verdict = page_verdict("http://a.example/x", page)
    assert verdict is not None and verdict.state is CheckState.UNVERIFIED


def test_redirect_to_an_unrelated_front_page() -> None:
    assert unrelated_landing("http://old-site.com/guides/seo", "https://newowner.com/")
    assert unrelated_landing("http://old-site.com/guides/seo", "https://newowner.com/en/")
    assert unrelated_landing("http://old-site.com/guides/seo", "https://www.old-site.com/") is None  # same site
    assert unrelated_landing("http://old-site.com/", "https://newowner.com/") is None  # a front page moved
    assert unrelated_landing("http://old-site.com/guides/seo", "https://new-site.com/guides/seo") is None  # moved
    assert unrelated_landing("http://old-site.com/old-post.html", "https://newowner.com/")
    assert unrelated_landing("https://bit.ly/seo-guide", "https://newowner.com/") is None  # a shortener
    assert unrelated_landing("https://go.example.com/3xYz9", "https://newowner.com/") is None  # a short code
    page = analyzed("https://newowner.com/", html("<p>" + "We sell insurance. " * 40 + "</p>", title="NewOwner"))
    verdict = page_verdict("http://old-site.com/guides/seo", page,  # type: ignore[arg-type]
                           chain=[("http://old-site.com/guides/seo", 301)])
    assert verdict is not None and verdict.broken_reason == "redirect_to_unrelated"


def test_link_context_is_the_block_around_the_link() -> None:
    body = ("<div><p>Intro.</p><p>For the basics, read <a href='http://dead.example/guide'>this guide</a> "
            "before you start.</p></div><ul><li>" + "x " * 400 + "<a href='/local'>local</a></li></ul>")
    page = analyze_page("http://p.example/", body.encode(), {"Content-Type": "text/html"})
    contexts = link_contexts(page, ["http://dead.example/guide", "http://p.example/local"])
    assert contexts["http://dead.example/guide"] == "For the basics, read this guide before you start."
    assert contexts["http://p.example/local"].startswith("...") and contexts["http://p.example/local"].endswith("local")


def test_entry_authority_from_export_columns() -> None:
    assert entry_authority({"Domain rating": "57"}) == 57
    assert entry_authority({"Page ascore": "12,5"}) == 12.5
    assert entry_authority({"authority": "n/a"}) is None
    assert entry_authority({}) is None


def test_page_date() -> None:
    page = analyzed("http://p.example/a", html("<p>x</p>", head='<meta property="article:modified_time" '
                                                                'content="2026-05-01T10:00:00Z">'))
    assert page_date(page, NOW) == datetime(2026, 5, 1, tzinfo=timezone.utc)  # type: ignore[arg-type]


# --- score and opportunities ------------------------------------------------------------------------


def test_score_parts_are_said_in_words() -> None:
    score, reasons = opportunity_score(ScoreInputs(
        broken_reason="http_404", authority=80, relevance=0.5, suggestion_score=0.8, linked_from_pages=3,
        broken_on_page=2, page_date=NOW - timedelta(days=30), now=NOW))
    assert score == (24 + 10 + 12 + 10 + 5 + 10 + 5)
    assert reasons[0] == "site authority 80 (from the import): +24"
    assert "3 prospect pages link to the same dead URL: +10" in reasons
    low, low_reasons = opportunity_score(ScoreInputs(broken_reason="soft_404", broken_on_page=40,
                                                     page_date=NOW - timedelta(days=2000), now=NOW))
    assert low == 0 and any("abandoned" in r for r in low_reasons)


def _page(url: str, outbound: list[str], ours: list[str] = (), status: int = 200) -> ProspectPage:  # type: ignore[assignment]
    return ProspectPage(url=url, domain="p.example", checked_at=NOW, status=status, title="SEO tools",
                        outbound=[OutboundLink(u, "SEO guide") for u in outbound],
                        our_links=[OutboundLink(u, "ours") for u in ours])


def test_build_opportunities_and_moves() -> None:
    dead, fine = "http://dead.example/seo-guide", "http://fine.example/"
    verdicts = {
        dead: LinkVerdict(dead, CheckState.BROKEN, "HTTP 404", "http_404", 404),
        fine: LinkVerdict(fine, CheckState.OK, "HTTP 200", http_status=200),
    }
    site = OurSite([LivePage("http://our.example/guides/seo-guide", "The SEO guide")])
    first = build_opportunities(
        [_page("http://p.example/a", [dead, fine]), _page("http://p.example/b", [dead])], verdicts, {}, site, NOW)
    assert all(isinstance(item, OpportunityItem) for item in first) and len(first) == 2
    item = first[0]
    assert isinstance(item, OpportunityItem)
    assert (item.linked_from_pages, item.suggested_target) == (2, "http://our.example/guides/seo-guide")

    previous = {opportunity_id(f"http://p.example/{n}", dead): {"page_url": f"http://p.example/{n}",
                                                                  "link_url": dead, "status": status}
                for n, status in (("a", "open"), ("b", "open"), ("c", "open"), ("d", "won"), ("e", "open"))}
    second = build_opportunities([
        _page("http://p.example/a", [fine]),                                   # fixed
        _page("http://p.example/b", [dead], ours=["http://our.example/"]),    # won (the dead link too)
        _page("http://p.example/c", [dead]),                                   # still open
        _page("http://p.example/d", [dead]),                                   # won stays won
        _page("http://p.example/e", [], status=503),                           # not read: nothing moves
    ], verdicts, previous, site, NOW)
    changes = {(item.page_url, item.status) for item in second if isinstance(item, OpportunityChange)}
    opened = {item.page_url for item in second if isinstance(item, OpportunityItem)}
    assert changes == {("http://p.example/a", "fixed"), ("http://p.example/b", "won")}
    assert opened == {"http://p.example/c"}
