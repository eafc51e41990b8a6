"""Verdicts: a page, a status code or a failure turned into a backlink status."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime

import pytest
import service_identity
from OpenSSL import SSL
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived
from twisted.web.http import _DataLoss

from linkcrawler.backlinks.status import Status
from linkcrawler.backlinks.verdict import (
    NOT_MODIFIED,
    NotModified,
    Verdict,
    apply_failure_policy,
    classify_backlink,
    classify_http_status,
    failure_verdict,
    redirect_failure,
    same_page,
    with_redirect_context,
)
from linkcrawler.middlewares.address_guard import AddressRefused
from linkcrawler.middlewares.robots import RobotsDisallowed, RobotsUnavailable
from linkcrawler.web import outcome
from linkcrawler.web.page import analyze_page
from linkcrawler.web.redirects import Hop, analyze_redirect_chain

SOURCE = "https://blog.example.org/posts/hello"
TARGET = "https://shop.example.com/product"


def check(
    html: str,
    headers=None,
    *,
    url: str = SOURCE,
    page_url: str | None = SOURCE,
    target: str = TARGET,
) -> Verdict:
    page = analyze_page(url, html.encode(), headers)
    return classify_backlink(page, target, page_url)


# --- a page that answered ------------------------------------------------------------


def test_followed_link_is_live_with_its_anchor_and_rel():
    verdict = check('<a href="https://shop.example.com/product" rel="noopener">Great shop</a>')
    assert verdict.status is Status.LIVE
    assert verdict.reason == "followed link found"
    assert (verdict.anchor_text, verdict.rel) == ("Great shop", ("noopener",))


def test_target_spelled_differently_still_matches():
    verdict = check(
        '<a href="HTTPS://Shop.Example.com:443/product#reviews">x</a>',
        target="https://shop.example.com/product",
    )
    assert verdict.status is Status.LIVE


def test_one_followed_link_among_nofollow_ones_makes_it_live():
    verdict = check(
        '<a href="https://shop.example.com/product" rel="nofollow">sidebar</a>'
        '<a href="https://shop.example.com/product">in the text</a>'
    )
    assert verdict.status is Status.LIVE
    assert verdict.anchor_text == "in the text"
    assert verdict.extra["links"] == 2


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("nofollow", "rel=nofollow"),
        ("sponsored", "rel=sponsored"),
        ("ugc", "rel=ugc"),
        ("ugc sponsored", "rel=ugc sponsored"),
        ("noopener NOFOLLOW", "rel=nofollow"),
    ],
)
def test_only_not_followed_links_make_it_nofollow(rel, reason):
    verdict = check(f'<a href="https://shop.example.com/product" rel="{rel}">x</a>')
    assert (verdict.status, verdict.reason) == (Status.NOFOLLOW, reason)
    assert verdict.anchor_text == "x"


def test_page_level_nofollow_makes_it_nofollow():
    verdict = check(
        '<meta name="robots" content="nofollow"><a href="https://shop.example.com/product">x</a>'
    )
    assert (verdict.status, verdict.reason) == (Status.NOFOLLOW, "page is nofollow (meta robots)")


@pytest.mark.parametrize(
    ("html", "headers", "reason"),
    [
        ('<meta name="robots" content="noindex">', None, "page is noindex (meta robots)"),
        (
            '<meta name="googlebot" content="none">',
            None,
            "page is noindex (meta googlebot); also page is nofollow (meta googlebot)",
        ),
        ("", {"X-Robots-Tag": "googlebot: noindex"}, "page is noindex (X-Robots-Tag)"),
    ],
)
def test_noindex_page(html, headers, reason):
    verdict = check(html + '<a href="https://shop.example.com/product">x</a>', headers)
    assert (verdict.status, verdict.reason) == (Status.NOINDEX, reason)


def test_noindex_bingbot_only_is_still_live():
    verdict = check(
        '<a href="https://shop.example.com/product">x</a>', {"X-Robots-Tag": "bingbot: noindex"}
    )
    assert verdict.status is Status.LIVE


@pytest.mark.parametrize(
    ("canonical", "status"),
    [
        ("https://other.example.org/syndicated", Status.CANONICALIZED),
        ("/posts/another", Status.CANONICALIZED),
        ("https://blog.example.org/posts/hello?page=2", Status.CANONICALIZED),
        # The page itself, spelled as sites spell it: not canonicalized.
        ("https://blog.example.org/posts/hello", Status.LIVE),
        ("/posts/hello#top", Status.LIVE),
        ("https://blog.example.org/posts/hello/", Status.LIVE),
        ("http://www.blog.example.org/posts/hello", Status.LIVE),
        ("HTTPS://BLOG.EXAMPLE.ORG:443/posts/hello", Status.LIVE),
    ],
)
def test_canonical_in_html(canonical, status):
    verdict = check(
        f'<head><link rel="canonical" href="{canonical}"></head>'
        '<body><a href="https://shop.example.com/product">x</a></body>'
    )
    assert verdict.status is status


def test_canonical_from_the_link_header():
    verdict = check(
        '<a href="https://shop.example.com/product">x</a>',
        {"Link": '<https://other.example.org/main>; rel="canonical"'},
    )
    assert verdict.status is Status.CANONICALIZED
    assert verdict.reason == "canonical points to https://other.example.org/main"
    assert verdict.extra["canonical"] == "https://other.example.org/main"


def test_tracking_parameters_on_the_page_url_are_still_self_canonical():
    verdict = check(
        '<head><link rel="canonical" href="https://blog.example.org/posts/hello"></head>'
        '<a href="https://shop.example.com/product">x</a>',
        url="https://blog.example.org/posts/hello?utm_source=news&utm_medium=mail&gclid=1",
    )
    assert verdict.status is Status.LIVE


def test_precedence_noindex_then_nofollow_then_canonicalized():
    all_three = (
        '<head><meta name="robots" content="noindex"><link rel="canonical" href="/other"></head>'
        '<a href="https://shop.example.com/product" rel="sponsored">x</a>'
    )
    verdict = check(all_three)
    assert verdict.status is Status.NOINDEX
    assert verdict.extra["signals"] == ["noindex", "nofollow", "canonicalized"]
    assert verdict.reason == (
        "page is noindex (meta robots); also rel=sponsored; "
        "canonical points to https://blog.example.org/other"
    )

    nofollow_and_canonical = check(
        '<head><link rel="canonical" href="/other"></head>'
        '<a href="https://shop.example.com/product" rel="nofollow">x</a>'
    )
    assert nofollow_and_canonical.status is Status.NOFOLLOW
    assert nofollow_and_canonical.extra["signals"] == ["nofollow", "canonicalized"]


def test_missing_link_is_removed():
    verdict = check('<a href="https://shop.example.com/other">x</a>')
    assert verdict.status is Status.REMOVED
    assert verdict.reason == "no link to https://shop.example.com/product on the page"
    assert (verdict.anchor_text, verdict.rel) == (None, ())


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (
            "<script>location.href='https://shop.example.com/product'</script>",
            "https://shop.example.com/product appears only in a script",
        ),
        (
            "<div onclick=\"window.location='https://shop.example.com/product'\">go</div>",
            "https://shop.example.com/product appears only in an onclick handler",
        ),
        (
            "<a href=\"javascript:window.open('https://shop.example.com/product')\">go</a>",
            "https://shop.example.com/product appears only as a javascript: URL",
        ),
        (
            "<p>Buy at shop.example.com/product</p>",
            "https://shop.example.com/product appears only as plain text",
        ),
        (
            '<p>x</p><!-- <a href="https://shop.example.com/product">x</a> -->',
            "https://shop.example.com/product appears only in an HTML comment",
        ),
        (
            "<span onclick=\"go('https://shop.example.com/product')\">shop.example.com/product</span>",
            "https://shop.example.com/product appears only in an onclick handler and as plain text",
        ),
    ],
)
def test_target_outside_crawlable_links_is_removed_with_where(html, reason):
    verdict = check(html)
    assert (verdict.status, verdict.reason) == (Status.REMOVED, reason)


def test_missing_link_after_a_redirect_is_redirected():
    verdict = check("<p>new home</p>", url="https://new.example.net/landing", page_url=SOURCE)
    assert verdict.status is Status.REDIRECTED
    assert verdict.reason == (
        "redirects to https://new.example.net/landing, which has no link to https://shop.example.com/product"
    )
    assert verdict.extra["final_url"] == "https://new.example.net/landing"


def test_redirect_to_the_same_page_spelled_otherwise_is_removed_not_redirected():
    verdict = check(
        "<p>gone</p>",
        url="https://blog.example.org/posts/hello/",
        page_url="http://blog.example.org/posts/hello",
    )
    assert verdict.status is Status.REMOVED


def test_link_found_after_a_redirect_takes_the_destination_state():
    verdict = check(
        '<a href="https://shop.example.com/product" rel="ugc">x</a>',
        url="https://new.example.net/landing",
        page_url=SOURCE,
    )
    assert verdict.status is Status.NOFOLLOW


def test_challenge_page_without_the_link_is_blocked():
    verdict = check("<title>Just a moment...</title><script>window._cf_chl_opt={}</script>")
    assert (verdict.status, verdict.reason) == (Status.BLOCKED, "bot challenge (cloudflare)")


def test_challenge_markers_never_hide_a_present_link():
    verdict = check('<title>Captcha</title><a href="https://shop.example.com/product">x</a>')
    assert verdict.status is Status.LIVE


def test_non_html_page_is_removed_and_says_what_it_was():
    page = analyze_page(SOURCE, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"})
    verdict = classify_backlink(page, TARGET, SOURCE)
    assert verdict.status is Status.REMOVED
    assert verdict.reason.endswith("(application/pdf)")


def test_truncated_page_says_so_when_the_target_was_not_announced():
    html = "".join(f'<a href="/p{i}">{i}</a>' for i in range(20))
    page = analyze_page(SOURCE, html.encode(), max_links=5)
    verdict = classify_backlink(page, TARGET, SOURCE)
    assert verdict.status is Status.REMOVED
    assert "(only the first 5 of 20 links were read)" in verdict.reason


def test_empty_page_is_removed():
    assert check("").status is Status.REMOVED


def test_meta_refresh_target_is_reported():
    verdict = check('<meta http-equiv="refresh" content="0;url=https://new.example.net/">')
    assert verdict.status is Status.REMOVED
    assert verdict.extra["refresh_url"] == "https://new.example.net/"


def test_bad_target_is_a_caller_error():
    with pytest.raises(ValueError):
        check("<p>x</p>", target="mailto:sales@example.com")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://a.example/x", "https://a.example/x", True),
        ("https://a.example/x", "http://a.example/x", True),
        ("https://a.example/x", "https://www.a.example/x/", True),
        ("https://a.example/x?utm_source=t&id=3", "https://a.example/x?id=3", True),
        ("https://a.example/x?id=3", "https://a.example/x?id=4", False),
        ("https://a.example/x", "https://a.example/y", False),
        ("https://a.example/x", "https://b.example/x", False),
        ("https://a.example:8080/x", "https://a.example/x", False),
    ],
)
def test_same_page(a, b, same):
    assert same_page(a, b) is same


# --- status codes -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 203, 204, 206, 299])
def test_2xx_means_analyse_the_page(status):
    assert classify_http_status(status) is None


def test_304_keeps_the_previous_states():
    result = classify_http_status(304)
    assert result is NOT_MODIFIED and isinstance(result, NotModified)


@pytest.mark.parametrize(
    ("status", "expected", "reason"),
    [
        (404, Status.PAGE_GONE, "HTTP 404"),
        (410, Status.PAGE_GONE, "HTTP 410"),
        (400, Status.PAGE_GONE, "HTTP 400"),
        (402, Status.PAGE_GONE, "HTTP 402"),
        (405, Status.PAGE_GONE, "HTTP 405"),
        (406, Status.PAGE_GONE, "HTTP 406"),
        (409, Status.PAGE_GONE, "HTTP 409"),
        (414, Status.PAGE_GONE, "HTTP 414"),
        (422, Status.PAGE_GONE, "HTTP 422"),
        (401, Status.BLOCKED, "HTTP 401"),
        (403, Status.BLOCKED, "HTTP 403"),
        (999, Status.BLOCKED, "HTTP 999"),
        (451, Status.BLOCKED, "HTTP 451 (unavailable for legal reasons)"),
        (407, Status.ERROR, "HTTP 407"),
        (408, Status.ERROR, "HTTP 408"),
        (425, Status.ERROR, "HTTP 425"),
        (429, Status.ERROR, "HTTP 429"),
        (500, Status.ERROR, "HTTP 500"),
        (502, Status.ERROR, "HTTP 502"),
        (503, Status.ERROR, "HTTP 503"),
        (504, Status.ERROR, "HTTP 504"),
        (520, Status.ERROR, "HTTP 520"),
        (599, Status.ERROR, "HTTP 599"),
        (100, Status.ERROR, "HTTP 100"),
        (300, Status.ERROR, "HTTP 300 redirect not followed"),
        (301, Status.ERROR, "HTTP 301 redirect not followed"),
        (302, Status.ERROR, "HTTP 302 redirect not followed"),
        (307, Status.ERROR, "HTTP 307 redirect not followed"),
        (308, Status.ERROR, "HTTP 308 redirect not followed"),
        (0, Status.ERROR, "HTTP 0 (not a valid status)"),
        (600, Status.ERROR, "HTTP 600 (not a valid status)"),
        (1000, Status.ERROR, "HTTP 1000 (not a valid status)"),
    ],
)
def test_status_mapping(status, expected, reason):
    verdict = classify_http_status(status)
    assert isinstance(verdict, Verdict)
    assert (verdict.status, verdict.reason) == (expected, reason)
    assert verdict.extra["http_status"] == status


def test_retry_after_in_seconds():
    verdict = classify_http_status(429, "120")
    assert verdict.reason == "HTTP 429, retry after 120 s"
    assert verdict.extra["retry_after"] == 120


def test_retry_after_as_a_date():
    verdict = classify_http_status(503, "Wed, 21 Oct 2015 07:28:00 GMT")
    assert verdict.reason == "HTTP 503, retry after Wed, 21 Oct 2015 07:28:00 GMT"
    assert verdict.extra["retry_after_at"] == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize("value", ["soon\r\nX-Evil: 1", "", "  "])
def test_retry_after_garbage_is_not_echoed(value):
    verdict = classify_http_status(503, value)
    assert verdict.reason == "HTTP 503"
    assert "\n" not in str(verdict.extra.get("retry_after", ""))


def test_challenge_header_makes_any_error_status_blocked():
    verdict = classify_http_status(503, headers={"cf-mitigated": ["challenge"]})
    assert (verdict.status, verdict.reason) == (
        Status.BLOCKED,
        "bot challenge (cloudflare), HTTP 503",
    )
    assert classify_http_status(503, headers={"server": "cloudflare"}).status is Status.ERROR


# --- download failures --------------------------------------------------------------------


def raised_from(outer: type[BaseException], inner: BaseException) -> BaseException:
    """``outer`` raised from ``inner``, as Scrapy wraps Twisted's errors."""
    try:
        try:
            raise inner
        except BaseException as cause:
            raise outer(str(cause)) from cause
    except outer as exc:
        return exc


