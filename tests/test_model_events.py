"""Statuses, their classes, and the events their transitions produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from linkcrawler.backlinks.events import (
    EventType,
    build_event,
    changed_fields,
    event_key,
    event_type,
    lost_priority,
    settled_status,
    wayback_url,
)
from linkcrawler.backlinks.status import (
    ALL_STATUSES,
    DEGRADED_STATUSES,
    LIVE_STATUSES,
    LOST_STATUSES,
    UNKNOWN_STATUSES,
    Status,
    StatusClass,
    status_class,
)

# --- statuses ------------------------------------------------------------------------


def test_status_values_are_the_contract_s():
    assert [s.value for s in ALL_STATUSES] == [
        "pending",
        "live",
        "nofollow",
        "noindex",
        "canonicalized",
        "removed",
        "page_gone",
        "redirected",
        "unreachable",
        "error",
        "blocked",
    ]
    assert [c.value for c in StatusClass] == ["unknown", "live", "degraded", "lost"]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        ("pending", "unknown"),
        ("live", "live"),
        ("nofollow", "degraded"),
        ("noindex", "degraded"),
        ("canonicalized", "degraded"),
        ("removed", "lost"),
        ("page_gone", "lost"),
        ("redirected", "lost"),
        ("unreachable", "lost"),
        ("error", "unknown"),
        ("blocked", "unknown"),
    ],
)
def test_status_class(status, cls):
    assert status_class(status) == cls
    assert status_class(Status(status)) is StatusClass(cls)


def test_class_sets_partition_the_statuses():
    sets = [UNKNOWN_STATUSES, LIVE_STATUSES, DEGRADED_STATUSES, LOST_STATUSES]
    assert sum(len(s) for s in sets) == len(ALL_STATUSES)
    assert frozenset().union(*sets) == frozenset(ALL_STATUSES)
    assert {"removed", "page_gone", "redirected", "unreachable"} == LOST_STATUSES


def test_statuses_are_plain_strings_for_storage():
    assert Status.LIVE == "live" and f"{Status.PAGE_GONE}" == "page_gone"


def test_unknown_status_names_the_choices():
    with pytest.raises(ValueError, match=r"'gone'.*pending, live"):
        status_class("gone")


# --- the event table -------------------------------------------------------------------

# Every pair, with nothing but the status changed. Rows: from; columns: to.
# . no event   L lost   D degraded   R recovered   C changed
TABLE = """
               pending live nofollow noindex canonicalized removed page_gone redirected unreachable error blocked
