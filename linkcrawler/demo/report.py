"""The demo's last step: the alert digest it would send, and the HTML report, whose path it prints."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from linkcrawler.exceptions import LinkcrawlerError

REPORT_NAME = "demo-report.html"


def _scrapy(args: list[str], env: dict[str, str]) -> None:
    print(f"$ scrapy {shlex.join(args)}", flush=True)
    done = subprocess.run([sys.executable, "-m", "scrapy", *args, "-L", "WARNING"], env=env, check=False)
    if done.returncode != 0:
        raise LinkcrawlerError(f"'scrapy {args[0]}' failed with exit code {done.returncode}")


def show_alerts_and_report(data_dir: Path, env: dict[str, str]) -> Path:
    """Print the digest ``scrapy alerts`` would send, write the report, print where it is."""
    print("\n== Alerts: the digest each channel of LINKCRAWLER_ALERT_URLS would get (a dry run sends nothing)",
          flush=True)
    _scrapy(["alerts", "--dry-run"], {**env, "LINKCRAWLER_ALERT_URLS": "json://localhost/demo-webhook"})
    report = (data_dir / REPORT_NAME).resolve()
    print("\n== The report: charts and tables in one HTML file that opens offline", flush=True)
    _scrapy(["linkreport", "-o", str(report), "--title", "Demo link profile"], env)
    print(f"Open the report in a browser: {report.as_uri()}", flush=True)
    return report
