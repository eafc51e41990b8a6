"""Demo step: no false alarms (a link inserted by script stays live, a loss says why) and an expiring link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo

from linkcrawler.demo.server import DemoSite

DEMO_EXPORT = """source_url,target_url,anchor_text,authority,expires_at
{sites}/render/app.html,{our}/,Acme Link Tools,55,{ends}
{sites}/render/review.html,{our}/,Acme Link Tools,70,
"""


def show_confirmed_losses(demo_db: pymongo.database.Database[dict[str, Any]], data_dir: Path,
                          env: dict[str, str]) -> None:
    """Import two links, check them, remove one, check a week later: print states and events.

    In a database of its own beside the demo's (its name + ``_render``): a week
    later the earlier steps' links, whose site is gone by then, would be due too.
    """
    from linkcrawler.commands.demo import run, say

    db = demo_db.client[demo_db.name + "_render"]
    db.client.drop_database(db.name)
    env = {**env, "MONGO_DATABASE": db.name}
    now = datetime.now(UTC).replace(microsecond=0)
    with DemoSite(data_dir / "demo-render-site") as site:
        export = data_dir / "demo-render-export.csv"
        ends = (now + timedelta(days=5)).strftime("%d.%m.%Y")
        export.write_text(DEMO_EXPORT.format(sites=site.sites, our=site.our, ends=ends))
        say("7. No false alarms: a page built by script, and a paid link that ends in 5 days")
        run(["importlinks", str(export)], env)
        crawl = ["crawl", "backlinks", "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1",
                 "-s", "LINKCRAWLER_OWN_DOMAINS=localhost"]
        run([*crawl, "-s", f"LINKCRAWLER_NOW={now.isoformat()}"], env)
        site.edit("render/review.html", '<a href="{our}/">Acme Link Tools</a>', "Acme Link Tools")
        print("   - the review keeps its paragraph but drops the link (render/review.html)")
        say("8. A week later (LINKCRAWLER_NOW): what is due by the schedule is checked again")
        later = now + timedelta(days=7)
        run([*crawl, "-s", f"LINKCRAWLER_NOW={later.isoformat()}"], env)
        for doc in db.backlinks.find({"source_url": {"$regex": "/render/"}}).sort("source_url", 1):
            print(f"   {doc['source_url'].rsplit('/', 1)[-1]}: {doc['status']}: {doc['status_reason']}")
            print(f"      next check {doc.get('next_check')}")
        for event in db.link_events.find({"type": {"$in": ["lost", "expiring"]},
                                          "source_url": {"$regex": "/render/"}}):
            print(f"   event {event['type']}: {event['reason']}")
            if event.get("wayback_url"):
                print(f"      {event['wayback_url']}")
