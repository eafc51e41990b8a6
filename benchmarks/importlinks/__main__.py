"""Benchmark: ``scrapy importlinks`` against a plain pymongo bulk insert of the same rows.

    python -m benchmarks.importlinks [--rows 50000] [--project DIR]

Generates a generic CSV and an Ahrefs export (UTF-16, tab-separated, all 31 columns)
of ``rows`` distinct backlinks each. For each file, on a fresh SecantusDB server (the
embedded store's server, data on disk) per measurement:

1. the baseline: ``insert_many`` (batches of 1,000, unordered) of the backlink
   documents the import makes, into ``backlinks`` with its indexes; only the inserts
   are timed, the documents are built beforehand;
2. ``scrapy importlinks FILE`` in a child process, as a user runs it, end to end
   (interpreter and Scrapy start-up included);
3. the same command again on the same store: a re-import must write nothing.

Each round measures a baseline right before each import. Prints medians of rows/s,
the ratio of the import to the baseline (target: at least 0.5), the same ratio in
CPU seconds (the server's plus the client's: what a busy machine skews least), and
checks the counts. ``--project DIR`` runs the import of another checkout of the
project (e.g. the code before a change, from ``git archive``) beside this one's, in
the same run, against the same baselines.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any

import pymongo

from benchmarks.common import PROJECT_ROOT, SecantusServer, machine_note, process_cpu_seconds
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.imports import ImportRow, read_export
from linkcrawler.store.indexes import ensure_indexes

DATABASE = "bench_import"
BATCH = 1000
AHREFS_HEADER = (
    "Referring page title", "Referring page URL", "Language", "Platform", "Referring page HTTP code",
    "Domain rating", "UR", "Domain traffic", "Referring domains", "Linked domains", "External links",
    "Page traffic", "Keywords", "Target URL", "Left context", "Anchor", "Right context", "Type", "Content",
    "Nofollow", "UGC", "Sponsored", "Rendered", "Raw", "Lost status", "Drop reason", "Discovered status",
    "First seen", "Last seen", "Lost", "Links in group",
)
WORDS = ("link", "crawler", "guide", "review", "tools", "best", "how", "to", "check", "broken", "seo", "web")


def links(rows: int) -> list[tuple[str, str, str]]:
    """``rows`` distinct (source, target, anchor): many sites, a few hundred pages of ours."""
    rng = random.Random(11)
    out = []
    for n in range(rows):
        site = rng.randrange(max(1, rows // 10))
        source = f"https://{'www.' if site % 3 == 0 else ''}site{site}.example{site % 7}.com/posts/{n}-{rng.choice(WORDS)}"
        target = f"https://www.our-site.test/{rng.choice(WORDS)}/{rng.randrange(300)}"
        anchor = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 5)))
        out.append((source, target, anchor))
    return out


def write_generic(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("source_url,target_url,anchor_text,authority,first_seen\n")
        for n, (source, target, anchor) in enumerate(rows):
            out.write(f"{source},{target},{anchor},{n % 101},2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}\n")


def write_ahrefs(path: Path, rows: list[tuple[str, str, str]]) -> None:
    def quoted(cells: tuple[object, ...]) -> str:
        return "\t".join(f'"{cell}"' for cell in cells) + "\r\n"

    with path.open("w", encoding="utf-16", newline="") as out:  # BOM + UTF-16-LE, as Ahrefs writes it
        out.write(quoted(AHREFS_HEADER))
        for n, (source, target, anchor) in enumerate(rows):
            nofollow = n % 5 == 0
            out.write(quoted((
                f"Page {n} about {anchor}", source, "en", "Blogs", 200, n % 101, (n % 50) / 2, 1000 + n,
                n % 400, n % 90, n % 60, n % 300, n % 20, target, "see also", anchor, "for more", "text",
                "true", str(nofollow).lower(), "false", "false", "false", "true", "", "", "",
                f"2023-{n % 12 + 1:02d}-{n % 28 + 1:02d} {n % 24:02d}:{n % 60:02d}:{n % 60:02d}",
                "2024-05-20 11:02:51", "", 1,
            )))


def documents(path: Path) -> list[dict[str, Any]]:
    """The backlink documents an import of ``path`` makes, built the way the import builds them."""
    now = datetime.now(timezone.utc)
    docs = []
    with read_export(path) as reader:
        for row in reader:
            assert isinstance(row, ImportRow), row
            op = new_backlink_ops(row.source_url, row.target_url, now, f"imported from {reader.label}",
                                  anchor_text=row.anchor_text, authority=row.authority,
                                  first_seen=row.first_seen, imported_from=row.source_format)[-1]
            assert op.update is not None and not isinstance(op.update, list)
            doc = {**op.filter, **op.update["$setOnInsert"], **op.update.get("$set", {})}
            doc["imported_from"] = [row.source_format]
            docs.append(doc)
    return docs


@dataclass
class Timed:
    seconds: float
    #: CPU seconds of the store's server plus those of the client (pymongo, or the command).
    cpu: float


def baseline(docs: list[dict[str, Any]]) -> Timed:
    """insert_many of ``docs`` into a fresh store's indexed ``backlinks``."""
    server = SecantusServer()
    try:
        with pymongo.MongoClient(server.uri) as client:
            db = client[DATABASE]
            ensure_indexes(db, ["backlinks"])
            batches = [[dict(doc) for doc in docs[start:start + BATCH]] for start in range(0, len(docs), BATCH)]
            cpu_before, client_before = process_cpu_seconds(server.process.pid), time.process_time()
            started = time.perf_counter()
            for batch in batches:
                db.backlinks.insert_many(batch, ordered=False)
            seconds = time.perf_counter() - started
            cpu = process_cpu_seconds(server.process.pid) - cpu_before + time.process_time() - client_before
            assert db.backlinks.count_documents({}) == len(docs)
        return Timed(seconds, cpu)
    finally:
        server.stop()


