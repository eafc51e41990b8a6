"""The toxic audit's signals, on pages read the way the backlinks spider reads them."""

from __future__ import annotations

import pytest

from linkcrawler.exceptions import ConfigurationError
from linkcrawler.toxicity.page import PageFacts, identify_language, page_facts, poison_counts
from linkcrawler.toxicity.score import AnchorProfile, LinkFacts, Network, anchor_profile, assess_domain
from linkcrawler.toxicity.signals import DEFAULT_WEIGHTS, Rules, domain_shape, name_signals, page_signals
from linkcrawler.web.links import hidden_from_readers
from linkcrawler.web.page import analyze_page

OUR = "https://our.example/product"
RULES = Rules.build(money_terms=["cheap running shoes", "best running shoes"])

PROSE = (
    "We tested twelve pairs over three months of road and trail running. The cushioning, the grip on wet "
    "stones and the way the upper held up after two hundred kilometres decided our ranking. Our editors "
    "ran in each pair at least five times, kept notes on blisters and comfort, and compared prices from "
    "several shops before writing this review. The lighter models suited short tempo runs, while the "
    "heavier ones were kinder on long weekend outings. We also asked readers which shoes lasted longest. "
)


def html(body: str, head: str = "", title: str = "Running notes") -> bytes:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>".encode()


def facts(body: str, head: str = "", url: str = "https://blog.example.org/post", title: str = "Running notes",
          target: str = OUR) -> PageFacts:
    page = analyze_page(url, html(body, head, title), {"Content-Type": "text/html"}, targets=[target])
    found = page_facts(url, page, [target])  # what the spider stores
    identify_language(found)  # what the audit adds
    return found


def fired(page: PageFacts, rules: Rules = RULES) -> set[str]:
    return {signal.name for signal in page_signals(page, rules)}


def link(text: str = "this review", attrs: str = "") -> str:
    return f'<a href="{OUR}"{attrs}>{text}</a>'


BENIGN = f"<article><p>{PROSE}</p><p>{PROSE}</p><p>See {link()} for the long version.</p></article>"


def test_a_benign_page_fires_nothing() -> None:
    page = facts(BENIGN)
    assert page.language == "en" and page.text_words > 100
    assert fired(page) == set()


@pytest.mark.parametrize("markup, how", [
    ('<div style="display:none">{link}</div>', "display:none on an enclosing <div>"),
    ('<p>{link_hidden}</p>', "visibility:hidden"),
    ('<span style="font-size:0px">{link}</span>', "font-size:0 on an enclosing <span>"),
    ('<div style="position:absolute; left:-9999px">{link}</div>', "off-screen (left:-9999px) on an enclosing <div>"),
    ('<div style="height: 0; overflow: hidden">{link}</div>', "height:0 on an enclosing <div>"),
    ('<section hidden><p>{link}</p></section>', "hidden attribute on an enclosing <section>"),
    ('<p style="text-indent:-100em">{link}</p>', "off-screen (text-indent:-100em) on an enclosing <p>"),
])
def test_hidden_link_fires_on_each_way_of_hiding(markup: str, how: str) -> None:
    body = f"<p>{PROSE}</p>" + markup.format(link=link(), link_hidden=link(attrs=' style="visibility: hidden"'))
    page = facts(body)
    assert page.hidden_links == [{"url": OUR, "how": how}]
    assert "hidden_link" in fired(page)


def test_visible_links_and_hidden_links_to_others_are_not_hidden_links() -> None:
    body = (f"<p>{PROSE}</p><p style='left:-20px;position:relative'>{link()}</p>"
            '<div style="display:none"><a href="https://else.example/">elsewhere</a></div>'
            '<div style="display: block; visibility: visible">' + link("again") + "</div>")
    page = facts(body)
    assert page.hidden_links == []
    assert "hidden_link" not in fired(page)


def test_hidden_from_readers_reads_inline_style_only() -> None:
    from lxml import etree

    root = etree.fromstring('<div class="hidden"><a href="x" style="opacity: 0 !important">x</a></div>',
                            etree.HTMLParser())
    anchor = root.find(".//a")
    assert hidden_from_readers(anchor) == "opacity:0"
    root = etree.fromstring('<div class="hidden"><a href="x" style="color:red">x</a></div>', etree.HTMLParser())
    assert hidden_from_readers(root.find(".//a")) is None  # a stylesheet class is not read


def test_poison_words_need_frequency_not_one_mention() -> None:
    news = facts(f"<p>{PROSE} The city council debated a new casino licence on Tuesday.</p><p>{PROSE}</p>"
                 f"<p>{link()}</p>")
    assert news.poison == {"casino": 1}
    assert "poison_words" not in fired(news)
    spam = facts("<h1>Online casino bonus</h1><p>Play slots and roulette at the best online casino. "
                 "Free spins every day, jackpot guaranteed. Casino games for everyone.</p>" + link(),
                 title="Casino")
    assert sum(spam.poison.values()) >= 6
    assert "poison_words" in fired(spam)


