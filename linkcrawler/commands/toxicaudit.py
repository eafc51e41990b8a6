"""``scrapy toxicaudit``: score every linking domain for toxicity, with the evidence; record decisions.

Reads ``backlinks`` and the linking pages' facts the backlinks spider stored
(``linking_pages``), resolves each linking domain once (link networks), and writes
``toxicity``. ``--keep`` / ``--disavow`` record a person's decision, which no
re-audit changes; ``--explain DOMAIN`` prints one domain's evidence.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from linkcrawler import defaults
from linkcrawler.cli import StoreCommand
from linkcrawler.clock import Clock
from linkcrawler.exceptions import ConfigurationError, LinkcrawlerError
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.toxicity.audit import audit, decide, decision_domain, save
from linkcrawler.toxicity.signals import Rules
from linkcrawler.toxicity.store import TOXICITY
from linkcrawler.web.text import printable

#: Domains listed in the summary.
DEFAULT_LIMIT = 20


def explain(doc: dict[str, Any]) -> str:
    """One domain's audit in words: score, verdict, decision, and every signal with its evidence."""
    decision = doc.get("decision") or "none"
    if doc.get("score") is None:
        return f"{doc['_id']}: not scored yet, decision {decision}"
    lines = [
        f"{doc['_id']}: score {doc['score']}, verdict {doc['verdict']}, decision {decision}, "
        f"{doc.get('links', 0)} link(s) to us, {doc.get('checked_pages', 0)} linking page(s) checked"
    ]
    unchecked = doc.get("unchecked_pages") or 0
    if unchecked:
        lines.append(f"  {unchecked} linking page(s) never read by 'scrapy crawl backlinks' (not checked yet, "
                     "or gone or unreadable when checked): no page signals for them (domain signals still apply)")
    for signal in doc.get("signals") or []:
        lines.append(f"  +{signal['weight']:<3} {signal['name']}: {printable(signal['evidence'])}")
    if not doc.get("signals"):
        lines.append("  no signal fired")
    if doc.get("scored_at"):
        lines.append(f"  scored at {doc['scored_at'].isoformat()}")
    return "\n".join(lines)


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--explain DOMAIN] [--keep DOMAIN...] [--disavow DOMAIN...] [--limit N]"

    def short_desc(self) -> str:
        return "Score each linking domain for toxicity, with the signals that fired; record decisions"

    def long_desc(self) -> str:
        return (
            "Scores every linking domain 0-100 from open signals (hidden links, poison words, link farms, "
            "foreign-language and thin pages, money anchors, abused TLDs, link networks...) and writes the "
            "verdict (ok, review, toxic) with the evidence to 'toxicity'. --keep and --disavow record a "
            "person's decision, which re-audits keep. --explain DOMAIN prints one domain's evidence."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--explain", metavar="DOMAIN", help="print one domain's evidence (from the last audit)")
        parser.add_argument("--keep", metavar="DOMAIN", nargs="+", action="extend", default=[],
                            help="decide to keep these domains' links (never disavowed)")
        parser.add_argument("--disavow", metavar="DOMAIN", nargs="+", action="extend", default=[],
                            help="decide to disavow these domains whatever their score")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                            help=f"domains listed in the summary (default {DEFAULT_LIMIT}; 0: all)")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = self.settings
        db = store.db
        ensure_indexes(db, ["backlinks", TOXICITY])
        if args:
            raise ConfigurationError(f"unexpected argument(s): {' '.join(args)} (domains go after --keep/--disavow)")
        if opts.explain and not (opts.keep or opts.disavow):
            name = self._domain(opts.explain)
            doc = db[TOXICITY].find_one({"_id": name})
            if doc is None:
                raise LinkcrawlerError(f"{name} has no toxicity record: it does not link to us, or "
                                       "'scrapy toxicaudit' has not run since it was found")
            print(explain(doc))
            return
        rules = Rules.from_settings(settings)
        now = Clock.from_settings(settings).now()
        overlap = {self._domain(d) for d in opts.keep} & {self._domain(d) for d in opts.disavow}
        if overlap:
            raise ConfigurationError(f"both --keep and --disavow for {', '.join(sorted(overlap))}")
        for decision, names in (("keep", opts.keep), ("disavow", opts.disavow)):
            if names:
                stored = decide(db, [self._domain(n) for n in names], decision, now)
                print(f"decision {decision}: {', '.join(stored)}")
        static = settings.getdict("LINKCRAWLER_TOXIC_RESOLVE")
        timeout = settings.getfloat("LINKCRAWLER_TOXIC_DNS_TIMEOUT", defaults.LINKCRAWLER_TOXIC_DNS_TIMEOUT)
        assessments = audit(db, rules, static, timeout)
        save(db, assessments, now)
        decisions = {doc["_id"]: doc.get("decision") for doc in db[TOXICITY].find({}, {"decision": 1})}
        verdicts = Counter(a.verdict for a in assessments)
        print(f"toxicaudit: {len(assessments)} linking domain(s): {verdicts['toxic']} toxic, "
              f"{verdicts['review']} to review, {verdicts['ok']} ok "
              f"(toxic from {rules.toxic_at}, review from {rules.review_at})")
        unchecked = sum(len(a.unchecked_pages) for a in assessments)
        if unchecked:
            print(f"  {unchecked} linking page(s) never read (not checked yet, or gone or unreadable when "
                  "checked): no page signals for them; 'scrapy crawl backlinks' reads the pages it checks")
        shown = [a for a in assessments if a.verdict != "ok" or decisions.get(a.domain)]
        if opts.limit > 0:
            shown = shown[: opts.limit]
        if shown:
            print(f"  {'score':>5}  {'verdict':<7}  {'decision':<8}  {'links':>5}  domain: signals")
        for a in shown:
            names = ", ".join(signal.name for signal in a.signals) or "-"
            print(f"  {a.score:>5}  {a.verdict:<7}  {decisions.get(a.domain) or '-':<8}  {a.links:>5}  "
                  f"{printable(a.domain)}: {names}")
        if opts.explain:
            doc = db[TOXICITY].find_one({"_id": self._domain(opts.explain)})
            print(explain(doc) if doc else f"{opts.explain}: not a linking domain")

    @staticmethod
    def _domain(name: str) -> str:
        try:
            return decision_domain(name)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
