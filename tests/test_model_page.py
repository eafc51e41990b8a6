"""analyze_page: what a page says, read from concrete HTML, without a crawl."""

from __future__ import annotations

import pytest
from scrapy.http import Headers

from linkcrawler.web.challenge import detect_challenge
from linkcrawler.web.headers import normalize_headers, robots_directives
from linkcrawler.web.links import MAX_ANCHOR_CHARS, MAX_LINKS
from linkcrawler.web.page import PageAnalysis, analyze_page

PAGE = "https://blog.example.org/posts/hello"
TARGET = "https://shop.example.com/a-page?x=1&y=2"


def analyze(html: str | bytes, url: str = PAGE, headers=None, **kwargs) -> PageAnalysis:
    body = html.encode("utf-8") if isinstance(html, str) else html
    return analyze_page(url, body, headers, **kwargs)


def urls(page: PageAnalysis) -> list[str]:
    return [link.url for link in page.links]


# --- links ----------------------------------------------------------------------


def test_absolute_and_relative_links_resolve_against_the_page():
    page = analyze(
        '<a href="https://other.example.net/x">a</a>'
        '<a href="/root">b</a><a href="sibling">c</a><a href="../up">d</a><a href="?q=1">e</a>'
    )
    assert urls(page) == [
        "https://other.example.net/x",
        "https://blog.example.org/root",
        "https://blog.example.org/posts/sibling",
        "https://blog.example.org/up",
        "https://blog.example.org/posts/hello?q=1",
    ]


def test_base_href_is_used_and_itself_resolved_against_the_page():
    page = analyze(
        '<html><head><base href="/static/dir/"><base href="https://ignored.example/">'
        '</head><body><a href="file">f</a><a href="/abs">g</a></body></html>'
    )
    assert page.base_url == "https://blog.example.org/static/dir/"
    assert urls(page) == [
        "https://blog.example.org/static/dir/file",
        "https://blog.example.org/abs",
    ]


def test_base_href_that_is_not_http_is_ignored():
    page = analyze('<base href="javascript:void(0)"><a href="x">x</a>')
    assert urls(page) == ["https://blog.example.org/posts/x"]


@pytest.mark.parametrize(
    ("page_url", "expected"),
    [
        ("https://blog.example.org/p", "https://cdn.example.com/lib"),
        ("http://blog.example.org/p", "http://cdn.example.com/lib"),
    ],
)
def test_protocol_relative_links_take_the_page_scheme(page_url, expected):
    assert urls(analyze('<a href="//cdn.example.com/lib">x</a>', url=page_url)) == [expected]


@pytest.mark.parametrize(
    "href",
    [
        "https://shop.example.com/a-page?x=1&y=2",
        "HTTPS://SHOP.EXAMPLE.COM/a-page?x=1&y=2",
        "https://shop.example.com:443/a-page?x=1&y=2",
        "https://shop.example.com/a-page?y=2&x=1",
        "https://shop.example.com/a-page?x=1&y=2#section",
        "https://shop.example.com/a%2Dpage?x=1&y=2",
        "//shop.example.com/a-page?x=1&y=2",
        "  https://shop.example.com/a-page?x=1&y=2\n",
        "https://shop.exa\nmple.com/a-page?x=1&y=2",
    ],
)
def test_spellings_of_the_target_all_match(href):
    page = analyze(f'<p><a href="{href}">go</a></p>')
    assert [link.anchor_text for link in page.links_to(TARGET)] == ["go"]
    assert urls(page) == [TARGET]


@pytest.mark.parametrize(
    "href",
    [
        "https://shop.example.com/a-page?x=1",
        "https://shop.example.com/A-PAGE?x=1&y=2",
        "https://www.shop.example.com/a-page?x=1&y=2",
        "https://shop.example.com:8443/a-page?x=1&y=2",
        "/a-page?x=1&y=2",
    ],
)
def test_other_urls_do_not_match(href):
    assert analyze(f'<a href="{href}">go</a>').links_to(TARGET) == ()


def test_relative_links_match_a_target_on_the_page_host():
    page = analyze('<a href="/about">about</a>')
    assert [link.url for link in page.links_to("https://blog.example.org/about")] == [
        "https://blog.example.org/about"
    ]


