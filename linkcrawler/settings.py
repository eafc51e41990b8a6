"""Scrapy settings of the linkcrawler project.

Every setting of linkcrawler.defaults is read from the environment variable of
the same name, and ``scrapy crawl -s NAME=VALUE`` overrides it. Importing this module only
reads the environment: Scrapyd imports it on every deploy (``scrapy list``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from linkcrawler import defaults

BOT_NAME = "linkcrawler"
SPIDER_MODULES = ["linkcrawler.spiders"]
NEWSPIDER_MODULE = "linkcrawler.spiders"
COMMANDS_MODULE = "linkcrawler.commands"


def environment_settings(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Every setting of :mod:`linkcrawler.defaults`, from the environment when set there.

    A variable that is unset or empty leaves the default. Values from the
    environment stay strings: Scrapy's typed getters (getbool, getint, getfloat,
    getlist) parse them exactly as they parse ``-s NAME=VALUE``.
    """
    return {
        name: environ.get(name) or copy.deepcopy(getattr(defaults, name))
        for name in dir(defaults)
        if name.isupper() and not name.startswith("_")
    }


# A new default in defaults.py is a setting here, readable from the environment,
# with no line to add.
globals().update(environment_settings())

USER_AGENT = "linkcrawler/0.1 (backlink verification)"
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 1
FEED_EXPORT_ENCODING = "utf-8"
# Scrapy parses each generator callback's source on every response to warn about
# a ``return value`` in it: 12% of the backlinks crawler's CPU (measured). Our
# callbacks are checked by ruff and the tests instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
# ``-o FILE`` writes one clean row per link, page or finding (linkcrawler/exporters.py).
FEED_EXPORTERS = {
    "json": "linkcrawler.exporters.JsonRowExporter",
    "jsonlines": "linkcrawler.exporters.JsonLinesRowExporter",
    "jsonl": "linkcrawler.exporters.JsonLinesRowExporter",
    "jl": "linkcrawler.exporters.JsonLinesRowExporter",
    "csv": "linkcrawler.exporters.CsvRowExporter",
    "xml": "linkcrawler.exporters.XmlRowExporter",
}

# Only HTTP(S): a link checker fed third-party URLs must never read local files
# or reach other protocols.
DOWNLOAD_HANDLERS = {
    "file": None,
    "data": None,
    "ftp": None,
    "s3": None,
    # Items handed to the engine after the crawl (linkcrawler/handover.py): no network.
    "handover": "linkcrawler.handover.HandoverDownloadHandler",
}

DOWNLOADER_MIDDLEWARES = {
    # Right after the offsite filter, before robots.txt is fetched for the host.
    "linkcrawler.middlewares.address_guard.AddressGuardMiddleware": 60,
    # robots.txt per RFC 9309: a 5xx or unreachable robots.txt disallows for now.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "linkcrawler.middlewares.robots.RobotsTxtMiddleware": 100,
    # Sees a 429/503 before RetryMiddleware (550) schedules its retry.
    "linkcrawler.middlewares.retry_after.RetryAfterMiddleware": 560,
}

EXTENSIONS = {
    "linkcrawler.extensions.runs.RunRecorder": 500,
    "linkcrawler.extensions.progress.Progress": 510,
    # The outreach queue follows what a crawl found (after the pipelines wrote it).
    "linkcrawler.extensions.outreach.OutreachSync": 520,
    # Off unless LINKCRAWLER_ALERT_ON_CLOSE: the alert digests when a backlinks crawl ends.
    "linkcrawler.extensions.alerts.AlertsOnClose": 530,
}

ITEM_PIPELINES = {
    "pipelines.mongo.MongoWriterPipeline": 800,
}

# Scrapy's scheduler without REDIS_URL; with it, a reliable queue shared through
# Redis (decided per crawl, so ``-s REDIS_URL=...`` works as well as the
# environment variable). See linkcrawler/distributed/scheduler.py.
SCHEDULER = "linkcrawler.distributed.scheduler.SchedulerSelector"
