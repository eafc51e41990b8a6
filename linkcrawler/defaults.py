"""Every default of linkcrawler's own settings, in one place.

Components read settings with typed getters and fall back to these values, so a
component built outside a project (a test, a script) behaves like the shipped one.
"""

from __future__ import annotations

#: The MongoDB to use (``mongodb://user:password@host/...``). Unset: the embedded store.
MONGO_URI: str | None = None
MONGO_DATABASE = "linkcrawler"
#: Where the embedded store keeps its data when no ``MONGO_URI`` is set.
LINKCRAWLER_DATA_DIR = ".linkcrawler"
#: Seconds to wait for MongoDB (embedded or real) to answer at start.
MONGO_CONNECT_TIMEOUT = 10.0
#: Seconds the embedded store's server stays up after its last user left, so that the
#: next command reuses it (0: stop it at once). Starting and stopping it costs 2-2.5 s.
LINKCRAWLER_STORE_LINGER = 5.0

#: Level of the MongoDB driver's own loggers (``pymongo.*``): its command and
#: connection monitoring at DEBUG would otherwise drown a crawl's log.
LINKCRAWLER_DRIVER_LOG_LEVEL = "WARNING"

#: Items buffered before a bulk write is sent (also flushed every interval).
MONGO_BATCH_SIZE = 500
MONGO_FLUSH_INTERVAL = 2.0
#: Attempts for one bulk write that fails on a transient error.
MONGO_WRITE_RETRIES = 8
MONGO_RETRY_BACKOFF = 0.5
MONGO_RETRY_BACKOFF_MAX = 10.0

LINKCRAWLER_OWN_DOMAINS: list[str] = []
LINKCRAWLER_LOST_AFTER = 3
LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES = False
#: CIDR ranges fetched even when private addresses are refused (an intranet host).
LINKCRAWLER_ALLOWED_NETWORKS: list[str] = []

#: The Redis that shares scheduling and de-duplication between processes and
#: Scrapyd nodes. Unset: each process crawls on its own.
REDIS_URL: str | None = None
#: Redis keys are prefixed with this so several projects can share one Redis.
LINKCRAWLER_REDIS_PREFIX = "linkcrawler"
#: Seconds without a heartbeat after which a worker counts as dead and what it
#: had in flight is handed out again.
SCHEDULER_WORKER_TTL = 30.0
#: Seconds the keys of a run (its duplicate filter, the start requests seen)
#: outlive the last heartbeat of its workers.
SCHEDULER_RUN_TTL = 7 * 24 * 3600.0
#: Seconds a Redis command may take before the server counts as unreachable.
SCHEDULER_REDIS_TIMEOUT = 5.0
#: Requests taken from Redis in one round trip at most (they count as this
#: worker's from then on: never more than its downloader can start at once).
SCHEDULER_PREFETCH = 4
#: The name of a distributed run (a round): workers given the same id share one
#: crawl, and a job scheduled after that run ended stops at once. Unset: a new run
#: starts whenever no run is going on.
SCHEDULER_RUN_ID: str | None = None
#: Seconds a worker with nothing to do waits for work from the others before it ends.
SCHEDULER_IDLE_BEFORE_CLOSE = 5.0

#: The longest ``Retry-After`` (seconds) a host can impose on its download slot.
LINKCRAWLER_RETRY_AFTER_MAX = 120.0

#: A backlink is due for a re-check this many hours after its last check.
LINKCRAWLER_RECHECK_HOURS = 24.0
#: Redirect hops followed from a linking page before giving up.
LINKCRAWLER_MAX_REDIRECTS = 10
#: A 2xx page whose meta refresh (or ``Refresh`` header) fires within this many
#: seconds counts as a redirect to the refresh URL (Google reads an instant refresh
#: as a redirect); a longer delay leaves a page a reader sees, and it is checked as it is.
LINKCRAWLER_REFRESH_MAX_DELAY = 5.0
#: Past states kept in a backlink's ``history``.
LINKCRAWLER_HISTORY_LENGTH = 20

#: An ISO 8601 time every command and spider takes as now (tests, replays); unset: the clock.
LINKCRAWLER_NOW = None

#: Seconds between two progress lines in a crawl's log (done, of how many, per second, time left); 0: none.
LINKCRAWLER_PROGRESS_INTERVAL = 30.0

#: Write one ``runs`` document per spider run, with its stats.
LINKCRAWLER_RECORD_RUNS = True

# site_audit
#: Deepest page crawled, in clicks from the start URL (0: no limit).
LINKCRAWLER_AUDIT_MAX_DEPTH = 10
#: Most internal URLs fetched in one audit (0: no limit).
LINKCRAWLER_AUDIT_MAX_PAGES = 100_000
#: Longest URL crawled (0: no limit).
LINKCRAWLER_AUDIT_MAX_URL_LENGTH = 2000
#: Most URLs crawled that share one path and differ in their query (faceted filters, calendars).
LINKCRAWLER_AUDIT_MAX_QUERY_VARIANTS = 100
#: A URL whose path repeats one segment more often than this is a relative-link trap.
LINKCRAWLER_AUDIT_MAX_SEGMENT_REPEATS = 3
#: Regular expressions: internal URLs matching any of them are not crawled.
LINKCRAWLER_AUDIT_DENY: list[str] = []
#: Query parameters removed from every URL (fnmatch patterns): session ids, click trackers.
LINKCRAWLER_AUDIT_STRIP_PARAMS: list[str] = [
    "jsessionid", "phpsessid", "sid", "sessionid", "session_id", "aspsessionid*",
    "utm_*", "gclid", "fbclid", "msclkid",
]
#: Check external links (one HEAD per distinct URL).
LINKCRAWLER_AUDIT_CHECK_EXTERNAL = True
#: Entries per section in the report logged at the end.
LINKCRAWLER_AUDIT_REPORT_LINES = 20
