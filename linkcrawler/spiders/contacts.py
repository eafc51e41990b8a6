"""Spider ``contacts``: the people and addresses behind linking sites.

For each site: the page itself, then (bounded by ``-a max_pages=N``, default
``LINKCRAWLER_CONTACTS_MAX_PAGES``, 5, the page itself included) its contact,
about, team, imprint and author pages, found from the page's links (their text and
address, in several languages) and, when those do not fill the budget, the usual
paths (``/contact``, ``/about``, ``/impressum``...). What a page shows is read by
:func:`linkcrawler.contacts.extract.extract_contacts`; every contact becomes or
enriches a ``contacts`` document (one per domain and address or name).

Arguments (at least one of them):

- ``-a from=backlinks|mentions|opportunities``: the sites of the items at or above
  ``LINKCRAWLER_OUTREACH_MIN_PRIORITY`` (:func:`linkcrawler.contacts.pages.sites_from`);
- ``-a urls=FILE_OR_URLS``: pages (a file, text or CSV with a URL column, or
  comma-separated URLs; :func:`linkcrawler.imports.urllist.read_url_list`);
- ``-a domains=a.com,b.org``: sites, started from ``https://DOMAIN/`` (or the URL
  given, when an entry has a scheme).

Fetches go through the project's downloader middlewares (address guard, robots.txt,
Retry-After); a page that cannot be fetched is counted and logged with the shared
failure classifier, and the site's other pages are still tried.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from linkcrawler import defaults
from linkcrawler.clock import Clock
from linkcrawler.contacts.extract import extract_contacts
from linkcrawler.contacts.items import PageContacts
from linkcrawler.contacts.outreach_store import outreach_settings
from linkcrawler.contacts.pages import FROM_CHOICES, Site, contact_links, origin_of, sites_from, usual_pages
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.imports.reader import RowError
from linkcrawler.imports.urllist import read_url_list
from linkcrawler.spiders.arguments import Argument, SpiderArguments, integer
from linkcrawler.store import Store, open_store
from linkcrawler.web.headers import normalize_headers
from linkcrawler.web.outcome import classify_failure
from linkcrawler.web.page import analyze_page
from linkcrawler.web.text import printable
from linkcrawler.web.urls import host_of, normalize_url, registrable_domain

logger = logging.getLogger(__name__)


#: A host name (IDNs arrive punycoded), an IPv4 or an IPv6 address.
_HOST_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*|[0-9a-f:.]*:[0-9a-f:.]*")


def _choice(value: Any) -> str:
    word = str(value).strip().lower()
    if word not in FROM_CHOICES:
        raise ValueError(word)
    return word


def _text(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError(text)
    return text


@dataclass
class SiteVisit:
    """One site's pages in this run: how many were asked for, which URLs."""

    domain: str
    budget: int
    requested: set[str] = field(default_factory=set)
    followed_up: bool = False
    done: int = 0

    def take(self, url: str) -> bool:
        """Whether ``url`` may be fetched for this site (new, and within the budget); records it."""
        if url in self.requested or len(self.requested) >= self.budget:
            return False
        self.requested.add(url)
        return True