def counts(uri: str) -> tuple[int, int]:
    with pymongo.MongoClient(uri) as client:
        db = client[DATABASE]
        return db.backlinks.count_documents({}), db.link_events.count_documents({})


def run_timed(command: list[str], env: dict[str, str], cwd: Path, server: SecantusServer) -> tuple[Timed, str]:
    """A child process run in ``cwd``: its time, the CPU it and the server used, its output."""
    cpu_before = process_cpu_seconds(server.process.pid)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return Timed(seconds, process_cpu_seconds(server.process.pid) - cpu_before + usage.ru_utime + usage.ru_stime), output


def import_twice(project: Path, path: Path, rows: int) -> tuple[Timed, Timed]:
    """``scrapy importlinks path`` on a fresh store, then the same again."""
    server = SecantusServer()
    env = {"MONGO_URI": server.uri, "MONGO_DATABASE": DATABASE, "PYTHONPATH": str(project)}
    command = [sys.executable, "-m", "scrapy", "importlinks", str(path)]
    try:
        first, output = run_timed(command, env, project, server)
        if f"{rows:,} new backlinks" not in output:
            sys.exit(f"import did not make {rows:,} new backlinks:\n{output[-3000:]}")
        assert counts(server.uri) == (rows, rows), counts(server.uri)
        again, output = run_timed(command, env, project, server)
        if not re.search(rf"0 new backlinks, {rows:,} already known", output):
            sys.exit(f"re-import wrote something:\n{output[-3000:]}")
        assert counts(server.uri) == (rows, rows), counts(server.uri)
        return first, again
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--project", type=Path, action="append", default=[],
                        help="another checkout whose importlinks to measure too (repeatable)")
    opts = parser.parse_args()
    projects = [*opts.project, PROJECT_ROOT]
    print(f"importlinks benchmark: {opts.rows:,} rows per file, {opts.rounds} rounds; {machine_note()}")
    data = links(opts.rows)
    rows = opts.rows
    with tempfile.TemporaryDirectory(prefix="lc-bench-import-") as tmp:
        files = {"generic CSV": Path(tmp) / "generic.csv", "Ahrefs UTF-16 TSV": Path(tmp) / "ahrefs.tsv"}
        write_generic(files["generic CSV"], data)
        write_ahrefs(files["Ahrefs UTF-16 TSV"], data)
        for label, path in files.items():
            docs = documents(path)
            # Each round measures the baseline right before the imports it is compared
            # with: the machine is shared, and its load moves within minutes.
            runs: dict[str, list[tuple[Timed, Timed, Timed]]] = {str(p): [] for p in projects}
            for _ in range(opts.rounds):
                for project in projects:
                    base = baseline(docs)
                    runs[str(project)].append((base, *import_twice(project, path, rows)))
            print(f"\n{label} ({path.stat().st_size / 1e6:.1f} MB), medians of {opts.rounds} rounds")
            for project, measured in runs.items():
                base_s = median(b.seconds for b, _, _ in measured)
                first_s = median(f.seconds for _, f, _ in measured)
                again_s = median(a.seconds for _, _, a in measured)
                ratio = median(b.seconds / f.seconds for b, f, _ in measured)
                cpu_ratio = median(b.cpu / f.cpu for b, f, _ in measured)
                print(f"  [{project}]")
                print(f"    pymongo insert_many   {rows / base_s:7,.0f} rows/s ({base_s:5.1f} s)")
                print(f"    scrapy importlinks    {rows / first_s:7,.0f} rows/s ({first_s:5.1f} s)  "
                      f"ratio {ratio:.2f} (each round to its own baseline; in CPU seconds {cpu_ratio:.2f})")
                print(f"    re-import             {rows / again_s:7,.0f} rows/s ({again_s:5.1f} s)  nothing written")


if __name__ == "__main__":
    main()
