"""The embedded default store: a SecantusDB server started on demand.

With no ``MONGO_URI``, linkcrawler keeps its data in SecantusDB, a
MongoDB-compatible server on WiredTiger, under ``LINKCRAWLER_DATA_DIR``. The
server runs as a child process on a loopback port so that every command talks
to it with pymongo exactly as it would to a real MongoDB.

Several linkcrawler processes may share one data directory (a crawl and a
report command, several Scrapyd jobs): the first one starts the server and
writes its address to ``server.json``; later ones connect to it. Each process
registers itself under ``clients/``; the last one to leave stops the server,
after ``linger`` seconds (``LINKCRAWLER_STORE_LINGER``) without any user: a
command that follows within them reuses the running server instead of waiting
for the old one to stop and a new one to start (0.4-1.0 s to start, 2 s to
stop, measured). The wait is a detached watcher process (:func:`linger_then_stop`),
so the command that left exits at once. A process that died without leaving is
noticed (its pid is gone) and ignored.

Most of a start is not SecantusDB's: the first ``wiredtiger_open`` of a process
calibrates WiredTiger's clock with a busy loop (``__global_once`` in
``__wt_library_init``), 0.84 s of one core on the machine of 2026-12-01 (py-spy),
whatever the configuration, against 0.006 s for a second open in the same process
and 0.25 s for the server's imports. Only sharing a running server avoids it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from linkcrawler.exceptions import StoreUnavailable

logger = logging.getLogger(__name__)

#: The directory linkcrawler is imported from (for the watcher of a lingering server).
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(rb"listening on ([0-9.]+):(\d+)")

#: How the embedded server runs; shared with the tests' and the benchmarks' servers,
#: so that they measure and test the server as the product runs it.
#:
#: ``--standalone``: no replica-set advertisement, hence no oplog. SecantusDB writes
#: an oplog entry (a BSON encode, an update's diff, a row in ``local.oplog.rs``)
#: for every document a write modifies, and keeps it only for change streams,
#: which nothing in linkcrawler opens (it reads collections; transactions, the
#: other replica-set feature, are not used either). Measured on the writes the
#: crawls make: see benchmarks/backlinks/README.md. A downstream tool that wants
#: to ``watch()`` the embedded store asks for it with
#: ``LINKCRAWLER_STORE_CHANGE_STREAMS`` (:func:`server_options`).
#:
#: Durability needs no option: it comes from the write concern. SecantusDB keeps
#: recent WiredTiger log records in its own memory unless a write asks for
#: ``j: true``, and then syncs the log up to that write; a ``kill -9`` (or an OOM
#: kill) of a server whose writes did not ask for it lost writes already
#: acknowledged and read back. So the embedded store's client writes with
#: ``journal=True`` (store/connection.py), and the batched writer, whose bulk
#: writes are the crawl's hot path, ends each batch with one journaled write that
#: syncs the whole batch at once (store/writer.py): one fsync per batch instead of
#: one per statement (``--sync-on-commit`` costs one per commit: 0.25-0.45x the
#: write rate on a busy disk, measured).
SERVER_OPTIONS: tuple[str, ...] = ("--standalone",)


def server_options(change_streams: bool = False) -> tuple[str, ...]:
    """The server's options: :data:`SERVER_OPTIONS`, as a replica set (with an oplog) for change streams."""
    if change_streams:
        return tuple(option for option in SERVER_OPTIONS if option != "--standalone")
    return SERVER_OPTIONS


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child, not yet reaped) is not alive.
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return True


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


