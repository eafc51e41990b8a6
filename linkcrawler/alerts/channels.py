"""Channels: where digests go, as Apprise URLs, and sending one digest to one channel.

Apprise is the one library behind every channel: it is maintained, and one URL
scheme covers e-mail (``mailto://``, ``mailtos://``), JSON webhooks (``json://``,
``jsons://``), Slack, Teams, Discord, Telegram and a hundred others, so a user
adds a channel by adding a URL, and there is no SMTP or HTTP client code of ours
to get wrong.

A channel is known in ``alert_deliveries`` by its key: a hash of the URL as Apprise
prints it with its secrets masked (passwords, tokens), so no secret is stored, and
changing a password does not make the channel new.
"""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import apprise

from linkcrawler.alerts.digest import Digest
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.web.text import squash

logger = logging.getLogger(__name__)

# One URL may hold commas (mailto://...?to=a@x.org,b@x.org): URLs are split only
# before the next scheme.
_URL_SEPARATOR = re.compile(r"\s*,\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def _load_plugins() -> type:
    # Apprise's e-mail plugin imports ``imghdr``, deprecated since Python 3.11: the
    # warning says nothing about our use, and a run with warnings as errors
    # (the test suite) must still be able to send e-mail.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*imghdr.*", category=DeprecationWarning)
        from apprise.manager_plugins import NotificationManager
        from apprise.plugins.email import NotifyEmail

        NotificationManager().load_modules()  # type: ignore[no-untyped-call]
    return NotifyEmail


@dataclass(frozen=True)
class Channel:
    """One notification URL: its key and masked form are stored, the URL itself never."""

    key: str
    display: str
    url: str = field(repr=False)
    html: bool = False


@dataclass(frozen=True)
class SendOutcome:
    """What a channel answered: acknowledged (``ok``), or why not."""

    ok: bool
    error: str | None = None


def split_urls(value: Any) -> list[str]:
    """``LINKCRAWLER_ALERT_URLS`` as a list: a comma starts a new URL only before a scheme."""
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return [u.strip() for u in _URL_SEPARATOR.split(str(value).strip()) if u.strip()]


def parse_channels(value: Any) -> list[Channel]:
    """The channels of ``LINKCRAWLER_ALERT_URLS``; ``ConfigurationError`` for a URL Apprise does not know."""
    NotifyEmail = _load_plugins()
    channels: dict[str, Channel] = {}
    for index, url in enumerate(split_urls(value), 1):
        service = apprise.Apprise.instantiate(url)
        if not service:
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            raise ConfigurationError(
                f"LINKCRAWLER_ALERT_URLS: URL {index} ({scheme}://...) is not a notification URL Apprise can use")
        display = service.url(privacy=True)  # type: ignore[no-untyped-call]
        key = hashlib.sha256(display.encode()).hexdigest()[:24]
        # E-mail gets the HTML digest (Apprise adds a text/plain alternative); chat
        # services take a subset of HTML at best, and webhooks feed programs: text.
        html = isinstance(service, NotifyEmail)
        channels.setdefault(key, Channel(key=key, display=display, url=url, html=html))
    return list(channels.values())


def send(channel: Channel, digest: Digest) -> SendOutcome:
    """Send ``digest`` to ``channel`` through Apprise: HTML where the service shows HTML (e-mail), else text.

    ``ok`` means the service acknowledged it: an SMTP server accepted the message
    (250 after DATA), a webhook answered 2xx.
    """
    _load_plugins()
    notifier = apprise.Apprise()
    if not notifier.add(channel.url):
        return SendOutcome(False, "not a usable notification URL")
    if channel.html:
        body, body_format = digest.html(), apprise.NotifyFormat.HTML
    else:
        body, body_format = digest.text(), apprise.NotifyFormat.TEXT
    try:
        result = notifier.notify(body=body, title=digest.subject, body_format=body_format)
    except Exception as exc:  # a plugin's bug is a failed delivery, retried next run
        return SendOutcome(False, squash(f"{type(exc).__name__}: {exc}", 300))
    if result:
        return SendOutcome(True)
    messages = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
    return SendOutcome(False, squash("; ".join(messages) or "the channel did not acknowledge", 300))
