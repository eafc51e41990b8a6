"""One vocabulary for what a fetch says: an HTTP status, or a failure with its kind and human reason.

Every spider and command classifies a download that produced no response with
:func:`classify_failure`; each capability then maps the :class:`Failure` to its
own states (a backlink's ``error``/``blocked``, a page's ``pages.status``...).

A failure has two names:

- ``kind`` (:class:`ErrorKind`): the coarse, stored name. ``pages.status`` and
  ``broken_links.status`` hold it where there is no HTTP status, so it is part
  of the product's outside and stays stable: ``dns_error``, ``connection_refused``,
  ``timeout``, ``tls_error``, ``connection_error``, ``redirect_loop``,
  ``too_many_redirects``, ``robots_disallowed``, ``refused_address``,
  ``download_error``.
- ``cause``: the precise one, for reasons and diagnostics (``connection_reset``,
  ``tls_certificate``, ``data_loss``...). Every cause belongs to one kind, and a
  cause that is a whole kind has the kind's name (``dns_error``, not ``dns``).

Where the backlink checker and the site audit used to disagree (``dns`` against
``dns_error``), the stored, documented audit names won; the backlink checker
keeps its finer causes under the same names.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias

from linkcrawler.web.text import squash

__all__ = [
    "CAUSES",
    "DNS_NXDOMAIN",
    "DNS_TEMPORARY",
    "ROBOTS_SERVER_ERROR",
    "UNCHECKED_KINDS",
    "ErrorKind",
    "Failure",
    "FetchStatus",
    "classify_failure",
    "dns_failure",
    "error_kind",
    "is_broken",
]


class ErrorKind(StrEnum):
    """What stands in place of an HTTP status when a fetch got no usable answer."""

    #: The host name does not resolve.
    DNS_ERROR = "dns_error"
    #: The host refused the connection (nothing listens on that port).
    CONNECTION_REFUSED = "connection_refused"
    #: No answer within ``DOWNLOAD_TIMEOUT`` (or the connection could not be opened in time).
    TIMEOUT = "timeout"
    #: The TLS handshake failed (bad or expired certificate when certificates are verified).
    TLS_ERROR = "tls_error"
    #: The connection was closed before a complete answer (dropped, reset, truncated).
    CONNECTION_ERROR = "connection_error"
    #: The redirects come back to where they have been (see :mod:`linkcrawler.web.redirects`).
    REDIRECT_LOOP = "redirect_loop"
    #: More redirects than ``LINKCRAWLER_MAX_REDIRECTS``.
    TOO_MANY_REDIRECTS = "too_many_redirects"
    #: robots.txt does not let us fetch it (not checked: not a broken link).
    ROBOTS_DISALLOWED = "robots_disallowed"
    #: The address guard refused a private or loopback address (not checked).
    REFUSED_ADDRESS = "refused_address"
    #: The download failed in another way (too large, cancelled...).
    DOWNLOAD_ERROR = "download_error"


#: A fetch's answer as stored: an HTTP status code, or an :class:`ErrorKind`.
FetchStatus: TypeAlias = int | str

#: Error kinds that mean "we could not check", not "broken".
UNCHECKED_KINDS = frozenset({ErrorKind.ROBOTS_DISALLOWED, ErrorKind.REFUSED_ADDRESS})


def is_broken(status: FetchStatus | None) -> bool:
    """True when a link whose target ends in ``status`` is broken for a visitor.

    Every 4xx and 5xx, a redirect that leads nowhere (a 3xx without a usable
    ``Location``), and every failure except robots.txt and the address guard,
    which mean the link was not checked.
    """
    if status is None:
        return False
    if isinstance(status, int):
        return status >= 300
    return status not in UNCHECKED_KINDS


@dataclass(frozen=True, slots=True)
class Failure:
    """A download that produced no usable response, classified."""

    kind: ErrorKind
    """The stored name (``pages.status``)."""
    cause: str
    """The precise name (``connection_reset``, ``tls_certificate``...)."""
    reason: str
    """In words, for a status reason or a log line: "DNS lookup failed"."""
    exception: str = ""
    """The qualified class name of the exception that decided it."""
    message: str = ""
    """Its message, squashed and capped."""
    http_status: int | None = None
    """Set when the failure is an HTTP error response (Scrapy's ``HttpError``)."""


_MAX_MESSAGE_CHARS = 300

# (cause, kind, reason, class names): the first rule any exception of the failure
# matches wins, so specific causes (TLS inside ResponseNeverReceived) beat generic
# wrappers. Names are matched against every class of each exception's MRO,
# qualified and bare, so nothing here imports Twisted, OpenSSL or Scrapy.
_RULES: tuple[tuple[str, ErrorKind, str, frozenset[str]], ...] = (
    (
        "robots_disallowed",
        ErrorKind.ROBOTS_DISALLOWED,
        "robots.txt disallows the page",
        frozenset({"RobotsDisallowed"}),
    ),
    (
        "refused_address",
        ErrorKind.REFUSED_ADDRESS,
        "address refused by the address guard",
        frozenset({"AddressRefused"}),
    ),
    (
        "tls_certificate",
        ErrorKind.TLS_ERROR,
        "TLS certificate verification failed",
        frozenset(
            {
                "ssl.SSLCertVerificationError",
                "SSLCertVerificationError",
                "service_identity.exceptions.VerificationError",
                "VerificationError",
                "service_identity.exceptions.CertificateError",
                "twisted.internet.error.CertificateError",
                "twisted.internet.error.VerifyError",
                "twisted.internet.error.PeerVerifyError",
                "PeerVerifyError",
                "VerifyError",
            }
        ),
    ),
    (
        "tls_error",
        ErrorKind.TLS_ERROR,
        "TLS error",
        frozenset(
            {
                "OpenSSL.SSL.Error",
                "SSL.Error",
                "ssl.SSLError",
                "SSLError",
                "twisted.internet.error.SSLError",
                "OpenSSL.SSL.ZeroReturnError",
            }
        ),
    ),
    (
        "dns_error",
        ErrorKind.DNS_ERROR,
        "DNS lookup failed",
        frozenset({"DNSLookupError", "CannotResolveHostError", "socket.gaierror", "gaierror", "UnknownHostError"}),
    ),
    (
        "connection_refused",
        ErrorKind.CONNECTION_REFUSED,
        "connection refused",
        frozenset({"ConnectionRefusedError", "DownloadConnectionRefusedError"}),
    ),
    ("no_route", ErrorKind.CONNECTION_ERROR, "no route to host", frozenset({"NoRouteError"})),
    ("connect_timeout", ErrorKind.TIMEOUT, "connection timed out", frozenset({"TCPTimedOutError"})),
    (
        "timeout",
        ErrorKind.TIMEOUT,
        "download timed out",
        frozenset({"TimeoutError", "DownloadTimeoutError", "ReadTimeout", "ConnectTimeout", "socket.timeout"}),
    ),
    ("too_large", ErrorKind.DOWNLOAD_ERROR, "response too large", frozenset()),  # by message, see below
    (
        "data_loss",
        ErrorKind.CONNECTION_ERROR,
        "response truncated",
        frozenset({"ResponseDataLossError", "_DataLoss", "PotentialDataLoss", "IncompleteRead"}),
    ),
    ("connection_reset", ErrorKind.CONNECTION_ERROR, "connection reset", frozenset({"ConnectionResetError"})),
    (
        "no_response",
        ErrorKind.CONNECTION_ERROR,
        "no response (connection closed)",
        frozenset({"ResponseNeverReceived", "RemoteDisconnected"}),
    ),
    (
        "connection_lost",
        ErrorKind.CONNECTION_ERROR,
        "connection lost",
        frozenset({"ConnectionLost", "ConnectionDone", "ConnectionAborted", "ConnectionClosed", "BrokenPipeError"}),
    ),
    ("proxy_error", ErrorKind.CONNECTION_ERROR, "proxy tunnel failed", frozenset({"TunnelError"})),
    (
        "unsupported_scheme",
        ErrorKind.DOWNLOAD_ERROR,
        "unsupported URL scheme",
        frozenset({"UnsupportedURLSchemeError", "SchemeNotSupported"}),
    ),
    (
        "cancelled",
        ErrorKind.DOWNLOAD_ERROR,
        "download cancelled",
        frozenset({"DownloadCancelledError", "CancelledError", "ConnectingCancelledError"}),
    ),
    (
        "download_failed",
        ErrorKind.CONNECTION_ERROR,
        "download failed",
        frozenset(
            {
                "ResponseFailed",
                "DownloadFailedError",
                "RequestTransmissionFailed",
                "RequestGenerationFailed",
                "HTTPException",
            }
        ),
    ),
    ("connect_error", ErrorKind.CONNECTION_ERROR, "connection failed", frozenset({"ConnectError", "OSError"})),
)
#: The cause of a page not fetched because its robots.txt answers 5xx (RFC 9309: disallowed
#: for now); set by the robots.txt middleware, which classifies its refusals itself.
ROBOTS_SERVER_ERROR = "robots_server_error"
#: The cause of a DNS failure whose resolver said the name does not exist (NXDOMAIN):
#: the domain is gone, unlike a lookup that timed out or met a failing server.
DNS_NXDOMAIN = "dns_nxdomain"
#: The cause of a DNS failure that says nothing about the name (timeout, SERVFAIL, no resolver).
DNS_TEMPORARY = "dns_temporary"
#: Every cause with its kind, in the order the rules are tried (``other`` last).
CAUSES: dict[str, ErrorKind] = (
    {cause: kind for cause, kind, _, _ in _RULES}
    | {
        ROBOTS_SERVER_ERROR: ErrorKind.ROBOTS_DISALLOWED,
        DNS_NXDOMAIN: ErrorKind.DNS_ERROR,
        DNS_TEMPORARY: ErrorKind.DNS_ERROR,
        "other": ErrorKind.DOWNLOAD_ERROR,
    }
)
#: getaddrinfo's error codes for "no such name" (glibc answers NXDOMAIN with EAI_NONAME).
#: EAI_AGAIN (timeout, SERVFAIL) and EAI_FAIL say nothing about the name.
_NXDOMAIN_CODES = frozenset({socket.EAI_NONAME})
_TOO_LARGE_MARKERS = ("max size", "maxsize", "too large")


def _names(exc: BaseException) -> set[str]:
    names = set()
    for cls in type(exc).__mro__:
        names.add(cls.__name__)
        names.add(f"{cls.__module__}.{cls.__qualname__}")
    return names


def _exception_family(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception behind it: causes, contexts, Twisted's ``reasons``."""
    seen: list[BaseException] = []
    stack = [exc]
    while stack and len(seen) < 32:
        current = stack.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        for reason in getattr(current, "reasons", None) or ():
            value = getattr(reason, "value", reason)
            if isinstance(value, BaseException):
                stack.append(value)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return seen


def _unwrap(failure: Any) -> BaseException | str:
    # Twisted's Failure, as errbacks receive it (itself a BaseException in recent
    # Twisted), without importing Twisted here.
    for _ in range(8):
        value = getattr(failure, "value", None)
        if not isinstance(value, BaseException) or value is failure:
            break
        failure = value
    return failure if isinstance(failure, (BaseException, str)) else str(failure)


def _qualified(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


def _match(family: Sequence[tuple[set[str], str]]) -> tuple[int, str, ErrorKind, str] | None:
    for cause, kind, reason, names in _RULES:
        for index, (candidate_names, message) in enumerate(family):
            if cause == "too_large":
                hit = any(marker in message.lower() for marker in _TOO_LARGE_MARKERS)
            else:
                hit = bool(names & candidate_names)
            if hit:
                if cause == "tls_error" and "certificate verify failed" in message.lower():
                    return index, "tls_certificate", ErrorKind.TLS_ERROR, "TLS certificate verification failed"
                return index, cause, kind, reason
    return None


def classify_failure(failure: BaseException | str | Any) -> Failure:
    """What a download that produced no usable response means.

    ``failure`` is the exception, a Twisted ``Failure`` wrapping it, or an exception
    class name (``"DNSLookupError"``, ``"twisted.internet.error.DNSLookupError"``).
    Scrapy's own wrappers (``CannotResolveHostError``, ``DownloadFailedError``...) are
    looked through to their cause, and ``ResponseNeverReceived``/``ResponseFailed``
    to their reasons, so a TLS handshake failure reads "TLS error", not "no response".
    An ``IgnoreRequest`` that names robots.txt is ``robots_disallowed``; an
    ``HttpError`` carries its status in :attr:`Failure.http_status`. An exception
    that carries its own classification (a :class:`Failure` as ``classified_failure``:
    the robots.txt middleware's refusals, whose robots.txt could not be read for a
    reason only it knows) is that failure.
    """
    exc = _unwrap(failure)
    if isinstance(exc, str):
        family = [({exc, exc.rsplit(".", 1)[-1]}, "")]
        exceptions: list[BaseException] = []
    else:
        exceptions = _exception_family(exc)
        family = [(_names(e), str(e)) for e in exceptions]

    for e in exceptions:
        carried = getattr(e, "classified_failure", None)
        if isinstance(carried, Failure):
            return carried
        names = _names(e)
        status = getattr(getattr(e, "response", None), "status", None)
        if "HttpError" in names and isinstance(status, int):
            return Failure(ErrorKind.DOWNLOAD_ERROR, "http_error", f"HTTP {status}", _qualified(e), http_status=status)
        if "IgnoreRequest" in names and "RobotsDisallowed" not in names and "robots.txt" in str(e).lower():
            return Failure(
                ErrorKind.ROBOTS_DISALLOWED, "robots_disallowed", "robots.txt disallows the page", _qualified(e)
            )

    found = _match(family)
    if found is not None:
        index, cause, kind, reason = found
        if not exceptions:
            return Failure(kind, cause, reason, str(exc))
        message = squash(family[index][1], _MAX_MESSAGE_CHARS)
        return Failure(kind, cause, reason, _qualified(exceptions[index]), message)

    name = _qualified(exc) if isinstance(exc, BaseException) else exc
    short = squash(name.rsplit(".", 1)[-1], 80)
    message = squash(str(exc), _MAX_MESSAGE_CHARS) if isinstance(exc, BaseException) else ""
    return Failure(ErrorKind.DOWNLOAD_ERROR, "other", f"download failed ({short})", name, message)


def dns_failure(error: OSError | int) -> Failure:
    """What a failed host-name lookup says: the getaddrinfo error (or its code) classified.

    ``dns_nxdomain`` when the resolver answered that the name does not exist;
    ``dns_temporary`` for a timeout or a failing server (``EAI_AGAIN``, ``EAI_FAIL``),
    which says nothing about the name; ``dns_error`` for anything else.

    :func:`classify_failure` cannot say it: Twisted's resolver drops getaddrinfo's
    code ("no results for hostname lookup" whatever the cause), so a caller that
    must know (prospects: a gone domain is a broken link, a timeout is not) asks
    the resolver again (:func:`linkcrawler.web.dns.lookup_failure`).
    """
    code = error if isinstance(error, int) else error.errno
    exception = "" if isinstance(error, int) else _qualified(error)
    message = "" if isinstance(error, int) else squash(str(error), _MAX_MESSAGE_CHARS)
    if code in _NXDOMAIN_CODES:
        return Failure(ErrorKind.DNS_ERROR, DNS_NXDOMAIN, "the domain name does not exist (NXDOMAIN)",
                       exception, message)
    if code in (socket.EAI_AGAIN, socket.EAI_FAIL):
        return Failure(ErrorKind.DNS_ERROR, DNS_TEMPORARY, "DNS lookup failed for now (timeout or server failure)",
                       exception, message)
    return Failure(ErrorKind.DNS_ERROR, "dns_error", "DNS lookup failed", exception, message)


def error_kind(failure: BaseException | str | Any) -> str:
    """The stored name of a failed fetch (``failure.value`` in an errback), as a plain string."""
    return classify_failure(failure).kind.value
