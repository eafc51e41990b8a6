"""A crawl shared by several processes through Redis, losing nothing when one of them dies.

- :mod:`~linkcrawler.distributed.scheduler`: the ``SCHEDULER`` (Scrapy's own
  without ``REDIS_URL``) and the Redis scheduler, which coordinates the parts below;
- :mod:`~linkcrawler.distributed.queue`: the reliable queue and its Redis keys;
- :mod:`~linkcrawler.distributed.workers`: who takes part, heartbeats, reaping the dead, runs;
- :mod:`~linkcrawler.distributed.tasks`: work done once per run by one worker;
- :mod:`~linkcrawler.distributed.inflight`: what a worker took, until it may acknowledge it;
- :mod:`~linkcrawler.distributed.outage`: what a worker keeps while Redis is away, and finding it again;
- :mod:`~linkcrawler.distributed.connection`: the Redis client;
- :mod:`~linkcrawler.distributed.engine`: the only use of Scrapy's private engine API.
"""
