"""The demo's prospects step: other sites' pages with dead outbound links, and the opportunities they give.

The demo site (127.0.0.1) serves three prospect pages under ``/prospects/``; the
sites they link to are small servers started here on other loopback addresses
(127.0.0.2 and up: other registrable domains, so their links are outbound), each
dead in its own way: an old site whose guide is gone (404), a parked domain
for sale, a shop that answers "page not found" with 200, a former blog that now
sends every URL to a travel agency's home page, a host where nothing listens,
and a name under ``.invalid`` that no resolver knows (NXDOMAIN, no network needed).
"""

from __future__ import annotations

import csv
import socket
import threading
from collections.abc import Callable
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from linkcrawler.demo.server import DemoSite

__all__ = ["run_prospects_demo"]

#: The prospect pages (under the demo site's /prospects/) and the authority an export gave each.
PROSPECT_PAGES = {"link-building-resources.html": 62, "seo-tools-roundup.html": 48, "agency-blog.html": 35}


class _Site(BaseHTTPRequestHandler):
    """One of the "other sites": files of a directory; a missing path is ``_any.html`` (200) if the
    site has one, else 404; ``redirect_all`` sends every path to one URL (301)."""

    directory: Path
    redirect_all: str | None = None

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        if self.redirect_all:
            self.send_response(301)
            self.send_header("Location", self.redirect_all)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = self.path.split("?", 1)[0]
        file = self.directory / (path.lstrip("/") or "index.html")
        status = 200
        if not file.is_file() or ".." in path:
            file = self.directory / "_any.html"
            if not file.is_file():
                status, file = 404, Path()
        content = file.read_bytes() if status == 200 else b"<html><title>404 Not Found</title></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if body:
            self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(address: str, directory: Path, redirect_all: str | None = None) -> ThreadingHTTPServer:
    handler = type("Handler", (_Site,), {"directory": directory, "redirect_all": redirect_all})
    server = ThreadingHTTPServer((address, 0), partial(handler))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


def run_prospects_demo(site: DemoSite, data_dir: Path, run: Callable[[list[str]], None],
                       say: Callable[[str], None], number: int) -> None:
    """Crawl the prospect pages, print the opportunities, change the pages, crawl again."""
    pages = site.root / "prospects"
    servers = [
        _serve("127.0.0.2", pages / "oldtools"),
        _serve("127.0.0.3", pages / "parked"),
        _serve("127.0.0.4", pages / "shop"),
        _serve("127.0.0.5", pages / "newowner"),
    ]
    urls = {name: f"http://{address}:{server.server_address[1]}" for name, address, server in zip(
        ("oldtools", "parked", "shop", "newowner"), ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"), servers,
        strict=True)}
    servers.append(_serve("127.0.0.6", pages, redirect_all=urls["newowner"] + "/"))
    urls["newowner_old"] = f"http://127.0.0.6:{servers[-1].server_address[1]}/blog/reclaiming-lost-links"
    urls["refused"] = f"http://127.0.0.7:{_free_port('127.0.0.7')}"
    try:
        for name in PROSPECT_PAGES:
            page = pages / name
            text = page.read_text()
            for key, url in urls.items():
                text = text.replace("{" + key + "}", url)
            page.write_text(text)
        listing = data_dir / "demo-prospects.csv"
        with open(listing, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["Referring page URL", "Domain rating"])
            for name, authority in PROSPECT_PAGES.items():
                writer.writerow([f"{site.sites}/prospects/{name}", authority])
        crawl = ["crawl", "prospects", "-a", f"urls={listing}", "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1",
                 "-s", "LINKCRAWLER_OWN_DOMAINS=localhost", "-s", "RETRY_TIMES=0",
                 # The demo runs offline: the resolver is vouched for by a name /etc/hosts knows.
                 "-s", "LINKCRAWLER_DNS_CANARIES=localhost"]
        say(f"{number}. Prospects: other sites' pages ({site.sites}/prospects/...) whose outbound links are dead "
            "(a 404, a parked domain, a soft 404, a redirect to an unrelated home page, a refused connection, "
            "a domain that does not exist)")
        run(crawl)
        run(["opportunities"])
        say(f"{number + 1}. The prospect pages change: the roundup drops its dead link, the agency blog links to us")
        roundup = pages / "seo-tools-roundup.html"
        roundup.write_text(roundup.read_text().replace(
            f'<a href="{urls["oldtools"]}/guides/link-checker-features">these link checker features</a>',
            "a few link checker features"))
        agency = pages / "agency-blog.html"
        agency.write_text(agency.read_text().replace(
            "</body>", f'<p>Update: we now use <a href="{site.our}/features.html">Acme Link Tools</a>.</p></body>'))
        run([*crawl, "-a", "all=1"])
        run(["opportunities", "--min-score", "1"])
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
