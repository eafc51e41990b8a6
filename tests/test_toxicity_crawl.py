"""The backlinks spider stores each linking page's facts from the parse it already made,
and the audit reads them: hidden links, foreign pages, a network of hosts on one subnet."""

from __future__ import annotations

from pathlib import Path

import pymongo
import pytest_twisted

from linkcrawler.toxicity.audit import audit, save
from linkcrawler.toxicity.signals import Rules
from tests.fixtures.web import MockServerFactory
from tests.test_backlinks_crawl import Site, page, write

OUR = "http://our.test"
PROSE = ("Our club tested the new trail shoes on the ridge path last weekend. The grip held on wet rock, the "
         "cushioning stayed comfortable for the whole twenty kilometres, and nobody came back with blisters. ") * 4
GERMAN = ("Unser Verein hat die neuen Trailschuhe am letzten Wochenende auf dem Gratweg getestet. Der Grip hielt "
          "auf nassem Fels, die Dämpfung blieb die ganzen zwanzig Kilometer bequem. ") * 4


@pytest_twisted.inlineCallbacks
def test_the_backlinks_spider_stores_page_facts_and_the_audit_scores_them(
    site_dir: Path, mockserver_factory: MockServerFactory, mongo_db: pymongo.database.Database,
    mongo_uri: str, mongo_db_name: str,
) -> None:
    benign_server = mockserver_factory(host="127.0.0.1", site_dir=site_dir)
    site = Site(site_dir, benign_server, mongo_db, mongo_uri, mongo_db_name)
    write(site_dir, "review.html", page(f"<p>{PROSE}</p><p>Read <a href='{OUR}/a'>their shoe review</a>.</p>"))
    write(site_dir, "hidden.html", page(f"<p>{PROSE}</p><div style='position:absolute;left:-5000px'>"
                                        f"<a href='{OUR}/a'>cheap trail shoes</a></div>"))
    write(site_dir, "fremd.html", page(f"<p>{GERMAN}</p><p><a href='{OUR}/a'>Schuhe</a></p>"))
    # Three more "hosts" on loopback addresses of one /24 (127.0.9.0/24): a small network of thin pages.
    network_urls = []
    for number in (1, 2, 3):
        directory = site_dir.parent / f"net{number}"
        directory.mkdir()
        server = mockserver_factory(host=f"127.0.9.{number}", site_dir=directory)
        write(directory, "shoes.html", page(f"<p>Buy now: <a href='{OUR}/a'>cheap trail shoes</a></p>"))
        network_urls.append(server.url("/shoes.html"))
    ids = {name: site.know(f"/{name}.html", f"{OUR}/a") for name in ("review", "hidden", "fremd")}
    for url in network_urls:
        site.know(url, f"{OUR}/a")
    site.know("/never.html", f"{OUR}/b")

    result = yield site.crawl()
    assert result.stats["linkcrawler/backlinks/status/live"] == 6

    stored = {doc["_id"]: doc for doc in mongo_db.linking_pages.find()}
    hidden = stored[site.url("/hidden.html")]
    assert hidden["hidden_links"] == [{"url": f"{OUR}/a", "how": "off-screen (left:-5000px) on an enclosing <div>"}]
    assert hidden["text_words"] > 100 and hidden["text_sample"].startswith("Our club tested")
    assert hidden["language"] is None  # identified by the audit, not the crawl
    assert stored[site.url("/review.html")]["hidden_links"] == []
    assert stored[network_urls[0]]["text_words"] < 10
    assert len(stored) == 6 and all(doc["checked_at"] for doc in stored.values())
    assert site.url("/never.html") not in stored  # it answers 404: no page was read
    assert mongo_db.backlinks.find_one({"_id": ids["hidden"]})["status"] == "live"

    rules = Rules.build(money_terms=["cheap trail shoes"])
    assessments = {a.domain: a for a in audit(mongo_db, rules)}
    save(mongo_db, list(assessments.values()), result.crawler.stats.get_value("start_time"))
    loopback = assessments["127.0.0.1"]  # one host: its pages roll up into one domain
    assert {s.name for s in loopback.signals} >= {"hidden_link", "foreign_language"}
    assert loopback.verdict == "toxic" and loopback.unchecked_pages == [site.url("/never.html")]
    for number in (1, 2, 3):
        network = assessments[f"127.0.9.{number}"]
        assert {s.name for s in network.signals} == {"link_network", "thin_content", "exact_match_anchor"}
        assert "127.0.9.0/24" in next(s.evidence for s in network.signals if s.name == "link_network")
        assert network.verdict == "review"
    assert mongo_db.toxicity.count_documents({}) == 4
    languages = {doc["_id"]: doc["language"] for doc in mongo_db.linking_pages.find()}
    assert languages[site.url("/fremd.html")] == "de" and languages[site.url("/hidden.html")] == "en"
    assert languages[network_urls[0]] is None  # too few words to tell
