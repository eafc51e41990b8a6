"""WorkerRegistry: who takes part in a distributed crawl, who died, and when the run is over.

Each worker (one Scrapy process) registers in ``K:workers`` and keeps a
heartbeat key ``K:worker:<id>`` alive with a TTL (``SCHEDULER_WORKER_TTL``).
A worker whose heartbeat expired is dead: :meth:`WorkerRegistry.reap` gives its
in-flight requests back to the queue, in one atomic script, and forgets it.

A *run* is one pass of a spider over its work, shared by every worker that
joins while it lasts (``K:run`` holds its id). The first worker starts it, which
empties the previous run's duplicate filter and start-request set: the filter
therefore holds one run's fingerprints at most, and every run key expires after
``SCHEDULER_RUN_TTL`` without a live worker. A run ends when nothing is queued,
nothing is in flight and no worker is still reading its start requests
(``K:seeding``). A run started with an explicit id (``SCHEDULER_RUN_ID``, the
same on every node) leaves a ``K:run:<id>:ended`` mark, so a worker scheduled
late does not start that run over.

Keys are described in :mod:`linkcrawler.distributed.queue`. The scripts read the keys of
other workers by name, which a standalone Redis (or a Sentinel-managed one)
allows; a Redis Cluster would need hash tags around ``K``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass

import redis

from linkcrawler.distributed.queue import CrawlKeys

# Join the run in progress, or start one. Returns {status, run id}.
_JOIN = """
local current = redis.call('GET', KEYS[1])
local status = 'joined'
if not current then
  if ARGV[5] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
    return {'ended', ARGV[4]}
  end
  current = ARGV[4]
  status = 'started'
  redis.call('SET', KEYS[1], current)
  redis.call('DEL', KEYS[2], KEYS[3])
end
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SET', KEYS[6], ARGV[6], 'EX', ARGV[2])
redis.call('SADD', KEYS[7], ARGV[1])
for i = 1, 3 do
  redis.call('EXPIRE', KEYS[i], ARGV[3])
