"""A local web server for the test suite, run in a subprocess.

Run it with ``python -m tests.mockserver --host 127.0.0.1 --port 0 --site DIR``:
once listening it prints one JSON line, ``{"http": "http://127.0.0.1:PORT"}``,
then serves until killed. Tests use it through :class:`MockServer` (or the
``mockserver`` fixtures of ``tests/fixtures/web.py``). Any ``127.0.0.x`` host
works: Linux routes all of 127/8 to the loopback interface, so two servers can
stand for two different hosts.

Built-in resources:

``/status/<code>[?retry_after=N]``
    That status, with a small HTML body (none for 1xx, 204 and 304) and a
    ``Retry-After: N`` header when asked.
``/redirect?to=URL[&code=301]``
    One redirect (302 by default) to ``URL``, absolute or relative.
``/chain/<n>[?code=301]``
    A chain of ``n`` redirects: ``/chain/<n>`` -> ``/chain/<n-1>`` ... ->
    ``/chain/0``, which answers 200 HTML. The query string is kept on every hop.
``/loop/a``, ``/loop/b``
    A redirect loop: each redirects (302) to the other.
``/selfloop``
    Redirects (302) to itself.
``/delay?s=SECONDS``
    Answers 200 HTML after the delay, without blocking other requests.
``/drop``
    Closes the connection without answering.
``/partial``
    Sends the headers (``Content-Length: 1000``) and 100 bytes, then closes.
``/headers?Name=Value&...``
    Answers 200 HTML with those response headers (a repeated name is sent
    several times; a ``Content-Type`` given here replaces the default one).
``/charset/<name>``
    A page whose text (:func:`charset_text`) holds non-ASCII characters, the
    whole page encoded in ``<name>``, declared only in the Content-Type header.
``/charset/meta/<name>``
    The same page with the charset declared only in ``<meta charset>``.
``/bom``
    A UTF-8 page starting with a byte order mark, no charset declared anywhere.
``/body?size=N``
    An HTML body of exactly ``N`` bytes (default 1 MiB).
``/binary[?size=N]``
    ``N`` (default 4096) fixed pseudo-random bytes as ``application/octet-stream``.
``/_hits[?by=method]``
    JSON ``{"/path?query": count}`` of every request served since start or the
    last reset, HEAD and GET alike (``/_hits`` and ``/_reset`` not counted);
    with ``by=method`` the keys are ``"GET /path?query"``.
``/_agents``
    JSON ``{"/path?query": ["User-Agent", ...]}``: the distinct ``User-Agent``
    headers each path was requested with (an empty string for none).
``/_reset``
    Clears the hit counts and the user agents.

Everything else is a file of the ``--site`` directory, read at request time so
a test can rewrite the site between two crawls: ``DIR/<path>``, where a path
ending in ``/`` means ``index.html``; a missing file is a 404 HTML page (so a
missing ``robots.txt`` is a 404), unless the site has a ``DIR/_missing.html``:
then that file (with its sidecar; 200 by default) answers every missing path,
as a site with soft 404s does. A sidecar ``DIR/<path>.meta.json`` may set::

    {"status": 404, "headers": {"X-Robots-Tag": "noindex", "Retry-After": "2"},
     "delay": 0.5, "drop": false,
     "etag": "\\"v1\\"", "last_modified": "Wed, 21 Oct 2015 07:28:00 GMT"}

With only the sidecar and no file, the sidecar's status is answered with an
empty body (handy for a redirect: ``{"status": 301, "headers": {"Location":
"/new"}}``). ``etag`` and ``last_modified`` are sent as ``ETag`` and
``Last-Modified``, and a matching ``If-None-Match`` or ``If-Modified-Since``
gets a 304. The Content-Type is guessed from the extension (``.html`` is
``text/html; charset=utf-8``) unless the sidecar's headers set it.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import random
import select
import subprocess
import sys
import tempfile
from collections import Counter
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit
from urllib.request import ProxyHandler, build_opener

# Not the reactor: see _reactor().
from twisted.web import http, resource, server
from twisted.web.server import NOT_DONE_YET

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType

    from twisted.python.failure import Failure
    from twisted.web.server import Request

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_CHARSET_SAMPLES = (
    "Grüße aus Köln, café naïve",
    "Ελληνικά κείμενα",
    "Русский текст",
    "日本語のテキスト",
    "中文文本",
)

# Status codes whose responses never carry a body (RFC 9110, 6.4.1).
_BODYLESS = frozenset({204, 304}) | frozenset(range(100, 200))


def charset_text(charset: str) -> str:
    """The non-ASCII text that ``/charset/<charset>`` pages carry.

    Only the samples that ``charset`` can encode, so latin-1 gets the German
    and French words while UTF-8 gets every script.
    """
    return " | ".join(s for s in _CHARSET_SAMPLES if _encodable(s, charset))


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _html(title: str, body: str = "") -> str:
    return f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>\n"


# --- the server side ------------------------------------------------------


class _Answer:
    """What one response is made of, sent by :func:`_send`."""

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        content_type: str | None = "text/html; charset=utf-8",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.status = status
        self.body = b"" if status in _BODYLESS else body
        self.headers = list(headers)
        if content_type and status not in _BODYLESS:
            names = {name.lower() for name, _ in self.headers}
            if "content-type" not in names:
                self.headers.insert(0, ("Content-Type", content_type))


def _html_answer(status: int, title: str, **kwargs: Any) -> _Answer:
    return _Answer(status, _html(title).encode(), **kwargs)


def _redirect(location: str, status: int = 302) -> _Answer:
    return _html_answer(status, f"redirect to {location}", headers=[("Location", location)])


def _send(request: Request, answer: _Answer) -> None:
    request.setResponseCode(answer.status)
    seen: set[str] = set()
    for name, value in answer.headers:
        # A name given twice is sent twice (Set-Cookie, Link...), once replaces.
        if name.lower() in seen:
            request.responseHeaders.addRawHeader(name, value)
        else:
            request.responseHeaders.setRawHeaders(name, [value])
            seen.add(name.lower())
    if answer.status not in _BODYLESS:
        request.setHeader(b"Content-Length", b"%d" % len(answer.body))
        # Twisted drops the body of a HEAD response on its own.
        request.write(answer.body)
    request.finish()


def _close_connection(request: Request) -> None:
    # loseConnection flushes what was written (the /partial head) before closing.
    transport: Any = request.channel.transport if request.channel else None
    if transport is not None:
        transport.loseConnection()


class _SiteResource(resource.Resource):
    """The server's single resource: dispatches on the path, counts hits."""

    isLeaf = True

    def __init__(self, site_dir: Path | None) -> None:
        super().__init__()
        self.site_dir = site_dir.resolve() if site_dir else None
        self.hits: Counter[str] = Counter()
        self.method_hits: Counter[str] = Counter()
        self.agents: dict[str, list[str]] = {}
        self.routes: dict[str, Callable[[Request, list[str], dict[str, list[str]]], None]] = {
            "status": self._status,
            "redirect": self._redirect,
            "chain": self._chain,
            "loop": self._loop,
            "selfloop": lambda r, p, q: _send(r, _redirect("/selfloop")),
            "delay": self._delay,
            "drop": lambda r, p, q: _close_connection(r),
            "partial": self._partial,
            "headers": self._headers,
            "charset": self._charset,
            "bom": self._bom,
            "body": self._body,
            "binary": self._binary,
        }

    def render(self, request: Request) -> object:
        # Every method (GET, HEAD, POST...) lands here; HEAD bodies are dropped by Twisted.
        uri = request.uri.decode("utf-8", "replace")
        split = urlsplit(uri)
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        if split.path == "/_hits":
            counts = self.method_hits if query.get("by") == ["method"] else self.hits
            _send(request, _Answer(body=json.dumps(counts).encode(), content_type="application/json"))
            return NOT_DONE_YET
        if split.path == "/_agents":
            _send(request, _Answer(body=json.dumps(self.agents).encode(), content_type="application/json"))
            return NOT_DONE_YET
        if split.path == "/_reset":
            self.hits.clear()
            self.method_hits.clear()
            self.agents.clear()
            _send(request, _Answer(body=b"{}", content_type="application/json"))
            return NOT_DONE_YET
        self.hits[uri] += 1
        self.method_hits[f"{request.method.decode()} {uri}"] += 1
        agent = (request.getHeader(b"user-agent") or b"").decode("utf-8", "replace")
        if agent not in self.agents.setdefault(uri, []):
            self.agents[uri].append(agent)
        parts = unquote(split.path).split("/")[1:]
        route = self.routes.get(parts[0]) if parts else None
        try:
            if route is not None:
                route(request, parts[1:], query)
            else:
                self._file(request, unquote(split.path))
        except ValueError as exc:  # a malformed argument of a built-in resource
            _send(request, _html_answer(400, f"bad request: {exc}"))
        return NOT_DONE_YET

    # built-in resources

    def _status(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        code = int(rest[0])
        headers = [("Retry-After", query["retry_after"][0])] if "retry_after" in query else []
        _send(request, _html_answer(code, f"status {code}", headers=headers))

    def _redirect(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        code = int(query.get("code", ["302"])[0])
        _send(request, _redirect(query["to"][0], code))

    def _chain(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        hops = int(rest[0])
        if hops <= 0:
            _send(request, _html_answer(200, "end of chain"))
            return
        suffix = f"?{urlsplit(request.uri.decode()).query}" if b"?" in request.uri else ""
        code = int(query.get("code", ["302"])[0])
        _send(request, _redirect(f"/chain/{hops - 1}{suffix}", code))

    def _loop(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        other = {"a": "b", "b": "a"}[rest[0]] if rest and rest[0] in "ab" else "a"
        _send(request, _redirect(f"/loop/{other}"))

    def _delay(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        seconds = float(query.get("s", ["1"])[0])
        _later(request, seconds, lambda: _send(request, _html_answer(200, f"delayed {seconds}s")))

    def _partial(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"Content-Length", b"1000")
        request.write(b"<html><body>" + b"x" * 88)
        _close_connection(request)

    def _headers(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        headers = [(name, value) for name, values in query.items() for value in values]
        _send(request, _html_answer(200, "headers", headers=headers))

    def _charset(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        in_meta = bool(rest) and rest[0] == "meta"
        charset = rest[-1] if rest else ""
        try:
            text = charset_text(charset)
        except LookupError:
            _send(request, _html_answer(404, f"unknown charset {charset}"))
            return
        head = f'<meta charset="{charset}">' if in_meta else ""
        page = f"<!DOCTYPE html>\n<html><head>{head}<title>{charset}</title></head><body><p>{text}</p></body></html>\n"
        content_type = "text/html" if in_meta else f"text/html; charset={charset}"
        _send(request, _Answer(200, page.encode(charset), content_type=content_type))

    def _bom(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        page = _html("bom", f"<p>{charset_text('utf-8')}</p>")
        _send(request, _Answer(200, b"\xef\xbb\xbf" + page.encode(), content_type="text/html"))

    def _body(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        size = int(query.get("size", [str(1 << 20)])[0])
        filler = b"<!-- filler -->\n" * (size // 16 + 1)
        _send(request, _Answer(200, filler[:size]))

    def _binary(self, request: Request, rest: list[str], query: dict[str, list[str]]) -> None:
        size = int(query.get("size", ["4096"])[0])
        body = random.Random(size).randbytes(size)
        _send(request, _Answer(200, body, content_type="application/octet-stream"))

    # the site directory

    def _file(self, request: Request, path: str) -> None:
        target = self._site_path(path)
        if target is None:
            _send(request, _html_answer(404, "not found"))
            return
        meta_path = target.with_name(target.name + ".meta.json")
        meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        if not target.is_file() and not meta:
            fallback = self._site_path("/_missing.html")
            if fallback is None or not fallback.is_file():
                _send(request, _html_answer(404, "not found"))
                return
            # A site that answers its own template (a soft 404) for every unknown URL.
            target, meta_path = fallback, fallback.with_name(fallback.name + ".meta.json")
            meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        answer = _site_answer(request, target, meta)
        if meta.get("drop"):
            _later(request, float(meta.get("delay", 0)), lambda: _close_connection(request))
        else:
            _later(request, float(meta.get("delay", 0)), lambda: _send(request, answer))

    def _site_path(self, path: str) -> Path | None:
        if self.site_dir is None:
            return None
        relative = path.lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        target = (self.site_dir / relative).resolve()
        # A path climbing out of the site with ../ is simply not found.
        if not target.is_relative_to(self.site_dir):
            return None
        return target


def _site_answer(request: Request, target: Path, meta: dict[str, Any]) -> _Answer:
    headers = list(meta.get("headers", {}).items())
    validators = _validators(meta)
    headers += validators
    if validators and _not_modified(request, meta):
        return _Answer(304, headers=headers)
    body = target.read_bytes() if target.is_file() else b""
    return _Answer(int(meta.get("status", 200)), body, content_type=_guess_type(target), headers=headers)


def _validators(meta: dict[str, Any]) -> list[tuple[str, str]]:
    headers = []
    if "etag" in meta:
        headers.append(("ETag", _quoted_etag(meta["etag"])))
    if "last_modified" in meta:
        headers.append(("Last-Modified", meta["last_modified"]))
    return headers


def _quoted_etag(etag: str) -> str:
    return etag if etag.startswith(('"', "W/")) else f'"{etag}"'


def _not_modified(request: Request, meta: dict[str, Any]) -> bool:
    if_none_match = _header(request, b"If-None-Match")
    # RFC 9110, 13.2.2: If-Modified-Since is ignored when If-None-Match is sent.
    if if_none_match is not None:
        if "etag" not in meta:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or _quoted_etag(meta["etag"]).removeprefix("W/") in tags
    if_modified_since = _header(request, b"If-Modified-Since")
    if if_modified_since is None or "last_modified" not in meta:
        return False
    try:
        return parsedate_to_datetime(meta["last_modified"]) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False


def _header(request: Request, name: bytes) -> str | None:
    value = request.getHeader(name)
    return None if value is None else value.decode("latin-1")


def _guess_type(path: Path) -> str:
    if path.suffix in (".html", ".htm"):
        return "text/html; charset=utf-8"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _later(request: Request, seconds: float, action: Callable[[], None]) -> None:
    """Run ``action`` after ``seconds``, unless the client has gone by then."""
    if seconds <= 0:
        action()
        return
    call = _reactor().callLater(seconds, action)

    # notifyFinish fails when the client disconnects: writing then would raise.
    def client_gone(failure: Failure) -> None:
        if call.active():
            call.cancel()

    request.notifyFinish().addErrback(client_gone)


def _reactor() -> Any:
    # Imported here only: importing it installs the default reactor, and the
    # test process imports this module before pytest-twisted installs its own.
    from twisted.internet import reactor

    return reactor


class _QuietSite(server.Site):
    # Hits are counted by the resource; an access log would only cost time.
    def log(self, request: http.Request) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    """Serve until killed; print the bound address as one JSON line first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--site", type=Path, default=None)
    args = parser.parse_args(argv)

    reactor = _reactor()
    port = reactor.listenTCP(args.port, _QuietSite(_SiteResource(args.site)), interface=args.host)
    address = port.getHost()
    print(json.dumps({"http": f"http://{address.host}:{address.port}"}), flush=True)
    reactor.run()


# --- the test side --------------------------------------------------------


class MockServer:
    """A :mod:`tests.mockserver` subprocess, started and stopped as a context manager.

    ``site_dir`` is served as described in the module docstring; ``host`` may be
    any ``127.0.0.x`` address.
    """

    #: Seconds to wait for the subprocess to print its address.
    START_TIMEOUT = 30.0

    def __init__(self, host: str = "127.0.0.1", site_dir: str | Path | None = None) -> None:
        self.host = host
        self.site_dir = Path(site_dir) if site_dir is not None else None
        self.base_url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        # The environment may name an HTTP proxy: the test server is reached directly.
        self._opener = build_opener(ProxyHandler({}))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the subprocess and wait until it listens."""
        command = [sys.executable, "-m", "tests.mockserver", "--host", self.host, "--port", "0"]
        if self.site_dir is not None:
            command += ["--site", str(self.site_dir)]
        # A file, not a pipe: a server writing much to a pipe nobody reads would hang.
        with tempfile.TemporaryFile() as stderr:
            self._proc = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=stderr)
            address = self._read_address(self._proc)
            if address is None:
                self.stop()
                stderr.seek(0)
                errors = stderr.read().decode(errors="replace")
                raise RuntimeError(f"mock server on {self.host} did not start:\n{errors}")
        self.base_url = address

    def _read_address(self, proc: subprocess.Popen[bytes]) -> str | None:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], self.START_TIMEOUT)
        line = proc.stdout.readline() if ready else b""
        if not line:
            return None
        address: str = json.loads(line)["http"]
        return address

    def stop(self) -> None:
        """Terminate the subprocess and wait for it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` (which starts with ``/``) on this server."""
        return self.base_url + path

    def hits(self, by_method: bool = False) -> dict[str, int]:
        """Requests served per path-with-query (or ``"METHOD path"``) since start or reset."""
        path = "/_hits?by=method" if by_method else "/_hits"
        with self._opener.open(self.url(path), timeout=10) as response:
            hits: dict[str, int] = json.load(response)
        return hits

    def user_agents(self) -> dict[str, list[str]]:
        """The distinct ``User-Agent`` headers each path-with-query was requested with."""
        with self._opener.open(self.url("/_agents"), timeout=10) as response:
            agents: dict[str, list[str]] = json.load(response)
        return agents

    def reset_hits(self) -> None:
        """Forget the requests served so far."""
        with self._opener.open(self.url("/_reset"), timeout=10) as response:
            response.read()


if __name__ == "__main__":
    main()
