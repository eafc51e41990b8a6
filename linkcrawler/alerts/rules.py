"""What is worth a message: the settings of the alerts, read once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from linkcrawler import defaults
from linkcrawler.exceptions import ConfigurationError


@dataclass(frozen=True)
class AlertRules:
    """``LINKCRAWLER_ALERT_*``: which items reach a digest, and how long a digest is.

    ``min_priority`` applies to items that carry a value (a lost or degraded link's
    ``priority``, an opportunity's or a toxic domain's ``score``, an outreach task's
    ``priority``); items without one (``recovered`` and ``new`` events, mentions)
    are not filtered by it. ``types`` filters the ``link_events`` by ``type``;
    ``kinds`` names the sections (alert kinds) a digest carries.
    """

    min_priority: int = 0
    types: frozenset[str] = frozenset({"lost", "degraded", "recovered"})
    kinds: tuple[str, ...] = ("link_events", "mentions", "opportunities", "toxicity", "outreach")
    max_lines: int = 50
    lookback: timedelta = timedelta(days=30)

    @classmethod
    def from_settings(cls, settings: Any) -> AlertRules:
        def getlist(name: str) -> list[str]:
            return [v.strip() for v in settings.getlist(name, getattr(defaults, name)) if v.strip()]

        try:
            min_priority = settings.getint("LINKCRAWLER_ALERT_MIN_PRIORITY", defaults.LINKCRAWLER_ALERT_MIN_PRIORITY)
            max_lines = settings.getint("LINKCRAWLER_ALERT_MAX_LINES", defaults.LINKCRAWLER_ALERT_MAX_LINES)
            lookback = settings.getfloat("LINKCRAWLER_ALERT_LOOKBACK_DAYS", defaults.LINKCRAWLER_ALERT_LOOKBACK_DAYS)
        except ValueError as exc:
            raise ConfigurationError(f"LINKCRAWLER_ALERT_*: {exc}") from exc
        from linkcrawler.alerts.kinds import KINDS  # the registry imports this module

        kinds = tuple(getlist("LINKCRAWLER_ALERT_KINDS"))
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ConfigurationError(
                f"LINKCRAWLER_ALERT_KINDS: unknown kind(s) {', '.join(unknown)} (known: {', '.join(KINDS)})")
        if max_lines < 1 or lookback <= 0:
            raise ConfigurationError("LINKCRAWLER_ALERT_MAX_LINES and LINKCRAWLER_ALERT_LOOKBACK_DAYS must be positive")
        return cls(
            min_priority=min_priority,
            types=frozenset(t.lower() for t in getlist("LINKCRAWLER_ALERT_TYPES")),
            kinds=kinds,
            max_lines=max_lines,
            lookback=timedelta(days=lookback),
        )
