"""The mock server's resources answer as tests/mockserver.py documents."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import pytest

from tests.mockserver import charset_text
from tests.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fixtures.web import MockServerFactory
    from tests.mockserver import MockServer


def fetch(
    server: MockServer, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request, redirects not followed: (status, headers, body)."""
    address = urlsplit(server.url())
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def follow(server: MockServer, path: str, limit: int = 20) -> list[tuple[int, str]]:
    """The (status, path) of every hop from ``path`` to a non-redirect, at most ``limit``."""
    hops = []
    for _ in range(limit):
        status, headers, _ = fetch(server, path)
        hops.append((status, path))
        if status not in (301, 302, 303, 307, 308):
            break
        path = headers["Location"]
    return hops


def test_chain_counts_down_keeping_the_code(mockserver: MockServer) -> None:
    hops = follow(mockserver, "/chain/3?code=301")
    assert hops == [
        (301, "/chain/3?code=301"),
        (301, "/chain/2?code=301"),
        (301, "/chain/1?code=301"),
        (200, "/chain/0?code=301"),
    ]
    assert sum(mockserver.hits().values()) == 4


def test_loops(mockserver: MockServer) -> None:
    assert follow(mockserver, "/loop/a", limit=4) == [(302, p) for p in ["/loop/a", "/loop/b"] * 2]
    assert follow(mockserver, "/selfloop", limit=3) == [(302, "/selfloop")] * 3


def test_redirect_and_status(mockserver: MockServer) -> None:
    status, headers, _ = fetch(mockserver, f"/redirect?to={quote('http://127.0.0.2:1/x', safe='')}&code=308")
    assert (status, headers["Location"]) == (308, "http://127.0.0.2:1/x")
    status, headers, body = fetch(mockserver, "/status/503?retry_after=7")
    assert (status, headers["Retry-After"]) == (503, "7")
    assert b"status 503" in body
    status, headers, body = fetch(mockserver, "/status/204")
    assert (status, body) == (204, b"")


def test_site_files_and_their_meta(mockserver: MockServer, site_dir: Path) -> None:
    (site_dir / "index.html").write_text("<p>home</p>")
    (site_dir / "docs").mkdir()
    (site_dir / "docs" / "index.html").write_text("<p>docs</p>")
    (site_dir / "gone.html").write_text("<p>gone</p>")
    (site_dir / "gone.html.meta.json").write_text(json.dumps({"status": 410, "headers": {"X-Robots-Tag": "noindex"}}))
    (site_dir / "old.meta.json").write_text(json.dumps({"status": 301, "headers": {"Location": "/docs/"}}))

    status, headers, body = fetch(mockserver, "/")
    assert (status, headers["Content-Type"], body) == (200, "text/html; charset=utf-8", b"<p>home</p>")
    assert fetch(mockserver, "/docs/")[2] == b"<p>docs</p>"
    status, headers, body = fetch(mockserver, "/gone.html")
    assert (status, headers["X-Robots-Tag"], body) == (410, "noindex", b"<p>gone</p>")
    status, headers, _ = fetch(mockserver, "/old")
    assert (status, headers["Location"]) == (301, "/docs/")
    assert fetch(mockserver, "/missing.html")[0] == 404
    assert fetch(mockserver, "/robots.txt")[0] == 404
    assert fetch(mockserver, "/../../etc/passwd")[0] == 404

    # Read at request time: a rewritten site answers differently.
    (site_dir / "index.html").write_text("<p>home, again</p>")
    (site_dir / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    assert fetch(mockserver, "/")[2] == b"<p>home, again</p>"
    status, headers, body = fetch(mockserver, "/robots.txt")
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"User-agent: *\nDisallow: /private/\n")


def test_conditional_requests(mockserver: MockServer, site_dir: Path) -> None:
    (site_dir / "page.html").write_text("<p>page</p>")
    last_modified = "Wed, 21 Oct 2015 07:28:00 GMT"
    (site_dir / "page.html.meta.json").write_text(json.dumps({"etag": "v1", "last_modified": last_modified}))

    status, headers, _ = fetch(mockserver, "/page.html")
    assert (status, headers["ETag"], headers["Last-Modified"]) == (200, '"v1"', last_modified)
    status, headers, body = fetch(mockserver, "/page.html", headers={"If-None-Match": '"v1"'})
    assert (status, headers["ETag"], body) == (304, '"v1"', b"")
    assert fetch(mockserver, "/page.html", headers={"If-None-Match": '"v0", W/"v1"'})[0] == 304
    assert fetch(mockserver, "/page.html", headers={"If-None-Match": '"v2"'})[0] == 200
    assert fetch(mockserver, "/page.html", headers={"If-Modified-Since": last_modified})[0] == 304
    assert fetch(mockserver, "/page.html", headers={"If-Modified-Since": "Tue, 20 Oct 2015 07:28:00 GMT"})[0] == 200


