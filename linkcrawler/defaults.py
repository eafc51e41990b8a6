"""Every default of linkcrawler's own settings, in one place.

Components read settings with typed getters and fall back to these values, so a
component built outside a project (a test, a script) behaves like the shipped one.
"""

from __future__ import annotations

MONGO_DATABASE = "linkcrawler"
#: Where the embedded store keeps its data when no ``MONGO_URI`` is set.
LINKCRAWLER_DATA_DIR = ".linkcrawler"
#: Seconds to wait for MongoDB (embedded or real) to answer at start.
MONGO_CONNECT_TIMEOUT = 10.0

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

#: Redis keys are prefixed with this so several projects can share one Redis.
LINKCRAWLER_REDIS_PREFIX = "linkcrawler"

#: The longest ``Retry-After`` (seconds) a host can impose on its download slot.
LINKCRAWLER_RETRY_AFTER_MAX = 120.0

#: A backlink is due for a re-check this many hours after its last check.
LINKCRAWLER_RECHECK_HOURS = 24.0
#: Redirect hops followed from a linking page before giving up.
LINKCRAWLER_MAX_REDIRECTS = 10
#: Past states kept in a backlink's ``history``.
LINKCRAWLER_HISTORY_LENGTH = 20

#: Write one ``runs`` document per spider run, with its stats.
LINKCRAWLER_RECORD_RUNS = True
