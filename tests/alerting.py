"""Channels the alert tests deliver to: a real SMTP server (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.fixtures.services import free_port


class SmtpServer:
    """aiosmtpd on a free loopback port; every message it accepted (250 after DATA) is in ``messages``."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> SmtpServer:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=linkcrawler@example.com&to=seo@example.com"

    def parts(self, index: int = -1) -> dict[str, str]:
        """The text/plain and text/html parts of a message."""
        found = {}
        for part in self.messages[index].walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                found[part.get_content_type()] = part.get_content()
        return found


class Webhook:
    """A local HTTP server taking JSON POSTs; answers ``status`` after ``delay`` seconds.

    ``hold`` makes it keep the request open until released (a sender killed mid-delivery).
    """

    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.posts: list[dict[str, Any]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.received = threading.Event()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                webhook.posts.append({"path": self.path, "body": json.loads(body or b"{}"),
                                      "authorization": self.headers.get("Authorization")})
                webhook.received.set()
                webhook.hold.wait(30)
                if webhook.delay:
                    time.sleep(webhook.delay)
                self.send_response(webhook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")

    def messages(self) -> list[str]:
        return [post["body"].get("message", "") for post in self.posts]

    def stop(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
