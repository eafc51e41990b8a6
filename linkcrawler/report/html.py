"""The report as one self-contained HTML file: the queries' results, charts, one template.

No script, no stylesheet or font from elsewhere, no image to fetch: the file opens
offline, prints, and reads on a phone. Every third-party string goes through
jinja2's autoescape (and the charts escape their own text); links to third-party
pages are plain ``<a>`` elements that only a reader's click follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jinja2
from markupsafe import Markup

from linkcrawler.report import charts, queries
from linkcrawler.report.charts import COLOURS, PALETTE, Series
from linkcrawler.web.text import squash

Db = queries.Db


@dataclass
class ReportData:
    """Everything the template shows (small: every list is capped)."""

    title: str
    generated_at: datetime
    source: str
    statuses: dict[str, int]
    classes: dict[str, int]
    referring_total: int
    referring_top: list[dict[str, Any]]
    lost_by_status: dict[str, int]
    lost_reasons: list[tuple[str, int]]
    lost_top: list[dict[str, Any]]
    most_linked: list[dict[str, Any]]
    audit: dict[str, Any]
    others: dict[str, Any]
    last_runs: dict[str, datetime]
    charts: dict[str, Markup] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def _label(week: datetime) -> str:
    return week.strftime("%d %b %y")


def collect(db: Db, now: datetime, title: str = "Link profile", source: str = "") -> ReportData:
    """Run every query and draw every chart."""
    statuses = queries.status_counts(db)
    classes = dict.fromkeys(queries.CLASSES, 0)
    for status, n in statuses.items():
        classes[queries._class_of(status)] += n
    referring_total, referring_top = queries.referring_domain_counts(db)
    lost_by_status, reasons = queries.lost_reasons(db)
    data = ReportData(
        title=title, generated_at=now, source=source, statuses=statuses, classes=classes,
        referring_total=referring_total, referring_top=referring_top, lost_by_status=lost_by_status,
        lost_reasons=reasons, lost_top=queries.most_valuable_lost(db), most_linked=queries.most_linked_pages(db),
        audit=queries.site_audit(db), others=queries.other_ways(db), last_runs=queries.last_runs(db),
    )
    weeks, totals = queries.status_over_time(db)
    data.charts["over_time"] = charts.line_chart(
        "Backlinks by state, week by week", [_label(w) for w in weeks],
        [Series(c, totals[c], COLOURS[c]) for c in queries.CLASSES if any(totals.get(c) or [])])
    weeks, per_type = queries.events_per_week(db)
    data.charts["new_lost"] = charts.bar_chart(
        "New, lost and recovered links per week", [_label(w) for w in weeks],
        [Series(t, per_type[t], COLOURS[t]) for t in ("new", "lost", "recovered") if t in per_type])
    data.charts["statuses"] = charts.hbar_chart(
        "Backlinks by state now", list(statuses.items()),
        colours=[COLOURS[queries._class_of(s)] for s in statuses])
    data.charts["lost_reasons"] = charts.hbar_chart(
        "Lost links by reason", [(squash(r, 120), n) for r, n in reasons], colour=COLOURS["lost"])
    data.charts["referring"] = charts.hbar_chart(
        "Referring domains with the most links", [(str(r["domain"]), r["links"]) for r in referring_top[:15]],
        colour=PALETTE[0])
    if data.audit["statuses"]:
        data.charts["audit"] = charts.hbar_chart(
            "Pages of the site audit by status", [(str(s), n) for s, n in list(data.audit["statuses"].items())[:15]],
            colour=PALETTE[6])
    outreach = data.others.get("outreach")
    if outreach:
        data.charts["funnel"] = charts.hbar_chart("Outreach funnel", outreach["funnel"], colour=PALETTE[4])
    for name, key, label in (("mentions", "statuses", "Mentions by status"),
                             ("opportunities", "statuses", "Opportunities by status"),
                             ("toxicity", "verdicts", "Linking domains by toxicity verdict")):
        if name in data.others:
            rows = sorted(data.others[name][key].items(), key=lambda kv: -kv[1])
            data.charts[name] = charts.hbar_chart(label, rows, colour=PALETTE[5])
    return data


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else ""


def _href(value: Any) -> str:
    text = squash(str(value or ""), 2000)
    return text if text.lower().startswith(("http://", "https://")) else "#"


def _clean(value: Any, limit: int = 300) -> str:
    return squash(str(value), limit) if value is not None else ""


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("linkcrawler.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    # Documents written by other capabilities may lack a field: it shows as empty.
    undefined=jinja2.Undefined,
)
_ENVIRONMENT.filters.update(when=_when, href=_href, clean=_clean)


def render(data: ReportData) -> str:
    """The report's HTML."""
    return _ENVIRONMENT.get_template("report.html").render(r=data, colours=COLOURS)


def build_report(db: Db, now: datetime, title: str = "Link profile", source: str = "") -> str:
    """Query, draw and render: the whole report as one string."""
    return render(collect(db, now, title, source))
