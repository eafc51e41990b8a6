"""What checking one outbound link found: broken (and why), unverified, or fine.

A broken outbound link on someone else's page is only worth an e-mail when it
is surely broken: a webmaster told about a link that works stops listening. So
the rule is narrow. Broken (``broken_reason``):

- ``http_404`` / ``http_410``: the answer (also at the end of a redirect chain) to a GET;
- ``dns_nxdomain``: the resolver says the domain name does not exist;
- ``connection_refused``: the host answers, nothing listens;
- ``parked_domain``: the domain is parked or for sale (:mod:`linkcrawler.web.parked`);
- ``soft_404``: a "not found" page in 200 clothing (:mod:`linkcrawler.web.softnotfound`);
- ``redirect_to_unrelated``: an old deep URL now sends to another site's front
  page (:func:`linkcrawler.web.redirects.unrelated_landing`).

Everything that does not prove the link dead is *unverified*, never an
opportunity: 5xx, a timeout, 401/403/429 (and any other 4xx), a bot challenge,
robots.txt refusing us, the address guard, a DNS failure that is not NXDOMAIN,
a redirect loop, a TLS or connection error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from linkcrawler.web.outcome import DNS_NXDOMAIN, ErrorKind, Failure
from linkcrawler.web.page import PageAnalysis
from linkcrawler.web.parked import parked_reason, same_page
from linkcrawler.web.redirects import unrelated_landing
from linkcrawler.web.softnotfound import PageFingerprint, fingerprint, same_template, says_not_found

__all__ = [
    "BROKEN_REASONS",
    "CheckState",
    "LinkVerdict",
    "failure_verdict",
    "needs_probe",
    "page_verdict",
    "status_verdict",
]

#: Every ``broken_reason`` an opportunity can have.
BROKEN_REASONS = (
    "http_404", "http_410", "dns_nxdomain", "connection_refused", "parked_domain", "soft_404", "redirect_to_unrelated",
)
#: Statuses that say the site will not let us look, not that the page is gone.
REFUSING_STATUSES = frozenset({401, 403, 407, 429, 451, 999})


class CheckState(StrEnum):
    """The three outcomes of checking an outbound link."""

    BROKEN = "broken"
    UNVERIFIED = "unverified"
    OK = "ok"


@dataclass(frozen=True, slots=True)
class LinkVerdict:
    """The outcome of checking one outbound URL (an ``outbound_checks`` document)."""

    url: str
    state: CheckState
    reason: str
    """In words: "HTTP 404", "HTTP 503: the server fails for now, not checked"..."""
    broken_reason: str | None = None
    http_status: int | None = None
    """The final answer's status, when there was one."""
    final_url: str | None = None
    redirect_chain: tuple[tuple[str, int], ...] = field(default=())
    """Every redirect hop before the final answer: (url, status)."""

    @property
    def broken(self) -> bool:
        return self.state is CheckState.BROKEN

    def document(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "state": self.state.value,
            "broken_reason": self.broken_reason,
            "reason": self.reason,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "redirect_chain": [{"url": url, "status": status} for url, status in self.redirect_chain],
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> LinkVerdict:
        return cls(
            url=doc["url"], state=CheckState(doc["state"]), reason=doc.get("reason") or "",
            broken_reason=doc.get("broken_reason"), http_status=doc.get("http_status"),
            final_url=doc.get("final_url"),
            redirect_chain=tuple((hop["url"], hop["status"]) for hop in doc.get("redirect_chain") or ()),
        )


def _via(chain: Sequence[tuple[str, int]], final_url: str | None) -> str:
    return f"redirects to {final_url}, which " if chain and final_url else ""


def status_verdict(url: str, status: int, final_url: str | None = None,
                   chain: Sequence[tuple[str, int]] = ()) -> LinkVerdict | None:
    """The verdict of a final (non-redirect) answer to a GET, or ``None`` for a 2xx (its body decides)."""
    if 200 <= status < 300:
        return None
    via = _via(chain, final_url)
    common: dict[str, Any] = {"http_status": status, "final_url": final_url or url, "redirect_chain": tuple(chain)}
    if status in (404, 410):
        return LinkVerdict(url, CheckState.BROKEN, f"{via}answers HTTP {status}" if via else f"HTTP {status}",
                           broken_reason=f"http_{status}", **common)
    if status in REFUSING_STATUSES:
        why = f"HTTP {status}: the site does not let us check it"
    elif status >= 500:
        why = f"HTTP {status}: the server fails for now"
    else:
        why = f"HTTP {status}: not a sign the page is gone"
    return LinkVerdict(url, CheckState.UNVERIFIED, (via + why) if via else why, **common)


def failure_verdict(url: str, failure: Failure, final_url: str | None = None,
                    chain: Sequence[tuple[str, int]] = ()) -> LinkVerdict:
    """The verdict of a fetch that got no answer (``failure`` from :func:`~linkcrawler.web.outcome.classify_failure`;
    for a DNS failure, from :func:`~linkcrawler.web.dns.lookup_failure`, which tells NXDOMAIN apart)."""
    via = _via(chain, final_url)
    common: dict[str, Any] = {"final_url": final_url or url, "redirect_chain": tuple(chain)}
    if failure.kind is ErrorKind.DNS_ERROR and failure.cause == DNS_NXDOMAIN:
        return LinkVerdict(url, CheckState.BROKEN, f"{via}the domain name does not exist (NXDOMAIN)",
                           broken_reason="dns_nxdomain", **common)
    if failure.kind is ErrorKind.CONNECTION_REFUSED and failure.cause == "connection_refused":
        return LinkVerdict(url, CheckState.BROKEN, f"{via}connection refused",
                           broken_reason="connection_refused", **common)
    return LinkVerdict(url, CheckState.UNVERIFIED, f"{via}{failure.reason}: not checked", **common)


def needs_probe(page: PageAnalysis) -> bool:
    """Whether judging ``page`` needs its site's answer for a URL that cannot exist.

    Not for what no comparison can judge (non-HTML, challenges); for a site's
    front page too (a parked domain answers its lander at every path, the front
    page included), which a soft-404 template never judges.
    """
    return page.is_html and not page.challenge


def page_verdict(url: str, page: PageAnalysis, *, chain: Sequence[tuple[str, int]] = (),
                 status: int = 200, not_found: PageFingerprint | None = None,
                 probed: bool = False) -> LinkVerdict | None:
    """The verdict of a 2xx page (``page`` is the final answer, at ``page.url``), or ``None``
    when it needs the site's answer for a URL that cannot exist first (``probed`` False and
    :func:`needs_probe`): ``not_found`` is its fingerprint (``None``: it answered no 2xx page)."""
    final_url = page.url
    common: dict[str, Any] = {"http_status": status, "final_url": final_url, "redirect_chain": tuple(chain)}
    via = _via(chain, final_url)
    if page.challenge:
        return LinkVerdict(url, CheckState.UNVERIFIED, f"{via}a bot challenge ({page.challenge}): not checked", **common)
    parked = parked_reason(page)
    if parked:
        return LinkVerdict(url, CheckState.BROKEN, via + parked, broken_reason="parked_domain", **common)
    said = says_not_found(page) if page.is_html else None
    if said:
        return LinkVerdict(url, CheckState.BROKEN, f"{via}soft 404: {said}", broken_reason="soft_404", **common)
    landing = unrelated_landing(url, final_url) if chain else None
    if landing:
        return LinkVerdict(url, CheckState.BROKEN, landing, broken_reason="redirect_to_unrelated", **common)
    if not probed and needs_probe(page):
        return None
    if not_found is not None and page.is_html:
        if same_page(fingerprint(page), not_found):
            parked = parked_reason(page, same_everywhere=True)
            if parked:
                return LinkVerdict(url, CheckState.BROKEN, via + parked, broken_reason="parked_domain", **common)
        template = same_template(page, not_found)
        if template:
            return LinkVerdict(url, CheckState.BROKEN, f"{via}soft 404: {template}", broken_reason="soft_404", **common)
    return LinkVerdict(url, CheckState.OK, f"{via}answers HTTP {status}" if via else f"HTTP {status}", **common)
