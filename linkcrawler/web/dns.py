"""Asking the resolver again why a host name did not resolve (blocking: run it in a thread)."""

from __future__ import annotations

import socket

from linkcrawler.web.outcome import ErrorKind, Failure, dns_failure
from linkcrawler.web.text import squash

__all__ = ["lookup_failure", "resolver_vouches"]


def lookup_failure(host: str) -> Failure | None:
    """Why ``host`` does not resolve (:func:`~linkcrawler.web.outcome.dns_failure`), or ``None`` when it does now.

    Blocking (getaddrinfo): call it from a thread. The system resolver answers a
    name that does not exist with ``EAI_NONAME`` (NXDOMAIN) and a resolver that
    timed out or failed with ``EAI_AGAIN``/``EAI_FAIL``: only the first is a gone domain.
    """
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return dns_failure(exc)
    except (OSError, UnicodeError) as exc:  # an unencodable name, no resolver...: nothing certain
        return Failure(ErrorKind.DNS_ERROR, "dns_error", "DNS lookup failed", type(exc).__qualname__,
                       squash(str(exc), 300))
    return None


def resolver_vouches(canaries: list[str]) -> str | None:
    """``None`` when the resolver can be believed about a name that does not exist, else why not.

    A resolver that is offline, captive or filtering may answer NXDOMAIN for every
    name: then a "gone domain" is the resolver's word, not the domain's. It is believed
    when at least one of ``canaries`` (names that surely exist) resolves. Blocking.
    """
    if not canaries:
        return None
    for name in canaries:
        if lookup_failure(name) is None:
            return None
    return f"the resolver finds none of {', '.join(canaries)} either (offline or filtering DNS)"
