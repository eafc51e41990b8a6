"""Brand mentions as a reader sees them: matching, linkage, feeds, state (pure, no crawl)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from linkcrawler.mentions.feeds import FeedError, read_feed, unwrap_alert_url
from linkcrawler.mentions.items import KnownMention, MentionFinding, PageOutcome, mention_id
from linkcrawler.mentions.match import BrandTerms, find_mentions, fold, folded
from linkcrawler.mentions.page import on_domains, read_mentions
from linkcrawler.mentions.state import mention_priority, plan_page
from linkcrawler.mentions.store import update_ops
from linkcrawler.web.content import main_content

URL = "https://blog.example/2024/review"
OUR = ["acme.example"]
FILLER = (
    "We spent three weeks testing every product in this category on real projects, with real "
    "deadlines and a team of five people who had never used any of them before. "
)


def page(article: str, *, head: str = "", nav: str = "", footer: str = "", title: str = "A review") -> str:
    """A realistic page: navigation, an article with enough text to be the main content, a footer."""
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head><body>"
        f'<header><nav><a href="/">Home</a> <a href="/about">About</a> {nav}</nav></header>'
        f"<main><article><h1>Our tool review</h1><p>{FILLER * 2}</p>{article}<p>{FILLER}</p></article></main>"
        f'<aside><h3>Popular</h3><ul><li><a href="/a">Post A</a></li><li><a href="/b">Post B</a></li></ul></aside>'
        f"<footer><p>{footer} Copyright 2024 Blog Example. All rights reserved.</p></footer>"
        "</body></html>"
    )


def mentions(html: str, terms: str = "Acme", exclude: str = "") -> dict[str, MentionFinding]:
    reading = read_mentions(URL, html, {"Content-Type": "text/html; charset=utf-8"},
                            BrandTerms.parse(terms, exclude), OUR)
    return {finding.term: finding for finding in reading.findings}


# --- matching -------------------------------------------------------------------


def test_fold_is_case_accent_and_punctuation_insensitive() -> None:
    assert fold("ACME's Acmé, Acme-Corp\n")[0] == "acme s acme acme corp"
    text, where = fold("Straße")
    assert text == "strasse" and where[-1] == 5


@pytest.mark.parametrize(("sentence", "matched"), [
    ("We loved <b>ACME's</b> new suite.", "ACME's"),
    ("We loved Acmé and its suite.", "Acmé"),
    ("We loved acme, really.", "acme"),
])
def test_term_matches_whatever_the_case_accent_or_punctuation(sentence: str, matched: str) -> None:
    found = mentions(page(f"<p>{sentence} {FILLER}</p>"))
    assert found["Acme"].matched_text.startswith(matched.rstrip("'s")) and found["Acme"].count == 1


def test_term_inside_a_longer_word_is_not_a_mention() -> None:
    assert mentions(page(f"<p>We drove through Acmeville and met the Megaacme team. {FILLER}</p>")) == {}


def test_term_split_by_an_inline_tag_is_a_mention() -> None:
    found = mentions(page(f"<p>The <b>Ac</b><i>me</i> suite is good. {FILLER}</p>"))
    assert found["Acme"].matched_text == "Acme"


def test_multi_word_term_across_a_line_break_and_inline_tags() -> None:
    found = mentions(page(f"<p>The <b>Acme</b>\n   <em>Corp</em> suite is good. {FILLER}</p>"), "Acme Corp")
    assert found["Acme Corp"].matched_text == "Acme Corp"
    assert found["Acme Corp"].context == "The Acme Corp suite is good."


def test_multi_word_term_needs_every_word() -> None:
    assert mentions(page(f"<p>The Acme suite, by a corp. {FILLER}</p>"), "Acme Corp") == {}


def test_term_only_in_the_footer_or_navigation_is_not_a_mention() -> None:
    html = page(f"<p>{FILLER}</p>", footer="Site built by Acme.", nav='<a href="/acme">Acme deals</a>')
    assert "Acme" in html
    assert mentions(html) == {}


def test_term_only_in_an_alt_attribute_is_not_a_mention() -> None:
    assert mentions(page(f'<p>Look at this logo <img src="logo.png" alt="Acme logo">. {FILLER}</p>')) == {}


def test_term_only_in_scripts_styles_comments_and_urls_is_not_a_mention() -> None:
    html = page(
        f"<p>Visit https://acme.example/pricing or write to sales@acme.example today. {FILLER}</p>"
        f'<p>A link to <a href="https://acme.example/">their site</a>. {FILLER}</p>'
        "<!-- Acme comment --><script>var brand = 'Acme';</script><style>.acme{color:red}</style>",
        head="<script>var Acme = 1;</script>",
    )
    assert mentions(html) == {}


def test_sentence_count_and_prominence() -> None:
    html = page(
        f"<h2>Why Acme wins</h2><p>First we tried Acme. It was fast. Then ACME again! {FILLER}</p>",
        title="Acme review",
    )
    found = mentions(html)["Acme"]
    assert found.count == 4  # title, heading, two in the paragraph
    assert found.context == "Why Acme wins"
    assert found.prominence == ["title", "heading"]


def test_first_paragraph_prominence_and_context_sentence() -> None:
    content = main_content(page(f"<p>{FILLER}</p>").replace(FILLER * 2, "We tried Acme first. " + FILLER), URL)
    matches = find_mentions(content.blocks, BrandTerms.parse("Acme"))
    assert matches["Acme"].prominence == ("first_paragraph",)
    assert matches["Acme"].context == "We tried Acme first."


def test_exclusions_drop_the_homonym() -> None:
    html = page(f"<p>An apple pie from the orchard. {FILLER}</p><p>Apple released a phone. {FILLER}</p>")
    found = mentions(html, "Apple", exclude="pie,orchard")
    assert found["Apple"].count == 1 and found["Apple"].context == "Apple released a phone."
    assert mentions(page(f"<p>An apple pie. {FILLER}</p>"), "Apple", exclude="pie") == {}


def test_brand_terms_parse() -> None:
    terms = BrandTerms.parse(" Acme , ACME,Acme Corp,,", "pie")
    assert terms.terms == ("Acme", "Acme Corp") and terms.exclude == ("pie",)
    with pytest.raises(ValueError, match="no brand term"):
        BrandTerms.parse(" , ")
    with pytest.raises(ValueError, match="no letter"):
        BrandTerms.parse("--")


def test_metadata_from_json_ld_meta_and_byline() -> None:
    head = ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
            '"headline":"Tools we love","author":{"@type":"Person","name":"Jane Roe"},'
            '"datePublished":"2024-03-05T10:00:00+02:00"}</script>')
    reading = read_mentions(URL, page(f"<p>Acme is here. {FILLER}</p>", head=head), {}, BrandTerms.parse("Acme"), OUR)
    assert reading.metadata.title == "Tools we love"
    assert reading.metadata.author == "Jane Roe"
    assert reading.metadata.published == datetime(2024, 3, 5, 8, 0, tzinfo=timezone.utc)
    meta = '<meta name="author" content="John Doe"><meta property="article:published_time" content="2023-01-02">'
    reading = read_mentions(URL, page(f"<p>Acme is here. {FILLER}</p>", head=meta), {}, BrandTerms.parse("Acme"), OUR)
    assert reading.metadata.author == "John Doe"
    assert reading.metadata.published == datetime(2023, 1, 2, tzinfo=timezone.utc)
    reading = read_mentions(URL, page(f"<p>Acme is here. {FILLER}</p>"), {}, BrandTerms.parse("Acme"), OUR)
    assert reading.metadata.author is None and reading.metadata.published is None
    assert reading.metadata.title == "Our tool review"  # trafilatura: the article's own heading
    byline = '<p class="byline">By <a rel="author" href="/people/sam">Sam Poe</a></p>'
    reading = read_mentions(URL, page(f"{byline}<p>Acme is here. {FILLER}</p>"), {}, BrandTerms.parse("Acme"), OUR)
    assert reading.metadata.author == "Sam Poe"


# --- linked -----------------------------------------------------------------------


def test_mention_that_is_itself_a_followed_link() -> None:
    found = mentions(page(f'<p>We use <a href="https://acme.example/">Acme</a> daily. {FILLER}</p>'))["Acme"]
    assert (found.linked, found.link_url, found.rel) == ("followed", "https://acme.example/", [])


def test_link_to_us_elsewhere_in_the_same_paragraph_counts() -> None:
    found = mentions(page(f'<p>We use Acme daily (<a href="https://www.acme.example/pricing">pricing</a>). {FILLER}</p>'))
    assert found["Acme"].linked == "followed" and found["Acme"].link_url == "https://www.acme.example/pricing"


@pytest.mark.parametrize("rel", ["nofollow", "ugc", "sponsored", "noopener nofollow"])
def test_nofollow_ugc_sponsored_link(rel: str) -> None:
    found = mentions(page(f'<p>We use <a rel="{rel}" href="https://acme.example/">Acme</a>. {FILLER}</p>'))["Acme"]
    assert found.linked == "nofollow" and set(found.rel) >= {rel.split()[-1]}


def test_link_in_another_paragraph_or_to_others_is_no() -> None:
    html = page(f'<p>We use Acme daily. {FILLER}</p><p>See <a href="https://acme.example/">this</a>. {FILLER}</p>'
                f'<p>And Acme is not <a href="https://other.example/">theirs</a>. {FILLER}</p>',
                footer='<a href="https://acme.example/">Acme</a>')
    assert mentions(html)["Acme"].linked == "no"


def test_followed_link_wins_over_nofollow_and_meta_nofollow_page() -> None:
    html = page(f'<p>Try <a rel="nofollow" href="https://acme.example/a">Acme</a> or '
                f'<a href="https://acme.example/b">their docs</a>. {FILLER}</p>')
    assert mentions(html)["Acme"].linked == "followed"
    assert mentions(html.replace("<head>", '<head><meta name="robots" content="nofollow">'))["Acme"].linked == "nofollow"


def test_on_domains() -> None:
    assert on_domains("https://blog.acme.example/x", OUR) and on_domains("https://acme.example/", OUR)
    assert not on_domains("https://notacme.example/", OUR) and not on_domains("https://acme.example.org/", OUR)


# --- feeds -----------------------------------------------------------------------------


def test_google_alert_links_are_unwrapped_offline() -> None:
    wrapped = ("https://www.google.com/url?rct=j&sa=t&url=https://news.example/acme%3Fid%3D7"
               "&ct=ga&cd=CAIyHDQ&usg=AOvVaw0")
    assert unwrap_alert_url(wrapped) == "https://news.example/acme?id=7"
    assert unwrap_alert_url("https://www.google.co.uk/url?q=https://a.example/") == "https://a.example/"
    assert unwrap_alert_url("https://evil-google.example/url?url=https://a.example/") == \
        "https://evil-google.example/url?url=https://a.example/"
    assert unwrap_alert_url("https://www.google.com/search?url=https://a.example/").startswith("https://www.google.com/")


def test_atom_and_rss_feeds() -> None:
    atom = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Google Alert - Acme</title>'
            b'<entry><title type="html">&lt;b&gt;Acme&lt;/b&gt; news</title>'
            b'<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news.example/a&amp;ct=ga"/></entry>'
            b'<entry><link rel="self" href="https://x.example/self"/><link href="https://b.example/p"/></entry>'
            b'<entry><title>no link</title></entry></feed>')
    assert [e.url for e in read_feed(atom)] == ["https://news.example/a", "https://b.example/p"]
    rss = (b"<rss><channel><item><link>https://c.example/1</link></item>"
           b"<item><guid>https://d.example/2</guid></item></channel></rss>")
    assert [e.url for e in read_feed(rss)] == ["https://c.example/1", "https://d.example/2"]
    with pytest.raises(FeedError):
        list(read_feed(b"just some text"))
    # An alert feed with nothing new is a feed, not an error.
    assert list(read_feed(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Google Alert</title></feed>')) == []
    assert list(read_feed(b"<rss><channel><title>x</title></channel></rss>")) == []


# --- state -----------------------------------------------------------------------------

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


def outcome(kind: str, findings: list[MentionFinding] = (), known: list[KnownMention] = (), **kw: object) -> PageOutcome:  # type: ignore[assignment]
    return PageOutcome(URL, kind, kw.pop("reason", ""), NOW, ("Acme", "Acme Corp"), list(known), list(findings),
                       http_status=200, **kw)  # type: ignore[arg-type]


def finding(linked: str = "no", link_url: str | None = None) -> MentionFinding:
    return MentionFinding("Acme", "ACME", "We use ACME.", 2, linked, link_url, prominence=["heading"])


def known(status: str, settled: str | None = None, term: str = "Acme") -> KnownMention:
    return KnownMention(mention_id(URL, term), URL, term, status, settled or status, 3)


def test_new_mention_is_inserted_once_with_the_contract_fields() -> None:
    [update] = plan_page(outcome("read", [finding()]))
    assert update.to_status == "unlinked" and update.expected_version is None
    [op] = update_ops(update)
    fields = op.update["$setOnInsert"]  # type: ignore[index]
    for name in ("page_url", "page_domain", "term", "matched_text", "context", "count", "linked", "link_url",
                 "title", "author", "published", "status", "first_seen", "last_checked", "reclaimed_at",
                 "contact_ids", "history"):
        assert name in fields
    assert fields["page_domain"] == "blog.example" and fields["contact_ids"] == []


def test_failure_policy_and_gone_pages() -> None:
    [update] = plan_page(outcome("error", known=[known("unlinked")], reason="DNS lookup failed"))
    assert update.to_status == "error" and "settled_status" not in update.state
    [update] = plan_page(outcome("page_gone", known=[known("unlinked")], reason="HTTP 404"))
    assert update.to_status == "page_gone"
    [update] = plan_page(outcome("read", [], known=[known("linked")]))
    assert update.to_status == "removed" and update.history_entry is not None
    assert plan_page(outcome("error")) == [] and plan_page(outcome("read")) == []
    [update] = plan_page(outcome("not_modified", known=[known("unlinked")]))
    assert update.unchanged and update_ops(update)[0].update == {
        "$max": {"last_checked": NOW}, "$set": {"http_status": 200}}
    # After a failed check, a 304 says the page answers again, as it was: its settled state comes back.
    [update] = plan_page(outcome("not_modified", known=[known("error", settled="nofollow")]))
    assert (update.to_status, update.unchanged, update.state["state_version"]) == ("nofollow", False, 4)
    assert update.history_entry is not None and update.reclaimed is None


def test_unlinked_mention_that_becomes_a_link_is_reclaimed() -> None:
    [update] = plan_page(outcome("read", [finding("followed", "https://acme.example/")],
                                 known=[known("error", settled="unlinked")]))
    assert update.to_status == "linked" and update.state["reclaimed_at"] == NOW
    assert update.reclaimed is not None and "reclaimed mention" in update.reclaimed[2]
    ops = update_ops(update)
    assert [op.collection for op in ops] == ["link_events", "backlinks", "mentions"]
    assert ops[0].document["type"] == "new" and "reclaimed mention" in ops[0].document["reason"]  # type: ignore[index]
    # A mention that was linked already is not reclaimed again.
    [update] = plan_page(outcome("read", [finding("nofollow", "https://acme.example/")], known=[known("linked")]))
    assert update.reclaimed is None and "reclaimed_at" not in update.state


def test_priority_prefers_authority_then_prominence() -> None:
    assert mention_priority(90, [], 1) > mention_priority(None, [], 1)
    assert mention_priority(None, ["title"], 1) > mention_priority(None, ["first_paragraph"], 1)
    assert 0 <= mention_priority(100, ["title", "heading", "first_paragraph"], 50) <= 100


def test_due_window_is_a_timedelta() -> None:
    from linkcrawler.mentions.store import due_mentions_filter

    query = due_mentions_filter(["Acme"], NOW, timedelta(hours=24))
    assert query["$or"][1] == {"last_checked": {"$lt": NOW - timedelta(hours=24)}}
    assert "$or" not in due_mentions_filter(["Acme"], NOW, None)


@pytest.mark.parametrize("text", [
    "", "  ", "ACME's Acmé, Acme-Corp\n", "Straße ﬁne ² İstanbul Ωmega", "  lead and trail  ", "a\u0301b\u00a0c",
    "東京 acme", "--x--", "Ǆemal’s “quote”",
])
def test_fast_and_mapped_folds_agree(text: str) -> None:
    quick = folded(text)
    mapped, where = fold(text)
    assert quick == mapped and len(where) == len(mapped)
    assert all(0 <= i < len(text) for i in where)