CERT_FAILED = SSL.Error(
    [("SSL routines", "tls_process_server_certificate", "certificate verify failed")]
)
HANDSHAKE_FAILED = SSL.Error([("SSL routines", "", "sslv3 alert handshake failure")])


# The cause names are the shared vocabulary's (linkcrawler.web.outcome): where the backlink
# checker and the site audit disagreed, the stored audit names won (dns -> dns_error,
# refused -> connection_refused, tls -> tls_error, reset -> connection_reset,
# failed -> download_failed, connect -> connect_error, scheme -> unsupported_scheme).
@pytest.mark.parametrize(
    ("failure", "reason", "kind"),
    [
        (tx.DNSLookupError("nowhere.invalid"), "DNS lookup failed", "dns_error"),
        (raised_from(CannotResolveHostError, tx.DNSLookupError("x")), "DNS lookup failed", "dns_error"),
        (socket.gaierror(-2, "Name or service not known"), "DNS lookup failed", "dns_error"),
        (tx.ConnectionRefusedError(), "connection refused", "connection_refused"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused", "connection_refused"),
        (
            raised_from(DownloadConnectionRefusedError, tx.ConnectionRefusedError()),
            "connection refused",
            "connection_refused",
        ),
        (tx.NoRouteError(), "no route to host", "no_route"),
        (tx.TCPTimedOutError(), "connection timed out", "connect_timeout"),
        (
            tx.TimeoutError("Getting x took longer than 180 seconds."),
            "download timed out",
            "timeout",
        ),
        (raised_from(DownloadTimeoutError, tx.TimeoutError()), "download timed out", "timeout"),
        (TimeoutError(), "download timed out", "timeout"),
        (tx.ConnectionLost(), "connection lost", "connection_lost"),
        (tx.ConnectionDone(), "connection lost", "connection_lost"),
        (tx.ConnectionAborted(), "connection lost", "connection_lost"),
        (ResponseFailed([Failure(tx.ConnectionLost())]), "connection lost", "connection_lost"),
        (ConnectionResetError(104, "Connection reset by peer"), "connection reset", "connection_reset"),
        (
            ResponseNeverReceived([Failure(tx.ConnectionDone())]),
            "no response (connection closed)",
            "no_response",
        ),
        (
            raised_from(DownloadFailedError, ResponseNeverReceived([Failure(tx.ConnectionLost())])),
            "no response (connection closed)",
            "no_response",
        ),
        (HANDSHAKE_FAILED, "TLS error", "tls_error"),
        (ResponseNeverReceived([Failure(HANDSHAKE_FAILED)]), "TLS error", "tls_error"),
        (
            raised_from(DownloadFailedError, ResponseNeverReceived([Failure(CERT_FAILED)])),
            "TLS certificate verification failed",
            "tls_certificate",
        ),
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed"),
            "TLS certificate verification failed",
            "tls_certificate",
        ),
        (ssl.SSLError(1, "wrong version number"), "TLS error", "tls_error"),
        (
            service_identity.VerificationError(errors=[]),
            "TLS certificate verification failed",
            "tls_certificate",
        ),
        (tx.SSLError(), "TLS error", "tls_error"),
        (DownloadCancelledError("cancelled"), "download cancelled", "cancelled"),
        (_DataLoss(), "response truncated", "data_loss"),
        (ResponseDataLossError(), "response truncated", "data_loss"),
        (
            raised_from(UnsupportedURLSchemeError, ValueError("ftp")),
            "unsupported URL scheme",
            "unsupported_scheme",
        ),
        (DownloadFailedError("boom"), "download failed", "download_failed"),
        (tx.ConnectError(), "connection failed", "connect_error"),
    ],
)
def test_failure_mapping(failure, reason, kind):
    for given in (failure, Failure(failure)):
        verdict = failure_verdict(given)
        assert (verdict.status, verdict.reason, verdict.extra["failure"]) == (
            Status.ERROR,
            reason,
            kind,
        )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("DNSLookupError", "DNS lookup failed"),
        ("twisted.internet.error.DNSLookupError", "DNS lookup failed"),
        ("twisted.internet.error.ConnectionRefusedError", "connection refused"),
        ("TimeoutError", "download timed out"),
        ("TCPTimedOutError", "connection timed out"),
        ("OpenSSL.SSL.Error", "TLS error"),
        ("twisted.web._newclient.ResponseNeverReceived", "no response (connection closed)"),
        ("ResponseFailed", "download failed"),
        ("SomethingNew", "download failed (SomethingNew)"),
    ],
)
def test_failure_by_class_name(name, reason):
    assert failure_verdict(name).reason == reason


