"""The items of the contacts crawl: dataclasses, read through ItemAdapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkcrawler.contacts.extract import Contact


@dataclass(slots=True)
class PageContacts:
    """The contacts one page of a site showed (each becomes or enriches a ``contacts`` document)."""

    page_url: str
    domain: str
    """The site the contacts were found for (registrable domain)."""
    seen_at: datetime
    contacts: list[Contact] = field(default_factory=list)

    export_record = "contacts"
    export_fields = ("record", "domain", "name", "email", "role", "role_address", "profiles", "sources",
                     "confidence", "page_url", "last_seen")

    def export_rows(self) -> list[dict[str, Any]]:
        return [
            {"domain": c.domain, "name": c.name, "email": c.email, "role": c.role, "role_address": c.role_address,
             "profiles": c.profiles, "sources": [s.document() for s in c.sources], "confidence": c.confidence,
             "page_url": self.page_url, "last_seen": self.seen_at}
            for c in self.contacts
        ]
