"""The demo's mentions step: an alert feed of pages naming the brand, read live, then one reclaimed."""

from __future__ import annotations

from collections.abc import Callable

from linkcrawler.demo.server import DemoSite

#: The brand as the demo's pages write it.
BRAND = "Acme Link Tools"


def run_mentions_demo(
    site: DemoSite, env: dict[str, str], run: Callable[[list[str], dict[str, str]], None], say: Callable[[str], None],
) -> None:
    """Find the brand mentions of a small Google Alerts feed, list them, then reclaim one and show it.

    ``run`` runs a ``scrapy`` command and ``say`` prints a step title (those of ``scrapy demo``).
    """
    feed = site.root / "mentions" / "alerts.xml"
    crawl = ["crawl", "mentions", "-a", f"brand={BRAND}", "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1",
             "-s", "LINKCRAWLER_OWN_DOMAINS=localhost"]
    say(f"Mentions: read the pages of a Google Alerts feed for {BRAND!r} (its redirect links unwrapped "
        "offline), in their main text only")
    print("   pages: a linked mention, an unlinked one, a nofollow one, one that names us only in its "
          "footer, and a look-alike (Acmeville, our name only in an image's alt)", flush=True)
    run([*crawl, "-a", f"feed={feed}"], env)
    print("   expected: 3 mentions of the 5 pages (linked, unlinked, nofollow): the footer-only and look-alike "
          "pages are not mentions", flush=True)
    run(["mentions", "--status", "all", "--limit", "10"], env)
    say("The unlinked page adds a link to us; the next check notices: reclaimed, and a new backlink")
    site.edit("mentions/unlinked.html", "Every morning ACME Link Tools re-checks",
              f'Every morning <a href="{site.our}/">ACME Link Tools</a> re-checks')
    run([*crawl, "-a", "all=1"], env)
    run(["mentions", "--status", "linked", "--limit", "10"], env)