def test_poison_words_match_whole_words() -> None:
    assert poison_counts("Spills and occasional caskets, escorted tours, pokerface") == {}
    assert poison_counts("Buy PILLS, cheap Payday\n Loans") == {"pills": 1, "payday loans": 1}


def test_link_farm_and_many_outbound_links() -> None:
    farm_links = "\n".join(f'<li><a href="https://site{i}.net/">Site {i}</a></li>' for i in range(120))
    farm = facts(f"<p>{PROSE}</p><ul>{farm_links}</ul>{link()}")
    assert farm.outbound_domains == 121
    assert "link_farm" in fired(farm) and "many_outbound_links" not in fired(farm)
    some = "\n".join(f'<a href="https://shop{i}.com/">shop {i}</a>' for i in range(45))
    resources = facts(f"<p>{PROSE}</p><p>{PROSE}</p>{some}{link()}")
    assert fired(resources) == {"many_outbound_links"}
    # Links within the page's own domain are not outbound.
    own = "\n".join(f'<a href="https://www.example.org/p{i}">p{i}</a>' for i in range(200))
    blog = facts(f"<p>{PROSE}</p><p>{PROSE}</p>{own}{link()}")
    assert blog.outbound_domains == 1 and fired(blog) == set()


def test_foreign_language_uses_the_site_languages() -> None:
    german = ("Wir haben zwölf Paar Laufschuhe drei Monate lang auf Straße und Waldwegen getestet. Die Dämpfung, "
              "der Grip auf nassen Steinen und die Haltbarkeit nach zweihundert Kilometern entschieden über die "
              "Rangliste. Unsere Redakteure sind jedes Paar mindestens fünfmal gelaufen und haben Notizen gemacht. ")
    page = facts(f"<p>{german * 2}</p><p>{link('Laufschuhe')}</p>")
    assert page.language == "de"
    assert "foreign_language" in fired(page)
    assert "foreign_language" not in fired(page, Rules.build(languages=["en", "de"]))
    assert "foreign_language" not in fired(facts(BENIGN))


def test_thin_content_counts_the_pages_own_words() -> None:
    directory = "\n".join(f'<a href="https://www.example.org/c{i}">Category number {i} listing page</a>'
                          for i in range(40))
    page = facts(f"<p>Submit your site.</p>{directory}{link()}")
    assert page.words > 100 and page.text_words < 100
    assert "thin_content" in fired(page)
    assert "thin_content" not in fired(facts(BENIGN))


def test_noindex() -> None:
    page = facts(BENIGN, head='<meta name="robots" content="noindex,follow">')
    assert fired(page) == {"noindex"}


def test_exact_match_anchor_and_over_optimisation() -> None:
    links = [LinkFacts("https://a.example/1", "Cheap  Running Shoes"), LinkFacts("https://a.example/2", "our shop")]
    page = {"https://a.example/1": facts(BENIGN, url="https://a.example/1")}
    calm = assess_domain("a.example", links, page, RULES, AnchorProfile(anchored=100, exact_match=5))
    assert [s.name for s in calm.signals] == ["exact_match_anchor"]
    assert "'cheap running shoes'" in calm.signals[0].evidence
    heavy = assess_domain("a.example", links, page, RULES, AnchorProfile(anchored=100, exact_match=30))
    assert {s.name for s in heavy.signals} == {"exact_match_anchor", "anchor_over_optimisation"}
    assert heavy.score > calm.score
    neutral = assess_domain("a.example", [LinkFacts("https://a.example/1", "their review")], page, RULES,
                            AnchorProfile(anchored=100, exact_match=30))
    assert neutral.signals == []


def test_anchor_profile_share() -> None:
    profile = anchor_profile(["cheap running shoes", "Best running shoes", "brand", None, "", "brand"] * 3, RULES)
    assert (profile.anchored, profile.exact_match) == (12, 6)
    assert profile.over_optimised
    assert not anchor_profile(["cheap running shoes"] * 5, RULES).over_optimised  # too few links to judge


def test_domain_name_signals() -> None:
    assert {s.name for s in name_signals("cheap-pills-4-u.xyz", RULES)} == {"abused_tld", "domain_shape"}
    assert domain_shape("best-seo-links-2024.com") == "4 digits, 3 hyphens"
    assert domain_shape("averyveryverylongdomainnamehere.com") == "31 characters"
    assert name_signals("nytimes.com", RULES) == []
    assert name_signals("bbc.co.uk", RULES) == []
    assert name_signals("127.0.0.1", RULES) == []


