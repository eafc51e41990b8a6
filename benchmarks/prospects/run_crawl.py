"""Run one crawl and write its stats as JSON.

``python -m benchmarks.prospects.run_crawl prospects|bare URLS_FILE OUT.json [NAME=VALUE...]``

``prospects`` runs the project's spider with the project's settings (MongoDB writes on);
``bare`` runs :class:`BareSpider` with Scrapy's defaults. Both get the NAME=VALUE overrides.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scrapy import Spider
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from benchmarks.common import crawl_and_write_stats


def main(argv: list[str]) -> None:
    which, urls, out = argv[0], argv[1], Path(argv[2])
    overrides = dict(arg.split("=", 1) for arg in argv[3:])
    if which == "prospects":
        settings = get_project_settings()
        spider: type[Spider] | str = "prospects"
    else:
        from benchmarks.prospects.bare_spider import BareSpider

        settings = Settings()
        spider = BareSpider
    settings.setdict(overrides, priority="cmdline")
    crawl_and_write_stats(settings, spider, out, urls=urls)


if __name__ == "__main__":
    main(sys.argv[1:])
