"""Alerts delivered to a real SMTP server and a local webhook: one digest per channel, each item once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pymongo
import pytest

from linkcrawler.alerts.channels import parse_channels, split_urls
from linkcrawler.alerts.delivery import DELIVERIES, deliver
from linkcrawler.alerts.digest import build_digest
from linkcrawler.alerts.kinds import KINDS
from linkcrawler.alerts.rules import AlertRules
from linkcrawler.backlinks.events import build_event
from linkcrawler.backlinks.items import backlink_id
from tests.alerting import SmtpServer, Webhook
from tests.fixtures.services import free_port

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
OUR = "https://our.example/"
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


def event(db: pymongo.database.Database, source: str, from_status: str | None, to_status: str, *,
          version: int = 1, authority: float | None = 50, reason: str = "HTTP 404", hours_ago: float = 1,
          target: str = OUR) -> dict[str, Any]:
    doc = build_event(backlink_id=backlink_id(source, target), state_version=version, source_url=source,
                      target_url=target, from_status=from_status, to_status=to_status, reason=reason,
                      detected_at=NOW - timedelta(hours=hours_ago), authority=authority)
    assert doc is not None
    db.link_events.insert_one(doc)
    return doc


def seed(db: pymongo.database.Database) -> None:
    event(db, "https://big.example/post", "live", "page_gone", authority=90, reason="HTTP 404")
    event(db, "https://small.example/list", "live", "removed", authority=5, reason="no link to the target")
    event(db, "https://blog.example/x", "nofollow", "live", reason="link found, followed")
    event(db, "https://forum.example/t", "live", "nofollow", reason="rel=nofollow")
    # Not worth a message by default: a new link, a changed anchor.
    db.link_events.insert_one({"_id": "new:0", "type": "new", "source_url": "https://n.example/", "target_url": OUR,
                               "from_status": None, "to_status": "pending", "reason": "import",
                               "detected_at": NOW, "priority": None, "wayback_url": None})


def run(db: pymongo.database.Database, urls: str, **rules: Any) -> list[Any]:
    return deliver(db, parse_channels(urls), AlertRules(**rules), NOW)


def test_one_digest_per_channel_most_valuable_first_and_nothing_twice(
        mongo_db: pymongo.database.Database, smtp: SmtpServer, webhook: Webhook) -> None:
    seed(mongo_db)
    urls = f"{smtp.url()}, {webhook.url()}"
    reports = run(mongo_db, urls)
    assert [r.outcome for r in reports] == ["sent", "sent"]
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1

    mail = smtp.messages[0]
    assert mail["Subject"] == "linkcrawler: 2 lost, 1 degraded, 1 recovered"
    parts = smtp.parts()
    html, text = parts["text/html"], parts["text/plain"]
    # Most valuable first: the authority-90 page before the authority-5 one.
    assert html.index("big.example/post") < html.index("small.example/list")
    assert "the linking page is gone (HTTP 404)" in html
    assert "https://web.archive.org/web/20261130110000/https://big.example/post" in html
    assert "https://big.example/post" in text and "the linking page is gone" in text
    assert "n.example" not in html  # "new" is not in LINKCRAWLER_ALERT_TYPES by default

    hook = webhook.messages()[0]
    assert webhook.posts[0]["body"]["title"] == mail["Subject"]
    assert hook.index("big.example/post") < hook.index("small.example/list")
    assert "archived copy: https://web.archive.org/web/" in hook and "<" not in hook

    deliveries = list(mongo_db[DELIVERIES].find())
    assert {d["status"] for d in deliveries} == {"acknowledged"}
    assert all(len(d["event_ids"]) == 4 and d["sent_at"] is not None for d in deliveries)

    # Re-runs send nothing; a new event reaches each channel once, alone.
    assert [r.outcome for r in run(mongo_db, urls)] == ["nothing new", "nothing new"]
    event(mongo_db, "https://late.example/", "live", "removed", hours_ago=0)
    assert [r.outcome for r in run(mongo_db, urls)] == ["sent", "sent"]
    assert [r.outcome for r in run(mongo_db, urls)] == ["nothing new", "nothing new"]
    assert len(smtp.messages) == 2 and len(webhook.posts) == 2
    assert "late.example" in smtp.parts()["text/html"] and "big.example" not in smtp.parts()["text/html"]
    assert "late.example" in webhook.messages()[1] and "big.example" not in webhook.messages()[1]


def test_a_failed_webhook_is_caught_up_and_the_mail_not_resent(
        mongo_db: pymongo.database.Database, smtp: SmtpServer, webhook: Webhook) -> None:
    seed(mongo_db)
    urls = f"{smtp.url()}, {webhook.url()}"
    webhook.status = 500
    first = run(mongo_db, urls)
    assert [r.outcome for r in first] == ["sent", "failed"]
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1
    failed = mongo_db[DELIVERIES].find_one({"status": "failed"})
    assert failed is not None and len(failed["event_ids"]) == 4

    webhook.status = 200
    second = run(mongo_db, urls)
    assert [r.outcome for r in second] == ["nothing new", "sent"]
    assert len(smtp.messages) == 1 and len(webhook.posts) == 2
    assert "big.example/post" in webhook.messages()[1]
    assert [r.outcome for r in run(mongo_db, urls)] == ["nothing new", "nothing new"]


def test_smtp_down_then_up_and_a_webhook_timeout(mongo_db: pymongo.database.Database, webhook: Webhook) -> None:
    seed(mongo_db)
    smtp = SmtpServer(port=free_port())  # nothing listens there yet
    slow = Webhook()
    try:
        slow.delay = 3
        urls = f"{smtp.url()}, {webhook.url()}, {slow.url(query='rto=1')}"
        first = run(mongo_db, urls)
        assert [r.outcome for r in first] == ["failed", "sent", "failed"]
        assert first[0].error and first[2].error

        smtp.start()
        slow.delay = 0
        second = run(mongo_db, urls)
        assert [r.outcome for r in second] == ["sent", "nothing new", "sent"]
        assert len(smtp.messages) == 1 and len(webhook.posts) == 1
        assert "big.example/post" in smtp.parts()["text/html"]
    finally:
        smtp.stop()
        slow.stop()


def test_rules_and_every_kind_of_section(mongo_db: pymongo.database.Database) -> None:
    seed(mongo_db)
    mongo_db.mentions.insert_one({"_id": "m1", "page_url": "https://press.example/a", "term": "Acme",
                                  "matched_text": "ACME", "context": "We loved <script>ACME</script> tools.",
                                  "status": "unlinked", "first_seen": NOW - timedelta(hours=2)})
    mongo_db.mentions.insert_one({"_id": "m2", "page_url": "https://press.example/b", "term": "Acme",
                                  "status": "linked", "first_seen": NOW})
    mongo_db.opportunities.insert_one({"_id": "o1", "page_url": "https://res.example/links", "status": "open",
                                       "link_url": "https://dead.example/tool", "broken_reason": "http_404",
                                       "score": 70, "score_reasons": ["page has authority 60"],
                                       "wayback_url": "https://web.archive.org/web/*/https://dead.example/tool",
                                       "suggested_target": "https://our.example/tool", "first_seen": NOW})
    mongo_db.toxicity.insert_one({"_id": "spam.example", "domain": "spam.example", "score": 88, "verdict": "toxic",
                                  "signals": [{"name": "link farm", "weight": 40, "evidence": "..."}], "links": 12,
                                  "decision": None, "scored_at": NOW})
    mongo_db.toxicity.insert_one({"_id": "kept.example", "domain": "kept.example", "score": 90, "verdict": "toxic",
                                  "signals": [], "links": 1, "decision": "keep", "scored_at": NOW})
    mongo_db.outreach.insert_one({"_id": "t1", "kind": "reclaim_lost_link", "page_url": "https://big.example/post",
                                  "status": "contacted", "priority": 80, "contacted_at": NOW - timedelta(days=8),
                                  "follow_up_due": NOW - timedelta(days=1)})
    mongo_db.outreach.insert_one({"_id": "t2", "kind": "thank_you", "page_url": "https://x.example/",
                                  "status": "contacted", "priority": 80, "follow_up_due": NOW + timedelta(days=3)})
    [report] = deliver(mongo_db, parse_channels("json://127.0.0.1:9/x"), AlertRules(), NOW, dry_run=True)
    digest = report.digest
    assert [s.kind for s in digest.sections] == list(KINDS)
    assert [s.total for s in digest.sections] == [4, 1, 1, 1, 1]
    text, html = digest.text(), digest.html()
    assert "mentions \u201cACME\u201d without linking to us" in text
    assert "&lt;script&gt;ACME&lt;/script&gt;" in html and "<script>" not in html
    assert "the linked page answers 404" in text and "offer https://our.example/tool instead" in text
    assert "toxic domain: spam.example" in text and "kept.example" not in text
    assert "follow-up due: reclaim_lost_link" in text and "x.example" not in text
    assert mongo_db[DELIVERIES].count_documents({}) == 0  # a dry run records nothing

    # Min priority: the authority-5 lost link and the score-70 opportunity go; a recovery has no priority and stays.
    strict = deliver(mongo_db, parse_channels("json://127.0.0.1:9/x"), AlertRules(min_priority=75), NOW,
                     dry_run=True)[0].digest
    titles = [e.title for e in strict.entries]
    assert "lost: live -> page_gone" in titles and "recovered: nofollow -> live" in titles
    assert "lost: live -> removed" not in titles and "broken link opportunity" not in titles
    # Types and kinds.
    only_new = deliver(mongo_db, parse_channels("json://127.0.0.1:9/x"),
                       AlertRules(types=frozenset({"new"}), kinds=("link_events",)), NOW, dry_run=True)[0].digest
    assert [e.ref for e in only_new.entries] == ["new:0"]
    # A capped section says how much it left out.
    short = build_digest({"link_events": list(digest.sections[0].shown)}, 2, NOW)
    assert short.sections[0].left_out == 2 and "... and 2 more not shown here" in short.text()


def test_channel_urls_hold_commas_and_keys_hold_no_secret() -> None:
    urls = "mailtos://bot:s3cret-pw@smtp.example.com:587?to=a@x.org,b@x.org&from=bot@x.org, json://u:hunter2@h.example/x"
    assert split_urls(urls) == ["mailtos://bot:s3cret-pw@smtp.example.com:587?to=a@x.org,b@x.org&from=bot@x.org",
                                "json://u:hunter2@h.example/x"]
    mail, hook = parse_channels(urls)
    assert mail.html and not hook.html
    for channel in (mail, hook):
        assert "s3cret" not in channel.display + channel.key and "hunter2" not in channel.display + channel.key
    # A new password is the same channel: nothing is sent twice after a rotation.
    [rotated] = parse_channels("json://u:other@h.example/x")
    assert rotated.key == hook.key


def scrapy(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "scrapy", *args], cwd=PROJECT_ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_command_dry_run_then_a_run_killed_mid_delivery(
        mongo_db: pymongo.database.Database, mongo_uri: str, mongo_db_name: str,
        smtp: SmtpServer, webhook: Webhook) -> None:
    seed(mongo_db)
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "LINKCRAWLER_NOW": NOW.isoformat(),
           "LINKCRAWLER_ALERT_URLS": f"{smtp.url()},{webhook.url().replace('json://', 'json://u:hunter2@')}"}
    dry = scrapy("alerts", "--dry-run", env=env)
    out, err = dry.communicate(timeout=120)
    assert dry.returncode == 0, err
    assert "dry run" in out and "https://big.example/post" in out and "hunter2" not in out
    assert not smtp.messages and not webhook.posts and mongo_db[DELIVERIES].count_documents({}) == 0

    # The mail is acknowledged; the run is killed while the webhook holds its request.
    webhook.hold.clear()
    killed = scrapy("alerts", env=env)
    assert webhook.received.wait(60), killed.stderr.read() if killed.stderr else ""
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    webhook.hold.set()
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1
    assert sorted(d["status"] for d in mongo_db[DELIVERIES].find()) == ["acknowledged", "pending"]

    again = scrapy("alerts", env=env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "1 interrupted delivery(ies) now in doubt" in out
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1  # nothing twice
    assert "hunter2" not in str(list(mongo_db[DELIVERIES].find()))

    # On a person's word, the digest in doubt goes again (to that channel only).
    resend = scrapy("alerts", "--resend-in-doubt", env=env)
    out, err = resend.communicate(timeout=120)
    assert resend.returncode == 0, err
    assert len(smtp.messages) == 1 and len(webhook.posts) == 2
    assert webhook.posts[1]["authorization"] is not None  # the password reached the channel, not the database


def test_command_without_channels_is_one_clear_error(mongo_uri: str, mongo_db_name: str) -> None:
    done = scrapy("alerts", env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name,
                                 "LINKCRAWLER_ALERT_URLS": ""})
    _out, err = done.communicate(timeout=120)
    assert done.returncode == 2
    assert err.strip().startswith("error: no channel: set LINKCRAWLER_ALERT_URLS")


def test_failed_channel_gives_exit_code_one(mongo_db: pymongo.database.Database, mongo_uri: str,
                                            mongo_db_name: str) -> None:
    seed(mongo_db)
    done = scrapy("alerts", env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name,
                                 "LINKCRAWLER_NOW": NOW.isoformat(),
                                 "LINKCRAWLER_ALERT_URLS": f"json://127.0.0.1:{free_port()}/down"})
    out, err = done.communicate(timeout=120)
    assert done.returncode == 1, err
    assert ": failed, 4 item(s)" in out


def test_a_channel_another_run_holds_is_left_alone_unless_that_run_died(
        mongo_db: pymongo.database.Database, webhook: Webhook) -> None:
    seed(mongo_db)
    [channel] = parse_channels(webhook.url())
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    mongo_db.alert_channels.insert_one({"_id": channel.key, "lease_owner": "other-host:123:abc", "lease_until": later})
    [busy] = deliver(mongo_db, [channel], AlertRules(), NOW)
    assert busy.outcome == "busy" and webhook.posts == []

    # A process of this host that no longer exists holds it: taken over at once.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mongo_db.alert_channels.update_one({"_id": channel.key}, {"$set": {
        "lease_owner": f"{socket.gethostname()}:{dead.pid}:abc"}})
    [sent] = deliver(mongo_db, [channel], AlertRules(), NOW)
    assert sent.outcome == "sent" and len(webhook.posts) == 1
    assert mongo_db.alert_channels.find_one({"_id": channel.key})["lease_until"] is None
