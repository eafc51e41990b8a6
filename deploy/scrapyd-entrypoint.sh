#!/bin/sh
# Start Scrapyd, but never without authentication.
set -eu

if [ -z "${SCRAPYD_PASSWORD:-}" ]; then
    echo "SCRAPYD_PASSWORD is not set: refusing to start Scrapyd without authentication" >&2
    exit 1
fi
for var in REDIS_URL MONGO_URI; do
    eval "value=\${$var:-}"
    if [ -z "$value" ]; then
        echo "warning: $var is not set; spiders started here will not share the cluster's crawl" >&2
    fi
done

cd /var/lib/scrapyd
# The spiders Scrapyd starts inherit this environment: REDIS_URL, MONGO_URI,
# MONGO_DATABASE and the other LINKCRAWLER_* settings are read from it.
exec scrapyd --pidfile= "$@"