def test_unknown_failure_is_an_error_with_a_clean_message():
    verdict = failure_verdict(RuntimeError("bad\r\nthing\x00here"))
    assert (verdict.status, verdict.reason) == (Status.ERROR, "download failed (RuntimeError)")
    assert verdict.extra["exception"] == "builtins.RuntimeError"
    assert verdict.extra["message"] == "bad thing here"


def test_robots_txt_refusal_is_blocked_not_a_failure():
    verdict = failure_verdict(Failure(IgnoreRequest("Forbidden by robots.txt")))
    assert (verdict.status, verdict.reason) == (Status.BLOCKED, "robots.txt disallows the page")
    assert not verdict.is_failure


def test_robots_txt_refusals_say_what_happened_to_robots_txt():
    # What the robots.txt middleware raises: a robots.txt that answers and
    # forbids is blocked; one whose host does not answer, or that answers 5xx, is
    # the host failing (error, counted towards unreachable).
    forbidden = RobotsDisallowed("http://a.example/p", "robots.txt disallows this page")
    refused = outcome.classify_failure(DownloadConnectionRefusedError("Connection refused"))
    offline = RobotsUnavailable(
        "http://a.example/p", "robots.txt unreachable (connection refused): page not fetched",
        outcome.Failure(refused.kind, refused.cause, "robots.txt unreachable (connection refused): page not fetched"),
    )
    failing = RobotsUnavailable(
        "http://a.example/p", "robots.txt answered HTTP 503: page not fetched for now",
        outcome.Failure(outcome.ErrorKind.ROBOTS_DISALLOWED, outcome.ROBOTS_SERVER_ERROR, "robots.txt answered HTTP 503"),
    )
    assert failure_verdict(Failure(forbidden)).status is Status.BLOCKED
    verdict = failure_verdict(Failure(offline))
    assert (verdict.status, verdict.extra["failure"]) == (Status.ERROR, "connection_refused")
    assert verdict.reason == "robots.txt unreachable (connection refused): page not fetched"
    assert failure_verdict(failing).status is Status.ERROR


