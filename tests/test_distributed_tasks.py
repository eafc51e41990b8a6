"""Work done once per run of a shared crawl, against a real Redis: claiming a task, holding the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from linkcrawler.distributed.tasks import RunTasks
from linkcrawler.distributed.workers import WorkerRegistry
from tests.test_distributed_queue import KEYS, server


def make_tasks(server: redis.Redis, worker: str) -> RunTasks:
    return RunTasks(WorkerRegistry(server, KEYS, worker, ttl=30, run_ttl=3600))


def test_a_task_of_the_run_is_done_by_one_worker_and_taken_over_if_it_dies(server: redis.Redis) -> None:
    first, second = make_tasks(server, "first"), make_tasks(server, "second")
    first.registry.join("run-1")
    second.registry.join("run-1")
    assert first.claim("report") == 1
    assert first.claim("report") == 1  # (asking again is fine)
    assert second.claim("report") == 0  # the first one is alive and has it
    server.delete(KEYS.heartbeat("first"))  # its heartbeat expired: it died
    assert second.claim("report") == 1
    assert first.claim("report") == 0
    second.finish("report")
    assert first.claim("report") == second.claim("report") == -1
    # Another run's task is another task.
    third = make_tasks(server, "third")
    third.registry.run_id = "run-2"
    assert third.claim("report") == 1


def test_a_held_run_does_not_end_until_released(server: redis.Redis) -> None:
    holder, other = make_tasks(server, "holder"), make_tasks(server, "other")
    holder.registry.join()
    other.registry.join()
    holder.registry.done_seeding()
    other.registry.done_seeding()
    assert other.registry.status().drained

    holder.hold()
    holder.registry.heartbeat()
    assert holder.held
    assert other.registry.status().seeding_elsewhere == 1
    assert other.registry.leave() is False  # the run goes on: the holder may still add work
    assert server.exists(KEYS.run)

    holder.release()
    holder.registry.done_seeding()
    assert not holder.held
    assert holder.registry.leave() is True  # released and drained: leaving ends the run


def test_a_dead_holder_holds_the_run_no_more(server: redis.Redis) -> None:
    holder, other = make_tasks(server, "holder"), make_tasks(server, "other")
    holder.registry.join()
    other.registry.join()
    other.registry.done_seeding()
    holder.hold()
    holder.registry.heartbeat()
    assert not other.registry.status().drained
    server.delete(KEYS.heartbeat("holder"))  # its heartbeat expired: it died
    assert other.registry.reap() == {"holder": 0}
    assert other.registry.status().drained