def test_percent_encoding_variants_match():
    page = analyze('<a href="https://shop.example.com/caf%c3%a9/%7Euser">x</a>')
    assert page.links_to("https://shop.example.com/café/~user")
    page = analyze('<a href="https://shop.example.com/café">x</a>')
    assert page.links_to("https://shop.example.com/caf%C3%A9")


def test_idn_host_matches_its_punycode():
    page = analyze('<a href="https://bücher.example/">x</a>')
    assert page.links_to("https://xn--bcher-kva.example/")


def test_non_http_hrefs_are_skipped_but_javascript_is_recorded():
    page = analyze(
        '<a href="mailto:me@example.com">m</a><a href="tel:+331">t</a>'
        '<a href="data:text/html,hi">d</a><a href="ftp://files.example.com/">f</a>'
        "<a href=\"JavaScript:open('https://shop.example.com/')\">j</a><a>no href</a>"
        '<a href="https://ok.example.com/">ok</a>'
    )
    assert urls(page) == ["https://ok.example.com/"]
    assert page.link_count == 1
    assert page.javascript_urls == ("JavaScript:open('https://shop.example.com/')",)


def test_area_links_are_links_with_their_alt_as_text():
    page = analyze(
        '<img usemap="#m"><map name="m"><area href="https://shop.example.com/" alt="Shop"></map>'
    )
    [link] = page.links
    assert (link.url, link.tag, link.anchor_text) == ("https://shop.example.com/", "area", "Shop")


def test_rel_tokens_are_lower_cased_split_and_deduplicated():
    page = analyze('<a href="/x" rel="  NoFollow\tUGC  nofollow noopener ">x</a><a href="/y">y</a>')
    first, second = page.links
    assert first.rel == ("nofollow", "ugc", "noopener")
    assert first.not_followed_by == ("nofollow", "ugc")
    assert not first.followed
    assert second.rel == () and second.followed


@pytest.mark.parametrize(
    ("rel", "followed"),
    [("sponsored", False), ("ugc sponsored", False), ("noopener noreferrer", True), ("", True)],
)
def test_followed(rel, followed):
    [link] = analyze(f'<a href="/x" rel="{rel}">x</a>').links
    assert link.followed is followed


# --- anchor text ------------------------------------------------------------------


def test_anchor_text_is_whitespace_normalized_with_nested_elements():
    [link] = analyze('<a href="/x">\n  Best   <b>shoes</b>\tin <span>town</span>  </a>').links
    assert link.anchor_text == "Best shoes in town"


def test_image_link_reports_the_alt_text():
    [link] = analyze('<a href="/x"> <img src="logo.png" alt=" Example  Shop "> </a>').links
    assert link.anchor_text == "Example Shop"


def test_text_wins_over_alt_and_empty_links_fall_back_to_aria_label():
    text_link, labelled = analyze(
        '<a href="/x"><img alt="logo"> Shop</a><a href="/y" aria-label="Go home"></a>'
    ).links
    assert text_link.anchor_text == "Shop"
    assert labelled.anchor_text == "Go home"


def test_control_characters_do_not_reach_anchor_texts():
    [link] = analyze('<a href="/x">evil\x1b[31m\x07 text\x85</a>').links
    assert link.anchor_text == "evil [31m text"


def test_anchor_text_is_capped():
    [link] = analyze(f'<a href="/x">{"word " * 1000}</a>').links
    assert len(link.anchor_text) == MAX_ANCHOR_CHARS


def test_non_ascii_anchor_text_from_a_declared_charset():
    body = '<a href="/x">Crème brûlée à Zürich</a>'.encode("cp1252")
    page = analyze_page(PAGE, body, {"Content-Type": "text/html; charset=windows-1252"})
    assert page.links[0].anchor_text == "Crème brûlée à Zürich"
    assert page.encoding == "cp1252"


def test_charset_from_meta_and_from_the_bom():
    body = '<meta charset="iso-8859-15"><a href="/x">€uro</a>'.encode("iso-8859-15")
    assert analyze_page(PAGE, body).links[0].anchor_text == "€uro"
    body = "\ufeff<a href='/x'>日本語</a>".encode("utf-16-le")
    body = b"\xff\xfe" + body[2:]
    assert analyze_page(PAGE, body).links[0].anchor_text == "日本語"


