"""What the audit remembers per page: the crawl's bookkeeping driven without Scrapy, at any size.

    python -m benchmarks.site_audit.book_memory [--pages 80000]

Feeds an :class:`~linkcrawler.crawl.book.AuditBook` the answers of a site shaped
like the benchmark's (home, 100 sections, articles with the navigation, 9 links
to other articles and one external link), in the order the book
hands the fetches out (window 128, as the spider with 32 concurrent requests),
and prints the peak RSS of the process and what the book holds. Scrapy's part
of a crawl does not grow with the site (the window bounds its queue), so this is
the part that does: run it at two sizes, the difference per page is the growth.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections import deque
from dataclasses import dataclass

from linkcrawler.audit.items import AuditedPage
from linkcrawler.crawl.book import Answer, AuditBook, Fetch, collect_anchors
from linkcrawler.crawl.scope import ParamStripper, SiteScope
from linkcrawler.crawl.traps import TrapGuard, TrapLimits

BASE = "http://127.0.0.1:8080"
EXTERNAL = "http://localhost:8080/ext"
SECTIONS = 100


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    anchor_text: str


def answers(pages: int) -> tuple[dict[str, list[str]], int]:
    """The links of home and the sections, and the number of articles."""
    per_section = pages // SECTIONS
    urls = [f"{BASE}/s{s}/p{i}.html" for s in range(SECTIONS) for i in range(per_section)]
    nav = [f"{BASE}/"] + [f"{BASE}/s{s}/" for s in range(0, SECTIONS, 10)]
    links = {f"{BASE}/": nav + [f"{BASE}/s{s}/" for s in range(SECTIONS)]}
    for s in range(SECTIONS):
        links[f"{BASE}/s{s}/"] = nav + urls[s * per_section:(s + 1) * per_section]
    return links, len(urls)


def article_links(rng: random.Random, total: int) -> list[str]:
    """An article's links: the navigation, 9 other articles at random (related, next), one external."""
    per_section = total // SECTIONS
    pick = [rng.randrange(total) for _ in range(9)]
    nav = [f"{BASE}/"] + [f"{BASE}/s{n}/" for n in range(0, SECTIONS, 10)]
    related = [f"{BASE}/s{n // per_section}/p{n % per_section}.html" for n in pick]
    return nav + related + [f"{EXTERNAL}/ok{rng.randrange(280)}.html"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=80_000)
    args = parser.parse_args()
    fixed, total = answers(args.pages)
    rng = random.Random(11)
    book = AuditBook(f"{BASE}/", SiteScope(f"{BASE}/"), TrapGuard(TrapLimits()), ParamStripper(), window=128)
    started = time.monotonic()
    out: deque[Fetch] = deque([f for f in [book.start()] if f is not None])
    pages = 0
    while out:
        fetch = out.popleft()
        if fetch.external:
            answer = Answer(fetch.url, 200, external=True)
        else:
            links = fixed.get(fetch.url) or article_links(rng, total)
            # Each link's text a new string, as parsing makes it (collect_anchors interns them).
            anchors = collect_anchors(fetch.url, [Link(link, "".join(("anchor ", "text"))) for link in links],
                                      book.strip)
            answer = Answer(fetch.url, 200, details={"content_type": "text/html", "title": "A page"}, anchors=anchors)
        for output in book.answered(fetch, answer):
            if isinstance(output, Fetch):
                out.append(output)
            elif isinstance(output, AuditedPage):
                pages += 1
    totals = book.totals()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{pages:,} pages recorded in {time.monotonic() - started:.1f}s; peak RSS {peak:.0f} MB; "
          f"{len(book.scheduled):,} URLs scheduled; totals update {len(totals.inlinks):,} pages")


if __name__ == "__main__":
    main()
