"""What one fetched page says about the brand: :func:`read_mentions`, pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from linkcrawler.mentions.items import MentionFinding
from linkcrawler.mentions.linked import classify_linkage
from linkcrawler.mentions.match import BrandTerms, find_mentions
from linkcrawler.web.content import PageMetadata, main_content
from linkcrawler.web.headers import HeadersLike
from linkcrawler.web.page import analyze_page
from linkcrawler.web.softnotfound import says_not_found
from linkcrawler.web.urls import host_of

__all__ = ["MentionReading", "on_domains", "read_mentions"]


@dataclass(frozen=True, slots=True)
class MentionReading:
    findings: list[MentionFinding] = field(default_factory=list)
    metadata: PageMetadata = field(default_factory=PageMetadata)
    is_html: bool = True
    challenge: str | None = None
    not_found: str | None = None
    """Why the page is a "not found" page answering 2xx (a soft 404), when it names no term."""
    """The bot-protection vendor when the page is a challenge, not the page (nothing is read)."""


def on_domains(url: str, domains: Iterable[str]) -> bool:
    """Whether ``url``'s host is one of ``domains`` or a subdomain of one."""
    try:
        host = host_of(url).lower().rstrip(".")
    except ValueError:
        return False
    for domain in domains:
        domain = domain.strip().lower().lstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def read_mentions(
    url: str,
    body: bytes | str,
    headers: HeadersLike | None,
    terms: BrandTerms,
    own_domains: Iterable[str],
    encoding: str | None = None,
) -> MentionReading:
    """The mentions of ``terms`` in the page's main text, each with how it links to ``own_domains``.

    One lxml parse for the links (:func:`~linkcrawler.web.page.analyze_page`),
    one trafilatura extraction for the main text and metadata.
    """
    page = analyze_page(url, body, headers, encoding)
    if not page.is_html:
        return MentionReading(is_html=False)
    if page.challenge:
        return MentionReading(challenge=page.challenge)
    content = main_content(page.source_text, page.base_url)
    metadata = content.metadata if content.metadata.title else PageMetadata(
        title=page.title, author=content.metadata.author, published=content.metadata.published,
        sitename=content.metadata.sitename)
    # The <title> is what a search result shows: a mention there is the most prominent.
    matches = find_mentions(content.blocks, terms, page.title)
    if not matches:
        # A "not found" page in 200 clothing: the page is gone, the mention was not removed from it.
        return MentionReading(metadata=metadata, not_found=says_not_found(page))
    own_links = page.links_to_domains(own_domains)
    findings = []
    for term in terms.terms:
        match = matches.get(term)
        if match is None:
            continue
        linkage = classify_linkage(match, own_links, has_links=content.has_links, page_nofollow=page.nofollow)
        findings.append(MentionFinding(
            term=term, matched_text=match.matched_text, context=match.context, count=match.count,
            linked=linkage.linked, link_url=linkage.link_url, rel=list(linkage.rel),
            anchor_text=linkage.anchor_text, prominence=list(match.prominence),
        ))
    return MentionReading(findings, metadata)
