"""``scrapy demo``: the whole backlink job on a demo site served on loopback."""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from linkcrawler.audit.findings import format_findings
from linkcrawler.audit.store import load_findings
from linkcrawler.cli import StoreCommand
from linkcrawler.demo.mentions import run_mentions_demo
from linkcrawler.demo.outreach import outreach_after_first_check, outreach_after_second_check
from linkcrawler.demo.prospects import run_prospects_demo
from linkcrawler.demo.render import show_confirmed_losses
from linkcrawler.demo.report import show_alerts_and_report
from linkcrawler.demo.server import DemoSite
from linkcrawler.demo.toxicity import toxicity_demo
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.store import Store

DEMO_DATABASE = "linkcrawler_demo"

#: How the demo's "web" changes between the two checks.
CHANGES = [
    ("blog/best-tools.html", '<a href="{our}/">Acme Link Tools</a>', "Acme Link Tools",
     "the blog post drops its link"),
    ("news/review.html", ' rel="nofollow"', "", "the review makes its link followed"),
    ("directory/listing.html", "Acme Link Tools (no link any more, only the name)",
     '<a href="{our}/">Acme Link Tools</a>', "the directory links to us again"),
]


class Command(StoreCommand):
    default_settings = {"LOG_LEVEL": "WARNING"}

    def short_desc(self) -> str:
        return "Run the backlink check on a demo site served on loopback, and show what it finds"

    def long_desc(self) -> str:
        return (
            "Serves a few linking pages and a small 'own site' on 127.0.0.1/localhost, imports "
            "a sample export of their links, checks every link, changes some pages as the web "
            "would, checks again and prints the states, lost links and events; then audits the "
            "own site and proposes 301 rules for its gone pages that have backlinks. It uses the "
            f"database {DEMO_DATABASE!r} (emptied first) of the configured store: the embedded "
            "one unless MONGO_URI is set."
        )

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        data_dir = Path(self.settings.get("LINKCRAWLER_DATA_DIR") or ".linkcrawler")
        store.client.drop_database(DEMO_DATABASE)
        env = {**os.environ, "MONGO_DATABASE": DEMO_DATABASE,
               "LINKCRAWLER_DATA_DIR": str(data_dir.resolve())}
        if self.settings.get("MONGO_URI"):
            env["MONGO_URI"] = self.settings["MONGO_URI"]
        with DemoSite(data_dir / "demo-site") as site:
            export = site.write_export(data_dir / "demo-export.csv")
            say(f"Demo site: linking pages on {site.sites}/..., our site on {site.our}/")
            say("Data: " + store.display_uri + f", database {DEMO_DATABASE!r}")

            say("1. Import a backlink export (a CSV shaped like the ones SEO tools give)")
            run(["importlinks", str(export)], env)
            say("2. Check every linking page (loopback addresses are allowed for the demo)")
            crawl = ["crawl", "backlinks", "-a", "all=1", "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1",
                     "-s", "LINKCRAWLER_OWN_DOMAINS=localhost"]
            run(crawl, env)
            run(["linkstatus", "--limit", "10"], env)
            outreach_after_first_check(site, env, run, say)

            say("3. The web changes:")
            for page, old, new, what in CHANGES:
                site.edit(page, old, new)
                print(f"   - {what} ({page})")
            say("4. Check again: every change of state becomes one event")
            run(crawl, env)
            run(["linkstatus", "--limit", "10"], env)

            say(f"5. Audit our own site ({site.our}/): broken links, redirect chains, loops")
            run(["crawl", "site_audit", "-a", f"start_url={site.our}/",
                 "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1"], env)
            findings = load_findings(store.client[DEMO_DATABASE], urlsplit(site.our).netloc)
            print(format_findings(findings), flush=True)
            say("6. 301 rules for our pages that are gone but still have backlinks")
            run(["redirectmap", "-o", "-", "--format", "nginx"], env)
            run_mentions_demo(site, env, run, say)
            outreach_after_second_check(site, env, run, say)
            toxicity_demo(data_dir, site.our, env, run, say)
            run_prospects_demo(site, data_dir, lambda args: run(args, env), say, 7)
        show_confirmed_losses(store.client[DEMO_DATABASE], data_dir, env)
        # Last: the digest and the report show what every step before found.
        show_alerts_and_report(data_dir, env)
        say("Done. With your own data: scrapy importlinks FILE && scrapy crawl backlinks && scrapy linkstatus")


_STEP = re.compile(r"^\d+\. ")
_steps = itertools.count(1)


def say(text: str) -> None:
    """A heading of the demo's story; a numbered step ("7. ...") is numbered in the order shown."""
    if _STEP.match(text):
        text = _STEP.sub(f"{next(_steps)}. ", text, count=1)
    print(f"\n== {text}", flush=True)


def run(args: list[str], env: dict[str, str]) -> None:
    print(f"$ scrapy {' '.join(args)}", flush=True)
    done = subprocess.run([sys.executable, "-m", "scrapy", *args, "-L", "WARNING"], env=env, check=False)
    if done.returncode != 0:
        raise LinkcrawlerError(f"'scrapy {args[0]}' failed with exit code {done.returncode}")
