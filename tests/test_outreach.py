"""The outreach queue against SecantusDB: creation, dedup, cooldown, every automatic move (once), marks, due."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pymongo
import pytest
from bson import ObjectId

from linkcrawler.backlinks.items import backlink_id
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.contacts.outreach import (
    KINDS,
    InvalidTransition,
    OutreachSettings,
    UnknownKind,
    UnknownTask,
    kind_named,
)
from linkcrawler.contacts.outreach_store import due_tasks, mark_task, sync_outreach, task_id
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
SETTINGS = OutreachSettings(min_priority=50, cooldown_days=90, follow_up_days=7)
OUR = "https://our.example.net/"


class Web:
    """Backlinks and their events as the backlinks crawl writes them."""

    def __init__(self, db: pymongo.database.Database) -> None:
        self.db = db
        ensure_indexes(db)

    def link(self, source: str, authority: float = 80, status: str = "live", first_seen: datetime = T0) -> str:
        _, failed = write_batch(self.db, new_backlink_ops(source, OUR, T0, "test import", authority=authority,
                                                          first_seen=first_seen))
        assert not failed
        link_id = backlink_id(source, OUR)
        self.db.backlinks.update_one({"_id": link_id}, {"$set": {"status": status, "state_version": 1}})
        return link_id

    def event(self, link_id: str, type_: str, to_status: str, priority: int | None = None,
              at: datetime = T0) -> str:
        link = self.db.backlinks.find_one({"_id": link_id})
        assert link is not None
        version = link["state_version"] + 1
        event_id = f"{link_id}:{version}"
        self.db.link_events.insert_one({
            "_id": event_id, "type": type_, "backlink_id": link_id, "source_url": link["source_url"],
            "target_url": link["target_url"], "from_status": link["status"], "to_status": to_status,
            "reason": "HTTP 404" if to_status == "page_gone" else "no link on the page", "detected_at": at,
            "priority": priority, "wayback_url": None,
        })
        self.db.backlinks.update_one({"_id": link_id}, {"$set": {"status": to_status, "state_version": version}})
        return event_id

    def tasks(self, **query: Any) -> list[dict[str, Any]]:
        return list(self.db.outreach.find(query).sort("_id", 1))


@pytest.fixture
def web(mongo_db: pymongo.database.Database) -> Web:
    return Web(mongo_db)


def test_the_registry_names_every_kind_of_the_contract_and_refuses_others() -> None:
    assert set(KINDS) == {"reclaim_lost_link", "thank_you", "reclaim_mention", "broken_link_offer"}
    assert kind_named("thank_you").name == "thank_you"
    with pytest.raises(UnknownKind, match="unknown outreach kind 'guest_post'"):
        kind_named("guest_post")


def test_a_lost_link_above_the_threshold_gets_one_task_below_it_none(web: Web) -> None:
    big = web.link("https://big.org/post", authority=90)
    small = web.link("https://small.org/post", authority=5)
    lost_event = web.event(big, "lost", "page_gone", priority=93)
    web.event(small, "lost", "removed", priority=20)
    report = sync_outreach(web.db, T0, SETTINGS)
    reclaim = web.tasks(kind="reclaim_lost_link")
    assert [t["domain"] for t in reclaim] == ["big.org"]
    task = reclaim[0]
    assert task["_id"] == task_id("reclaim_lost_link", big)
    assert task["status"] == "todo" and task["priority"] == 93 and task["page_url"] == "https://big.org/post"
    assert task["target_url"] == OUR and task["ref"] == big
    assert task["history"][0]["cause"] == {"collection": "link_events", "id": lost_event, "what": "lost"}
    assert report.created == 1
    again = sync_outreach(web.db, T0 + timedelta(hours=1), SETTINGS)
    assert again.created == 0 and again.moved == 0
    assert len(web.tasks()) == 1


def test_no_domain_gets_two_open_asks_of_one_kind(web: Web) -> None:
    first = web.link("https://blog.site.org/a", authority=90)
    second = web.link("https://www.site.org/b", authority=60)
    web.event(first, "lost", "removed", priority=93)
    web.event(second, "lost", "removed", priority=70)
    report = sync_outreach(web.db, T0, SETTINGS)
    tasks = web.tasks(kind="reclaim_lost_link")
    assert [t["ref"] for t in tasks] == [first]  # the better one
    assert report.held_open == 1
    # Once the first ask ends, the second (still lost) gets its task on the next sync.
    mark_task(web.db, tasks[0]["_id"], "declined", T0, 7, note="page retired")
    report = sync_outreach(web.db, T0 + timedelta(days=1), SETTINGS)
    assert report.created == 1
    assert {t["ref"] for t in web.tasks(kind="reclaim_lost_link", status="todo")} == {second}


def test_a_domain_contacted_within_the_cooldown_is_held_back(web: Web) -> None:
    first = web.link("https://site.org/a", authority=90)
    web.event(first, "lost", "removed", priority=93)
    sync_outreach(web.db, T0, SETTINGS)
    (task,) = web.tasks()
    mark_task(web.db, task["_id"], "contacted", T0, 7)
    mark_task(web.db, task["_id"], "declined", T0 + timedelta(days=2), 7)
    other = web.link("https://site.org/b", authority=90)
    web.event(other, "lost", "removed", priority=93)
    held = sync_outreach(web.db, T0 + timedelta(days=89), SETTINGS)
    assert held.created == 0 and held.held_cooldown == 1
    later = sync_outreach(web.db, T0 + timedelta(days=91), SETTINGS)
    assert later.created == 1


def test_a_recovered_event_wins_the_reclaim_task_once_even_replayed(web: Web) -> None:
    link = web.link("https://site.org/a", authority=90)
    web.event(link, "lost", "removed", priority=93)
    sync_outreach(web.db, T0, SETTINGS)
    (task,) = web.tasks()
    mark_task(web.db, task["_id"], "contacted", T0 + timedelta(days=1), 7, note="wrote to the editor")
    recovered = web.event(link, "recovered", "live", at=T0 + timedelta(days=3))
    report = sync_outreach(web.db, T0 + timedelta(days=3), SETTINGS)
    assert report.moved == 1
    (won,) = web.tasks()
    assert won["status"] == "won" and won["won_at"] == T0 + timedelta(days=3)
    assert "open_key" not in won
    moves = [h for h in won["history"] if h["by"] == "crawl" and h["to"] == "won"]
    assert len(moves) == 1 and moves[0]["cause"]["id"] == recovered and moves[0]["from"] == "contacted"
    for _ in range(2):
        assert sync_outreach(web.db, T0 + timedelta(days=4), SETTINGS).moved == 0
    assert web.tasks()[0]["history"] == won["history"]
    # The won task is never recreated, nor a thank-you made for the recovered link (contacted recently).
    assert len(web.tasks()) == 1


def test_a_recovery_from_before_the_loss_does_not_win(web: Web) -> None:
    link = web.link("https://site.org/a", authority=90, status="removed")
    web.event(link, "recovered", "live")
    web.event(link, "lost", "removed", priority=93)
    sync_outreach(web.db, T0, SETTINGS)
    (task,) = web.tasks()
    assert task["status"] == "todo"


def test_a_valuable_new_link_gets_a_thank_you_that_turns_into_a_reclaim_when_lost(web: Web) -> None:
    link = web.link("https://fan.org/post", authority=80)
    web.link("https://weak.org/post", authority=0)  # worth 25: no thanks
    sync_outreach(web.db, T0, SETTINGS)
    (thanks,) = web.tasks()
    assert thanks["kind"] == "thank_you" and thanks["priority"] == 85 and thanks["status"] == "todo"
    lost = web.event(link, "lost", "removed", priority=85)
    for _ in range(2):  # replayed: one conversion
        sync_outreach(web.db, T0 + timedelta(days=1), SETTINGS)
    (task,) = web.tasks()
    assert task["_id"] == thanks["_id"] and task["kind"] == "reclaim_lost_link" and task["status"] == "todo"
    assert [h["cause"]["id"] for h in task["history"] if h["by"] == "crawl"] == [f"{link}:0", lost]
    # The link comes back: the converted task is won.
    web.event(link, "recovered", "live")
    sync_outreach(web.db, T0 + timedelta(days=2), SETTINGS)
    assert web.tasks()[0]["status"] == "won"


def test_a_loss_from_before_the_link_came_back_does_not_cancel_the_thanks(web: Web) -> None:
    link = web.link("https://fan.org/post", authority=80, status="removed")
    web.event(link, "lost", "removed", priority=85)
    web.event(link, "recovered", "live")
    sync_outreach(web.db, T0, SETTINGS)
    sync_outreach(web.db, T0 + timedelta(days=1), SETTINGS)
    (thanks,) = web.tasks()
    assert thanks["kind"] == "thank_you" and thanks["status"] == "todo" and thanks["since_version"] == 3


def test_no_thanks_for_a_link_that_is_not_new(web: Web) -> None:
    web.link("https://old.org/post", authority=90, first_seen=T0 - timedelta(days=400))  # an import of old links
    fresh = web.link("https://fresh.org/post", authority=90, first_seen=T0 - timedelta(days=29))
    sync_outreach(web.db, T0, SETTINGS)
    assert [t["ref"] for t in web.tasks()] == [fresh]
    assert sync_outreach(web.db, T0 + timedelta(days=40), SETTINGS).created == 0


def test_a_thank_you_already_sent_stays_when_the_link_is_lost(web: Web) -> None:
    link = web.link("https://fan.org/post", authority=80)
    sync_outreach(web.db, T0, SETTINGS)
    (thanks,) = web.tasks()
    mark_task(web.db, thanks["_id"], "contacted", T0, 7)
    web.event(link, "lost", "removed", priority=85)
    sync_outreach(web.db, T0 + timedelta(days=1), SETTINGS)
    (task,) = web.tasks()  # the reclaim is held back by the cooldown
    assert task["kind"] == "thank_you" and task["status"] == "contacted"


def test_a_thank_you_is_closed_when_its_domain_already_has_an_open_reclaim(web: Web) -> None:
    lost = web.link("https://fan.org/a", authority=90)
    web.event(lost, "lost", "removed", priority=93)
    live = web.link("https://fan.org/b", authority=80)
    sync_outreach(web.db, T0, SETTINGS)
    assert {t["kind"] for t in web.tasks()} == {"reclaim_lost_link", "thank_you"}
    web.event(live, "lost", "removed", priority=85)
    sync_outreach(web.db, T0 + timedelta(days=1), SETTINGS)
    thanks = web.tasks(ref=live)[0]
    assert thanks["status"] == "closed" and thanks["kind"] == "thank_you"
    assert "already asks that of the domain" in thanks["history"][-1]["note"]
    assert len(web.tasks(status="todo")) == 1


def test_an_unlinked_mention_gets_a_task_won_when_reclaimed(web: Web) -> None:
    mention_id = ObjectId()
    web.db.mentions.insert_one({"_id": mention_id, "page_url": "https://press.org/story", "page_domain": "press.org",
                                "term": "Acme", "matched_text": "ACME", "status": "unlinked", "linked": "no",
                                "reclaimed_at": None})
    web.db.mentions.insert_one({"page_url": "https://other.org/x", "page_domain": "other.org", "term": "Acme",
                                "status": "linked", "linked": "followed"})
    sync_outreach(web.db, T0, SETTINGS)
    (task,) = web.tasks()
    assert task["kind"] == "reclaim_mention" and task["ref"] == str(mention_id)
    assert 'mentions "ACME" without a link' in task["reason"]
    web.db.mentions.update_one({"_id": mention_id}, {"$set": {"status": "linked", "linked": "followed",
                                                              "reclaimed_at": T0 + timedelta(days=5)}})
    for _ in range(2):
        sync_outreach(web.db, T0 + timedelta(days=5), SETTINGS)
    (won,) = web.tasks()
    assert won["status"] == "won"
    assert [h["cause"] for h in won["history"] if h["to"] == "won"] == [
        {"collection": "mentions", "id": str(mention_id), "what": "reclaimed"}]
    # A mention whose page disappears ends its ask (closed), once.
    gone = web.db.mentions.insert_one({"page_url": "https://blog.net/p", "page_domain": "blog.net", "term": "Acme",
                                       "status": "unlinked", "reclaimed_at": None}).inserted_id
    sync_outreach(web.db, T0 + timedelta(days=6), SETTINGS)
    web.db.mentions.update_one({"_id": gone}, {"$set": {"status": "page_gone"}})
    for _ in range(2):
        sync_outreach(web.db, T0 + timedelta(days=7), SETTINGS)
    (closed,) = web.tasks(ref=str(gone))
    assert closed["status"] == "closed" and closed["history"][-1]["note"] == "the page is gone"
    assert len(closed["history"]) == 2


def test_an_open_opportunity_gets_an_offer_won_when_the_page_links_to_us(web: Web) -> None:
    # Keyed by a 24-hex string, as a derived id is: not to be mistaken for an ObjectId.
    web.db.opportunities.insert_one({"_id": "a00adc8931e8a021558683db", "page_url": "https://res.org/links", "page_domain": "res.org",
                                     "link_url": "https://dead.org/guide", "broken_reason": "http_404",
                                     "suggested_target": "https://our.example.net/guide", "score": 77,
                                     "status": "open"})
    web.db.opportunities.insert_one({"_id": "opp2", "page_url": "https://low.org/links", "page_domain": "low.org",
                                     "link_url": "https://dead.org/x", "score": 10, "status": "open"})
    sync_outreach(web.db, T0, SETTINGS)
    (task,) = web.tasks()
    assert task["kind"] == "broken_link_offer" and task["priority"] == 77
    assert task["target_url"] == "https://our.example.net/guide"
    web.db.opportunities.update_one({"_id": "a00adc8931e8a021558683db"}, {"$set": {"status": "won"}})
    sync_outreach(web.db, T0 + timedelta(days=1), SETTINGS)
    sync_outreach(web.db, T0 + timedelta(days=2), SETTINGS)
    (won,) = web.tasks()
    assert won["status"] == "won" and len([h for h in won["history"] if h["to"] == "won"]) == 1
    # An opportunity whose page dropped the dead link without linking to us: closed, once.
    oid = ObjectId()
    web.db.opportunities.insert_one({"_id": oid, "page_url": "https://more.org/links", "page_domain": "more.org",
                                     "link_url": "https://dead.org/y", "score": 60, "status": "open"})
    sync_outreach(web.db, T0 + timedelta(days=3), SETTINGS)
    web.db.opportunities.update_one({"_id": oid}, {"$set": {"status": "fixed"}})
    for _ in range(2):
        sync_outreach(web.db, T0 + timedelta(days=4), SETTINGS)
    (closed,) = web.tasks(ref=str(oid))
    assert closed["status"] == "closed" and closed["closed_at"] == T0 + timedelta(days=4)
    assert [h["cause"]["what"] for h in closed["history"]] == ["open", "fixed"]


def test_marks_follow_the_pipeline_and_set_follow_up_due(web: Web) -> None:
    link = web.link("https://site.org/a", authority=90)
    web.event(link, "lost", "removed", priority=93)
    sync_outreach(web.db, T0, SETTINGS)
    (task,) = web.tasks()
    with pytest.raises(InvalidTransition, match="a task that is todo cannot become replied"):
        mark_task(web.db, task["_id"], "replied", T0, 7)
    with pytest.raises(InvalidTransition, match="unknown status 'sent'"):
        mark_task(web.db, task["_id"], "sent", T0, 7)
    with pytest.raises(UnknownTask, match="no outreach task 'nope'"):
        mark_task(web.db, "nope", "contacted", T0, 7)
    done = mark_task(web.db, task["_id"], "contacted", T0, 7, note="mailed jane")
    assert done["contacted_at"] == T0 and done["follow_up_due"] == T0 + timedelta(days=7)
    assert done["notes"] == [{"at": T0, "text": "mailed jane"}]
    assert due_tasks(web.db, T0 + timedelta(days=6)) == []
    assert [t["_id"] for t in due_tasks(web.db, T0 + timedelta(days=7, seconds=1))] == [task["_id"]]
    again = mark_task(web.db, task["_id"], "followed_up", T0 + timedelta(days=8), 7)
    assert again["follow_up_due"] == T0 + timedelta(days=15)
    assert due_tasks(web.db, T0 + timedelta(days=9)) == []
    replied = mark_task(web.db, task["_id"], "replied", T0 + timedelta(days=9), 7)
    assert replied["follow_up_due"] is None
    closed = mark_task(web.db, task["_id"], "won", T0 + timedelta(days=10), 7)
    assert closed["won_at"] == T0 + timedelta(days=10)
    assert [h["to"] for h in closed["history"]] == ["todo", "contacted", "followed_up", "replied", "won"]
    with pytest.raises(InvalidTransition, match="final"):
        mark_task(web.db, task["_id"], "todo", T0, 7)


def test_a_malformed_document_of_one_kind_does_not_stop_the_others(web: Web) -> None:
    web.db.mentions.insert_one({"page_url": 42, "status": "unlinked", "reclaimed_at": None})
    link = web.link("https://site.org/a", authority=90)
    web.event(link, "lost", "removed", priority=93)
    report = sync_outreach(web.db, T0, SETTINGS)
    assert report.created == 1 and web.tasks()[0]["kind"] == "reclaim_lost_link"
    assert len(report.errors) == 1 and report.errors[0].startswith("reclaim_mention candidates: ")
    assert "failed: reclaim_mention candidates" in report.summary()
