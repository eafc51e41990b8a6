"""Run one crawl and write its stats as JSON.

``python -m benchmarks.site_audit.run_crawl audit|bare START_URL OUT.json [NAME=VALUE...]``

``audit`` runs the project's ``site_audit`` with the project's settings; ``bare``
runs :class:`BareSpider` with Scrapy's default settings and the spider's own. Both get the same
concurrency and the NAME=VALUE overrides.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from benchmarks.common import crawl_and_write_stats


def main(argv: list[str]) -> None:
    which, start_url, out = argv[0], argv[1], Path(argv[2])
    overrides = dict(arg.split("=", 1) for arg in argv[3:])
    if which == "audit":
        settings = get_project_settings()
        spider: object = "site_audit"
    else:
        from benchmarks.site_audit.bare_spider import BareSpider

        settings = Settings()
        spider = BareSpider
    settings.setdict(overrides, priority="cmdline")
    crawl_and_write_stats(settings, spider, out, start_url=start_url)


if __name__ == "__main__":
    main(sys.argv[1:])