def test_page_over_download_maxsize_cannot_be_verified_and_is_no_failure():
    message = ("Expected to receive 300000 bytes which is larger than download max size (100000) "
               "in request <GET http://a.example/big>.")
    verdict = failure_verdict(Failure(DownloadCancelledError(message)))
    assert verdict.status is Status.BLOCKED and not verdict.is_failure
    assert verdict.reason == "cannot be verified: page larger than DOWNLOAD_MAXSIZE (100,000 bytes); it has 300,000 bytes"
    assert apply_failure_policy(verdict, 2, 3) == (Status.BLOCKED, 0)


def test_other_ignored_requests_are_errors():
    assert failure_verdict(IgnoreRequest("refused: private address")).status is Status.ERROR


def test_http_error_is_classified_by_its_status():
    error = HttpError(
        Response("https://blog.example.org/x", status=410), "Ignoring non-200 response"
    )
    verdict = failure_verdict(Failure(error))
    assert (verdict.status, verdict.reason) == (Status.PAGE_GONE, "HTTP 410")


# --- failure policy -------------------------------------------------------------------------


def fold(verdicts: list[Verdict], lost_after: int = 3) -> list[tuple[Status, int]]:
    count, seen = 0, []
    for verdict in verdicts:
        status, count = apply_failure_policy(verdict, count, lost_after)
        seen.append((status, count))
    return seen