class ContactsSpider(scrapy.Spider):
    name = "contacts"
    stored_items = (PageContacts,)
    progress = ("linkcrawler/contacts/sites_done", "linkcrawler/contacts/sites", "sites read")

    arguments = SpiderArguments(
        "contacts",
        Argument("from", _choice, "one of " + ", ".join(FROM_CHOICES)),
        Argument("urls", _text, "a file of URLs (text or CSV) or comma-separated URLs"),
        Argument("domains", _text, "comma-separated domains, like example.com,example.org"),
        integer("max_pages", minimum=1, default=None, meaning="pages per site, the start page included"),
    )

    def __init__(self, **kwargs: Any) -> None:
        values = self.arguments.parse(kwargs)
        super().__init__(**self.arguments.internal(kwargs))
        if not (values["from"] or values["urls"] or values["domains"]):
            raise ConfigurationError("contacts: give -a from=backlinks|mentions|opportunities, -a urls= or -a domains=")
        self.source: str | None = values["from"]
        self.urls: str | None = values["urls"]
        self.domains: str | None = values["domains"]
        self.max_pages: int | None = values["max_pages"]
        self.clock = Clock()
        self.visits: dict[str, SiteVisit] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ContactsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.clock = Clock.from_settings(crawler.settings)
        if spider.max_pages is None:
            spider.max_pages = crawler.settings.getint("LINKCRAWLER_CONTACTS_MAX_PAGES",
                                                       defaults.LINKCRAWLER_CONTACTS_MAX_PAGES)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        sites: dict[str, Site] = {}
        for site in await self._sites():
            sites.setdefault(site.domain, site)
        self.crawler.stats.set_value("linkcrawler/contacts/sites", len(sites))
        logger.info("contacts: %d site(s) to read", len(sites))
        for site in sites.values():
            visit = self.visits[site.domain] = SiteVisit(site.domain, max(1, self.max_pages or 1))
            visit.take(site.start_url)
            yield self.page_request(site.start_url, site.domain, start=True)

    async def _sites(self) -> list[Site]:
        found: list[Site] = []
        if self.source:
            store: Store = await run_in_thread(open_store, self.settings)
            try:
                settings = outreach_settings(self.settings)
                now = self.clock.now()
                found += await run_in_thread(lambda: list(sites_from(store.db, self.source or "", settings, now)))
            finally:
                await run_in_thread(store.close)
        if self.urls:
            found += await run_in_thread(self._read_urls, self.urls)
        if self.domains:
            found += self._domain_sites(self.domains)
        return found

    def _read_urls(self, value: str) -> list[Site]:
        sites = []
        try:
            for entry in read_url_list(value):
                if isinstance(entry, RowError):
                    logger.warning("contacts: urls line %d skipped: %s", entry.line, printable(entry.reason))
                    continue
                sites.append(Site(registrable_domain(host_of(entry.url)), entry.url))
        except OSError as exc:
            raise ConfigurationError(f"contacts: cannot read -a urls={value!r}: {exc}") from exc
        return sites

    @staticmethod
    def _domain_sites(value: str) -> list[Site]:
        sites = []
        for raw in value.split(","):
            raw = raw.strip()
            if not raw:
                continue
            try:
                url = normalize_url(raw if "://" in raw else f"https://{raw}/")
            except ValueError:
                url = ""
            if not _HOST_RE.fullmatch(host_of(url)):
                raise ConfigurationError(f"contacts: -a domains: {raw!r} is not a domain") from None
            sites.append(Site(registrable_domain(host_of(url)), url))
        return sites

    def page_request(self, url: str, domain: str, *, start: bool = False,
                     contact_page: bool = False) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_page, errback=self.page_failed, dont_filter=True,
                              meta={"domain": domain, "start": start, "contact_page": contact_page})

    def parse_page(self, response: Response) -> Iterator[Any]:
        domain: str = response.meta["domain"]
        start: bool = response.meta["start"]
        self.crawler.stats.inc_value("linkcrawler/contacts/pages")
        if not isinstance(response, TextResponse):
            yield from self.follow_up(response.url, domain, [], start=start)
            return
        contacts = extract_contacts(response.url, response.text, domain,
                                    contact_page=response.meta.get("contact_page", False))
        self.crawler.stats.inc_value("linkcrawler/contacts/found", len(contacts))
        if contacts:
            yield PageContacts(page_url=response.url, domain=domain, seen_at=self.clock.now(), contacts=contacts)
        links: list[tuple[str, str]] = []
        if start:
            page = analyze_page(response.url, response.body, normalize_headers(response.headers))
            links = [(link.url, link.anchor_text) for link in page.links]
        yield from self.follow_up(response.url, domain, links, start=start)

    def follow_up(self, page_url: str, domain: str, links: list[tuple[str, str]],
                  start: bool = True) -> Iterator[scrapy.Request]:
        """After the start page answered (or failed): the site's contact pages, within its budget."""
        # In a shared crawl (REDIS_URL) another worker may have sent the start page.
        visit = self.visits.setdefault(domain, SiteVisit(domain, max(1, self.max_pages or 1), {page_url}))
        if start and not visit.followed_up:
            visit.followed_up = True
            home = origin_of(page_url)
            wanted = contact_links(page_url, links, domain) + usual_pages(page_url)
            if home != page_url:
                wanted.insert(0, home)  # the home page often says who runs the site
            for url in wanted:
                if visit.take(url):
                    yield self.page_request(url, domain, contact_page=url != home)
        visit.done += 1
        if visit.done == len(visit.requested):
            self.crawler.stats.inc_value("linkcrawler/contacts/sites_done")

    def page_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        outcome = classify_failure(failure)
        kind = f"http_{outcome.http_status}" if outcome.http_status else outcome.kind.value
        self.crawler.stats.inc_value(f"linkcrawler/contacts/failed/{kind}")
        logger.info("contacts: %s not read: %s", printable(request.url), printable(outcome.reason))
        # A lost link's page may be gone: the site's contact pages are still worth reading.
        yield from self.follow_up(request.url, request.meta["domain"], [], start=request.meta["start"])