def test_scrapy_decoded_text_and_encoding_are_taken_as_they_are():
    page = analyze_page(PAGE, '<a href="/x">naïve</a>', None, "cp1252")
    assert page.links[0].anchor_text == "naïve"
    assert page.encoding == "cp1252"


@pytest.mark.parametrize(
    ("content_type", "hint"),
    [
        ("text/html; charset=rot13", None),
        ("text/html; charset=no-such-charset", None),
        ("text/html", "bogus"),
        ("text/html", "rot13"),
        ("text/html; charset=utf-8", None),  # but the bytes are not UTF-8
    ],
)
def test_wrong_or_unknown_charsets_never_crash(content_type, hint):
    body = '<meta charset="rot13"><a href="/x">caf\xe9</a>'.encode("latin-1")
    page = analyze_page(PAGE, body, {"Content-Type": content_type}, hint)
    assert urls(page) == ["https://blog.example.org/x"]
    assert page.links[0].anchor_text.startswith("caf")


def test_xml_declaration_with_an_encoding_is_fine_as_bytes_and_as_text():
    html = '<?xml version="1.0" encoding="iso-8859-1"?><html><body><a href="/x">é</a></body></html>'
    assert analyze_page(PAGE, html.encode("iso-8859-1")).links[0].anchor_text == "é"
    assert analyze_page(PAGE, html).links[0].anchor_text == "é"


# --- robots signals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "noindex", "nofollow"),
    [
        ('<meta name="robots" content="noindex">', True, False),
        ('<meta name="ROBOTS" content="NoIndex, Follow">', True, False),
        ('<meta name="robots" content="noindex nofollow">', True, True),
        ('<meta name="robots" content="none">', True, True),
        ('<meta name="googlebot" content="noindex">', True, False),
        ('<meta name="Googlebot" content="nofollow">', False, True),
        ('<meta name="robots" content="index, follow">', False, False),
        ('<meta name="robots" content="noarchive, max-snippet:20">', False, False),
        ('<meta name="bingbot" content="noindex, nofollow">', False, False),
        ('<meta name="googlebot-news" content="noindex">', False, False),
        ('<meta property="robots" content="noindex">', False, False),
        ("", False, False),
    ],
)
def test_meta_robots(meta, noindex, nofollow):
    page = analyze(f"<html><head>{meta}</head><body><a href='/x'>x</a></body></html>")
    assert (page.noindex, page.nofollow) == (noindex, nofollow)


def test_meta_robots_in_the_body_still_counts_and_sources_are_named():
    page = analyze(
        '<body><meta name="googlebot" content="noindex"><meta name="robots" content="noindex">'
    )
    assert page.noindex_sources == ("meta googlebot", "meta robots")


@pytest.mark.parametrize(
    ("values", "noindex", "nofollow"),
    [
        (["noindex"], True, False),
        (["NoIndex, NoFollow"], True, True),
        (["none"], True, True),
        (["googlebot: noindex"], True, False),
        (["GoogleBot:noindex, nofollow"], True, True),
        (["all", "noindex"], True, False),
        (["unavailable_after: 25 Jun 2010 15:00:00 PST, noindex"], True, False),
        (["max-snippet: 20, noarchive"], False, False),
        (["bingbot: noindex"], False, False),
        (["otherbot: noindex, nofollow"], False, False),
        (["otherbot: noindex", "googlebot: nofollow"], False, True),
        (["noarchive, nosnippet"], False, False),
    ],
)
def test_x_robots_tag_header(values, noindex, nofollow):
    page = analyze("<a href='/x'>x</a>", headers={"X-Robots-Tag": values})
    assert (page.noindex, page.nofollow) == (noindex, nofollow)
    if noindex:
        assert page.noindex_sources == ("X-Robots-Tag",)


def test_x_robots_tag_from_scrapy_headers_with_bytes():
    headers = Headers({"X-Robots-Tag": [b"googlebot: noindex", b"bingbot: nofollow"]})
    page = analyze("<p>x</p>", headers=headers)
    assert page.noindex and not page.nofollow