pending        .       .    .        .       .             L       L         L          L           .     .
live           .       .    D        D       D             L       L         L          L           .     .
nofollow       .       R    .        C       C             L       L         L          L           .     .
noindex        .       R    C        .       C             L       L         L          L           .     .
canonicalized  .       R    C        C       .             L       L         L          L           .     .
removed        .       R    D        D       D             .       C         C          C           .     .
page_gone      .       R    D        D       D             C       .         C          C           .     .
redirected     .       R    D        D       D             C       C         .          C           .     .
unreachable    .       R    D        D       D             C       C         C          .           .     .
error          .       .    .        .       .             L       L         L          L           .     .
blocked        .       .    .        .       .             L       L         L          L           .     .
"""
CODES = {
    ".": None,
    "L": EventType.LOST,
    "D": EventType.DEGRADED,
    "R": EventType.RECOVERED,
    "C": EventType.CHANGED,
}


def _table() -> list[tuple[str, str, EventType | None]]:
    header, *rows = [line.split() for line in TABLE.strip().splitlines()]
    cells = []
    for row in rows:
        for to_status, code in zip(header, row[1:], strict=True):
            cells.append((row[0], to_status, CODES[code]))
    return cells


def test_the_table_covers_every_pair():
    assert {(a, b) for a, b, _ in _table()} == {(a, b) for a in ALL_STATUSES for b in ALL_STATUSES}


@pytest.mark.parametrize(("from_status", "to_status", "expected"), _table())
def test_event_table(from_status, to_status, expected):
    assert event_type(from_status, to_status) is expected
    # A change that does not matter (the reason's wording) changes nothing.
    assert event_type(from_status, to_status, {"reason", "last_checked"}) is expected


@pytest.mark.parametrize("to_status", ALL_STATUSES)
def test_first_sight_is_new(to_status):
    assert event_type(None, to_status) is EventType.NEW


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("live", EventType.CHANGED),
        ("nofollow", EventType.CHANGED),
        ("noindex", EventType.CHANGED),
        ("canonicalized", EventType.CHANGED),
        ("removed", EventType.CHANGED),
        ("unreachable", EventType.CHANGED),
        ("pending", None),
        ("error", None),
        ("blocked", None),
    ],
)
@pytest.mark.parametrize("field", ["anchor_text", "rel", "target_url"])
def test_same_status_with_something_that_matters_changed(status, expected, field):
    assert event_type(status, status, {field}) is expected


def test_cross_class_events_ignore_changed_fields():
    assert event_type("live", "removed", {"anchor_text"}) is EventType.LOST
    assert event_type("nofollow", "live", {"rel"}) is EventType.RECOVERED


# --- settled statuses: error and blocked are noise between two real states ----------------


@pytest.mark.parametrize(
    ("previous", "status", "settled"),
    [
        ("live", "error", "live"),
        ("live", "blocked", "live"),
        ("removed", "error", "removed"),
        ("live", "nofollow", "nofollow"),
        ("pending", "error", "pending"),
        (None, "error", "error"),
        (None, "live", "live"),
        ("error", "unreachable", "unreachable"),
    ],
)
def test_settled_status(previous, status, settled):
    assert settled_status(previous, status) == settled


def walk(statuses: list[str]) -> list[tuple[str, str | None, str]]:
    """Events along a run of check results, as the pipeline computes them."""
    settled: str | None = None
    events = []
    for status in statuses:
        kind = event_type(settled, status)
        if kind is not None:
            events.append((kind, settled, status))
        settled = settled_status(settled, status)
    return [(str(k), f, t) for k, f, t in events]


def test_live_error_nofollow_is_a_degradation():
    assert walk(["live", "error", "nofollow"]) == [
        ("new", None, "live"),
        ("degraded", "live", "nofollow"),
    ]


def test_removed_error_page_gone_is_one_loss_then_a_change():
    assert walk(["live", "removed", "error", "error", "page_gone"]) == [
        ("new", None, "live"),
        ("lost", "live", "removed"),
        ("changed", "removed", "page_gone"),
    ]


def test_flapping_fetches_produce_nothing():
    assert walk(["live", "error", "live", "blocked", "live", "error", "error"]) == [
        ("new", None, "live")
    ]


def test_confirmed_unreachable_is_lost_from_the_last_real_state():
    assert walk(["pending", "live", "error", "error", "unreachable", "live"]) == [
        ("new", None, "pending"),
        ("lost", "live", "unreachable"),
        ("recovered", "unreachable", "live"),
    ]


# --- changed fields ---------------------------------------------------------------------


def test_changed_fields():
    before = {
        "anchor_text": "Best  shoes",
        "rel": ["noopener", "nofollow"],
        "target_url": "https://a/x",
    }
    assert (
        changed_fields(
            before,
            {
                "anchor_text": "Best shoes",
                "rel": ("NOFOLLOW", "noopener"),
                "target_url": "https://a/x",
            },
        )
        == frozenset()
    )
    assert changed_fields(
        before, {"anchor_text": "Cheap shoes", "rel": [], "target_url": "https://a/y"}
    ) == {
        "anchor_text",
        "rel",
        "target_url",
    }
    assert changed_fields({}, {"anchor_text": "", "rel": []}) == frozenset()
    assert changed_fields({}, {"anchor_text": "new"}) == {"anchor_text"}


# --- event keys -------------------------------------------------------------------------


def test_event_key_is_deterministic_and_per_version():
    assert event_key("66f0c0ffee", 3) == "66f0c0ffee:3"
    assert event_key("66f0c0ffee", 3) == event_key("66f0c0ffee", 3)
    assert len({event_key("b", n) for n in range(5)}) == 5
    assert event_key("a", 1) != event_key("b", 1)


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True, None])
def test_event_key_refuses_a_bad_version(bad):
    with pytest.raises(ValueError):
        event_key("b", bad)


T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


# --- building the event document -------------------------------------------------------------


def test_build_event_for_a_lost_link():
    event = build_event(
        backlink_id="bl1",
        state_version=4,
        source_url="https://blog.example.org/p",
        target_url="https://shop.example.com/",
        from_status="live",
        to_status="page_gone",
        reason="HTTP 404",
        detected_at=T0,
        authority=80,
    )
    assert event == {
        "_id": "bl1:4",
        "type": "lost",
        "backlink_id": "bl1",
        "source_url": "https://blog.example.org/p",
        "target_url": "https://shop.example.com/",
        "from_status": "live",
        "to_status": "page_gone",
        "reason": "HTTP 404",
        "detected_at": T0,
        "priority": lost_priority(80, True, "page_gone"),
        "wayback_url": "https://web.archive.org/web/20260105120000/https://blog.example.org/p",
    }


def test_build_event_without_an_event_or_for_a_recovery():
    common = dict(
        backlink_id="b",
        state_version=2,
        source_url="https://s/",
        target_url="https://t/",
        reason="r",
        detected_at=T0,
    )
    assert build_event(**common, from_status="live", to_status="error") is None
    event = build_event(**common, from_status="removed", to_status="live")
    assert (event["type"], event["priority"], event["wayback_url"]) == ("recovered", 0, None)
    assert build_event(**common, from_status=None, to_status="pending")["type"] == "new"


# --- priority ----------------------------------------------------------------------------------


def test_priority_scale_and_extremes():
    assert lost_priority(100, True, "removed") == 100
    assert lost_priority(100, True, "page_gone") == 100
    assert lost_priority(0, False, "canonicalized") == 5
    for status in ("live", "pending", "error", "blocked"):
        assert lost_priority(100, True, status) == 0


def test_priority_orders_by_authority_link_value_and_status():
    assert lost_priority(90, True, "removed") > lost_priority(40, True, "removed")
    assert lost_priority(60, True, "removed") > lost_priority(60, False, "removed")
    assert lost_priority(60, True, "page_gone") > lost_priority(60, True, "redirected")
    assert lost_priority(60, True, "removed") > lost_priority(60, True, "redirected")
    assert lost_priority(60, True, "redirected") > lost_priority(60, True, "unreachable")
    assert lost_priority(60, True, "unreachable") > lost_priority(60, True, "noindex")
    assert lost_priority(60, True, "noindex") > lost_priority(60, True, "nofollow")
    assert lost_priority(60, True, "nofollow") > lost_priority(60, True, "canonicalized")


def test_priority_of_unknown_or_odd_authority():
    assert lost_priority(None, True, "removed") == lost_priority(50, True, "removed") == 62
    assert lost_priority(float("nan"), True, "removed") == 62
    assert lost_priority(250, True, "removed") == 100
    assert lost_priority(-5, True, "removed") == 25


def test_priority_is_always_within_0_100():
    for status in ALL_STATUSES:
        for authority in (None, 0, 33.3, 100):
            for followed in (True, False):
                assert 0 <= lost_priority(authority, followed, status) <= 100


# --- wayback -------------------------------------------------------------------------------------


def test_wayback_url():
    url = "https://blog.example.org/p?a=1"
    assert wayback_url(url) == "https://web.archive.org/web/*/https://blog.example.org/p?a=1"
    assert wayback_url(url, datetime(2025, 3, 4, 5, 6, 7)) == (
        "https://web.archive.org/web/20250304050607/https://blog.example.org/p?a=1"
    )
    paris = timezone(timedelta(hours=2))
    assert wayback_url(url, datetime(2025, 3, 4, 7, 6, 7, tzinfo=paris)) == (
        "https://web.archive.org/web/20250304050607/https://blog.example.org/p?a=1"
    )
