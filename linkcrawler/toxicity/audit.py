"""The toxic audit over the store: read backlinks and page facts, score every linking domain, save.

Commands block (they are not on a reactor), so this reads and writes MongoDB
directly. Decisions (``keep``/``disavow``) live on the ``toxicity`` documents and a
re-audit never writes them: it ``$set``s only what it computed.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from linkcrawler.store.reads import find_by_ids
from linkcrawler.toxicity.disavow import ascii_domain
from linkcrawler.toxicity.network import networks, resolve_hosts, system_resolve
from linkcrawler.toxicity.page import PageFacts, identify_language
from linkcrawler.toxicity.score import Assessment, LinkFacts, anchor_profile, assess_domain
from linkcrawler.toxicity.signals import Rules
from linkcrawler.toxicity.store import LINKING_PAGES, TOXICITY
from linkcrawler.web.urls import host_of, registrable_domain

logger = logging.getLogger(__name__)

Database_ = Database[dict[str, Any]]
DECISIONS = ("keep", "disavow")
_LINK_FIELDS = {"source_url": 1, "source_domain": 1, "anchor_text": 1, "authority": 1, "import_toxicity": 1}
_READ_BATCH = 1000


def read_links(db: Database_) -> dict[str, list[LinkFacts]]:
    """Our backlinks by linking domain, each domain's in the order of their linking pages."""
    by_domain: dict[str, list[LinkFacts]] = defaultdict(list)
    for doc in db.backlinks.find({}, _LINK_FIELDS):
        domain = doc.get("source_domain") or host_of(doc["source_url"])
        by_domain[domain].append(LinkFacts(
            source_url=doc["source_url"], anchor_text=doc.get("anchor_text"),
            authority=_number(doc.get("authority")), import_toxicity=_number(doc.get("import_toxicity")),
        ))
    # Sorted here rather than by the server: no index on source_url (store/indexes.py).
    for links in by_domain.values():
        links.sort(key=lambda link: link.source_url)
    return dict(by_domain)


def read_pages(db: Database_, urls: Iterable[str]) -> dict[str, PageFacts]:
    """The stored facts of those of ``urls`` that the backlinks spider checked."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, PageFacts] = {}
    for start in range(0, len(wanted), _READ_BATCH):
        identified = []
        for doc in find_by_ids(db[LINKING_PAGES], wanted[start:start + _READ_BATCH]):
            facts = found[doc["_id"]] = PageFacts.from_document(doc)
            if identify_language(facts):
                identified.append(UpdateOne({"_id": doc["_id"], "language": None}, {"$set": {
                    "language": facts.language, "language_probability": facts.language_probability}}))
        if identified:
            # Kept, so the next audit does not identify it again (a new check of the page resets it).
            db[LINKING_PAGES].bulk_write(identified, ordered=False)
    return found


def decision_domain(name: str) -> str:
    """The linking domain a person names (``www.Spam.com``, ``https://spam.com/x``, ``bücher.de``), as stored.

    ``ValueError`` when it is no domain name.
    """
    name = name.strip()
    if "://" in name:
        name = host_of(name)
    return registrable_domain(ascii_domain(name))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def main_host(links: list[LinkFacts]) -> str:
    """The host most of a domain's linking pages are on: the one resolved for it."""
    return Counter(host_of(link.source_url) for link in links).most_common(1)[0][0]


def audit(
    db: Database_,
    rules: Rules,
    static_addresses: dict[str, Any] | None = None,
    dns_timeout: float = 5.0,
    resolve: Callable[[str], list[str]] = system_resolve,
) -> list[Assessment]:
    """Every linking domain's assessment, worst first."""
    links = read_links(db)
    pages = read_pages(db, (link.source_url for domain_links in links.values() for link in domain_links))
    profile = anchor_profile((link.anchor_text for domain_links in links.values() for link in domain_links), rules)
    hosts = {domain: main_host(domain_links) for domain, domain_links in links.items()}
    addresses = resolve_hosts(hosts.values(), static_addresses, dns_timeout, resolve)
    shared = networks({domain: addresses.get(host, []) for domain, host in hosts.items()})
    assessments = [
        assess_domain(domain, domain_links, pages, rules, profile, shared.get(domain))
        for domain, domain_links in links.items()
    ]
    assessments.sort(key=lambda a: (-a.score, a.domain))
    return assessments


def save(db: Database_, assessments: list[Assessment], scored_at: datetime) -> None:
    """Write each domain's ``toxicity`` (its ``decision`` untouched); drop undecided domains that no longer link."""
    ops = [UpdateOne({"_id": a.domain}, {"$set": a.document(scored_at), "$setOnInsert": {"decision": None}},
                     upsert=True) for a in assessments]
    for start in range(0, len(ops), _READ_BATCH):
        db[TOXICITY].bulk_write(ops[start:start + _READ_BATCH], ordered=False)
    current = {a.domain for a in assessments}
    stale = [doc["_id"] for doc in db[TOXICITY].find({"decision": None}, {"_id": 1}) if doc["_id"] not in current]
    if stale:
        db[TOXICITY].delete_many({"_id": {"$in": stale}})


def decide(db: Database_, domains: Iterable[str], decision: str, decided_at: datetime) -> list[str]:
    """Record a person's ``decision`` on ``domains`` (registrable, punycode); the domains as stored."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    names = [decision_domain(domain) for domain in domains]
    for name in names:
        db[TOXICITY].update_one(
            {"_id": name},
            {"$set": {"decision": decision, "decided_at": decided_at},
             "$setOnInsert": {"domain": name, "score": None, "verdict": None, "signals": [], "links": 0,
                              "scored_at": None}},
            upsert=True,
        )
    return names