def test_robots_directives_scopes():
    assert robots_directives(["googlebot: noindex, nofollow", "otherbot: noarchive"]) == {
        "noindex",
        "nofollow",
    }
    assert robots_directives(["bingbot: noindex"], agents=frozenset({"bingbot"})) == {"noindex"}


def test_noindex_header_holds_on_an_empty_body():
    page = analyze(b"", headers={"x-robots-tag": "noindex"})
    assert page.noindex and page.links == ()


# --- canonical ------------------------------------------------------------------------


def test_canonical_from_html_head_resolved_and_normalized():
    page = analyze('<html><head><link rel="Canonical" href="/posts/Hello#top"></head></html>')
    assert page.canonical == "https://blog.example.org/posts/Hello"


def test_canonical_from_the_link_header():
    headers = {
        "Link": '<https://cdn.example.org/style.css>; rel="preload", '
        '<https://blog.example.org/posts/main?b=2&a=1>; rel="canonical"'
    }
    assert analyze("<p>x</p>", headers=headers).canonical == (
        "https://blog.example.org/posts/main?a=1&b=2"
    )


def test_relative_canonical_in_the_link_header():
    page = analyze("<p>x</p>", headers={"link": "</other>; rel=canonical"})
    assert page.canonical == "https://blog.example.org/other"


def test_same_canonical_in_header_and_html_is_one_canonical():
    page = analyze(
        '<head><link rel="canonical" href="https://blog.example.org/c"></head>',
        headers={"Link": "<https://blog.example.org/c>; rel=canonical"},
    )
    assert page.canonicals == ("https://blog.example.org/c",)
    assert page.canonical == "https://blog.example.org/c"


def test_conflicting_canonicals_are_ignored():
    page = analyze('<head><link rel="canonical" href="/a"><link rel="canonical" href="/b"></head>')
    assert page.canonicals == ("https://blog.example.org/a", "https://blog.example.org/b")
    assert page.canonical is None


def test_canonical_in_the_body_is_ignored():
    page = analyze(
        '<html><head></head><body><link rel="canonical" href="/elsewhere"></body></html>'
    )
    assert page.canonical is None


# --- meta refresh ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "delay", "url"),
    [
        ("0; url=/new", 0.0, "https://blog.example.org/new"),
        ("5;URL='https://other.example.com/x'", 5.0, "https://other.example.com/x"),
        ("3, url=/y", 3.0, "https://blog.example.org/y"),
        ("10", None, None),
    ],
)
def test_meta_refresh(content, delay, url):
    page = analyze(f'<head><meta http-equiv="Refresh" content="{content}"></head>')
    assert (page.refresh_delay, page.refresh_url) == (delay, url)


def test_refresh_header():
    page = analyze("<p>x</p>", headers={"Refresh": "0;url=https://other.example.com/"})
    assert page.refresh_url == "https://other.example.com/"


# --- where a URL appears without a link ---------------------------------------------------


@pytest.mark.parametrize(
    ("html", "places"),
    [
        ("<script>var u = 'https://shop.example.com/a-page?x=1&y=2';</script>", ("script",)),
        (
            '<script type="application/ld+json">{"url":"https:\\/\\/shop.example.com\\/a-page?x=1&y=2"}</script>',
            ("script",),
        ),
        (
            "<button onclick=\"window.open('https://shop.example.com/a-page?x=1&amp;y=2')\">go</button>",
            ("handler",),
        ),
        (
            "<a href=\"javascript:location='//shop.example.com/a-page?x=1&amp;y=2'\">go</a>",
            ("javascript_url",),
        ),
        (
            "<p>x</p><!-- <a href='https://shop.example.com/a-page?x=1&y=2'>old</a> -->",
            ("comment",),
        ),
        ("<p>Visit shop.example.com/a-page?x=1&amp;y=2 today.</p>", ("text",)),
        ("<p>Visit SHOP.EXAMPLE.COM/a-page?x=1&amp;y=2.</p>", ("text",)),
        (
            "<script>a='https://shop.example.com/a-page?x=1&y=2'</script><p>shop.example.com/a-page?x=1&amp;y=2</p>",
            ("script", "text"),
        ),
        ("<p>shop.example.com/a-page?x=1&amp;y=2&amp;z=3</p>", ()),
        ("<p>shop.example.com/a-page/2?x=1&amp;y=2</p>", ()),
        ("<p>myshop.example.com/a-page?x=1&amp;y=2</p>", ()),
        ("<p>nothing here</p>", ()),
    ],
)
def test_mentions(html, places):
    assert analyze(html).mentions(TARGET) == places


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Our friends at shop.example.com are great.", True),
        ("See https://www.shop.example.com", True),
        ("See http://shop.example.com/", True),
        ("Mail sales@shop.example.com", False),
        ("See shop.example.com.au", False),
        ("See shop.example.com/other", False),
    ],
)
def test_mentions_of_a_home_page(text, found):
    page = analyze(f"<p>{text}</p>")
    assert (page.mentions("https://shop.example.com/") == ("text",)) is found