def test_hits_by_path_and_method_and_reset(mockserver: MockServer) -> None:
    fetch(mockserver, "/status/200?a=1")
    fetch(mockserver, "/status/200?a=1", method="HEAD")
    fetch(mockserver, "/missing")
    assert mockserver.hits() == {"/status/200?a=1": 2, "/missing": 1}
    assert mockserver.hits(by_method=True) == {
        "GET /status/200?a=1": 1,
        "HEAD /status/200?a=1": 1,
        "GET /missing": 1,
    }
    mockserver.reset_hits()
    assert mockserver.hits() == {}


def test_head_answers_headers_only(mockserver: MockServer) -> None:
    status, headers, body = fetch(mockserver, "/body?size=5000", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, "5000", b"")


def test_bodies(mockserver: MockServer) -> None:
    assert len(fetch(mockserver, "/body?size=123457")[2]) == 123457
    _, headers, body = fetch(mockserver, "/binary")
    assert (headers["Content-Type"], len(body)) == ("application/octet-stream", 4096)
    assert body == fetch(mockserver, "/binary")[2]  # the same bytes every time
    _, headers, _ = fetch(mockserver, "/headers?X-One=1&Link=%3C%2Fa%3E&Link=%3C%2Fb%3E&Content-Type=text/plain")
    assert (headers["X-One"], headers.get_all("Link"), headers["Content-Type"]) == ("1", ["</a>", "</b>"], "text/plain")


@pytest.mark.parametrize("charset", ["utf-8", "latin-1", "cp1252", "shift_jis", "koi8-r"])
def test_charsets(mockserver: MockServer, charset: str) -> None:
    _, headers, body = fetch(mockserver, f"/charset/{charset}")
    assert headers["Content-Type"] == f"text/html; charset={charset}"
    assert charset_text(charset) in body.decode(charset)
    assert not body.isascii()
    _, headers, body = fetch(mockserver, f"/charset/meta/{charset}")
    assert headers["Content-Type"] == "text/html"
    assert f'<meta charset="{charset}">'.encode() in body


def test_bom(mockserver: MockServer) -> None:
    _, headers, body = fetch(mockserver, "/bom")
    assert headers["Content-Type"] == "text/html"
    assert body.startswith(b"\xef\xbb\xbf")
    assert charset_text("utf-8") in body.decode("utf-8-sig")


def test_broken_connections(mockserver: MockServer) -> None:
    with pytest.raises(http.client.RemoteDisconnected):
        fetch(mockserver, "/drop")
    with pytest.raises(http.client.IncompleteRead):
        fetch(mockserver, "/partial")


def test_delay_does_not_block_other_requests(mockserver: MockServer, site_dir: Path) -> None:
    (site_dir / "slow.html").write_text("slow")
    (site_dir / "slow.html.meta.json").write_text(json.dumps({"delay": 0.5}))
    slow = threading.Thread(target=fetch, args=(mockserver, "/delay?s=4"))
    started = time.monotonic()
    slow.start()
    # The delayed request is in the server before the others are sent (not a sleep: a busy
    # machine may take longer), and they are answered while it waits: well within its 4 s,
    # however slow the machine (a server that blocked would answer them after it).
    wait_until(lambda: mockserver.hits().get("/delay?s=4"))
    asked = time.monotonic()
    assert fetch(mockserver, "/status/200")[0] == 200
    assert slow.is_alive() and time.monotonic() - asked < 4
    fetched_at = time.monotonic()
    assert fetch(mockserver, "/slow.html")[2] == b"slow"
    assert time.monotonic() - fetched_at >= 0.5
    slow.join()
    assert time.monotonic() - started >= 4


def test_servers_on_two_loopback_addresses(mockserver: MockServer, mockserver_factory: MockServerFactory) -> None:
    other = mockserver_factory(host="127.0.0.2")
    assert urlsplit(other.url()).hostname == "127.0.0.2"
    fetch(other, "/status/200")
    assert other.hits() == {"/status/200": 1}
    assert mockserver.hits() == {}
