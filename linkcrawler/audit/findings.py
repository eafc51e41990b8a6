"""What a site audit found, as a person reads it, and the health of a page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from linkcrawler.web.outcome import UNCHECKED_KINDS, FetchStatus
from linkcrawler.web.redirects import REDIRECT_STATUSES

# --- the findings, as a person reads them --------------------------------------------


@dataclass
class BrokenTarget:
    """One broken link target and every page that carries a link to it."""

    link_url: str
    status: FetchStatus
    kind: str
    carriers: list[tuple[str, str]] = field(default_factory=list)
    """(page URL, anchor text) of each page linking to it."""


@dataclass
class AuditFindings:
    """What an audit found, for the closing report (``format_findings``)."""

    site: str
    pages: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    broken: list[BrokenTarget] = field(default_factory=list)
    chains: list[list[dict[str, FetchStatus]]] = field(default_factory=list)
    """Redirect chains of two or more redirects, every hop."""
    loops: list[list[dict[str, FetchStatus]]] = field(default_factory=list)
    redirected_links: list[tuple[str, str, str]] = field(default_factory=list)
    """(page URL, link URL, final URL): internal links to fix to point at the final URL."""
    redirected_external_links: list[tuple[str, str, str]] = field(default_factory=list)
    """(page URL, link URL, final URL): external links that redirect (once or more), to update."""
    sitemap_only: list[str] = field(default_factory=list)
    not_checked: list[tuple[str, FetchStatus]] = field(default_factory=list)
    """Internal URLs robots.txt or the address guard kept us from fetching."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Internal URLs not crawled, by the trap limit that stopped them."""


def _hops_text(chain: Sequence[dict[str, FetchStatus]]) -> str:
    return " -> ".join(f"{hop['url']} [{hop['status']}]" for hop in chain)


def format_findings(findings: AuditFindings, limit: int = 20) -> str:
    """The findings as text: broken links with the pages carrying them, chains, loops...

    Each section shows at most ``limit`` entries and says how many more there are.
    """
    lines = [f"Site audit of {findings.site}: {findings.pages} URLs"]
    if findings.statuses:
        lines.append("  " + ", ".join(f"{status}: {count}" for status, count in sorted(findings.statuses.items())))

    def section(title: str, entries: Sequence[Any], render: Callable[[Any], list[str]]) -> None:
        lines.append("")
        lines.append(f"{title} ({len(entries)})")
        if not entries:
            lines.append("  none")
        for entry in entries[:limit]:
            lines.extend(render(entry))
        if len(entries) > limit:
            lines.append(f"  ... and {len(entries) - limit} more")

    def broken(target: BrokenTarget) -> list[str]:
        out = [f"  {target.link_url} [{target.status}] ({target.kind}), linked from:"]
        for page, anchor in target.carriers[:limit]:
            out.append(f"      {page}" + (f'  "{anchor}"' if anchor else ""))
        if len(target.carriers) > limit:
            out.append(f"      ... and {len(target.carriers) - limit} more pages")
        return out

    section("Broken links", sorted(findings.broken, key=lambda t: (-len(t.carriers), t.link_url)), broken)
    section("Redirect chains (2+ redirects)", findings.chains, lambda c: [f"  {_hops_text(c)}"])
    section("Redirect loops", findings.loops, lambda c: [f"  {_hops_text(c)}"])
    section(
        "Internal links to a redirect (point them at the final URL)",
        findings.redirected_links,
        lambda r: [f"  {r[0]}: {r[1]} -> {r[2]}"],
    )
    section(
        "External links to a redirect (point them at the final URL)",
        findings.redirected_external_links,
        lambda r: [f"  {r[0]}: {r[1]} -> {r[2]}"],
    )
    section("Pages found only in the sitemap", findings.sitemap_only, lambda u: [f"  {u}"])
    section("Not checked (robots.txt, address guard)", findings.not_checked, lambda r: [f"  {r[0]} [{r[1]}]"])
    if findings.skipped:
        lines.append("")
        lines.append("URLs not crawled by trap limits: " + ", ".join(
            f"{reason}: {count}" for reason, count in sorted(findings.skipped.items())))
    return "\n".join(lines)




# --- most linked pages ---------------------------------------------------------------------


def page_health(status: FetchStatus | None, final_status: FetchStatus | None = None) -> str:
    """``ok`` (answers 200), ``redirect`` (redirects to a page that answers 2xx),
    ``broken`` (anything else a visitor would see as an error), ``unknown`` (not audited,
    or not checked: robots.txt, address guard, also on a redirect hop)."""
    if status is None or status in UNCHECKED_KINDS or final_status in UNCHECKED_KINDS:
        return "unknown"
    if status == 200:
        return "ok"
    if isinstance(status, int) and status in REDIRECT_STATUSES and isinstance(final_status, int) \
            and 200 <= final_status < 300:
        return "redirect"
    if isinstance(status, int) and 200 <= status < 300:
        return "ok"
    return "broken"


