"""Open an HTML file in headless Chromium with the network blocked, and say what happened (JSON on stdout).

    python -m tests.browser_check REPORT.html SCREENSHOT.png [--width 1200]

Run in its own process: Playwright's sync API runs an event loop of its own, which
must not meet the test's asyncio reactor. Every request other than the file itself
is aborted and reported; console errors and page errors are collected; each
``svg.chart`` is measured (child elements, drawn size).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from playwright.sync_api import Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"


def check(report: Path, screenshot: Path, width: int) -> dict[str, object]:
    url = report.resolve().as_uri()
    outcome: dict[str, object] = {"requests": [], "blocked": [], "failed": [], "console_errors": [], "page_errors": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})

            def route(r: Route) -> None:
                outcome["requests"].append(r.request.url)  # type: ignore[union-attr]
                if r.request.url == url:
                    r.continue_()
                else:
                    outcome["blocked"].append(r.request.url)  # type: ignore[union-attr]
                    r.abort()

            page.route("**/*", route)
            page.on("requestfailed", lambda req: outcome["failed"].append(req.url))  # type: ignore[union-attr]
            page.on("console", lambda msg: outcome["console_errors"].append(msg.text)  # type: ignore[union-attr]
                    if msg.type == "error" else None)
            page.on("pageerror", lambda exc: outcome["page_errors"].append(str(exc)))  # type: ignore[union-attr]
            page.goto(url, wait_until="load")
            outcome["title"] = page.title()
            outcome["charts"] = page.eval_on_selector_all("svg.chart", """svgs => svgs.map(s => {
                const box = s.getBoundingClientRect();
                return {label: s.getAttribute('aria-label'), children: s.querySelectorAll('rect,polyline,circle').length,
                        texts: s.querySelectorAll('text').length, width: box.width, height: box.height};
            })""")
            outcome["scripts"] = page.eval_on_selector_all("script", "s => s.length")
            outcome["scroll_width"] = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=str(screenshot), full_page=True)
            outcome["screenshot"] = str(screenshot)
        finally:
            browser.close()
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("report", type=Path)
    parser.add_argument("screenshot", type=Path)
    parser.add_argument("--width", type=int, default=1200)
    args = parser.parse_args()
    json.dump(check(args.report, args.screenshot, args.width), sys.stdout)


if __name__ == "__main__":
    main()
