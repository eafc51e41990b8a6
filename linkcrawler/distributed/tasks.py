"""Work done once per run of a shared crawl, by one of its workers (the report of a distributed site audit).

A task ``name`` of run ``R`` is the key ``K:run:R:task:name``
(:mod:`linkcrawler.distributed.queue`): the id of the worker doing it, or
``/done``. A worker claims the task unless it is done or a live worker has it:
one whose heartbeat expired (:mod:`linkcrawler.distributed.workers`) died, and
its task can be claimed again.

The worker doing a task can *hold the run*: it then counts as still reading its
start requests, so the run does not end and the other workers wait, as they do
for a worker still seeding; if it dies, its heartbeat expires and they go on.
"""

from __future__ import annotations

from linkcrawler.distributed.workers import WorkerRegistry

#: What a task's key holds once the task is done (the claim script compares with it).
FINISHED = "/done"

# Claim a task of the run for this worker, unless it is done or a live worker has it.
# KEYS[1]: the task key; ARGV: worker, heartbeat prefix, TTL. Returns 1, 0 or -1 (done).
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == '/done' then
  return -1
end
if holder and holder ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. holder) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


class RunTasks:
    """The tasks of the run ``registry`` joined, seen by its worker."""

    #: :meth:`claim`: the task is this worker's now.
    CLAIMED = 1
    #: :meth:`claim`: a live worker has the task.
    TAKEN = 0
    #: :meth:`claim`: the task is done.
    DONE = -1

    def __init__(self, registry: WorkerRegistry) -> None:
        self.registry = registry
        #: Whether this worker holds the run open (:meth:`hold`).
        self.held = False
        self._claim = registry.server.register_script(_CLAIM)

    def _key(self, name: str) -> str:
        return self.registry.keys.task(self.registry.run_id or "", name)

    def claim(self, name: str) -> int:
        """Claim the task ``name``: :attr:`CLAIMED`, :attr:`TAKEN` or :attr:`DONE`.

        Asking again for a task this worker has is fine (still :attr:`CLAIMED`).
        """
        registry = self.registry
        return int(self._claim(keys=[self._key(name)],
                               args=[registry.worker, registry.keys.heartbeat_prefix, registry.run_ttl]))

    def finish(self, name: str) -> None:
        """The task ``name`` is done: nobody claims it again in this run."""
        self.registry.server.set(self._key(name), FINISHED, ex=self.registry.run_ttl)

    def hold(self) -> None:
        """Hold the run open from the next heartbeat on (``registry.heartbeat()`` says it at once)."""
        self.held = True
        self.registry.seeding = True

    def release(self) -> None:
        """Stop holding the run from the next heartbeat on (``registry.done_seeding()`` says it at once)."""
        self.held = False
        self.registry.seeding = False
