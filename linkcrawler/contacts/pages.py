"""Which pages of a site say who is behind it, and which sites to look at (pure, plus the reads of ``from=``).

:func:`contact_links` ranks a page's same-site links by how much their text or
address says "contact", "about", "team", "author", "imprint"... in several
languages; :data:`USUAL_PATHS` are tried when the links do not fill the budget.
:func:`sites_from` reads the sites of the items at or above the outreach threshold
(``from=backlinks|mentions|opportunities``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pymongo.database import Database

from linkcrawler.contacts.outreach import OutreachSettings, ThankYou, document_priority, domain_of
from linkcrawler.web.urls import host_of

__all__ = ["FROM_CHOICES", "USUAL_PATHS", "Site", "contact_links", "contact_score", "origin_of", "sites_from"]

#: Words (accents removed, lower case) in a link's text or address that lead to the people, best first.
CONTACT_WORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (5, ("contact", "kontakt", "contacto", "contatto", "contactez", "contato", "kontakta", "yhteystiedot",
         "write-for-us", "write for us")),
    (4, ("impressum", "imprint", "mentions-legales", "mentions legales", "legal notice", "aviso-legal",
         "colophon", "masthead", "redaktion", "redazione", "redaccion", "redaction")),
    (3, ("team", "equipe", "equipo", "staff", "people", "our-people", "mitarbeiter", "ueber-uns", "uber-uns",
         "uber uns", "about", "a-propos", "a propos", "qui-sommes-nous", "quienes-somos", "sobre", "chi-siamo",
         "chi siamo", "over-ons", "over ons", "om-oss", "o-nas")),
    (2, ("author", "autor", "auteur", "autore", "writer", "editor", "press", "presse", "prensa")),
)
#: Paths tried on every site when its links name fewer contact pages than the budget allows.
USUAL_PATHS = ("/contact", "/about", "/impressum", "/contact-us", "/about-us", "/kontakt", "/team")
FROM_CHOICES = ("backlinks", "mentions", "opportunities")

_SKIP_SUFFIXES = re.compile(r"\.(?:pdf|jpe?g|png|gif|svg|webp|zip|gz|mp[34]|docx?|xlsx?|pptx?)$", re.IGNORECASE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def contact_score(url: str, text: str) -> int:
    """How much a link (its address and text) promises a contact, about, team or author page; 0: not at all."""
    path = _fold(urlsplit(url).path)
    words = _fold(text)
    best = 0
    for score, needles in CONTACT_WORDS:
        if any(needle in path or needle in words for needle in needles):
            best = max(best, score)
    return best


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def contact_links(page_url: str, links: Iterable[tuple[str, str]], domain: str) -> list[str]:
    """The links (``(url, text)``) of ``page_url`` to pages of ``domain`` that promise contacts, best first."""
    scored: dict[str, int] = {}
    for url, text in links:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or _SKIP_SUFFIXES.search(parts.path):
            continue
        if domain_of(url) != domain:
            continue
        url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
        if url == page_url:
            continue
        score = contact_score(url, text)
        if score:
            scored[url] = max(score, scored.get(url, 0))
    return sorted(scored, key=lambda u: (-scored[u], len(u), u))


def usual_pages(page_url: str) -> list[str]:
    origin = origin_of(page_url).rstrip("/")
    return [origin + path for path in USUAL_PATHS]


@dataclass(frozen=True, slots=True)
class Site:
    """A site to look at: its registrable ``domain`` and the page to start from."""

    domain: str
    start_url: str


def sites_from(db: Database[Any], source: str, settings: OutreachSettings, now: datetime) -> Iterator[Site]:
    """The sites behind the items of ``source`` at or above the outreach threshold, one per domain.

    - ``backlinks``: links whose ``priority`` (lost or degraded links) is at or above
      it, and the new live links worth a ``thank_you`` (:class:`~linkcrawler.contacts.outreach.ThankYou`);
    - ``mentions``: unlinked mentions (``priority``, else ``score``, when they have one);
    - ``opportunities``: open opportunities whose ``score`` is at or above it.

    Each domain starts from its most valuable page.
    """
    best: dict[str, tuple[int, str]] = {}

    def offer(url: str | None, priority: int) -> None:
        if not url or not host_of(url):
            return
        domain = domain_of(url)
        if domain not in best or priority > best[domain][0]:
            best[domain] = (priority, url)

    threshold = settings.min_priority
    if source == "backlinks":
        for doc in db["backlinks"].find({"priority": {"$gte": threshold}}, {"source_url": 1, "priority": 1}):
            offer(doc.get("source_url"), int(doc["priority"]))
        # The new links worth a thank-you, as the queue picks them.
        for candidate in ThankYou().candidates(db, settings, now):
            offer(candidate.page_url, candidate.priority)
    elif source == "mentions":
        for doc in db["mentions"].find({"status": "unlinked"}):
            priority = document_priority(doc, threshold)
            if priority >= threshold:
                offer(doc.get("page_url"), priority)
    elif source == "opportunities":
        for doc in db["opportunities"].find({"status": "open"}):
            priority = document_priority(doc, 0)
            if priority >= threshold:
                offer(doc.get("page_url"), priority)
    else:
        raise ValueError(f"unknown source {source!r}: expected one of {', '.join(FROM_CHOICES)}")
    for domain, (_, url) in sorted(best.items(), key=lambda item: (-item[1][0], item[0])):
        yield Site(domain, url)
