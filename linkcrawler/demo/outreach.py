"""The demo's outreach step: a lost link, its task, and the task won when the link comes back.

Two moments of the demo's story (``scrapy demo``, linkcrawler/commands/demo.py):

- :func:`outreach_after_first_check`, between the two checks: the first check's
  lost and new links made tasks (the ``backlinks`` crawl syncs the queue when it
  ends); a person declines the one about a page that is gone for good, which lets
  the next lost link of that site (the directory that dropped its link) have its
  ask; ``crawl contacts`` finds who to write to; the person marks it contacted.
- :func:`outreach_after_second_check`, at the end: the second check saw the
  directory link back (a ``recovered`` event), and the crawl marked the task won;
  the thank-you for the blog, never sent, turned into a reclaim when the blog
  dropped its link.
"""

from __future__ import annotations

from collections.abc import Callable

from linkcrawler.backlinks.items import backlink_id
from linkcrawler.contacts.outreach_store import task_id
from linkcrawler.demo.server import DemoSite
from linkcrawler.web.urls import normalize_url

Run = Callable[[list[str], dict[str, str]], None]
Say = Callable[[str], None]


def _reclaim_task(source_url: str, target_url: str) -> str:
    return task_id("reclaim_lost_link", backlink_id(normalize_url(source_url), normalize_url(target_url)))


def outreach_after_first_check(site: DemoSite, env: dict[str, str], run: Run, say: Say) -> None:
    """The queue after the first check, a person's triage, and the contacts behind the linking site."""
    say("Outreach: the check filled the queue (one open ask per site and kind; the others wait)")
    run(["outreach", "list"], env)
    gone = _reclaim_task(f"{site.sites}/old/article.html", f"{site.our}/pricing.html")
    run(["outreach", "mark", gone, "declined", "--note", "the article was deleted for good"], env)
    say("Who to write to: contacts of the linking site (mailto, JSON-LD, bylines, 'links [at] ... [dot] org')")
    run(["crawl", "contacts", "-a", f"urls={site.sites}/outreach/team.html",
         "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1"], env)
    directory = _reclaim_task(f"{site.sites}/directory/listing.html", f"{site.our}/")
    run(["outreach", "list"], env)
    run(["outreach", "mark", directory, "contacted", "--note", "asked the directory to link to us again"], env)


def outreach_after_second_check(site: DemoSite, env: dict[str, str], run: Run, say: Say) -> None:
    """The queue after the second check: the reclaimed link's task won, without anyone marking it."""
    say("7. Outreach after the second check: the directory's link is back, so its task is won")
    run(["outreach", "list", "--all"], env)
    run(["outreach", "export", "-o", "-"], env)
