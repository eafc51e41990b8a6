"""``scrapy disavow``: write a disavow file Google accepts, keep each version; or check one.

``scrapy disavow -o FILE`` lists the linking domains the toxic audit found toxic
(``--min-score N``: those scoring N or more), plus every ``disavow`` decision,
minus every ``keep``. ``--merge EXISTING.txt`` brings in the file already
submitted: its entries stay unless a ``keep`` decision removes them (listed). A
file that would break Google's limits is refused with the reason, never cut
short. Each file written is kept in ``disavow_versions`` with its diff against the
previous one. ``scrapy disavow --check FILE`` validates any disavow file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from linkcrawler.cli import EXIT_FAILURE, StoreCommand, report_error
from linkcrawler.clock import Clock
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.toxicity.disavow import (
    DisavowError,
    Entry,
    ascii_domain,
    check_disavow,
    diff_entries,
    entry_lines,
    parse_disavow,
    render_disavow,
    sha256_of,
)
from linkcrawler.toxicity.signals import Rules
from linkcrawler.toxicity.store import TOXICITY, VERSIONS
from linkcrawler.web.text import printable

#: Exit code of ``--check`` when the file has an error.
EXIT_INVALID = 1


def select_domains(toxicity: list[dict[str, Any]], min_score: int | None) -> tuple[list[str], set[str]]:
    """``(domains to disavow, domains to keep)`` from the ``toxicity`` documents."""
    chosen, kept = [], set()
    for doc in toxicity:
        decision = doc.get("decision")
        if decision == "keep":
            kept.add(doc["_id"])
        elif decision == "disavow":
            chosen.append(doc["_id"])
        elif doc.get("score") is not None and (
            doc.get("verdict") == "toxic" if min_score is None else doc["score"] >= min_score
        ):
            chosen.append(doc["_id"])
    return chosen, kept


def check_file(path: Path, out: Any = sys.stdout) -> bool:
    """Print every problem of the disavow file at ``path``; True when it has no error."""
    data = path.read_bytes()
    entries, problems = parse_disavow(data)
    for problem in problems:
        print(f"{path}:{problem}", file=out)
    errors = sum(problem.level == "error" for problem in problems)
    warnings = len(problems) - errors
    domains = sum(entry.kind == "domain" for entry in entries)
    print(f"{path}: {len(entries)} entries ({domains} domains, {len(entries) - domains} URLs), "
          f"{errors} error(s), {warnings} warning(s): " + ("valid" if not errors else "Google would not read it as meant"),
          file=out)
    return errors == 0


class Command(StoreCommand):
    def syntax(self) -> str:
        return "-o FILE [--min-score N] [--merge EXISTING.txt] | --check FILE"

    def short_desc(self) -> str:
        return "Write a Google-valid disavow file from the toxic audit (each version kept), or check one"

    def long_desc(self) -> str:
        return (
            "Writes the linking domains with verdict toxic (or --min-score N), plus every 'disavow' "
            "decision, minus every 'keep' decision, as a disavow file for Google Search Console. "
            "--merge EXISTING.txt keeps the entries of the file already submitted (unless a keep decision "
            "removes them). Each version is stored in 'disavow_versions' with the lines added and removed. "
            "--check FILE validates a disavow file with line numbers; the exit code is 1 on an error."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="where to write the file ('-': standard output)")
        parser.add_argument("--min-score", type=int, metavar="N",
                            help="disavow domains scoring N or more (default: verdict toxic)")
        parser.add_argument("--merge", metavar="EXISTING.txt", help="the disavow file already submitted to Google")
        parser.add_argument("--check", metavar="FILE", help="validate a disavow file instead of writing one")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if opts.check:
            # Needs no store: any disavow file can be checked.
            path = Path(opts.check)
            if not path.is_file():
                report_error(f"--check: no such file: {opts.check}", self.settings)
                self.exitcode = EXIT_FAILURE
                return
            if not check_file(path):
                self.exitcode = EXIT_INVALID
            return
        super().run(args, opts)

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise ConfigurationError(f"unexpected argument(s): {' '.join(args)}")
        if not opts.output:
            raise ConfigurationError("say where to write the file: -o FILE (or --check FILE to validate one)")
        if opts.min_score is not None and not 0 <= opts.min_score <= 100:
            raise ConfigurationError(f"--min-score must be 0-100, not {opts.min_score}")
        db = store.db
        ensure_indexes(db, [TOXICITY, VERSIONS])
        now = Clock.from_settings(self.settings).now()
        rules = Rules.from_settings(self.settings)
        toxicity = list(db[TOXICITY].find({}, {"score": 1, "verdict": 1, "decision": 1}))
        if not toxicity:
            print("disavow: no toxic audit yet ('scrapy toxicaudit'): only merged entries are written",
                  file=sys.stderr)
        chosen, kept = select_domains(toxicity, opts.min_score)
        entries: list[Entry] = []
        for domain in chosen:
            try:
                entries.append(Entry("domain", ascii_domain(domain)))
            except ValueError:
                print(f"disavow: skipped {printable(domain)}: not a domain name a disavow file can hold",
                      file=sys.stderr)
        merged_note, removed_by_keep = "", list[str]()
        if opts.merge:
            merged, removed_by_keep = self._merge(Path(opts.merge), kept)
            entries += merged
            merged_note = (f"Merged with {Path(opts.merge).name}: {len(merged)} of its entries kept"
                           + (f", {len(removed_by_keep)} removed by a keep decision" if removed_by_keep else ""))
        how = (f"linking domains with verdict toxic (score >= {rules.toxic_at})," if opts.min_score is None
               else f"linking domains scoring >= {opts.min_score},")
        unique = {entry.text: entry for entry in entries}
        domains = sum(entry.kind == "domain" for entry in unique.values())
        header = [
            f"Disavow file for Google Search Console, written by linkcrawler on {now.isoformat()}",
            f"How: scrapy disavow: {how} plus every 'disavow' decision, minus every 'keep' decision "
            "(scrapy toxicaudit --keep/--disavow)",
            *([merged_note] if merged_note else []),
            f"{domains} domain(s), {len(unique) - domains} URL(s)",
        ]
        text = render_disavow(header, unique.values())
        previous = db[VERSIONS].find_one({}, sort=[("created_at", -1), ("_id", -1)])
        lines = entry_lines(text)
        added, removed = diff_entries(entry_lines(previous["text"]) if previous else [], lines)
        if opts.output == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            Path(opts.output).write_text(text, encoding="utf-8")
        db[VERSIONS].insert_one({
            "created_at": now, "lines": len(text.splitlines()), "domains": domains, "urls": len(unique) - domains,
            "added": added, "removed": removed, "sha256": sha256_of(text), "text": text,
            "file": opts.output, "min_score": opts.min_score, "merged_from": opts.merge,
            "removed_by_keep": removed_by_keep,
        })
        where = "standard output" if opts.output == "-" else opts.output
        print(f"disavow: wrote {where}: {domains} domain(s), {len(unique) - domains} URL(s); "
              f"{len(added)} added, {len(removed)} removed since the previous version",
              file=sys.stderr if opts.output == "-" else sys.stdout)
        for line in removed_by_keep:
            print(f"  removed by a keep decision: {printable(line)}",
                  file=sys.stderr if opts.output == "-" else sys.stdout)

    @staticmethod
    def _merge(path: Path, kept: set[str]) -> tuple[list[Entry], list[str]]:
        """The entries of the user's file to keep, and those a ``keep`` decision removes."""
        if not path.is_file():
            raise ConfigurationError(f"--merge: no such file: {path}")
        entries, problems = parse_disavow(path.read_bytes())
        errors = [problem for problem in problems if problem.level == "error"]
        if errors:
            listed = "; ".join(str(problem) for problem in errors[:5])
            raise DisavowError(f"--merge {path}: {len(errors)} error(s), fix them first "
                               f"(scrapy disavow --check {path}): {listed}")
        keep: list[Entry] = []
        removed: list[Entry] = []
        for entry in entries:
            (removed if entry.domain in kept else keep).append(entry)
        return keep, [entry.text for entry in removed]


__all__ = ["Command", "check_disavow", "check_file", "select_domains"]
