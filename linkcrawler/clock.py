"""What time it is for a command: the clock, or ``LINKCRAWLER_NOW``.

``LINKCRAWLER_NOW`` (an ISO 8601 time; without a zone, UTC) is taken as now by
every command and spider, for the whole run: which backlinks are due, when a
link was checked, first seen or crawled. Tests and replays use it to see what a
later run would do ("a day later, these links are due again"); unset, the
clock.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from linkcrawler.exceptions import ConfigurationError

__all__ = ["Clock", "parse_now"]


def parse_now(value: str) -> datetime:
    """``LINKCRAWLER_NOW``'s value as an aware datetime; ``ConfigurationError`` if it is not ISO 8601."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ConfigurationError(
            f"LINKCRAWLER_NOW={value!r} is not an ISO 8601 time (like 2026-11-30T12:00:00Z)"
        ) from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


class Clock:
    """Now: fixed (``LINKCRAWLER_NOW``) or the system clock, always aware (UTC)."""

    def __init__(self, fixed: datetime | None = None) -> None:
        self.fixed = fixed

    @classmethod
    def from_settings(cls, settings: Any) -> Clock:
        value = settings.get("LINKCRAWLER_NOW")
        return cls(parse_now(str(value)) if value else None)

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now()
