"""Reading contacts from a page: every source and obfuscation, true and false cases, and confidence."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from linkcrawler.contacts.extract import (
    Contact,
    confidence,
    decode_cfemail,
    extract_contacts,
    find_obfuscated,
    plausible_email,
    plausible_name,
)
from linkcrawler.contacts.items import PageContacts
from linkcrawler.contacts.pages import contact_links, contact_score
from linkcrawler.exporters import export_fields, export_rows

PAGE = "https://www.blog.org/2024/post.html"


def html(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


def found(body: str, head: str = "", url: str = PAGE, **kwargs: object) -> dict[str, Contact]:
    return {c.key: c for c in extract_contacts(url, html(body, head), **kwargs)}  # type: ignore[arg-type]


def methods(contact: Contact) -> set[str]:
    return {s.method for s in contact.sources}


def cf_encode(address: str, key: int = 0x5A) -> str:
    return f"{key:02x}" + "".join(f"{b ^ key:02x}" for b in address.encode())


def test_mailto_links_with_names_several_addresses_queries_and_encodings() -> None:
    contacts = found(
        '<a href="mailto:Jane.Doe@Blog.org?subject=Hello">Jane Doe</a>'
        '<a href="mailto:a@blog.org,b@blog.org">both</a>'
        '<a href="mailto:%63%61%72%6f%6c@blog.org">write</a>'
        '<a href="mailto:&#100;&#97;&#110;@blog.org">Dan Brown</a>'
    )
    assert set(contacts) == {"email:jane.doe@blog.org", "email:a@blog.org", "email:b@blog.org",
                             "email:carol@blog.org", "email:dan@blog.org"}
    jane = contacts["email:jane.doe@blog.org"]
    assert jane.name == "Jane Doe" and methods(jane) == {"mailto"} and jane.domain == "blog.org"
    assert contacts["email:a@blog.org"].name is None  # "both" is no name
    assert contacts["email:dan@blog.org"].name == "Dan Brown"


def test_mailto_without_a_real_address_is_nothing() -> None:
    assert found('<a href="mailto:">Mail us</a><a href="mailto:you@example.com">Your Name</a>'
                 '<a href="mailto:someone">Some One</a>') == {}


def test_json_ld_people_organizations_authors_and_same_as() -> None:
    head = """<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Ana Lima", "url": "/authors/ana",
         "sameAs": ["https://www.linkedin.com/in/analima", "https://x.com/analima"], "jobTitle": "Reporter"},
         "Bo Berg"]},
      {"@type": "Organization", "name": "Blog Media", "email": "mailto:hello@blog.org",
       "sameAs": "https://www.facebook.com/blogmedia",
       "contactPoint": {"@type": "ContactPoint", "email": "press@blog.org"}}]}</script>
      <script type="application/ld+json">{ not json</script>"""
    contacts = found("<p>x</p>", head)
    ana = contacts["name:ana lima"]
    assert methods(ana) == {"json_ld"} and ana.role == "Reporter"
    assert ana.profiles == ["https://www.linkedin.com/in/analima", "https://x.com/analima",
                            "https://www.blog.org/authors/ana"]
    assert methods(contacts["name:bo berg"]) == {"json_ld"}
    hello = contacts["email:hello@blog.org"]
    assert hello.name == "Blog Media" and hello.role == "organization" and hello.role_address
    assert hello.profiles == ["https://www.facebook.com/blogmedia"]
    assert "email:press@blog.org" in contacts


def test_meta_author_and_its_false_cases() -> None:
    assert methods(found("", '<meta name="author" content="Jane Doe">')["name:jane doe"]) == {"meta_author"}
    for content in ("admin", "https://blog.org/about", "WordPress 6.4", "jane@", "Team"):
        assert found("", f'<meta name="author" content="{content}">') == {}, content


def test_bylines_and_rel_author() -> None:
    contacts = found(
        '<div class="post-meta"><span class="byline">By Mark Twain</span></div>'
        '<span itemprop="author" itemscope><span itemprop="name">Lee Chang</span></span>'
        '<a rel="author" href="/people/rosa">Rosa Parks</a>'
        '<p class="author-bio">Written by <b>Ada Lovelace</b> <a href="https://github.com/jvn">code</a></p>'
        '<div class="byline">By <a href="/authors/bo-li/">Bo Li</a> in <a href="/category/news/">News</a></div>'
    )
    assert methods(contacts["name:mark twain"]) == {"byline"}
    assert methods(contacts["name:lee chang"]) == {"byline"}
    assert contacts["name:rosa parks"].profiles == ["https://www.blog.org/people/rosa"]
    assert contacts["name:ada lovelace"].profiles == ["https://github.com/jvn"]
    assert contacts["name:bo li"].profiles == ["https://www.blog.org/authors/bo-li/"]


def test_bylines_that_are_not_names() -> None:
    assert found('<p class="byline">Posted on 12 March 2024</p><div class="author">admin</div>'
                 '<p class="authorization">Please Log In Here Now</p>') == {}


def test_plain_text_addresses_and_the_contact_page_method() -> None:
    body = "<p>Questions? Write to ed.itor+links@blog.org, or call.</p>"
    assert methods(found(body)["email:ed.itor+links@blog.org"]) == {"text"}
    assert methods(found(body, contact_page=True)["email:ed.itor+links@blog.org"]) == {"contact_page"}


@pytest.mark.parametrize("text", [
    "<img src='/img/logo@2x.png'> logo@2x.png and icon@3x.webp",
    "install it with npm i left-pad@1.3.0 or pkg@2.0",
    "<pre>git clone git@github.com:org/repo.git</pre>",
    "<code>ssh deploy@server.company.io</code>",
    "<script>var dsn = 'https://0123456789abcdef0123456789abcdef@o12.ingest.sentry.io/1'</script>",
    "send it to user@example.com or name@example.org",
    "a handle like @blog.org or foo@bar",
    "<p>0123456789abcdef0123@mail.blog.org</p>",
])
def test_things_that_look_like_addresses_but_are_not(text: str) -> None:
    assert found(text) == {}


@pytest.mark.parametrize(("written", "address"), [
    ("jane [at] blog [dot] org", "jane@blog.org"),
    ("jane(at)blog(dot)org", "jane@blog.org"),
    ("jane {at} blog {dot} co {dot} uk", "jane@blog.co.uk"),
    ("jane &lt;at&gt; blog.org", "jane@blog.org"),
    ("jane [@] blog [.] org", "jane@blog.org"),
    ("j.doe AT blog.org", "j.doe@blog.org"),
])
def test_obfuscated_addresses(written: str, address: str) -> None:
    contacts = found(f"<p>Mail: {written}</p>")
    assert list(contacts) == [f"email:{address}"]
    assert methods(contacts[f"email:{address}"]) == {"obfuscated"}


@pytest.mark.parametrize("text", [
    "meet me at the blog dot org conference",
    "look (at) this",
    "Tickets at blog.org",
    "jane [at] example [dot] com",
    "MEET US AT EXPO.COM",
])
def test_text_that_is_no_obfuscated_address(text: str) -> None:
    assert list(find_obfuscated(text)) == [] or found(f"<p>{text}</p>") == {}
    assert found(f"<p>{text}</p>") == {}


def test_cloudflare_email_protection() -> None:
    encoded = cf_encode("jane@blog.org")
    assert decode_cfemail(encoded) == "jane@blog.org"
    contacts = found(f'<a href="/cdn-cgi/l/email-protection#{encoded}">[email&#160;protected]</a>'
                     f'<span class="__cf_email__" data-cfemail="{cf_encode("ed@blog.org", 0x21)}">x</span>')
    assert set(contacts) == {"email:jane@blog.org", "email:ed@blog.org"}
    assert all(methods(c) == {"obfuscated"} for c in contacts.values())
    for bad in ("", "zz", "5a", "5a0", "not-hex-at-all"):
        assert decode_cfemail(bad) is None
    assert found('<span data-cfemail="5a">x</span>') == {}


def test_html_entities_in_text_are_read_as_written() -> None:
    contacts = found("<p>&#106;&#97;&#110;&#101;&#64;&#98;&#108;&#111;&#103;&#46;&#111;&#114;&#103;</p>")
    assert list(contacts) == ["email:jane@blog.org"]


def test_role_addresses_are_kept_and_marked() -> None:
    contacts = found('<a href="mailto:editor@blog.org">x</a><a href="mailto:jane@blog.org">Jane Doe</a>')
    editor, jane = contacts["email:editor@blog.org"], contacts["email:jane@blog.org"]
    assert editor.role_address and editor.role == "editor"
    assert not jane.role_address and jane.role is None
    assert jane.confidence > editor.confidence


def test_one_person_seen_by_name_and_by_address_is_one_contact() -> None:
    contacts = found('<p class="byline">By Jane Doe</p><a href="mailto:jane@blog.org">Jane Doe</a>',
                     '<meta name="author" content="Jane Doe">')
    assert list(contacts) == ["email:jane@blog.org"]
    assert methods(contacts["email:jane@blog.org"]) == {"mailto", "byline", "meta_author"}


def test_confidence_a_mailto_on_the_own_site_beats_a_text_match_on_a_third_party_page() -> None:
    own = found('<a href="mailto:jane@blog.org">Jane</a>')["email:jane@blog.org"]
    third_party = found("<p>jane@blog.org</p>", url="https://directory.com/listing", domain="blog.org")
    elsewhere = third_party["email:jane@blog.org"]
    assert elsewhere.domain == "blog.org"
    assert own.confidence > elsewhere.confidence
    # The order of every method alone, on the site's own page, for an address on its own domain.
    order = ["mailto", "json_ld", "obfuscated", "contact_page", "text"]
    scores = [confidence([m], own_page=True, own_address=True, role_address=False) for m in order]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    # An address of another domain, a third-party page and a role address each cost confidence.
    base = confidence(["text"], own_page=True, own_address=True, role_address=False)
    assert confidence(["text"], own_page=True, own_address=False, role_address=False) < base
    assert confidence(["text"], own_page=False, own_address=True, role_address=False) < base
    assert confidence(["text"], own_page=True, own_address=True, role_address=True) < base
    # Two methods agreeing are worth more than either, and never 1.
    both = confidence(["text", "byline"], own_page=True, own_address=True, role_address=False)
    assert base < both < 1


def test_plausible_email_and_name() -> None:
    assert plausible_email("jane.doe@sub.blog.co.uk")
    for bad in ("jane@blog", "jane@@blog.org", "jane@blog.png", "jane@localhost.localdomain", "x..y@blog.org",
                "user@example.net", "a@2x.png"):
        assert not plausible_email(bad), bad
    assert plausible_name("By José van der Berg") == "José van der Berg"
    for bad in ("jane", "12 March 2024", "Read More About This Very Long Title Now", "posted by admin"):
        assert plausible_name(bad) is None, bad


def test_contact_pages_are_found_in_several_languages() -> None:
    links = [
        ("https://www.blog.org/kontakt/", "Kontakt"),
        ("https://www.blog.org/p/42", "Écrivez-nous – contactez l'équipe"),
        ("https://www.blog.org/quienes-somos", "Quiénes somos"),
        ("https://www.blog.org/impressum", "Impressum"),
        ("https://www.blog.org/authors/ana", "Ana Lima"),
        ("https://www.blog.org/shop", "Shop"),
        ("https://other.org/contact", "Contact"),
        ("https://www.blog.org/press-kit.pdf", "Press kit"),
    ]
    assert contact_links(PAGE, links, "blog.org") == [
        "https://www.blog.org/p/42", "https://www.blog.org/kontakt/", "https://www.blog.org/impressum",
        "https://www.blog.org/quienes-somos", "https://www.blog.org/authors/ana",
    ]
    assert contact_score("https://x.org/chi-siamo", "") > 0
    assert contact_score("https://x.org/blog/post", "Read more") == 0


def test_a_pages_contacts_as_feed_rows() -> None:
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    item = PageContacts(page_url=PAGE, domain="blog.org", seen_at=when,
                        contacts=extract_contacts(PAGE, html('<a href="mailto:ed@blog.org">Ed Wood</a>')))
    (row,) = export_rows(item)
    assert row["record"] == "contacts" and row["email"] == "ed@blog.org" and row["name"] == "Ed Wood"
    assert row["sources"] == [{"url": PAGE, "method": "mailto"}] and row["last_seen"] == when
    assert set(row) == set(export_fields([PageContacts]))
