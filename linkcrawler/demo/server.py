"""A tiny static web server for the demo, on a free loopback port, in a thread."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SITE = Path(__file__).parent / "site"
EXPORT_TEMPLATE = Path(__file__).parent / "export.csv"
#: Pages that moved, as a site would answer them: 301 to the new address.
REDIRECTS = {
    "/moved/post.html": "/blog/new-home.html",
    # The own site: a chain of two redirects, and a loop.
    "/our/moved.html": "/our/moved-again.html",
    "/our/moved-again.html": "/our/features.html",
    "/our/loop-a.html": "/our/loop-b.html",
    "/our/loop-b.html": "/our/loop-a.html",
}
#: Pages deleted on purpose: 410 Gone.
GONE = {"/our/retired.html"}


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in REDIRECTS or self.path in GONE:
            self.send_response(301 if self.path in REDIRECTS else 410)
            if self.path in REDIRECTS:
                self.send_header("Location", REDIRECTS[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        if self.path in REDIRECTS or self.path in GONE:
            self.do_GET()
        else:
            super().do_HEAD()

    def log_message(self, format: str, *args: Any) -> None:  # the demo prints its own story
        pass


class DemoSite:
    """The demo pages, copied to ``root`` with their URLs filled in, served while in use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
        port = self._server.server_address[1]
        self.sites = f"http://127.0.0.1:{port}"
        self.our = f"http://localhost:{port}/our"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(SITE, root)
        for page in [*root.rglob("*.html"), *root.rglob("*.xml"), *root.rglob("*.txt")]:
            self._fill(page)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _fill(self, page: Path) -> None:
        page.write_text(page.read_text().replace("{our}", self.our).replace("{sites}", self.sites))

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def write_export(self, path: Path) -> Path:
        text = EXPORT_TEMPLATE.read_text().replace("{sites}", self.sites).replace("{our}", self.our)
        path.write_text(text)
        return path

    def edit(self, page: str, old: str, new: str) -> None:
        """Change a page as its owner would (``old`` must be on it)."""
        path = self.root / page
        text = path.read_text()
        if old.replace("{our}", self.our) not in text:
            raise ValueError(f"demo page {page} does not contain {old!r}")
        path.write_text(text.replace(old.replace("{our}", self.our), new.replace("{our}", self.our)))