def test_sitewide_network_authority_and_import_toxicity() -> None:
    many = [LinkFacts(f"https://blogroll.example/p{i}", "friend", authority=5, import_toxicity=70) for i in range(12)]
    result = assess_domain("blogroll.example", many, {}, RULES,
                           network=Network("203.0.113.0/24", ("a.example", "b.example")))
    names = {s.name for s in result.signals}
    assert names == {"sitewide_links", "link_network", "low_authority", "import_toxicity"}
    assert result.unchecked_pages and result.checked_pages == 0
    assert result.score == 10 + 30 + 10 + 25 and result.verdict == "toxic"
    few = [LinkFacts("https://fine.example/p", "friend", authority=55, import_toxicity=20)]
    alone = assess_domain("fine.example", few, {}, RULES, network=Network("203.0.113.0/24", ("a.example",)))
    assert alone.signals == [] and alone.verdict == "ok"  # two domains on a /24 are no network


def test_roll_up_counts_each_page_signal_once_and_caps_at_100() -> None:
    spam_body = ('<div style="display:none">' + link() + "</div><p>casino slots roulette jackpot casino</p>")
    pages = {f"https://spam.xyz/{i}": facts(spam_body, url=f"https://spam.xyz/{i}") for i in range(3)}
    pages["https://spam.xyz/ok"] = facts(BENIGN, url="https://spam.xyz/ok")
    links = [LinkFacts(url, "cheap running shoes") for url in pages] + [LinkFacts("https://spam.xyz/never", None)]
    result = assess_domain("spam.xyz", links, pages, RULES)
    names = [s.name for s in result.signals]
    assert len(names) == len(set(names))
    assert "fires on 3 of 4 checked pages" in next(s for s in result.signals if s.name == "hidden_link").evidence
    assert result.score == 100 and result.verdict == "toxic"
    assert result.unchecked_pages == ["https://spam.xyz/never"] and result.checked_pages == 4


def test_verdict_thresholds_and_weights_are_configurable() -> None:
    rules = Rules.build(weights='{"noindex": 45}', review_at=20, toxic_at=40)
    page = facts(BENIGN, head='<meta name="robots" content="noindex">')
    result = assess_domain("x.example", [LinkFacts(page.url)], {page.url: page}, rules)
    assert (result.score, result.verdict) == (45, "toxic")
    off = assess_domain("x.example", [LinkFacts(page.url)], {page.url: page}, Rules.build(weights={"noindex": 0}))
    assert off.signals == [] and off.verdict == "ok"
    assert Rules.build().verdict(29) == "ok" and Rules.build().verdict(30) == "review"
    assert Rules.build().verdict(60) == "toxic"
    with pytest.raises(ConfigurationError, match="unknown signal 'hiden_link'"):
        Rules.build(weights={"hiden_link": 3})
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        Rules.build(weights="{nope")
    assert set(DEFAULT_WEIGHTS) >= {"hidden_link", "link_network", "anchor_over_optimisation"}


def test_page_facts_are_read_on_the_first_check_then_once_every_n_days() -> None:
    from datetime import datetime, timedelta, timezone

    from linkcrawler.toxicity.page import facts_due

    start = datetime(2026, 11, 30, tzinfo=timezone.utc)
    urls = [f"https://site{i}.example/p" for i in range(200)]
    week = [[facts_due(url, False, start + timedelta(days=d), 7) for d in range(7)] for url in urls]
    assert all(sum(days) == 1 for days in week)  # each page once a week...
    assert len({days.index(True) for days in week}) == 7  # ...spread over the days
    assert all(facts_due(url, True, start, 7) for url in urls)  # first check: always
    assert all(facts_due(url, False, start, 1) for url in urls)
    assert not any(facts_due(url, True, start, 0) for url in urls)


def test_pages_without_text_to_judge_count_as_unread() -> None:
    pdf = analyze_page("https://docs.example/a.pdf", b"%PDF-1.4 binary", {"Content-Type": "application/pdf"},
                       targets=[OUR])
    challenge = analyze_page("https://cf.example/p", html("<p>Checking your browser before accessing.</p>",
                                                          title="Just a moment..."),
                             {"Content-Type": "text/html", "Server": "cloudflare", "cf-mitigated": "challenge"},
                             targets=[OUR])
    assert challenge.challenge
    for url, page in (("https://docs.example/a.pdf", pdf), ("https://cf.example/p", challenge)):
        found = page_facts(url, page, [OUR])
        assert not found.readable
        result = assess_domain("x.example", [LinkFacts(url)], {url: found}, RULES)
        assert result.signals == [] and result.unchecked_pages == [url] and result.checked_pages == 0
