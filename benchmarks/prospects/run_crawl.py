"""Run one crawl and write its stats as JSON.

``python -m benchmarks.prospects.run_crawl prospects|bare URLS_FILE OUT.json [NAME=VALUE...]``

``prospects`` runs the project's spider with the project's settings (MongoDB writes on);
``bare`` runs :class:`BareSpider` with Scrapy's defaults. Both get the NAME=VALUE overrides.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scrapy import Spider
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings


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
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(spider)
    process.crawl(crawler, urls=urls)
    process.start()
    stats = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
             for key, value in crawler.stats.get_stats().items()}
    out.write_text(json.dumps(stats, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