def test_plain_text_page_is_not_html_but_its_text_is_searched():
    page = analyze(
        b"see https://shop.example.com/a-page?x=1&y=2",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert not page.is_html and page.content_type == "text/plain"
    assert page.links == ()
    assert page.mentions(TARGET) == ("text",)


# --- bot challenges -------------------------------------------------------------------------


CLOUDFLARE = """<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>
<div id="challenge-body-text">Checking your browser</div>
<script>(function(){window._cf_chl_opt={cvId: '3'};})();</script></body></html>"""


@pytest.mark.parametrize(
    ("html", "headers", "vendor"),
    [
        (CLOUDFLARE, None, "cloudflare"),
        ("<p>blocked</p>", {"cf-mitigated": "challenge"}, "cloudflare"),
        (
            "<title>Attention Required! | Cloudflare</title><p>Sorry, you have been blocked</p>",
            None,
            "cloudflare",
        ),
        ("<p>x</p>", {"x-amzn-waf-action": "captcha"}, "aws-waf"),
        (
            "<title>Access Denied</title><h1>Access Denied</h1>Reference #18.1 "
            "<p>https://errors.edgesuite.net/18.1</p>",
            None,
            "akamai",
        ),
        (
            '<title>Access to this page has been denied</title><div id="px-captcha"></div>',
            None,
            "perimeterx",
        ),
        (
            '<iframe src="https://geo.captcha-delivery.com/captcha/?initialCid=x"></iframe>',
            None,
            "datadome",
        ),
        ("<p>Request unsuccessful. Incapsula incident ID: 1-2</p>", None, "imperva"),
        ("<title>Sucuri WebSite Firewall - Access Denied</title>", None, "sucuri"),
        ("<title>Are you a robot?</title><form>...</form>", None, "captcha"),
        ("<title>Captcha</title>", None, "captcha"),
    ],
)
def test_challenges_are_recognised(html, headers, vendor):
    assert analyze(html, headers=headers).challenge == vendor


@pytest.mark.parametrize(
    "html",
    [
        # Cloudflare's detection script sits on ordinary pages.
        '<title>My blog</title><a href="/a">a</a>'
        '<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>',
        '<title>Contact</title><script src="https://js.datadome.co/tags.js"></script>',
        "<title>A recipe</title><p>Bake for just a moment longer.</p>",
        # A real page that quotes a marker: too many links to be a challenge.
        "<title>Scraping tips</title><pre>window._cf_chl_opt</pre>"
        + "".join(f'<a href="/p{i}">p</a>' for i in range(30)),
    ],
)
def test_ordinary_pages_are_not_challenges(html):
    assert analyze(html).challenge is None


def test_detect_challenge_takes_plain_values():
    assert detect_challenge({"CF-Mitigated": ["challenge"]}, "") == "cloudflare"
    assert detect_challenge(None, "", "Just a moment...") == "cloudflare"
    assert detect_challenge(None, "<p>hello</p>", "Hello") is None


# --- robustness ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \n\t ", b"\x00\x00\x00", b""])
def test_empty_bodies(body):
    page = analyze(body)
    assert page.links == () and not page.noindex and page.canonical is None
    assert page.mentions(TARGET) == ()
    assert page.url == PAGE


def test_nul_bytes_do_not_hide_links():
    page = analyze(b'<p>a\x00b</p><a href="https://shop.example.com/a-page?y=2&x=1">s\x00hop</a>')
    assert [link.anchor_text for link in page.links_to(TARGET)] == ["shop"]


def test_malformed_html():
    html = (
        "<html><head><title>t</title></head><body><div><p>unclosed <b>bold <i>both"
        "</div></div></span><a href=https://shop.example.com/a-page?x=1&y=2 rel=nofollow>go"
        "<a href='/second'>second</a><table><tr><td><a href=\"/cell\">cell</a></table>"
        '<a href="/broken attr="x">broken</a>'
    )
    page = analyze(html)
    assert [link.rel for link in page.links_to(TARGET)] == [("nofollow",)]
    assert "https://blog.example.org/second" in urls(page)
    assert "https://blog.example.org/cell" in urls(page)


def test_nesting_libxml2_gives_up_on_is_read_by_a_scan():
    html = (
        '<head><meta name="robots" content="nofollow"></head><a href="/before">b</a>'
        + "<font><b>" * 2000
        + '<a href="https://shop.example.com/a-page?x=1&amp;y=2" rel="UGC">deep &amp; <i>far</i></a>'
        + "<!-- <a href='/commented'>c</a> --><script>'<a href=\"/scripted\">s</a>'</script>"
        + '<area href="/map" alt="Map"><a href=\'/after\'><img alt="After"></a>'
        + "<p>shop.example.com/other</p>"
    )
    page = analyze(html)
    assert not page.parsed_fully
    assert page.nofollow
    assert [(link.url, link.rel, link.anchor_text, link.tag) for link in page.links] == [
        ("https://blog.example.org/before", (), "b", "a"),
        (TARGET, ("ugc",), "deep & far", "a"),
        ("https://blog.example.org/map", (), "Map", "area"),
        ("https://blog.example.org/after", (), "After", "a"),
    ]
    assert page.mentions("https://shop.example.com/other") == ("text",)


def test_nesting_lxml_handles_is_parsed_normally():
    html = (
        "<div>" * 1500
        + '<a href="https://shop.example.com/a-page?x=1&y=2">deep</a>'
        + "</div>" * 1500
    )
    page = analyze(html)
    assert page.parsed_fully and page.links_to(TARGET)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 https://shop.example.com/a-page?x=1&y=2", "application/pdf"),
        (b"%PDF-1.7\n binary \x00\x01", ""),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\x00\x01\x02\x03", "application/octet-stream"),
    ],
)
def test_binary_bodies_are_not_parsed(body, content_type):
    page = analyze(body, headers={"Content-Type": content_type} if content_type else None)
    assert not page.is_html
    assert page.links == () and page.mentions(TARGET) == ()


