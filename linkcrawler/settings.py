"""Scrapy settings of the linkcrawler project.

Every setting of the contract is read from the environment variable of the same
name, and ``scrapy crawl -s NAME=VALUE`` overrides it. Importing this module only
reads the environment: Scrapyd imports it on every deploy (``scrapy list``).
"""

from __future__ import annotations

import os

from linkcrawler import defaults

BOT_NAME = "linkcrawler"
SPIDER_MODULES = ["linkcrawler.spiders"]
NEWSPIDER_MODULE = "linkcrawler.spiders"
COMMANDS_MODULE = "linkcrawler.commands"


def _env(name: str, default: object) -> object:
    """The environment variable ``name`` when set and not empty, else ``default``.

    Values stay strings: Scrapy's typed getters (getbool, getint, getlist) parse
    them exactly as they parse ``-s NAME=VALUE``.
    """
    return os.environ.get(name) or default


MONGO_URI = _env("MONGO_URI", None)
MONGO_DATABASE = _env("MONGO_DATABASE", defaults.MONGO_DATABASE)
REDIS_URL = _env("REDIS_URL", None)
LINKCRAWLER_DATA_DIR = _env("LINKCRAWLER_DATA_DIR", defaults.LINKCRAWLER_DATA_DIR)
LINKCRAWLER_OWN_DOMAINS = _env("LINKCRAWLER_OWN_DOMAINS", defaults.LINKCRAWLER_OWN_DOMAINS)
LINKCRAWLER_LOST_AFTER = _env("LINKCRAWLER_LOST_AFTER", defaults.LINKCRAWLER_LOST_AFTER)
LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES = _env(
    "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES", defaults.LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES
)
LINKCRAWLER_ALLOWED_NETWORKS = _env("LINKCRAWLER_ALLOWED_NETWORKS", defaults.LINKCRAWLER_ALLOWED_NETWORKS)

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

# Only HTTP(S): a link checker fed third-party URLs must never read local files
# or reach other protocols.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

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
}

ITEM_PIPELINES = {
    "pipelines.mongo.MongoWriterPipeline": 800,
}

# Scrapy's scheduler without REDIS_URL; with it, a reliable queue shared through
# Redis (decided per crawl, so ``-s REDIS_URL=...`` works as well as the
# environment variable). See linkcrawler/distributed/scheduler.py.
SCHEDULER = "linkcrawler.distributed.scheduler.SchedulerSelector"
