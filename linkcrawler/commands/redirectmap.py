"""``scrapy redirectmap -o FILE --format nginx|apache|csv``: 301 rules for gone pages that still have backlinks.

A page of the audited site (``pages``, from ``site_audit``) that answers 404 or
410 and is still the target of backlinks (``backlinks``, not in a lost state)
gets a 301 to the live page that fits it best (see
:func:`linkcrawler.audit.redirectmap.target_score`); rules are ranked by referring
domains. ``--verify BASE_URL`` checks that a deployed site answers each rule
with one 301 hop to a 200, fetching as the spiders do
(:func:`linkcrawler.web.fetch.fetch_chains`: the address guard and robots.txt
on every hop, the project's ``USER_AGENT``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import UsageError

from linkcrawler.audit.redirectmap import (
    FORMATS,
    MIN_SCORE,
    GonePage,
    LivePage,
    RedirectRule,
    TargetMatcher,
    format_rules,
    judge_redirect,
    parse_rules,
    rank_rules,
    skipped_rules,
)
from linkcrawler.audit.store import PAGES, referring_domains, sites
from linkcrawler.cli import EXIT_FAILURE, StoreCommand, report_error
from linkcrawler.exceptions import ConfigurationError, LinkcrawlerError
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.fetch import FetchedChain, fetch_chains
from linkcrawler.web.text import printable

#: Exit code when ``--verify`` finds rules the deployed site does not answer as it should.
EXIT_RULES_WRONG = 1
#: Statuses of a page that is gone.
GONE_STATUSES = (404, 410)


def deployed_url(base_url: str, rule_url: str, site_netloc: str | None) -> str:
    """Where a rule's source or target lives on the deployed site at ``base_url``.

    Paths, and absolute URLs of the audited site itself, move to ``base_url``;
    other absolute URLs stay as they are.
    """
    parts = urlsplit(rule_url)
    if parts.scheme and parts.netloc and parts.netloc != site_netloc:
        return rule_url
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))


def verify_rules(
    rules: Iterable[tuple[str, str]],
    base_url: str,
    fetch: Callable[[list[str]], dict[str, FetchedChain]],
) -> list[tuple[str, str, str | None]]:
    """(source, target, problem or None) for each rule, checked on the site at ``base_url``.

    ``fetch`` gets every source URL at once and gives each one's chain
    (:func:`linkcrawler.web.fetch.fetch_chains`).
    """
    rules = list(rules)
    absolute = [u for rule in rules for u in rule if urlsplit(u).netloc]
    site = urlsplit(absolute[0]).netloc if absolute else None
    deployed = [(deployed_url(base_url, source, site), deployed_url(base_url, target, site)) for source, target in rules]
    chains = fetch([source_url for source_url, _ in deployed])
    results = []
    for (source, target), (source_url, target_url) in zip(rules, deployed, strict=True):
        chain = chains[source_url]
        first = chain.answers[0]
        second = chain.answers[1] if len(chain.answers) > 1 else None
        problem = judge_redirect(source_url, target_url, (first.status, first.location),
                                 (second.status, second.location) if second else None)
        # A hop that got no HTTP answer: say what happened (the address guard's
        # refusal, robots.txt, a DNS failure), not only its kind.
        unanswered = next((a for a in (first, second) if a is not None and isinstance(a.status, str)), None)
        if problem and unanswered is not None and unanswered.reason:
            problem += f" ({unanswered.reason})"
        results.append((source, target, problem))
    return results


def build_rules(store: Store, site: str | None, min_score: float = MIN_SCORE) -> tuple[str, list[RedirectRule], int]:
    """(site, ranked rules, gone pages with backlinks but no live page to send them to)."""
    db = store.db
    audited = sites(db)
    if site is None:
        if not audited:
            raise ConfigurationError("no audited site in pages: run scrapy crawl site_audit -a start_url=URL first")
        if len(audited) > 1:
            raise ConfigurationError(f"pages holds several sites ({', '.join(audited)}): choose one with --site")
        site = audited[0]
    elif site not in audited:
        raise ConfigurationError(f"site {site!r} was not audited (audited: {', '.join(audited) or 'none'})")
    gone = {doc["url"]: doc["status"] for doc in db[PAGES].find(
        {"site": site, "status": {"$in": list(GONE_STATUSES)}}, {"url": 1, "status": 1})}
    linked = {row["_id"]: row for row in referring_domains(db, gone)} if gone else {}
    gone_pages = [
        GonePage(url, gone[url], row["domains"], row["backlinks"], tuple(sorted(row["anchors"])[:20]))
        for url, row in linked.items() if row["domains"] > 0
    ]
    live = [
        LivePage(doc["url"], doc.get("title") or "")
        for doc in db[PAGES].find({"site": site, "status": 200}, {"url": 1, "title": 1, "canonical": 1,
                                                                  "noindex": 1, "content_type": 1})
        if not doc.get("noindex") and doc.get("canonical") in (None, doc["url"])
        and (doc.get("content_type") in (None, "") or "html" in doc["content_type"])
    ]
    matcher = TargetMatcher(live, min_score)
    rules, unmatched = [], 0
    for page in gone_pages:
        rule = matcher.best(page)
        if rule is None:
            unmatched += 1
        else:
            rules.append(rule)
    return site, rank_rules(rules), unmatched


class Command(StoreCommand):
    # --verify fetches through the project's downloader stack (web/fetch.py).
    requires_crawler_process = True

    def syntax(self) -> str:
        return "-o FILE [--format nginx|apache|csv] [--site HOST] | --verify BASE_URL [--rules FILE]"

    def short_desc(self) -> str:
        return "Write 301 rules for gone pages that still have backlinks (nginx, Apache, CSV); verify them"

    def long_desc(self) -> str:
        return (
            "For each page of the audited site that answers 404 or 410 (pages, from site_audit) and "
            "still has backlinks (backlinks, lost links not counted), proposes a 301 to the live page "
            "whose URL path and title fit best, ranked by referring domains. With --verify BASE_URL, "
            "checks on the deployed site that each rule answers one 301 hop to a 200 and lists those "
            "that do not (exit code 1): the rules of --rules FILE, else the rules computed now."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="where to write the rules ('-': standard output)")
        parser.add_argument("--format", choices=FORMATS, help="nginx (default), apache or csv (default for *.csv)")
        parser.add_argument("--site", metavar="HOST", help="the audited site (host[:port]) when pages holds several")
        parser.add_argument("--min-score", type=float, default=MIN_SCORE, metavar="S",
                            help=f"below this match score use the nearest live ancestor page (default {MIN_SCORE})")
        parser.add_argument("--verify", metavar="BASE_URL", help="check the rules on the site deployed at BASE_URL")
        parser.add_argument("--rules", metavar="FILE", help="with --verify: the rules file to check (any format)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not opts.output and not opts.verify:
            raise UsageError("give -o FILE to write the rules, or --verify BASE_URL to check them", print_help=False)
        if opts.rules and not opts.verify:
            raise UsageError("--rules goes with --verify BASE_URL", print_help=False)
        if opts.verify and urlsplit(opts.verify).scheme not in ("http", "https"):
            raise UsageError(f"--verify needs an http(s) base URL, not {opts.verify!r}", print_help=False)
        if opts.format is None:
            opts.format = "csv" if (opts.output or "").endswith(".csv") else "nginx"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if opts.rules:  # checking a rules file needs no database
            try:
                path = Path(opts.rules)
                if not path.is_file():
                    raise LinkcrawlerError(f"{path}: no such file")
                rules = parse_rules(path.read_text(encoding="utf-8"))
                if not rules:
                    raise LinkcrawlerError(f"{path}: no redirect rules found (nginx, Apache or CSV as redirectmap writes)")
                self.verify(rules, opts.verify)
            except LinkcrawlerError as exc:
                report_error(str(exc), self.settings)
                self.exitcode = EXIT_FAILURE
            return
        super().run(args, opts)

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        ensure_indexes(store.db, ["pages", "backlinks"])
        site, rules, unmatched = build_rules(store, opts.site, opts.min_score)
        if opts.output:
            text = format_rules(rules, opts.format)
            skipped = len(skipped_rules(rules, opts.format))
            if opts.output == "-":
                sys.stdout.write(text)
            else:
                Path(opts.output).write_text(text, encoding="utf-8")
            fallbacks = sum(1 for rule in rules if rule.fallback)
            print(
                f"{len(rules) - skipped} rule(s) for {site} written to {opts.output} ({opts.format})"
                + (f"; {fallbacks} to a section or the home page for lack of a close match" if fallbacks else "")
                + (f"; {unmatched} gone page(s) with backlinks and no live page to send them to" if unmatched else "")
                + (f"; {skipped} rule(s) skipped: {opts.format} cannot express them (see the SKIPPED comments)"
                   if skipped else ""),
                file=sys.stderr,
            )
        if opts.verify:
            self.verify([(rule.source, rule.target) for rule in rules], opts.verify)

    def verify(self, rules: list[tuple[str, str]], base_url: str) -> None:
        def fetch(urls: list[str]) -> dict[str, FetchedChain]:
            assert self.settings is not None
            return fetch_chains(urls, self.settings, self.crawler_process)

        results = verify_rules(rules, base_url, fetch)
        wrong = [(source, target, problem) for source, target, problem in results if problem]
        for source, target, problem in wrong:
            print(f"WRONG {printable(source)} -> {printable(target)}: {printable(problem or '')}")
        print(f"{len(results) - len(wrong)} of {len(results)} rule(s) answer one 301 hop to a 200 on {base_url}")
        if wrong:
            self.exitcode = EXIT_RULES_WRONG


__all__ = ["Command", "build_rules", "deployed_url", "verify_rules"]