ERR = Verdict(Status.ERROR, "DNS lookup failed")
LIVE = Verdict(Status.LIVE, "followed link found")
BLOCKED = Verdict(Status.BLOCKED, "HTTP 403")


def test_errors_become_unreachable_on_the_third_in_a_row():
    assert fold([ERR, ERR, ERR, ERR]) == [
        (Status.ERROR, 1),
        (Status.ERROR, 2),
        (Status.UNREACHABLE, 3),
        (Status.UNREACHABLE, 4),
    ]


def test_any_answer_resets_the_count():
    assert fold([ERR, ERR, LIVE, ERR, ERR]) == [
        (Status.ERROR, 1),
        (Status.ERROR, 2),
        (Status.LIVE, 0),
        (Status.ERROR, 1),
        (Status.ERROR, 2),
    ]


def test_blocked_is_not_a_failure_and_resets_the_count():
    assert fold([ERR, ERR, BLOCKED, ERR]) == [
        (Status.ERROR, 1),
        (Status.ERROR, 2),
        (Status.BLOCKED, 0),
        (Status.ERROR, 1),
    ]


def test_lost_after_is_configurable():
    assert fold([ERR], lost_after=1) == [(Status.UNREACHABLE, 1)]
    assert fold([ERR] * 4, lost_after=5)[-1] == (Status.ERROR, 4)
    with pytest.raises(ValueError):
        apply_failure_policy(ERR, 0, 0)


