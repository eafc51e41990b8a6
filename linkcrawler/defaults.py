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
#: Run the embedded store's server as a replica set, so that downstream tools can
#: ``watch()`` its collections (change streams). Off: every write is cheaper without
#: the oplog that feeds them (store/embedded.py SERVER_OPTIONS). A real MONGO_URI
#: replica set has them whatever this says.
LINKCRAWLER_STORE_CHANGE_STREAMS = False

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
#: The longest a backlink waits for its next check, in hours (stable, low-value
#: links); the most valuable, changing ones wait LINKCRAWLER_RECHECK_HOURS
#: (linkcrawler/backlinks/schedule.py has the formula).
LINKCRAWLER_RECHECK_MAX_HOURS = 168.0
#: Links of one linking site (registrable domain) checked in 24 hours at most; the
#: rest stay due for a later run (a forum with a sitewide link is not fetched whole
#: every day). 0: no bound. ``-a all=1`` ignores it. With REDIS_URL each worker
#: counts what it schedules: the bound holds per worker.
LINKCRAWLER_RECHECK_MAX_PER_SITE_PER_DAY = 10_000
#: Days before a link's ``expires_at`` that an ``expiring`` event is written (once each).
LINKCRAWLER_EXPIRING_DAYS: list[int] = [7, 2]
#: Rendering linking pages in a real browser (scrapy-playwright driving chromium):
#: ``never``; ``confirm``: before a link is recorded ``removed`` and for pages that
#: look script-built; ``always``: every page. Unset: ``confirm`` when chromium is installed.
LINKCRAWLER_RENDER: str | None = None
#: The chromium the browser checks run (Debian's); Playwright never downloads one.
LINKCRAWLER_CHROMIUM_PATH = "/usr/bin/chromium"
#: Pages rendered in one run at most; beyond, a removal is recorded unconfirmed (and says so).
LINKCRAWLER_RENDER_MAX_PER_RUN = 200
#: Seconds a page may take to load in the browser before its render is given up.
LINKCRAWLER_RENDER_TIMEOUT = 15.0
#: Milliseconds the browser waits after the load event for scripts to insert content.
LINKCRAWLER_RENDER_SETTLE_MS = 500
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

# mentions
#: Brand names and variants the ``mentions`` spider looks for (comma-separated); ``-a brand=`` overrides.
LINKCRAWLER_BRAND_TERMS: list[str] = []
# contacts and outreach (W6)
#: Lost links, new links, mentions and opportunities at or above this priority get an outreach task;
#: ``scrapy crawl contacts -a from=...`` looks for the people behind them.
LINKCRAWLER_OUTREACH_MIN_PRIORITY = 50
#: No new outreach task for a domain contacted within this many days.
LINKCRAWLER_OUTREACH_COOLDOWN_DAYS = 90.0
#: A follow-up is due this many days after a task is marked contacted (or followed up).
LINKCRAWLER_FOLLOW_UP_DAYS = 7.0
#: A new link gets a thank-you task while it was first seen at most this many days ago.
LINKCRAWLER_THANK_YOU_DAYS = 30.0
#: Create and move outreach tasks when a backlinks, mentions, prospects or contacts crawl ends.
LINKCRAWLER_OUTREACH_SYNC = True
#: Pages fetched per site by ``scrapy crawl contacts`` (the page itself, then contact/about/team pages).
LINKCRAWLER_CONTACTS_MAX_PAGES = 5
# toxic-link audit (toxicaudit, disavow)
#: Commercial anchor phrases (comma-separated) whose exact-match use the toxic audit watches.
LINKCRAWLER_MONEY_TERMS: list[str] = []
#: Languages of our audience (ISO 639-1, comma-separated): a linking page in another is a signal.
LINKCRAWLER_SITE_LANGUAGES: list[str] = ["en"]
#: Weights of the toxic audit's signals, a JSON object overriding the defaults of
#: linkcrawler/toxicity/signals.py (``{"link_network": 20, "noindex": 0}``; 0 turns one off).
LINKCRAWLER_TOXIC_WEIGHTS: dict[str, int] = {}
#: A linking domain scoring at least this is ``review``, at least ``LINKCRAWLER_TOXIC_AT`` ``toxic``.
LINKCRAWLER_TOXIC_REVIEW_AT = 30
LINKCRAWLER_TOXIC_AT = 60
#: Addresses for host names, answered before DNS when the audit looks for link networks
#: (a JSON object ``{"host": "address"}``, as ``curl --resolve``): tests, demos, pinned hosts.
LINKCRAWLER_TOXIC_RESOLVE: dict[str, str] = {}
#: Seconds the audit waits for all its DNS lookups (a host not resolved by then has no address).
LINKCRAWLER_TOXIC_DNS_TIMEOUT = 5.0
#: The backlinks spider reads a linking page's facts for the toxic audit on its first
#: check, then every this many days (1: every check; 0: never): a few ms a page, spread out.
LINKCRAWLER_TOXIC_PAGE_FACTS_DAYS = 7
# prospects
#: With ``-a depth=1``: pages read per prospect site (the listed page included), unless ``-a max_pages_per_site``.
LINKCRAWLER_PROSPECTS_MAX_PAGES_PER_SITE = 20
#: Names that surely exist: a "domain does not exist" (NXDOMAIN) counts as a broken link only
#: when the resolver finds at least one of them (an offline or filtering resolver answers
#: NXDOMAIN for every name). Empty: the resolver is always believed.
LINKCRAWLER_DNS_CANARIES: list[str] = ["example.com", "iana.org", "wikipedia.org"]
# alerts (linkcrawler/alerts/)
#: Where digests go: Apprise notification URLs, comma-separated (mailto://, json://, slack://...).
LINKCRAWLER_ALERT_URLS: list[str] = []
#: Items carrying a priority or score below this are left out of digests.
LINKCRAWLER_ALERT_MIN_PRIORITY = 0
#: The ``link_events`` types worth a message.
LINKCRAWLER_ALERT_TYPES: list[str] = ["lost", "degraded", "recovered"]
#: The sections (alert kinds) of a digest: linkcrawler/alerts/kinds.py.
LINKCRAWLER_ALERT_KINDS: list[str] = ["link_events", "mentions", "opportunities", "toxicity", "outreach"]
#: Entries shown per section of a digest (the rest are counted).
LINKCRAWLER_ALERT_MAX_LINES = 50
#: Items older than this many days are never sent (a channel added later does not get the whole past).
LINKCRAWLER_ALERT_LOOKBACK_DAYS = 30.0
#: Deliver the digests when a backlinks crawl finishes (extensions/alerts.py).
LINKCRAWLER_ALERT_ON_CLOSE = False
