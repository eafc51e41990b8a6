"""The items of the backlinks capability: dataclasses, read through ItemAdapter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def backlink_id(source_url: str, target_url: str) -> str:
    """The ``_id`` of a backlink: derived from its natural key, so every writer agrees on it.

    A deterministic id lets an event name its backlink before the backlink
    document exists, and makes every insert of the same link the same upsert.
    """
    return hashlib.sha1(f"{source_url}\n{target_url}".encode()).hexdigest()[:24]


@dataclass(slots=True)
class KnownLink:
    """A backlink as the store had it when its check started (its previous state)."""

    id: str
    source_url: str
    target_url: str
    status: str = "pending"
    #: The last status that said something about the link (not error/blocked).
    settled_status: str | None = None
    state_version: int = 0
    consecutive_failures: int = 0
    anchor_text: str | None = None
    rel: list[str] = field(default_factory=list)
    authority: float | None = None
    final_url: str | None = None
    #: The page's validators from the last check, for a conditional re-check.
    etag: str | None = None
    last_modified: str | None = None
    #: The link's surroundings at its last live check (:class:`~linkcrawler.web.context.LinkContext`).
    context: dict[str, Any] | None = None
    #: The page's main-content fingerprint at the last check, and when it last changed.
    page_fingerprint: str | None = None
    page_changed_at: datetime | None = None
    page_changes: int = 0
    last_checked: datetime | None = None
    #: The last check that found the link present (what the Wayback link of a loss points before).
    last_live: datetime | None = None
    #: When a paid or temporary link ends (from an import's ``expires_at`` column).
    expires_at: datetime | None = None
    source_domain: str | None = None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> KnownLink:
        return cls(
            id=doc["_id"],
            source_url=doc["source_url"],
            target_url=doc["target_url"],
            status=doc.get("status", "pending"),
            settled_status=doc.get("settled_status"),
            state_version=int(doc.get("state_version", 0)),
            consecutive_failures=int(doc.get("consecutive_failures", 0)),
            anchor_text=doc.get("anchor_text"),
            rel=list(doc.get("rel") or []),
            authority=doc.get("authority"),
            final_url=doc.get("final_url"),
            etag=doc.get("etag"),
            last_modified=doc.get("last_modified"),
            context=doc.get("context"),
            page_fingerprint=doc.get("page_fingerprint"),
            page_changed_at=_aware(doc.get("page_changed_at")),
            page_changes=int(doc.get("page_changes") or 0),
            last_checked=_aware(doc.get("last_checked")),
            last_live=_aware(doc.get("last_live")),
            expires_at=_aware(doc.get("expires_at")),
            source_domain=doc.get("source_domain"),
        )


def _aware(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (pymongo gives naive UTC ones by default)."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(slots=True)
class BacklinkCheck:
    """What one check of a linking page says about one known backlink."""

    link: KnownLink
    status: str
    reason: str
    checked_at: datetime
    anchor_text: str | None = None
    rel: list[str] = field(default_factory=list)
    http_status: int | None = None
    final_url: str | None = None
    redirect_chain: list[dict[str, Any]] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    #: The page answered 304: the previous state stands.
    not_modified: bool = False
    #: The fetch failed (the status before the consecutive-failure rule is applied).
    failed: bool = False
    #: The link's surroundings, when it was found (:meth:`LinkContext.as_document`).
    context: dict[str, Any] | None = None
    #: The page's main-content fingerprint (:func:`~linkcrawler.web.context.content_fingerprint`).
    page_fingerprint: str | None = None


@dataclass(slots=True)
class DiscoveredBacklink:
    """A link to one of our domains, found on a checked page, that was not known."""

    source_url: str
    target_url: str
    found_at: datetime
    anchor_text: str | None = None
    rel: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PageCheck:
    """One check of a linking page: what it says about each known link, and new ones.

    One item per page, not per link: Scrapy's cost per item is of the order of
    checking a link, and a page carries several.
    """

    source_url: str
    checks: list[BacklinkCheck] = field(default_factory=list)
    discovered: list[DiscoveredBacklink] = field(default_factory=list)


@dataclass(slots=True)
class BacklinkUpdate:
    """A backlink's new state after one check, and the event of the transition (if any).

    Plain data: :func:`linkcrawler.backlinks.store.update_ops` turns it into the
    idempotent writes, and :meth:`row` into what ``scrapy crawl backlinks -o FILE``
    exports.
    """

    backlink_id: str
    source_url: str
    target_url: str
    from_status: str
    to_status: str
    reason: str
    event: dict[str, Any] | None
    #: The ``state_version`` the stored document must still have for this update to apply.
    expected_version: int
    #: The fields set on the backlink (``$set``).
    state: dict[str, Any] = field(default_factory=dict)
    #: The entry appended to ``history`` when the state changed, else ``None``.
    history_entry: dict[str, Any] | None = None
    history_length: int = 20
    #: Nothing changed but the check itself (a 304 on a link with no failures to
    #: reset): stored as a cheap mark of ``last_checked`` and ``http_status``.
    unchanged: bool = False

    def row(self) -> dict[str, Any]:
        """One exported row: the backlink's fields after this check."""
        state = self.state
        return {
            "source_url": self.source_url,
            "target_url": self.target_url,
            "status": self.to_status,
            "previous_status": self.from_status,
            "status_reason": self.reason,
            "event": self.event["type"] if self.event else None,
            "http_status": state.get("http_status"),
            "final_url": state.get("final_url"),
            "redirect_chain": state.get("redirect_chain"),
            "anchor_text": state.get("anchor_text"),
            "rel": state.get("rel"),
            "consecutive_failures": state.get("consecutive_failures"),
            "priority": state.get("priority"),
            "last_checked": state.get("last_checked"),
        }


#: The columns of an exported backlink row, in order.
BACKLINK_EXPORT_FIELDS: tuple[str, ...] = (
    "record", "source_url", "target_url", "status", "previous_status", "status_reason", "event",
    "http_status", "final_url", "redirect_chain", "anchor_text", "rel", "consecutive_failures",
    "priority", "last_checked",
)


@dataclass(slots=True)
class CheckedPage:
    """A linking page after its check: the new state of each of its backlinks, and new ones found.

    What :class:`~pipelines.backlink_state.BacklinkStatePipeline` makes of a
    :class:`PageCheck`. The store writes it (:mod:`linkcrawler.backlinks.store`);
    a feed export writes one row per backlink (:meth:`export_rows`).
    """

    source_url: str
    updates: list[BacklinkUpdate] = field(default_factory=list)
    discovered: list[DiscoveredBacklink] = field(default_factory=list)

    export_record = "backlinks"
    export_fields = BACKLINK_EXPORT_FIELDS

    def export_rows(self) -> list[dict[str, Any]]:
        rows = [update.row() for update in self.updates]
        for link in self.discovered:
            row = dict.fromkeys(BACKLINK_EXPORT_FIELDS[1:])
            row |= {"source_url": link.source_url, "target_url": link.target_url, "status": "pending",
                    "status_reason": "found on a checked page", "event": "new",
                    "anchor_text": link.anchor_text, "rel": list(link.rel), "last_checked": link.found_at}
            rows.append(row)
        return rows



@dataclass(slots=True)
class ExpiringNotices:
    """The ``expiring`` events a run writes for links near their ``expires_at`` (each once)."""

    events: list[dict[str, Any]] = field(default_factory=list)

    #: Events, not backlinks: a feed export (``-o links.csv``) keeps one row per backlink.
    export_record = None