def test_policy_default_comes_from_the_setting_default():
    assert apply_failure_policy(ERR, 2) == (Status.UNREACHABLE, 3)
    assert apply_failure_policy(ERR, 1) == (Status.ERROR, 2)


def test_a_real_failure_through_the_policy():
    assert apply_failure_policy(failure_verdict(tx.DNSLookupError()), 2, 3) == (
        Status.UNREACHABLE,
        3,
    )
    assert apply_failure_policy(classify_http_status(404), 2, 3) == (Status.PAGE_GONE, 0)


# --- redirect chains -------------------------------------------------------------------------


def test_plain_chain():
    chain = analyze_redirect_chain([("http://a.example/", 301), ("https://a.example/", 200)])
    assert not chain.loop and not chain.too_long and chain.complete
    assert chain.redirects == 1 and chain.final_url == "https://a.example/"
    assert redirect_failure(chain) is None
    assert chain.as_documents() == [
        {"url": "http://a.example/", "status": 301},
        {"url": "https://a.example/", "status": 200},
    ]


def test_loop_is_found_before_following_it_again():
    hops = [("http://a.example/", 301), ("https://a.example/", 302)]
    first = analyze_redirect_chain(hops, next_url="http://a.example/")
    assert not first.should_stop  # a -> b -> a: once round may still end
    second = analyze_redirect_chain(
        [*hops, ("http://a.example/", 301)], next_url="https://a.example/"
    )
    assert second.loop and second.should_stop
    verdict = redirect_failure(second)
    assert verdict.status is Status.ERROR
    assert (
        verdict.reason
        == "redirect loop: http://a.example/ -> https://a.example/ -> http://a.example/"
    )
    assert verdict.is_failure


