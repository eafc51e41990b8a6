"""The Redis client a shared crawl uses (``REDIS_URL``)."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from linkcrawler import defaults
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.store.connection import mask_uri


def connect_redis(url: str, timeout: float = defaults.SCHEDULER_REDIS_TIMEOUT) -> redis.Redis:
    """A client for ``url`` that answers, or ``ConfigurationError`` naming the URL.

    Commands are not retried by the client (redis-py retries with sleeps by
    default, which would block the reactor): the scheduler handles outages
    (:mod:`linkcrawler.distributed.outage`).
    """
    try:
        server = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 0),
        )
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigurationError(f"cannot reach Redis at REDIS_URL {mask_uri(url)}: {exc}") from exc
    return server
