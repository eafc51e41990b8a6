"""Run one crawl and write its stats as JSON.

``python -m benchmarks.site_audit.run_crawl audit|bare START_URL OUT.json [NAME=VALUE...]``

``audit`` runs the project's ``site_audit`` with the project's settings; ``bare``
runs :class:`BareSpider` with Scrapy's default settings and the spider's own. Both get the same
concurrency and the NAME=VALUE overrides.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings


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
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(spider)

    def response_received(**_: Any) -> None:
        # When the last answer came: what follows it is the crawl's writing and closing.
        crawler.stats.set_value("linkcrawler/bench/last_response_time", datetime.now(timezone.utc))

    crawler.signals.connect(response_received, signal=signals.response_received)
    process.crawl(crawler, start_url=start_url)
    process.start()
    stats = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
             for key, value in crawler.stats.get_stats().items()}
    out.write_text(json.dumps(stats, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