class EmbeddedServer:
    """Starts, shares and stops the SecantusDB server of one data directory."""

    def __init__(self, data_dir: str | os.PathLike[str], start_timeout: float = 30.0, linger: float = 0.0,
                 change_streams: bool = False) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.start_timeout = start_timeout
        #: Start the server as a replica set, so that clients can ``watch()`` it.
        self.change_streams = change_streams
        #: Seconds the server stays up after its last user left (0: stopped at once).
        self.linger = linger
        self._client_file = self.data_dir / "clients" / str(os.getpid())

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "server.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        (self.data_dir / "clients").mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def acquire(self) -> str:
        """Register this process as a user of the server, starting it if needed.

        Returns the ``mongodb://`` URI to connect to.
        """
        with self._locked():
            state = self._running_server()
            if state is None:
                state = self._start()
            elif bool(state.get("change_streams")) != self.change_streams:
                logger.warning(
                    "embedded store: the running server was started with change streams %s; "
                    "LINKCRAWLER_STORE_CHANGE_STREAMS=%s applies when it next starts (once no command uses it)",
                    "on" if state.get("change_streams") else "off", self.change_streams,
                )
            self._client_file.touch()
            # A lingering server has a user again: its watcher leaves it up.
            self._linger_file.unlink(missing_ok=True)
        return f"mongodb://{state['host']}:{state['port']}/?directConnection=true"

    def release(self) -> None:
        """Unregister this process; stop the server if no live process uses it (after ``linger`` seconds)."""
        with self._locked():
            self._client_file.unlink(missing_ok=True)
            if self._live_clients():
                return
            state = self._read_state()
            if state is not None and self.linger > 0 and _pid_alive(int(state["pid"])):
                self._linger(state)
                return
            self._stop_recorded(state)

    def _stop_recorded(self, state: dict[str, Any] | None) -> None:
        if state is not None:
            self._stop(int(state["pid"]))
        self._state_file.unlink(missing_ok=True)

    @property
    def _linger_file(self) -> Path:
        return self.data_dir / "linger.json"

    def _linger(self, state: dict[str, Any]) -> None:
        """Leave the server up for ``linger`` seconds; a detached watcher stops it if nobody came."""
        until = time.time() + self.linger
        self._linger_file.write_text(json.dumps({"pid": int(state["pid"]), "until": until}))
        logger.debug("embedded store: SecantusDB stays up %.1fs for the next command", self.linger)
        watcher = [sys.executable, "-c", "import sys; from linkcrawler.store.embedded import linger_then_stop; "
                   "linger_then_stop(sys.argv[1])", str(self.data_dir)]
        try:
            # Detached as the server is (never this process's child, so never its zombie).
            subprocess.run(
                ["/bin/sh", "-c", '"$@" </dev/null >/dev/null 2>&1 &', "sh", *watcher],
                cwd=self.data_dir, start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                # linkcrawler importable even when it runs from a checkout, not installed.
                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))},
            )
        except (OSError, subprocess.CalledProcessError):
            logger.warning("embedded store: could not start the watcher that stops SecantusDB later; stopping it now")
            self._linger_file.unlink(missing_ok=True)
            self._stop_recorded(state)

    def stop_if_idle(self) -> bool:
        """Stop the server if its linger time is over and nobody uses it; False while it must wait more."""
        with self._locked():
            try:
                linger = json.loads(self._linger_file.read_text())
            except (OSError, ValueError):
                return True  # nothing lingers (a user came and went again: its own watcher decides)
            if time.time() < float(linger["until"]):
                return False
            self._linger_file.unlink(missing_ok=True)
            if self._live_clients():
                return True  # they stop it when they leave
            state = self._read_state()
            if state is not None and int(state["pid"]) == int(linger["pid"]):
                self._stop_recorded(state)
            return True

    def _live_clients(self) -> list[int]:
        alive = []
        for entry in (self.data_dir / "clients").iterdir():
            if entry.name.isdigit() and _pid_alive(int(entry.name)):
                alive.append(int(entry.name))
            else:
                entry.unlink(missing_ok=True)
        return alive

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] | None = json.loads(self._state_file.read_text())
            return state
        except (OSError, ValueError):
            return None

    def _running_server(self) -> dict[str, Any] | None:
        state = self._read_state()
        if state is None:
            return None
        if _pid_alive(int(state["pid"])) and _port_answers(str(state["host"]), int(state["port"])):
            return state
        logger.info("embedded store: the server recorded in %s is gone; starting a new one", self._state_file)
        return None

    def _start(self) -> dict[str, Any]:
        db_path = self.data_dir / "db"
        log_path = self.data_dir / "server.log"
        config = self.data_dir / "secantusd.toml"
        if not config.exists():
            # An explicit (empty) config stops the daemon from picking up a stray
            # ./secantusd.toml or ~/.secantus/secantusd.toml.
            config.write_text("# linkcrawler's embedded store: settings are given on the command line\n")
        command = [
            sys.executable, "-m", "secantus",
            "--config", str(config),
            "--host", "127.0.0.1",
            "--port", "0",
            "--storage-path", str(db_path),
            "--log-level", "INFO",
            *server_options(self.change_streams),
        ]
        self._await_stopped()
        log_start = log_path.stat().st_size if log_path.exists() else 0
        logger.info("embedded store: starting SecantusDB on %s", db_path)
        # Detached: a shell starts the server in the background, in a session of its
        # own (Ctrl-C on the command that started it must not kill it under the
        # other processes that share it), prints its pid and exits. The server is
        # not this process's child, so stopping it never makes a command wait, and
        # it can never be left as this process's zombie.
        launcher = subprocess.run(
            ["/bin/sh", "-c", '"$@" </dev/null >>"$SECANTUS_LOG" 2>&1 & echo $!', "sh", *command],
            env={**os.environ, "SECANTUS_LOG": str(log_path)},
            cwd=self.data_dir,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        pid_text = launcher.stdout.strip()
        if launcher.returncode != 0 or not pid_text.isdigit():
            raise StoreUnavailable(f"the embedded store (SecantusDB) could not be started; see {log_path}")
        pid = int(pid_text)
        port = self._wait_for_port(pid, log_path, log_start)
        state: dict[str, Any] = {"pid": pid, "host": "127.0.0.1", "port": port, "change_streams": self.change_streams}
        self._state_file.write_text(json.dumps(state))
        return state

    def _wait_for_port(self, pid: int, log_path: Path, offset: int) -> int:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            with open(log_path, "rb") as log:
                log.seek(offset)
                match = _LISTENING.search(log.read())
            if match and _port_answers(match.group(1).decode(), int(match.group(2))):
                return int(match.group(2))
            if not _pid_alive(pid):
                raise StoreUnavailable(
                    f"the embedded store (SecantusDB) exited while starting on {self.data_dir / 'db'}; see {log_path}"
                )
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        raise StoreUnavailable(
            f"the embedded store (SecantusDB) did not start within {self.start_timeout:.0f}s; see {log_path}"
        )

    @property
    def _stopping_file(self) -> Path:
        return self.data_dir / "stopping.json"

    def _stop(self, pid: int) -> None:
        """Ask the server to stop, and return at once.

        SecantusDB takes about 2 s to stop (its accept thread is joined with a 2 s
        timeout), which every command would otherwise wait. Its pid is kept in
        ``stopping.json``: a server started on the same data afterwards waits for
        it first (:meth:`_await_stopped`). Every acknowledged write is already on
        disk (journaled), so nothing depends on the stop itself.
        """
        if not _pid_alive(pid):
            return
        logger.info("embedded store: stopping SecantusDB (pid %d)", pid)
        self._stopping_file.write_text(json.dumps({"pid": pid}))
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)

    def _await_stopped(self, timeout: float = 10.0) -> None:
        """Wait until the server asked to stop on this data has stopped (killed after ``timeout``)."""
        try:
            pid = int(json.loads(self._stopping_file.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _pid_alive(pid):
            logger.warning("embedded store: SecantusDB (pid %d) did not stop in %.0fs; killing it", pid, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while _pid_alive(pid):
                time.sleep(0.02)
        self._stopping_file.unlink(missing_ok=True)


def linger_then_stop(data_dir: str) -> None:
    """The watcher of a lingering server: stop it once its linger time is over, unless a user came back."""
    server = EmbeddedServer(data_dir)
    while True:
        try:
            until = float(json.loads(server._linger_file.read_text())["until"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        time.sleep(max(0.05, until - time.time()))
        if server.stop_if_idle():
            return
