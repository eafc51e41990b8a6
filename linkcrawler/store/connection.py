"""One way to reach MongoDB: ``MONGO_URI`` when set, else the embedded store.

Every component (pipelines, spiders reading due links, commands) asks
:func:`open_store` for its database and gives it back with :meth:`Store.close`.
Within one process the client (and the embedded server) is shared and reference
counted, so a crawl opens one connection pool however many components use it.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymongo
from pymongo.database import Database
from pymongo.errors import ConfigurationError as MongoConfigurationError
from pymongo.errors import PyMongoError
from scrapy.settings import BaseSettings

from linkcrawler import defaults
from linkcrawler.exceptions import ConfigurationError, StoreUnavailable
from linkcrawler.store.embedded import EmbeddedServer

logger = logging.getLogger(__name__)

#: The finish reason of a crawl closed because its store could not be opened.
STORE_UNAVAILABLE = "store_unavailable"
#: The pipeline that writes to MongoDB: a crawl without it needs no store.
STORE_PIPELINE = "pipelines.mongo.MongoWriterPipeline"


def writes_to_store(settings: BaseSettings) -> bool:
    """Whether a crawl with these settings writes to MongoDB."""
    return bool(settings.getwithbase("ITEM_PIPELINES").get(STORE_PIPELINE))


def mask_uri(uri: str) -> str:
    """``uri`` with its password replaced by ``***``, for messages and logs."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparsable MongoDB URI>"
    if parts.password is None:
        return uri
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


@dataclass
class _Connection:
    client: pymongo.MongoClient[dict[str, Any]]
    display_uri: str
    embedded: EmbeddedServer | None
    users: int = 0


@dataclass
class Store:
    """A handle on the database the settings name; ``close()`` gives it back."""

    key: tuple[str | None, str]
    database_name: str
    _connection: _Connection = field(repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def client(self) -> pymongo.MongoClient[dict[str, Any]]:
        return self._connection.client

    @property
    def db(self) -> Database[dict[str, Any]]:
        return self._connection.client[self.database_name]

    @property
    def display_uri(self) -> str:
        """Where the data is, safe to print (no password)."""
        return self._connection.display_uri

    def close(self) -> None:
        """Give the store back; the last user closes the client (and the embedded server)."""
        if not self._closed:
            self._closed = True
            _release(self.key)


_connections: dict[tuple[str | None, str], _Connection] = {}
_connections_lock = threading.Lock()


def store_settings(settings: BaseSettings) -> tuple[str | None, str, str, float]:
    """(MONGO_URI or None, database, embedded data dir, connect timeout) from settings."""
    return (
        settings.get("MONGO_URI") or None,
        settings.get("MONGO_DATABASE") or defaults.MONGO_DATABASE,
        settings.get("LINKCRAWLER_DATA_DIR") or defaults.LINKCRAWLER_DATA_DIR,
        settings.getfloat("MONGO_CONNECT_TIMEOUT", defaults.MONGO_CONNECT_TIMEOUT),
    )


def store_linger(settings: BaseSettings) -> float:
    """``LINKCRAWLER_STORE_LINGER``: seconds the embedded server outlives its last user."""
    linger = settings.getfloat("LINKCRAWLER_STORE_LINGER", defaults.LINKCRAWLER_STORE_LINGER)
    if linger < 0:
        raise ConfigurationError(f"LINKCRAWLER_STORE_LINGER must be 0 or more seconds, not {linger}")
    return linger


def set_driver_log_level(settings: BaseSettings) -> None:
    """Set pymongo's loggers to ``LINKCRAWLER_DRIVER_LOG_LEVEL`` (``WARNING`` by default).

    pymongo logs every command, connection check-out and server selection at
    DEBUG, Scrapy's default level: a third of a crawl's log without this.
    """
    level = settings.get("LINKCRAWLER_DRIVER_LOG_LEVEL") or defaults.LINKCRAWLER_DRIVER_LOG_LEVEL
    try:
        logging.getLogger("pymongo").setLevel(str(level).upper())
    except ValueError as exc:
        raise ConfigurationError(f"LINKCRAWLER_DRIVER_LOG_LEVEL {level!r} is not a log level") from exc


def open_store(settings: BaseSettings) -> Store:
    """The store the settings name, connected and answering, or ``StoreUnavailable``.

    A real ``MONGO_URI`` that does not answer within ``MONGO_CONNECT_TIMEOUT``
    fails here, with the URI (password masked) in the message, so a command
    stops before it fetches anything.
    """
    uri, database, data_dir, timeout = store_settings(settings)
    set_driver_log_level(settings)
    key = (uri, "" if uri else str(Path(data_dir).resolve()))
    with _connections_lock:
        connection = _connections.get(key)
        if connection is None:
            connection = _connections[key] = _connect(
                uri, data_dir, timeout, store_linger(settings),
                settings.getbool("LINKCRAWLER_STORE_CHANGE_STREAMS", defaults.LINKCRAWLER_STORE_CHANGE_STREAMS))
        connection.users += 1
    logger.debug("MongoDB: using %s, database %r", connection.display_uri, database)
    return Store(key=key, database_name=database, _connection=connection)


def _connect(uri: str | None, data_dir: str, timeout: float, linger: float = 0.0,
             change_streams: bool = False) -> _Connection:
    embedded = None
    if uri is None:
        embedded = EmbeddedServer(data_dir, linger=linger, change_streams=change_streams)
        connect_uri = embedded.acquire()
        display = f"embedded store in {embedded.data_dir}"
    else:
        connect_uri = uri
        display = mask_uri(uri)
    client: pymongo.MongoClient[dict[str, Any]] | None = None
    # The embedded server syncs its log only for journaled writes (see
    # embedded.SERVER_OPTIONS): j=True asks it of each write. A MONGO_URI keeps its own write concern.
    durability: dict[str, Any] = {"journal": True} if embedded is not None else {}
    try:
        client = pymongo.MongoClient(
            connect_uri,
            serverSelectionTimeoutMS=int(timeout * 1000),
            connectTimeoutMS=int(timeout * 1000),
            tz_aware=True,
            appname="linkcrawler",
            **durability,
        )
        client.admin.command("ping")
    except (PyMongoError, ValueError) as exc:
        if client is not None:
            client.close()
        if embedded:
            embedded.release()
        if isinstance(exc, (MongoConfigurationError, ValueError)):
            raise ConfigurationError(f"MONGO_URI {display} is not valid: {exc}") from exc
        reason = re.split(r", Timeout:| \(configured timeouts", str(exc))[0]
        raise StoreUnavailable(f"cannot reach MongoDB at {display}: {reason}") from exc
    logger.info("MongoDB: using %s", display)
    return _Connection(client=client, display_uri=display, embedded=embedded)


def _release(key: tuple[str | None, str]) -> None:
    with _connections_lock:
        connection = _connections[key]
        connection.users -= 1
        if connection.users > 0:
            return
        del _connections[key]
    connection.client.close()
    if connection.embedded is not None:
        connection.embedded.release()