end
redis.call('EXPIRE', KEYS[5], ARGV[3])
redis.call('EXPIRE', KEYS[7], ARGV[3])
return {status, current}
"""

# Keep this worker alive (re-registering it if it was reaped while away) and
# the run's keys from expiring. Returns the run id in Redis (false if none).
_BEAT = """
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
if ARGV[5] == '1' then
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('SREM', KEYS[3], ARGV[1])
end
local current = redis.call('GET', KEYS[4])
if current == ARGV[4] then
  for i = 4, 6 do
    redis.call('EXPIRE', KEYS[i], ARGV[6])
  end
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return current
"""

# Workers whose heartbeat expired: their in-flight entries go back to the queue
# and they are forgotten. Returns {worker, entries, worker, entries...}.
_REAP = """
local reaped = {}
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if worker ~= ARGV[3] and redis.call('EXISTS', ARGV[2] .. worker) == 0 then
    local inflight = ARGV[1] .. worker
    local entries = redis.call('HGETALL', inflight)
    for i = 1, #entries, 2 do
      redis.call('ZADD', KEYS[2], entries[i + 1], entries[i])
    end
    redis.call('DEL', inflight)
    redis.call('SREM', KEYS[1], worker)
    redis.call('SREM', KEYS[3], worker)
    table.insert(reaped, worker)
    table.insert(reaped, #entries / 2)
  end
end
return reaped
"""

# How much work the crawl has: {queued, in flight with other workers, seeding
# workers other than this one, live workers}.
_STATUS = """
local inflight = 0
local live = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if worker ~= ARGV[3] then
    inflight = inflight + redis.call('HLEN', ARGV[1] .. worker)
  end
  if redis.call('EXISTS', ARGV[2] .. worker) == 1 then
    live = live + 1
  end
end
local seeding = redis.call('SCARD', KEYS[3]) - redis.call('SISMEMBER', KEYS[3], ARGV[3])
return {redis.call('ZCARD', KEYS[1]), inflight, seeding, live}
"""

# Leave the crawl: this worker's in-flight entries go back to the queue, and if
# that leaves nothing queued, in flight or being seeded, the run ends.
# Returns 1 if this worker ended the run.
_LEAVE = """
local own = redis.call('HGETALL', KEYS[4])
for i = 1, #own, 2 do
  redis.call('ZADD', KEYS[5], own[i + 1], own[i])
end
redis.call('DEL', KEYS[4], KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
if redis.call('GET', KEYS[6]) ~= ARGV[2] then
  return 0
end
redis.call('EXPIRE', KEYS[8], ARGV[4])
redis.call('EXPIRE', KEYS[9], ARGV[4])
if redis.call('ZCARD', KEYS[5]) > 0 or redis.call('SCARD', KEYS[3]) > 0 then
  return 0
end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('HLEN', ARGV[3] .. worker) > 0 then
    return 0
  end
end
redis.call('DEL', KEYS[6])
redis.call('SET', KEYS[7], '1', 'EX', ARGV[4])
return 1
"""



def new_worker_id() -> str:
    """An id unique among the workers of every node: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class CrawlStatus:
    """The shared crawl as one worker sees it."""

    queued: int
    #: Requests in flight with the other workers (dead ones included until reaped).
    in_flight_elsewhere: int
    #: Other workers still reading their start requests.
    seeding_elsewhere: int
    live_workers: int

    @property
    def drained(self) -> bool:
        """Nothing left that this worker could get: nothing queued, in flight elsewhere or to be seeded."""
        return not (self.queued or self.in_flight_elsewhere or self.seeding_elsewhere)


class WorkerRegistry:
    """One worker's membership in a spider's distributed crawl (see the module docstring)."""

    def __init__(
        self,
        server: redis.Redis,
        keys: CrawlKeys,
        worker: str,
        *,
        ttl: float,
        run_ttl: float,
        info: dict[str, object] | None = None,
    ) -> None:
        if ttl < 1:
            raise ValueError(f"the worker TTL must be at least 1 second, got {ttl}")
        self.server = server
        self.keys = keys
        self.worker = worker
        self.ttl = int(ttl)
        self.run_ttl = int(run_ttl)
        #: What the heartbeat key holds, for whoever inspects a crawl.
        self.info = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), **(info or {})})
        self.run_id: str | None = None
        self.seeding = True
        self._join = server.register_script(_JOIN)
        self._beat = server.register_script(_BEAT)
        self._reap = server.register_script(_REAP)
        self._status = server.register_script(_STATUS)
        self._leave = server.register_script(_LEAVE)

    def join(self, run_id: str | None = None) -> str:
        """Register and join the run in progress, or start one.

        Returns ``"started"``, ``"joined"``, or ``"ended"`` when ``run_id`` names
        a run that already finished (nothing is registered then).
        """
        k = self.keys
        new_id = run_id or time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
        status, current = self._join(
            keys=[k.run, k.dupefilter, k.start_seen, k.run_ended(new_id), k.workers,
                  k.heartbeat(self.worker), k.seeding],
            args=[self.worker, self.ttl, self.run_ttl, new_id, int(run_id is not None), self.info],
        )
        self.run_id = current.decode()
        self.seeding = status != b"ended"
        return str(status.decode())

    def heartbeat(self) -> str | None:
        """Say this worker is alive; returns the id of the run in Redis (None: it ended)."""
        k = self.keys
        run_id = self.run_id or ""
        current = self._beat(
            keys=[k.workers, k.heartbeat(self.worker), k.seeding, k.run, k.dupefilter, k.start_seen],
            args=[self.worker, self.info, self.ttl, run_id, int(self.seeding), self.run_ttl],
        )
        return current.decode() if current else None

    def done_seeding(self) -> None:
        """This worker has read all its start requests."""
        self.seeding = False
        self.server.srem(self.keys.seeding, self.worker)

    def reap(self) -> dict[str, int]:
        """Give the in-flight requests of dead workers back to the queue: ``{worker: requests}``."""
        k = self.keys
        flat = self._reap(
            keys=[k.workers, k.queue, k.seeding], args=[k.inflight_prefix, k.heartbeat_prefix, self.worker]
        )
        return {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    def status(self) -> CrawlStatus:
        k = self.keys
        queued, in_flight, seeding, live = self._status(
            keys=[k.queue, k.workers, k.seeding], args=[k.inflight_prefix, k.heartbeat_prefix, self.worker]
        )
        return CrawlStatus(int(queued), int(in_flight), int(seeding), int(live))

    def leave(self) -> bool:
        """Unregister, giving back whatever is still in flight; True if this ended the run."""
        k = self.keys
        run_id = self.run_id or ""
        ended = self._leave(
            keys=[k.workers, k.heartbeat(self.worker), k.seeding, k.inflight(self.worker), k.queue, k.run,
                  k.run_ended(run_id), k.dupefilter, k.start_seen],
            args=[self.worker, run_id, k.inflight_prefix, self.run_ttl],
        )
        return bool(ended)
