"""A 50,000-URL alert feed and export are read in bounded memory (the figures: benchmarks/mentions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.mentions.__main__ import MEASURE, write_export, write_feed

#: Generous: reading streams, so the peak should not move at all; feedparser adds about 125 MB here.
BOUND_MB = 40


def peak_added(imports: str, count: str, path: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", MEASURE.format(imports=imports, count=count), str(path)],
                          capture_output=True, text=True, check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_50000_entry_feed_streams(tmp_path: Path) -> None:
    feed = tmp_path / "alerts.xml"
    write_feed(feed, 50_000)
    result = peak_added("from linkcrawler.mentions.feeds import read_feed",
                        "len({e.url for e in read_feed(sys.argv[1])})", feed)
    assert result["count"] == 50_000  # distinct pages, Google redirects unwrapped
    assert result["added_mb"] < BOUND_MB + 6  # the set of 50,000 URLs itself is about 6 MB


def test_a_50000_row_export_streams(tmp_path: Path) -> None:
    export = tmp_path / "brand24.csv"
    write_export(export, 50_000)
    result = peak_added("from linkcrawler.imports.urllist import read_url_list",
                        "sum(1 for _ in read_url_list(sys.argv[1]))", export)
    assert result["count"] == 50_000
    assert result["added_mb"] < BOUND_MB
