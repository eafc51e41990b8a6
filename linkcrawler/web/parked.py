"""Parked and for-sale domains: a page that says the domain, not the page, is what is on offer.

A link to a domain that lapsed and was bought by a parking service or a domain
reseller answers 200, with a page of ads or a "this domain may be for sale"
notice. It is as dead as a 404 for the reader, and the classic opportunity of
broken link building. Detection must keep false positives near zero: an
article *about* buying domains is not parked.

Two kinds of evidence (:func:`parking_evidence`):

- **strong**, each enough alone, on a short page (at most :data:`SHORT_PAGE_WORDS`
  words: on a long one, a provider's name is an article's link): the page loads a
  parking provider's script or frame (Sedo, Bodis, ParkingCrew, Above, Afternic,
  Dan.com, HugeDomains, Google's AdSense for Domains ``caf.js``...), or says the
  domain is for sale or parked
  ("This domain may be for sale", "Buy this domain", "This domain is parked free,
  courtesy of GoDaddy"...);
- **weak**, enough only when the site answers the same page at every path
  (:func:`parked_reason` with ``same_everywhere``): a title that is just a domain
  name, "Related searches"/"Sponsored listings" on a short page, a script shell
  that sends the browser to ``/lander``.

"Every path answers the same page" is the caller's fetch of a URL that cannot
exist (:func:`linkcrawler.web.softnotfound.probe_url`) compared with
:func:`same_page`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from linkcrawler.web.links import HIDDEN_RE, TAG_RE
from linkcrawler.web.page import PageAnalysis
from linkcrawler.web.softnotfound import PageFingerprint, similarity
from linkcrawler.web.text import squash

__all__ = ["SHORT_PAGE_WORDS", "ParkingEvidence", "parked_reason", "parking_evidence", "same_page"]

#: A page's own words count as evidence only on a page this short (parking pages are).
SHORT_PAGE_WORDS = 300
#: Text similarity (word shingles) from which two answers are the same page.
SAME_PAGE_SIMILARITY = 0.9

# Hosts and paths of parking services and domain marketplaces, as they appear in the
# page's markup (script src, iframe src, form action, links).
_PROVIDERS = (
    ("sedoparking.com", "Sedo parking"),
    ("sedo.com/search/details", "Sedo marketplace"),
    ("img.sedoparking.com", "Sedo parking"),
    ("bodis.com", "Bodis"),
    ("parkingcrew.net", "ParkingCrew"),
    ("parkingcrew.com", "ParkingCrew"),
    ("above.com/marketplace", "Above.com"),
    ("park.above.com", "Above.com"),
    ("afternic.com/forsale", "Afternic"),
    ("dan.com/buy-domain", "Dan.com"),
    ("dan.com/lander", "Dan.com"),
    ("hugedomains.com/domain_profile", "HugeDomains"),
    ("hugedomains.com/domain", "HugeDomains"),
    ("domainmarket.com/buynow", "DomainMarket"),
    ("undeveloped.com", "Undeveloped"),
    ("parklogic.com", "ParkLogic"),
    ("parking.namecheap.com", "Namecheap parking"),
    ("domainsponsor.com", "DomainSponsor"),
    ("smartname.com", "Smartname"),
    ("skenzo.com", "Skenzo"),
    ("ztomy.com", "Ztomy"),
    ("wsimg.com/parking-lander", "GoDaddy parking"),
    ("img1.wsimg.com/parking", "GoDaddy parking"),
    ("google.com/adsense/domains/caf.js", "Google AdSense for Domains"),
    ("/adsense/domains/caf.js", "Google AdSense for Domains"),
)

# What a parking or for-sale notice says (normalized: lower case, single spaces).
_FOR_SALE_RE = re.compile(
    r"\b(?:this|the) domain(?: name)?(?: \S+)? (?:may be|is|might be|could be) (?:for sale|available for (?:purchase|sale))"
    r"|\bbuy this domain\b"
    r"|\bthis domain (?:name )?is (?:parked|registered and parked)"
    r"|\bis parked free,? courtesy of\b"
    r"|\bparked (?:free )?(?:by|at|with) (?:godaddy|namecheap|sedo|bodis)"
    r"|\bthe domain owner (?:may be|is) (?:interested in selling|willing to sell)"
    r"|\b(?:make an offer|inquire about) (?:on |for )?this domain\b"
    r"|\bdomain (?:name )?(?:is )?for sale[.!:]"
    r"|\bdiese domain (?:steht zum verkauf|kaufen|ist zu verkaufen)"
    r"|\bce (?:nom de )?domaine (?:est )?(?:à vendre|a vendre)"
    r"|\beste dominio (?:est[aá] )?en venta",
)
_SPONSORED_RE = re.compile(r"\b(?:related searches|related links|sponsored listings|sponsored links)\b")
_LANDER_RE = re.compile(r"""(?:window\.)?location(?:\.href)?\s*=\s*["']/lander["']""", re.IGNORECASE)
_DOMAIN_TITLE_RE = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParkingEvidence:
    """What on a page says its domain is parked or for sale."""

    strong: tuple[str, ...] = ()
    """Each enough alone (a provider's script, a for-sale notice on a short page)."""
    weak: tuple[str, ...] = ()
    """Enough only when every path of the site answers this same page."""


def parking_evidence(page: PageAnalysis) -> ParkingEvidence:
    """The parking and for-sale signals of ``page`` (see the module docstring)."""
    if not page.is_html:
        return ParkingEvidence()
    strong: list[str] = []
    weak: list[str] = []
    source = page.source_text[:300_000]
    words = len(page.visible_text.split())
    # Parking pages are short: on a long page a provider's name is an article's link or text.
    short = words <= SHORT_PAGE_WORDS
    # Plain substring searches of the lower-cased markup: a regex alternation of the
    # markers cost a millisecond a page, more than the rest of the check.
    lowered_source = source.lower() if short else ""
    for marker, provider in _PROVIDERS:
        if marker in lowered_source and not any(found.startswith(f"loads {provider} ") for found in strong):
            strong.append(f"loads {provider} ({marker})")
    # Tags become spaces: "<h1>x.com</h1><p>This domain..." reads "x.com This domain...".
    lowered = " ".join(html.unescape(TAG_RE.sub(" ", HIDDEN_RE.sub(" ", source))).split()).lower() if short else ""
    title = squash(page.title, 200)
    if short:
        found = _FOR_SALE_RE.search(lowered) or _FOR_SALE_RE.search(title.lower())
        if found:
            strong.append(f"says {squash(found.group(0), 100)!r}")
        sponsored = _SPONSORED_RE.search(lowered)
        if sponsored:
            weak.append(f"shows {sponsored.group(0)!r}")
    if _DOMAIN_TITLE_RE.match(title):
        weak.append(f"its title is a bare domain name ({title!r})")
    if _LANDER_RE.search(source) and words < 20:
        weak.append("an empty page that sends the browser to /lander")
    return ParkingEvidence(tuple(strong), tuple(weak))


def same_page(page: PageFingerprint, other: PageFingerprint | None) -> bool:
    """Whether two answers are one page: same title and nearly the same text, however short.

    Unlike a soft-404 template (:func:`~linkcrawler.web.softnotfound.same_template`),
    a tiny page counts: parking landers are script shells of a few words.
    """
    if other is None or page.title != other.title:
        return False
    return similarity(page.shingles, other.shingles) >= SAME_PAGE_SIMILARITY


def parked_reason(page: PageAnalysis, same_everywhere: bool = False) -> str | None:
    """Why ``page`` is a parked or for-sale domain's page, or ``None``.

    ``same_everywhere``: the site answers this same page for a URL that cannot
    exist (see :func:`same_page`); weak signals then count too. A bot challenge
    is never a parked page.
    """
    if page.challenge or not page.is_html:
        return None
    evidence = parking_evidence(page)
    if evidence.strong:
        return "parked or for-sale domain: page " + "; ".join(evidence.strong[:3])
    if same_everywhere and evidence.weak:
        return ("parked domain: every path answers the same page, which " + "; ".join(evidence.weak[:3]))
    return None
