"""Who is behind a page: the contacts one page shows, read without guessing and without lookups.

:func:`extract_contacts` reads one page (one lxml parse) and returns :class:`Contact`
values, each with every place it was seen (:class:`Source`: the page and the
``method``) and a ``confidence`` between 0 and 1. Sources, by method (the contract's names):

- ``mailto``: ``<a href="mailto:...">`` (several addresses, ``?subject=``, percent- and
  entity-encoded addresses, Cloudflare's ``/cdn-cgi/l/email-protection#HEX`` links);
- ``json_ld``: schema.org ``Person`` and ``Organization`` (nested anywhere, ``@graph``,
  ``author``, ``contactPoint``), with ``email``, ``jobTitle``, ``url`` and ``sameAs``;
- ``meta_author``: ``<meta name="author">``;
- ``byline``: ``rel="author"`` links and elements marked as the author (``itemprop``,
  ``class`` ``byline``/``author``), "By Jane Doe";
- ``text`` / ``contact_page``: an address written in the page's visible text
  (``contact_page`` when the page is the site's contact, about, team or imprint page);
- ``obfuscated``: ``jane [at] example [dot] com``, ``jane(at)example(dot)com``,
  ``{at}``, ``<at>``, and Cloudflare's ``data-cfemail``.

Nothing is guessed (no ``firstname@domain`` patterns) and nothing is looked up
elsewhere. Text in ``<code>``, ``<pre>``, ``<script>``, ``<style>`` and
``<textarea>`` is not read: code samples are full of ``user@host``. What looks
like an address but is not one is refused (:func:`plausible_email`): image names
(``logo@2x.png``), version pins (``pkg@1.2.3``), reserved example domains, hex
tokens (Sentry DSNs, hashes).

Confidence (:func:`confidence`): the method's weight (mailto 0.9, json_ld 0.85,
obfuscated 0.75, contact_page 0.7, text 0.5, meta_author 0.5, byline 0.45), times
0.6 when the page is not on the site's own domain (a third-party page), plus 0.1
when the address is on the site's own domain, times 0.85 for a role address
(``info@``: reaches someone, not a named person); several methods on one page
combine as independent evidence (``1 - prod(1 - c)``), capped at 0.99. So a mailto
on the site's own domain (0.99) beats a text match on a third-party page (0.4 at most).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from linkcrawler.web.page import parse_html
from linkcrawler.web.text import squash
from linkcrawler.web.urls import host_of, registrable_domain

__all__ = [
    "ROLE_LOCAL_PARTS",
    "Contact",
    "Method",
    "Source",
    "confidence",
    "contact_key",
    "decode_cfemail",
    "extract_contacts",
    "find_obfuscated",
    "plausible_email",
    "plausible_name",
]


class Method(StrEnum):
    """How a contact was seen (``contacts.sources[].method``)."""

    MAILTO = "mailto"
    JSON_LD = "json_ld"
    META_AUTHOR = "meta_author"
    BYLINE = "byline"
    CONTACT_PAGE = "contact_page"
    TEXT = "text"
    OBFUSCATED = "obfuscated"


#: How much one sighting by each method is worth, alone, on the site's own pages.
METHOD_WEIGHTS: dict[Method, float] = {
    Method.MAILTO: 0.9,
    Method.JSON_LD: 0.85,
    Method.OBFUSCATED: 0.75,
    Method.CONTACT_PAGE: 0.7,
    Method.TEXT: 0.5,
    Method.META_AUTHOR: 0.5,
    Method.BYLINE: 0.45,
}
THIRD_PARTY_FACTOR = 0.6
OWN_DOMAIN_BONUS = 0.1
ROLE_FACTOR = 0.85
MAX_CONFIDENCE = 0.99

#: Local parts of role addresses: they reach a function, not a named person. Kept, and marked.
ROLE_LOCAL_PARTS = frozenset({
    "info", "contact", "contacts", "hello", "hi", "mail", "office", "team", "support", "help", "admin",
    "webmaster", "postmaster", "editor", "editors", "editorial", "redaktion", "redaction", "redaccion",
    "press", "presse", "prensa", "media", "news", "newsroom", "pr", "marketing", "sales", "partners",
    "partnerships", "advertising", "ads", "feedback", "enquiries", "inquiries", "service", "kontakt",
    "contatto", "contacto", "tips", "submissions", "jobs", "careers", "privacy", "legal", "abuse",
    "noreply", "no-reply", "donotreply", "billing", "accounts",
})

#: Hosts whose links are someone's profile (``profiles``).
PROFILE_HOSTS = frozenset({
    "twitter.com", "x.com", "linkedin.com", "facebook.com", "github.com", "gitlab.com", "instagram.com",
    "mastodon.social", "bsky.app", "threads.net", "youtube.com", "medium.com", "about.me", "orcid.org",
    "xing.com", "scholar.google.com", "researchgate.net", "substack.com", "tiktok.com",
})

# Reserved for documentation (RFC 2606/6761) or never a real mailbox.
_RESERVED_DOMAINS = frozenset({
    "example.com", "example.org", "example.net", "example.edu", "domain.com", "yourdomain.com",
    "yoursite.com", "test.com", "sentry.io", "wixpress.com", "sentry-next.wixpress.com",
})
_RESERVED_SUFFIXES = ("example", "invalid", "localhost", "localdomain", "test", "local", "internal", "lan")
# File extensions that follow an "@" in asset names (logo@2x.png) and are no top-level domain.
_FILE_SUFFIXES = frozenset({
    "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "tif", "tiff", "css", "js", "mjs", "map",
    "json", "xml", "html", "htm", "php", "pdf", "woff", "woff2", "ttf", "eot", "mp4", "webm", "mp3", "zip",
})
_PLACEHOLDER_LOCALS = frozenset({"user", "username", "name", "email", "your", "you", "yourname", "firstname",
                                 "first.last", "firstname.lastname", "someone", "foo", "test"})

_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_])?"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
_EMAIL_RE = re.compile(rf"(?<![A-Za-z0-9._%+-])({_LOCAL})@({_DOMAIN})(?![A-Za-z0-9-]|\.[A-Za-z0-9])")
_HEX_RE = re.compile(r"^[0-9a-f]{16,}$")
_OPEN = r"\s*[\[\(\{<]\s*"
_CLOSE = r"\s*[\]\)\}>]\s*"
_AT = rf"(?:{_OPEN}(?:at|@){_CLOSE}|\s+(?-i:AT)\s+)"
_DOT = rf"(?:{_OPEN}(?:dot|\.|punkt|point|punto){_CLOSE}|\.)"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_OBFUSCATED_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+-])({_LOCAL}){_AT}((?:{_LABEL}{_DOT})+[A-Za-z]{{2,24}})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_DOT_RE = re.compile(rf"{_DOT}", re.IGNORECASE)
_BY_RE = re.compile(r"^\s*(?:by|von|par|por|door|di|da|av|af|przez|autor(?:in)?|author|written by)\s*:?\s+",
                    re.IGNORECASE)
_NAME_TOKEN_RE = re.compile(r"^[^\W\d_][\w'’.-]*$")
_CF_PATH = "/cdn-cgi/l/email-protection"
_PROFILE_PATH_RE = re.compile(r"/(?:author|authors|autor|autoren|auteur|people|team|staff|profile|profiles|users?|"
                              r"members?|about|~)[/-]", re.IGNORECASE)
_SKIPPED_TAGS = frozenset({"script", "style", "code", "pre", "textarea", "noscript", "template", "kbd", "samp"})
_AUTHOR_CLASS_RE = re.compile(r"(?:^|[\s_-])(?:byline|author|author-name|autor|auteur|writer)(?:$|[\s_-])",
                              re.IGNORECASE)
_LD_PEOPLE = frozenset({"Person", "Organization", "NewsMediaOrganization", "Corporation", "LocalBusiness",
                        "EducationalOrganization", "NGO", "GovernmentOrganization", "OnlineBusiness"})


@dataclass(frozen=True, slots=True)
class Source:
    """Where and how a contact was seen (``contacts.sources[]``)."""

    url: str
    method: str

    def document(self) -> dict[str, str]:
        return {"url": self.url, "method": self.method}


@dataclass(slots=True)
class Contact:
    """A person or an address behind a site, as one page shows it."""

    domain: str
    """The site the contact was found for (registrable domain)."""
    name: str | None = None
    email: str | None = None
    role: str | None = None
    """A job title (JSON-LD ``jobTitle``), ``organization``, or the role of a role address (``editor``)."""
    role_address: bool = False
    """The address reaches a function (``info@``, ``editor@``), not a named person."""
    profiles: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    confidence: float = 0.0

    @property
    def key(self) -> str:
        return contact_key(self.email, self.name)


def contact_key(email: str | None, name: str | None) -> str:
    """The natural key of a contact within its domain: its address, else its name (case-folded)."""
    if email:
        return "email:" + email.lower()
    if name:
        return "name:" + " ".join(name.casefold().split())
    raise ValueError("a contact needs an email or a name")


def plausible_email(address: str) -> bool:
    """Whether ``address`` can be a real mailbox someone wrote for people to write to."""
    match = re.fullmatch(rf"({_LOCAL})@({_DOMAIN})", address)
    if match is None:
        return False
    local, domain = match.group(1).lower(), match.group(2).lower()
    suffix = domain.rsplit(".", 1)[1]
    if suffix in _FILE_SUFFIXES or suffix in _RESERVED_SUFFIXES:
        return False
    if domain in _RESERVED_DOMAINS or any(domain.endswith("." + d) for d in _RESERVED_DOMAINS):
        return False
    if _HEX_RE.match(local) or local in _PLACEHOLDER_LOCALS or ".." in local:
        return False
    # Retina assets and the like: "icon@2x", "name@3x.webp".
    return not re.fullmatch(r"\d+(?:\.\d+)*x?", domain.split(".")[0])


def plausible_name(text: str) -> str | None:
    """A person's or organization's name as written (2 to 5 words, letters), else ``None``."""
    text = squash(_BY_RE.sub("", squash(text)), 120).strip(" ,;:|-–—·")
    if not text or len(text) > 60 or "@" in text or "://" in text:
        return None
    tokens = text.split()
    if not 2 <= len(tokens) <= 5:
        return None
    if not all(_NAME_TOKEN_RE.match(token) for token in tokens):
        return None
    # A name starts with a capital (particles such as "van", "de" may not).
    if not tokens[0][0].isupper() or not tokens[-1][0].isupper():
        return None
    return text


def decode_cfemail(encoded: str) -> str | None:
    """Cloudflare's email protection: hex bytes, the first the XOR key of the others."""
    encoded = encoded.strip()
    if len(encoded) < 4 or len(encoded) % 2 or not re.fullmatch(r"[0-9a-fA-F]+", encoded):
        return None
    data = bytes.fromhex(encoded)
    try:
        return bytes(b ^ data[0] for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


def find_obfuscated(text: str) -> Iterator[str]:
    """Addresses written for people only: ``jane [at] example [dot] com`` and kin."""
    for match in _OBFUSCATED_RE.finditer(text):
        local = match.group(1)
        separator = match.group(0)[len(local):match.start(2) - match.start(0)]
        if local.isupper() and not any(bracket in separator for bracket in "[({<"):
            continue  # "MEET US AT EXPO.COM": shouting, not an address
        yield f"{local}@{_DOT_RE.sub('.', match.group(2))}"


def confidence(methods: Iterable[str], own_page: bool, own_address: bool, role_address: bool) -> float:
    """How sure we are this contact reaches the people behind the site, 0-1 (see the module's docstring)."""
    miss = 1.0
    for method in set(methods):
        single = METHOD_WEIGHTS.get(Method(method), 0.3)
        if not own_page:
            single *= THIRD_PARTY_FACTOR
        if own_address:
            single += OWN_DOMAIN_BONUS
        if role_address:
            single *= ROLE_FACTOR
        miss *= 1.0 - min(single, MAX_CONFIDENCE)
    return round(min(MAX_CONFIDENCE, 1.0 - miss), 3)


def is_role_address(email: str) -> bool:
    return email.split("@", 1)[0].lower() in ROLE_LOCAL_PARTS


def is_profile_url(url: str) -> bool:
    """Whether ``url`` is someone's page: a social profile, or an author or team page of a site."""
    host = host_of(url)
    if not host:
        return False
    if registrable_domain(host) in PROFILE_HOSTS or host in PROFILE_HOSTS or host.startswith("mastodon."):
        return True
    return _PROFILE_PATH_RE.search(urlsplit(url).path) is not None


class _Found:
    """Contacts of one page being assembled, by key."""

    def __init__(self, domain: str, page_url: str) -> None:
        self.domain = domain
        self.page_url = page_url
        self.contacts: dict[str, Contact] = {}

    def add(self, method: Method, *, email: str | None = None, name: str | None = None, role: str | None = None,
            profiles: Iterable[str] = ()) -> None:
        if email is not None:
            email = email.strip().strip(".").lower()
            if not plausible_email(email):
                return  # not an address: what came with it (a link's text) is no contact either
        if name is not None:
            name = squash(name, 100) or None
        if email is None and name is None:
            return
        key = contact_key(email, name)
        contact = self.contacts.get(key)
        if contact is None:
            contact = self.contacts[key] = Contact(domain=self.domain, email=email)
        if name and not contact.name:
            contact.name = name
        if role and not contact.role:
            contact.role = squash(role, 80)
        for url in profiles:
            if url and url not in contact.profiles:
                contact.profiles.append(url)
        source = Source(self.page_url, method.value)
        if source not in contact.sources:
            contact.sources.append(source)

    def finish(self) -> list[Contact]:
        own_page = registrable_domain(host_of(self.page_url)) == self.domain
        self._fold_names()
        done = []
        for contact in self.contacts.values():
            if contact.email:
                contact.role_address = is_role_address(contact.email)
                if contact.role_address and not contact.role:
                    contact.role = contact.email.split("@", 1)[0].lower()
            own_address = contact.email is not None and \
                registrable_domain(contact.email.split("@", 1)[1]) == self.domain
            contact.confidence = confidence((s.method for s in contact.sources), own_page, own_address,
                                            contact.role_address)
            done.append(contact)
        done.sort(key=lambda c: (-c.confidence, c.key))
        return done


    def _fold_names(self) -> None:
        """A name seen alone (meta author, byline) that an address of this page carries joins it."""
        by_name = {contact_key(None, c.name): c for c in self.contacts.values() if c.email and c.name}
        for key, contact in list(self.contacts.items()):
            owner = by_name.get(key) if contact.email is None else None
            if owner is None:
                continue
            for source in contact.sources:
                if source not in owner.sources:
                    owner.sources.append(source)
            owner.profiles.extend(url for url in contact.profiles if url not in owner.profiles)
            del self.contacts[key]


def extract_contacts(page_url: str, html: str, domain: str | None = None, *, contact_page: bool = False) -> list[Contact]:
    """The contacts ``html`` (the page at ``page_url``) shows for the site ``domain``.

    ``domain`` defaults to the page's own registrable domain; a page of another
    domain is a third-party page for it. With ``contact_page`` (the site's contact,
    about, team or imprint page), addresses in its text count as ``contact_page``.
    Best first.
    """
    domain = domain or registrable_domain(host_of(page_url))
    found = _Found(domain, page_url)
    root, _, _ = parse_html(html)
    if root is None:
        return []
    base = page_url
    for element in root.iter("base"):
        href = element.get("href")
        if href:
            base = urljoin(page_url, href.strip())
            break
    _read_links(root, base, found)
    _read_cloudflare(root, found)
    _read_json_ld(root, base, found)
    _read_meta(root, found)
    _read_bylines(root, base, found)
    _read_text(root, found, Method.CONTACT_PAGE if contact_page else Method.TEXT)
    return found.finish()


def _read_links(root: Any, base: str, found: _Found) -> None:
    for element in root.iter("a", "area", "link"):
        href = (element.get("href") or "").strip()
        if not href:
            continue
        if href.lower().startswith("mailto:"):
            name = plausible_name(_text(element)) if element.tag == "a" else None
            for address in _mailto_addresses(href):
                found.add(Method.MAILTO, email=address, name=name)
            continue
        if _CF_PATH in href and "#" in href:
            decoded = decode_cfemail(href.rsplit("#", 1)[1])
            if decoded:
                found.add(Method.OBFUSCATED, email=decoded)
            continue
        rel = (element.get("rel") or "").lower().split()
        if "author" in rel and element.tag == "a":
            name = plausible_name(_text(element))
            if name:
                found.add(Method.BYLINE, name=name, profiles=[_absolute(base, href)])


def _mailto_addresses(href: str) -> list[str]:
    value = unquote(href[len("mailto:"):].split("?", 1)[0])
    return [part.strip() for part in re.split(r"[,;]", value) if part.strip()]


def _read_cloudflare(root: Any, found: _Found) -> None:
    for element in root.xpath("//*[@data-cfemail]"):
        address = decode_cfemail(element.get("data-cfemail") or "")
        if address:
            found.add(Method.OBFUSCATED, email=address)


def _read_json_ld(root: Any, base: str, found: _Found) -> None:
    for script in root.xpath('//script[@type="application/ld+json"]'):
        text = script.xpath("string()")
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            continue
        for node in _ld_nodes(data):
            _read_ld_node(node, base, found)


def _ld_nodes(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object that is a Person or an Organization, or an ``author`` given as a bare name."""
    if depth > 12:
        return
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item, depth + 1)
        return
    if not isinstance(data, dict):
        return
    types = data.get("@type")
    type_names = {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
    if type_names & _LD_PEOPLE:
        yield data
    for key, value in data.items():
        if key in ("author", "creator", "editor") and isinstance(value, (str, list)):
            for name in [value] if isinstance(value, str) else value:
                if isinstance(name, str):
                    yield {"@type": "Person", "name": name}
        if isinstance(value, str):
            continue
        if isinstance(value, (dict, list)):
            yield from _ld_nodes(value, depth + 1)


def _ld_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        reference = value.get("@id") or value.get("url")
        return [reference] if isinstance(reference, str) else []
    return []


def _read_ld_node(node: dict[str, Any], base: str, found: _Found) -> None:
    types = node.get("@type")
    organization = "Person" not in (types if isinstance(types, list) else [types])
    names = _ld_strings(node.get("name"))
    name = squash(names[0], 100) if names else None
    if name and not organization:
        name = plausible_name(name)
    profiles = [_absolute(base, url) for url in _ld_strings(node.get("sameAs"))]
    profiles += [_absolute(base, url) for url in _ld_strings(node.get("url")) if not organization]
    profiles = [url for url in profiles if url.startswith(("http://", "https://"))]
    role = "organization" if organization else next(iter(_ld_strings(node.get("jobTitle"))), None)
    emails = [e.removeprefix("mailto:") for e in _ld_strings(node.get("email"))]
    points = node.get("contactPoint") or []
    for point in points if isinstance(points, list) else [points]:
        if isinstance(point, dict):
            emails += [e.removeprefix("mailto:") for e in _ld_strings(point.get("email"))]
    if emails:
        for email in emails:
            found.add(Method.JSON_LD, email=unquote(email), name=name, role=role, profiles=profiles)
    elif name:
        found.add(Method.JSON_LD, name=name, role=role, profiles=profiles)


def _read_meta(root: Any, found: _Found) -> None:
    for element in root.iter("meta"):
        if (element.get("name") or "").strip().lower() == "author":
            name = plausible_name(element.get("content") or "")
            if name:
                found.add(Method.META_AUTHOR, name=name)


def _read_bylines(root: Any, base: str, found: _Found) -> None:
    for element in root.xpath('//*[@itemprop="author" or @class]'):
        if element.tag in _SKIPPED_TAGS or element.tag in ("html", "body", "article", "main", "script"):
            continue
        if element.get("itemprop") != "author" and not _AUTHOR_CLASS_RE.search(element.get("class") or ""):
            continue
        # The name itself when it is marked up, else a part of the byline, else all of it.
        parts = [*element.xpath('.//*[@itemprop="name"]'), *element.iterdescendants(), element]
        name = next((n for n in (plausible_name(_text(p)) for p in parts if isinstance(p.tag, str)) if n), None)
        if name is None:
            continue
        # A byline's links: the author's pages, and often the date's or the category's (not profiles).
        profiles = [_absolute(base, a.get("href")) for a in element.iter("a") if a.get("href")]
        found.add(Method.BYLINE, name=name, profiles=[url for url in profiles if url and is_profile_url(url)])


def _visible_texts(element: Any) -> Iterator[str]:
    """The text a reader sees, in document order; code, scripts and the head are not read."""
    tag = element.tag if isinstance(element.tag, str) else None
    if tag is not None and tag not in _SKIPPED_TAGS and tag != "head":
        if element.text:
            yield element.text
        for child in element:
            yield from _visible_texts(child)
    # A comment's or a skipped element's tail is still the parent's visible text.
    if element.tail:
        yield element.tail


def _read_text(root: Any, found: _Found, method: Method) -> None:
    text = " ".join(_visible_texts(root))
    for match in _EMAIL_RE.finditer(text):
        found.add(method, email=f"{match.group(1)}@{match.group(2)}")
    for address in find_obfuscated(text):
        found.add(Method.OBFUSCATED, email=address)


def _text(element: Any) -> str:
    return " ".join(element.itertext())


def _absolute(base: str, href: str | None) -> str:
    if not href:
        return ""
    try:
        url = urljoin(base, href.strip())
    except ValueError:
        return ""
    return url if urlsplit(url).scheme in ("http", "https") else ""