def test_page_url_that_cannot_be_normalized_is_kept():
    page = analyze('<a href="https://shop.example.com/">x</a>', url="about:blank")
    assert page.url == "about:blank"
    assert urls(page) == ["https://shop.example.com/"]


def test_huge_page_keeps_the_first_links_and_says_so():
    links = "".join(f'<a href="/p{i}">{i}</a>' for i in range(MAX_LINKS + 2000))
    html = links + '<a href="https://shop.example.com/a-page?x=1&y=2">late</a>'
    page = analyze(html)
    assert page.link_count == MAX_LINKS + 2001
    assert page.links_truncated
    assert len(page.links) == MAX_LINKS
    assert page.links[-1].url == f"https://blog.example.org/p{MAX_LINKS - 1}"
    assert page.links_to(TARGET) == ()

    # A link to a target the caller announced is kept past the cap.
    page = analyze(html, targets=[TARGET])
    assert [link.anchor_text for link in page.links_to(TARGET)] == ["late"]
    assert "shop.example.com" in page.tracked_hosts


def test_max_links_is_adjustable():
    page = analyze("".join(f'<a href="/p{i}">{i}</a>' for i in range(10)), max_links=3)
    assert len(page.links) == 3 and page.link_count == 10 and page.links_truncated


def test_links_to_refuses_a_target_that_is_not_http():
    with pytest.raises(ValueError):
        analyze("<a href='/x'>x</a>").links_to("mailto:someone@example.com")