def test_self_redirect_that_sets_a_cookie_is_not_a_loop():
    chain = analyze_redirect_chain([("https://a.example/p", 302), ("https://a.example/p", 200)])
    assert not chain.loop and redirect_failure(chain) is None
    assert not analyze_redirect_chain(
        [("https://a.example/p", 302)], next_url="https://a.example/p"
    ).loop


def test_self_redirect_twice_is_a_loop():
    chain = analyze_redirect_chain(
        [("https://a.example/p", 302), ("https://a.example/p", 302)], next_url="https://a.example/p"
    )
    assert chain.loop
    assert redirect_failure(chain).reason == "redirect loop: https://a.example/p -> https://a.example/p"


def test_loop_detection_compares_normalized_urls():
    chain = analyze_redirect_chain(
        [
            ("http://A.example:80/x", 301),
            ("https://a.example/y", 301),
            ("http://a.example/x#f", 301),
        ],
        next_url="https://A.EXAMPLE/y",
    )
    assert chain.loop


def test_too_many_redirects():
    hops = [(f"https://a.example/{i}", 301) for i in range(11)]
    chain = analyze_redirect_chain(hops, max_hops=10, next_url="https://a.example/11")
    assert chain.too_long and not chain.loop
    assert redirect_failure(chain).reason == "too many redirects (more than 10)"
    assert redirect_failure(chain).extra["redirect_chain"][0] == {
        "url": "https://a.example/0",
        "status": 301,
    }


def test_ten_redirects_then_a_page_is_fine():
    hops = [(f"https://a.example/{i}", 301) for i in range(10)] + [("https://a.example/end", 200)]
    chain = analyze_redirect_chain(hops, max_hops=10)
    assert not chain.should_stop and redirect_failure(chain) is None


def test_hops_may_be_given_as_redirect_hops():
    chain = analyze_redirect_chain(
        [Hop("https://a.example/", 308), Hop("https://b.example/", 404)]
    )
    assert chain.complete and chain.final_url == "https://b.example/"


def test_redirect_to_a_404_is_page_gone_saying_where():
    chain = analyze_redirect_chain([("https://a.example/old", 301), ("https://a.example/new", 404)])
    verdict = with_redirect_context(classify_http_status(404), chain)
    assert (verdict.status, verdict.reason) == (
        Status.PAGE_GONE,
        "redirects to https://a.example/new, which answers HTTP 404",
    )


def test_redirect_context_leaves_direct_answers_alone():
    chain = analyze_redirect_chain([("https://a.example/old", 404)])
    verdict = classify_http_status(404)
    assert with_redirect_context(verdict, chain) is verdict


def test_a_host_the_address_guard_refuses_is_blocked_with_the_guards_message():
    refused = AddressRefused("http://intranet.example/", "10.0.0.1", "private")
    verdict = failure_verdict(Failure(refused))
    assert (verdict.status, verdict.reason) == (Status.BLOCKED, str(refused))
    assert not verdict.is_failure
    assert "LINKCRAWLER_ALLOWED_NETWORKS" in verdict.reason
