"""What a worker took from Redis, until it may acknowledge it: pure bookkeeping, no crawl."""

from __future__ import annotations

from scrapy import Request

from linkcrawler.distributed.inflight import TakenRequests


def taken_three() -> tuple[TakenRequests, list[Request]]:
    taken = TakenRequests()
    requests = [Request(f"http://a/{i}") for i in range(3)]
    for i, request in enumerate(requests):
        taken.take(b"entry%d" % i, request)
    return taken, requests


def test_a_request_is_due_once_it_left_the_engine() -> None:
    taken, requests = taken_three()
    taken.collect(set(requests), now=1.0)
    assert taken.due() == []
    taken.collect({requests[1]}, now=2.0)
    assert taken.due() == [b"entry0", b"entry2"]
    assert taken.due() == []  # (taken once)
    assert len(taken) == 1 and taken.known() == {b"entry1"}


def test_once_a_pipeline_announces_stored_items_acknowledgements_wait_for_them() -> None:
    taken, requests = taken_three()
    taken.stored(upto=0.0)
    taken.collect({requests[2]}, now=1.0)
    assert taken.due() == []  # finished at 1.0, its items not stored yet
    assert taken.known() == {b"entry0", b"entry1", b"entry2"}
    taken.stored(upto=1.5)
    taken.collect(set(), now=2.0)
    assert taken.due() == [b"entry0", b"entry1"]
    taken.stored(upto=1.0)  # (an older announcement changes nothing)
    assert taken.due() == []
    assert taken.all_finished() == [b"entry2"]
    assert len(taken) == 0 and taken.known() == set()
