"""The once-per-run report of a shared crawl, as a state machine (the Redis side is tested in
test_distributed_tasks.py and end to end in test_site_audit_shared.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from linkcrawler.crawl.shared_report import Built, SharedReport
from tests.aio import asyncio_test


class Tasks:
    """The run-task calls a SharedReport makes, recorded (claims answer as Redis would)."""

    def __init__(self, claim: int | None = 1) -> None:
        self.claim = claim
        self.calls: list[str] = []

    def claim_task(self, name: str) -> int | None:
        self.calls.append(f"claim {name}")
        return self.claim

    def finish_task(self, name: str) -> None:
        self.calls.append(f"finish {name}")

    def hold_run(self) -> None:
        self.calls.append("hold")

    def release_run(self) -> None:
        self.calls.append("release")


async def settle() -> None:
    """Let the report's build (an asyncio task) run."""
    for _ in range(5):
        await asyncio.sleep(0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def report(builds: list[Built | Exception], clock: Clock, max_passes: int = 5) -> tuple[SharedReport, list[Any]]:
    log: list[Any] = []

    async def build(passes: int, last_pass: bool) -> Built:
        log.append(("build", passes, last_pass))
        outcome = builds.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def fetch(missing: Sequence[Any]) -> None:
        log.append(("fetch", list(missing)))

    def send(items: list[Any]) -> None:
        log.append(("send", items))

    return SharedReport("test", build, fetch, send, max_passes=max_passes, clock=clock), log


@asyncio_test
async def test_the_claimer_waits_for_its_stores_fetches_what_is_missing_then_sends_and_releases() -> None:
    clock, tasks = Clock(), Tasks()
    shared, log = report([Built(missing=["u1"]), Built(items=["page"])], clock)
    assert shared.drained(tasks) is True  # claimed; what it fetched is not stored yet
    assert tasks.calls == ["claim report", "hold"] and log == []
    shared.items_stored(clock.now + 1)
    assert shared.drained(tasks) is True  # builds (pass 1): something is missing
    await settle()
    assert log == [("build", 1, False), ("fetch", ["u1"])] and shared.state == "waiting"
    assert shared.drained(tasks) is True  # the fetch's answer is not stored yet
    clock.now += 5
    shared.items_stored(clock.now + 1)
    assert shared.drained(tasks) is True  # pass 2: the report's items are sent
    await settle()
    assert log[-2:] == [("build", 2, False), ("send", ["page"])]
    clock.now += 5
    assert shared.drained(tasks) is True and not shared.done  # the report's items are not stored yet
    shared.items_stored(clock.now + 1)
    assert shared.drained(tasks) is False and shared.done
    assert tasks.calls == ["claim report", "hold", "finish report", "release"]
    assert shared.drained(tasks) is False and tasks.calls[-1] == "release"


def test_a_worker_that_does_not_claim_the_report_has_nothing_to_do() -> None:
    shared, log = report([], Clock())
    assert shared.drained(Tasks(claim=0)) is False
    assert shared.state is None and log == []
    assert shared.drained(Tasks(claim=None)) is True  # Redis away: ask again later


@asyncio_test
async def test_a_report_that_keeps_failing_is_given_up_and_the_run_released() -> None:
    clock, tasks = Clock(), Tasks()
    shared, log = report([RuntimeError("store down"), RuntimeError("store down")], clock, max_passes=2)
    shared.items_stored(clock.now + 10)
    assert shared.drained(tasks) is True  # claim, then pass 1 fails: wait and try again
    await settle()
    assert shared.state == "waiting"
    assert shared.drained(tasks) is True  # pass 2 (the last) fails: given up
    await settle()
    assert [entry[:3] for entry in log] == [("build", 1, False), ("build", 2, True)]
    assert shared.state == "failed" and tasks.calls == ["claim report", "hold", "release"]
    assert shared.drained(tasks) is False