# --- headers ---------------------------------------------------------------------------------


def test_normalize_headers_accepts_every_usual_shape():
    expected = {"content-type": ["text/html"], "x-robots-tag": ["noindex", "nofollow"]}
    assert (
        normalize_headers({"Content-Type": "text/html", "X-Robots-Tag": ["noindex", "nofollow"]})
        == expected
    )
    assert (
        normalize_headers(
            [
                ("Content-Type", "text/html"),
                ("x-robots-tag", "noindex"),
                ("X-Robots-Tag", "nofollow"),
            ]
        )
        == expected
    )
    assert (
        normalize_headers(
            Headers({"Content-Type": "text/html", "X-Robots-Tag": ["noindex", "nofollow"]})
        )
        == expected
    )
    assert (
        normalize_headers(
            {b"Content-Type": b"text/html", b"X-Robots-Tag": [b"noindex", b"nofollow"]}
        )
        == expected
    )
    assert normalize_headers(None) == {}


def test_title_is_read_and_squashed():
    assert analyze("<html><head><title>\n  A   title </title></head></html>").title == "A title"


# --- markup after </html> ------------------------------------------------------------------


def test_link_after_the_end_of_the_document_is_found_as_a_browser_finds_it():
    html = (
        '<html><head><title>t</title></head><body><a href="/in">in</a></body></html>'
        '<a href="https://target.example/x">x</a>'
    )
    page = analyze(html)
    assert urls(page) == ["https://blog.example.org/in", "https://target.example/x"]
    assert page.links_to("https://target.example/x")[0].anchor_text == "x"
    assert page.content_after_end and page.parsed_fully

    from linkcrawler.backlinks.status import Status
    from linkcrawler.backlinks.verdict import classify_backlink

    verdict = classify_backlink(page, "https://target.example/x", PAGE)
    assert verdict.status is Status.LIVE


def test_injected_footer_after_a_full_document_keeps_its_links_and_text():
    html = (
        "<HTML><BODY><p>page</p></BODY></HTML>\n<!-- cache -->\n"
        '<div class="footer"><a href="https://target.example/y" rel="sponsored">y</a> '
        "see target.example/z</div></body></html>"
    )
    page = analyze(html)
    assert [(link.url, link.rel) for link in page.links] == [("https://target.example/y", ("sponsored",))]
    assert page.mentions("https://target.example/z") == ("text",)


def test_only_comments_after_the_end_need_no_rewrite():
    page = analyze('<html><body><a href="/in">in</a></body></html>\n<!-- generated in 0.1 s -->\n')
    assert urls(page) == ["https://blog.example.org/in"] and not page.content_after_end


# --- the link cap -------------------------------------------------------------------------------


def test_a_table_of_contents_with_14000_links_keeps_them_all():
    rows = "".join(f'<li><a href="/docs/s{i}.html">Section {i}</a></li>' for i in range(14_000))
    page = analyze(f"<html><body><ol>{rows}</ol></body></html>")
    assert len(page.links) == 14_000 and page.link_count == 14_000
    assert not page.links_truncated
    assert page.links[-1].url == "https://blog.example.org/docs/s13999.html"


def test_the_cap_counts_distinct_hrefs_and_repeats_of_kept_ones_stay():
    nav = '<a href="/home">home</a><a href="/about" rel="nofollow">about</a>'
    html = nav * 50 + "".join(f'<a href="/p{i}">{i}</a>' for i in range(3)) + nav
    page = analyze(html, max_links=5)
    assert page.link_count == 105 and page.distinct_link_count == 5
    assert not page.links_truncated and len(page.links) == 105


def test_a_page_over_the_cap_reports_the_truncation_with_its_counts():
    html = '<a href="/same">s</a>' * 10 + "".join(f'<a href="/p{i}">{i}</a>' for i in range(8))
    page = analyze(html, max_links=4)
    assert page.links_truncated
    assert (page.link_count, page.distinct_link_count) == (18, 9)
    assert [link.href for link in page.links] == ["/same"] * 10 + ["/p0", "/p1", "/p2"]
