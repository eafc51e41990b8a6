"""How contacts are stored: one ``contacts`` document per (domain, address or name), merged across runs.

A contact's ``_id`` derives from its domain and key (:func:`contact_id`), so every
page and every run that sees it meets the same document: ``sources`` and
``profiles`` grow by ``$addToSet`` (a source seen again is not added twice),
``confidence`` and ``last_seen`` by ``$max``, ``first_seen`` is set once. Replaying
a write changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from linkcrawler.contacts.extract import Contact
from linkcrawler.contacts.items import PageContacts
from linkcrawler.store.writer import WriteOp

CONTACTS = "contacts"


def contact_id(domain: str, key: str) -> str:
    """The ``_id`` of the contact ``key`` (:func:`~linkcrawler.contacts.extract.contact_key`) of ``domain``."""
    return hashlib.sha1(f"{domain}\n{key}".encode()).hexdigest()[:24]


def contact_ops(contact: Contact, seen_at: Any) -> list[WriteOp]:
    key = contact.key
    update: dict[str, Any] = {
        "$setOnInsert": {"domain": contact.domain, "key": key, "email": contact.email, "first_seen": seen_at},
        "$max": {"last_seen": seen_at, "confidence": contact.confidence},
        "$set": {"role_address": contact.role_address},
        "$addToSet": {
            "sources": {"$each": [source.document() for source in contact.sources]},
            "profiles": {"$each": list(contact.profiles)},
        },
    }
    # What a page did not say does not erase what another page said.
    if contact.name:
        update["$set"]["name"] = contact.name
    else:
        update["$setOnInsert"]["name"] = None
    if contact.role:
        update["$set"]["role"] = contact.role
    else:
        update["$setOnInsert"]["role"] = None
    return [WriteOp.upsert_on(CONTACTS, {"_id": contact_id(contact.domain, key)}, update)]


def page_contacts_ops(item: PageContacts) -> list[WriteOp]:
    return [op for contact in item.contacts for op in contact_ops(contact, item.seen_at)]


WRITERS: dict[type, Callable[[Any], list[WriteOp]]] = {
    PageContacts: page_contacts_ops,
}
