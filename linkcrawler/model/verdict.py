"""What a check's outcome means for one backlink: a status and a reason a human reads.

Each function maps one kind of outcome, with plain inputs:

- :func:`classify_backlink`: a page that answered 200 (or another 2xx), read by
  :func:`~linkcrawler.model.page.analyze_page`.
- :func:`classify_http_status`: any other status code.
- :func:`classify_failure`: a download that produced no response (DNS, TLS...).
- :func:`analyze_redirect_chain`: whether a chain of redirects loops or runs too long.
- :func:`apply_failure_policy`: when repeated failures become ``unreachable``.

Decisions, and why:

**Precedence when the link is present.** ``noindex`` > ``nofollow`` > ``canonicalized``
> ``live``, ordered by how surely the link's value is lost. A noindex page drops out of
the index with every link on it. A nofollow/ugc/sponsored link (or a meta-nofollow
page) is the linking site saying, for this very link, "pass no value". A canonical to
another URL only moves the page's signals to that URL, which as a duplicate normally
carries the same link, so value usually survives, and Google may ignore the hint
altogether. Every signal that applies is kept in ``extra["signals"]`` and named in the
reason, so nothing is hidden by the order.

**Self-canonical.** A canonical counts as "another URL" only if it differs from the
page's final URL by more than the spellings sites routinely canonicalize between:
scheme, a leading ``www.``, a trailing slash and tracking parameters (``utm_*``,
``gclid``...). See :func:`same_page`.

**Status codes.** 2xx: analyse the page. 304: :data:`NOT_MODIFIED` (keep every state).
404/410: ``page_gone``. 401/403/999: ``blocked`` (the contract), and 451 too: a legal
block is usually regional, so it says nothing about the page elsewhere. 407 (our proxy),
408, 425, 429 and 5xx: ``error``, transient. Every other 4xx (400, 402, 405, 406, 422...):
``page_gone``, as Google treats every 4xx but 429 as "this URL has no content". An
unfollowed 3xx, 1xx and codes outside 100-599 (999 aside): ``error``.

**Redirects.** A loop or a chain longer than ``max_hops`` (10, as Googlebot) never
delivers a page: it is a fetch failure, ``error``, counted towards ``unreachable``. A
chain that ends on a page without the link is ``redirected``; one that ends on a
404/410 is ``page_gone`` ("redirects to X, which answers HTTP 404"): there is no page.

**Failure policy.** ``error`` becomes ``unreachable`` on the ``lost_after``-th
consecutive failure. Any other outcome, ``blocked`` included, resets the count: a
server that answers (even to refuse us) is reachable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from linkcrawler.defaults import LINKCRAWLER_LOST_AFTER
from linkcrawler.model.page import (
    SEEN_IN_PHRASES,
    HeadersLike,
    Link,
    PageAnalysis,
    detect_challenge,
)
from linkcrawler.model.status import Status
from linkcrawler.model.urls import normalize_url

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "NOT_MODIFIED",
    "REDIRECT_STATUSES",
    "NotModified",
    "RedirectChain",
    "RedirectHop",
    "Verdict",
    "analyze_redirect_chain",
    "apply_failure_policy",
    "classify_backlink",
    "classify_failure",
    "classify_http_status",
    "is_redirect_status",
    "same_page",
    "with_redirect_context",
]

#: Redirect hops followed before a chain counts as too long (Googlebot's limit).
DEFAULT_MAX_REDIRECTS = 10
#: Statuses that send the client to ``Location``.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_MAX_MESSAGE_CHARS = 300
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_TRACKING_PARAMS = frozenset(
    {"gclid", "dclid", "fbclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "_ga", "_gl"}
)


@dataclass(frozen=True)
class Verdict:
    """A backlink's status after one check, with the why."""

    status: Status
    reason: str
    """Human detail for ``status_reason``: "HTTP 404", "rel=nofollow", "DNS lookup failed"."""
    anchor_text: str | None = None
    """The anchor text of the reported link, when the link is present."""
    rel: tuple[str, ...] = ()
    """The reported link's rel tokens (lower-case), when the link is present."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Details worth storing: ``signals``, ``canonical``, ``seen_in``, ``exception``..."""

    @property
    def is_failure(self) -> bool:
        """Whether this outcome counts towards ``unreachable`` (:func:`apply_failure_policy`)."""
        return self.status in (Status.ERROR, Status.UNREACHABLE)


@dataclass(frozen=True)
class NotModified:
    """HTTP 304: the page has not changed since the stored validators; keep every state."""

    reason: str = "HTTP 304 not modified"


#: What :func:`classify_http_status` returns for 304.
NOT_MODIFIED = NotModified()


def _clean(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    """Third-party text fit for a reason or a log line: no control characters, capped."""
    return _CONTROL_RE.sub(" ", text).strip()[:limit]


def _normalized_or_none(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return normalize_url(url)
    except ValueError:
        return None


def _page_identity(url: str) -> tuple[str, int | None, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair
        and not (
            (name := pair.split("=", 1)[0].lower()).startswith("utm_") or name in _TRACKING_PARAMS
        )
    )
    return host, parts.port, path, query


def same_page(a: str, b: str) -> bool:
    """Whether two URLs name one page, up to the spellings sites canonicalize between.

    Equal after normalization, or differing only by scheme, a leading ``www.``, a
    trailing slash, or tracking parameters (``utm_*``, ``gclid``, ``fbclid``...).
    """
    na, nb = _normalized_or_none(a) or a, _normalized_or_none(b) or b
    return na == nb or _page_identity(na) == _page_identity(nb)


# --- a page that answered -----------------------------------------------------------


def _joined(phrases: Sequence[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def classify_backlink(page: PageAnalysis, target_url: str, page_url: str | None = None) -> Verdict:
    """The state of the link to ``target_url`` on a page that answered 2xx.

    ``page_url`` is where the check started (the backlink's ``source_url``); when
    it is not the same page as ``page.url`` (the final URL), the fetch was
    redirected and a missing link means ``redirected``. Links match by normalized
    URL. With several links to the target, a followed one wins and its anchor text
    is reported; otherwise the first. ``ValueError`` if ``target_url`` is not http(s).
    """
    target = normalize_url(target_url)
    matches = page.links_to(target)
    if matches:
        return _present(page, target, matches)
    return _absent(page, target, page_url)


def _present(page: PageAnalysis, target: str, matches: Sequence[Link]) -> Verdict:
    followed = [link for link in matches if link.followed]
    chosen = followed[0] if followed else matches[0]
    reasons: dict[Status, str] = {}
    if page.noindex:
        reasons[Status.NOINDEX] = f"page is noindex ({', '.join(page.noindex_sources)})"
    if not followed:
        reasons[Status.NOFOLLOW] = "rel=" + " ".join(chosen.not_followed_by)
    elif page.nofollow:
        reasons[Status.NOFOLLOW] = f"page is nofollow ({', '.join(page.nofollow_sources)})"
    canonical = page.canonical
    if canonical is not None and not same_page(canonical, page.url):
        reasons[Status.CANONICALIZED] = f"canonical points to {canonical}"
    extra: dict[str, Any] = {"links": len(matches), "signals": [s.value for s in reasons]}
    if canonical is not None:
        extra["canonical"] = canonical
    if not reasons:
        status, reason = Status.LIVE, "followed link found"
    else:
        status, reason = next(iter(reasons.items()))
        others = list(reasons.values())[1:]
        if others:
            reason += "; also " + "; ".join(others)
    return Verdict(status, reason, anchor_text=chosen.anchor_text, rel=chosen.rel, extra=extra)


def _absent(page: PageAnalysis, target: str, page_url: str | None) -> Verdict:
    extra: dict[str, Any] = {"links": 0}
    if page.challenge:
        extra["challenge"] = page.challenge
        return Verdict(Status.BLOCKED, f"bot challenge ({page.challenge})", extra=extra)
    places = page.mentions(target)
    extra["seen_in"] = list(places)
    if page.refresh_url:
        extra["refresh_url"] = page.refresh_url
    if places:
        detail = f"{target} appears only " + _joined([SEEN_IN_PHRASES[p] for p in places])
    else:
        detail = f"no link to {target} on the page"
    if not page.is_html:
        detail += f" ({page.content_type or 'not HTML'})"
    host = (urlsplit(target).hostname or "").lower()
    if page.links_truncated and host not in page.tracked_hosts:
        kept = len(page.raw_links)
        detail += f" (only the first {kept:,} of {page.link_count:,} links were read)"
    source = _normalized_or_none(page_url)
    if source is not None and not same_page(source, page.url):
        extra["final_url"] = page.url
        reason = f"redirects to {page.url}, which has no link to {target}"
        if places:
            reason += f" ({detail})"
        return Verdict(Status.REDIRECTED, reason, extra=extra)
    return Verdict(Status.REMOVED, detail, extra=extra)


# --- status codes -------------------------------------------------------------------


def is_redirect_status(status: int) -> bool:
    """Whether ``status`` sends the client on to its ``Location``."""
    return status in REDIRECT_STATUSES


def _retry_after(value: str | None) -> tuple[str, dict[str, Any]]:
    if not value or not value.strip():
        return "", {}
    value = _clean(value, 64)
    if value.isdigit():
        return f", retry after {int(value)} s", {"retry_after": int(value)}
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return "", {"retry_after": value}
    return f", retry after {value}", {"retry_after": value, "retry_after_at": when}


def classify_http_status(
    status: int, retry_after: str | None = None, headers: HeadersLike | None = None
) -> Verdict | NotModified | None:
    """The verdict for a response status, or ``None`` when the page must be analysed.

    ``None`` for 2xx, :data:`NOT_MODIFIED` for 304. ``retry_after`` (the header's
    value, seconds or an HTTP date) is noted on transient errors. With ``headers``,
    a challenge announced by a header (``cf-mitigated: challenge``) makes any status
    ``blocked``. The full mapping and its reasons are in the module docstring.
    """
    if 200 <= status < 300:
        return None
    if status == 304:
        return NOT_MODIFIED
    extra: dict[str, Any] = {"http_status": status}
    challenge = detect_challenge(headers, "") if headers is not None else None
    if challenge:
        extra["challenge"] = challenge
        return Verdict(Status.BLOCKED, f"bot challenge ({challenge}), HTTP {status}", extra=extra)
    if status in (404, 410):
        return Verdict(Status.PAGE_GONE, f"HTTP {status}", extra=extra)
    if status in (401, 403, 999):
        return Verdict(Status.BLOCKED, f"HTTP {status}", extra=extra)
    if status == 451:
        return Verdict(Status.BLOCKED, "HTTP 451 (unavailable for legal reasons)", extra=extra)
    if 400 <= status < 500 and status not in (407, 408, 425, 429):
        return Verdict(Status.PAGE_GONE, f"HTTP {status}", extra=extra)
    if 300 <= status < 400:
        return Verdict(Status.ERROR, f"HTTP {status} redirect not followed", extra=extra)
    if not 100 <= status < 600:
        return Verdict(Status.ERROR, f"HTTP {status} (not a valid status)", extra=extra)
    suffix, retry = _retry_after(retry_after)
    extra.update(retry)
    return Verdict(Status.ERROR, f"HTTP {status}{suffix}", extra=extra)


# --- download failures --------------------------------------------------------------

# (kind, reason, names): the first rule any exception of the failure matches wins,
# so specific causes (TLS inside ResponseNeverReceived) beat generic wrappers.
# Names are matched against every class of each exception's MRO, qualified and bare.
_FAILURE_RULES: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "tls_certificate",
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
        "tls",
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
        "dns",
        "DNS lookup failed",
        frozenset(
            {
                "DNSLookupError",
                "CannotResolveHostError",
                "socket.gaierror",
                "gaierror",
                "UnknownHostError",
            }
        ),
    ),
    (
        "refused",
        "connection refused",
        frozenset(
            {
                "ConnectionRefusedError",
                "DownloadConnectionRefusedError",
            }
        ),
    ),
    ("no_route", "no route to host", frozenset({"NoRouteError"})),
    ("connect_timeout", "connection timed out", frozenset({"TCPTimedOutError"})),
    (
        "timeout",
        "download timed out",
        frozenset(
            {
                "TimeoutError",
                "DownloadTimeoutError",
                "ReadTimeout",
                "ConnectTimeout",
            }
        ),
    ),
    ("too_large", "response too large", frozenset()),  # by message, see below
    (
        "data_loss",
        "response truncated",
        frozenset(
            {
                "ResponseDataLossError",
                "_DataLoss",
                "PotentialDataLoss",
            }
        ),
    ),
    ("reset", "connection reset", frozenset({"ConnectionResetError"})),
    ("no_response", "no response (connection closed)", frozenset({"ResponseNeverReceived"})),
    (
        "connection_lost",
        "connection lost",
        frozenset(
            {
                "ConnectionLost",
                "ConnectionDone",
                "ConnectionAborted",
                "ConnectionClosed",
                "BrokenPipeError",
            }
        ),
    ),
    ("proxy", "proxy tunnel failed", frozenset({"TunnelError"})),
    (
        "scheme",
        "unsupported URL scheme",
        frozenset(
            {
                "UnsupportedURLSchemeError",
                "SchemeNotSupported",
            }
        ),
    ),
    (
        "cancelled",
        "download cancelled",
        frozenset(
            {
                "DownloadCancelledError",
                "CancelledError",
                "ConnectingCancelledError",
            }
        ),
    ),
    (
        "failed",
        "download failed",
        frozenset(
            {
                "ResponseFailed",
                "DownloadFailedError",
                "RequestTransmissionFailed",
                "RequestGenerationFailed",
            }
        ),
    ),
    ("connect", "connection failed", frozenset({"ConnectError", "OSError"})),
)
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


def classify_failure(failure: BaseException | str | Any) -> Verdict:
    """The verdict for a download that produced no usable response.

    ``failure`` is the exception, a Twisted ``Failure`` wrapping it, or an exception
    class name (``"DNSLookupError"``, ``"twisted.internet.error.DNSLookupError"``).
    Scrapy's own wrappers (``CannotResolveHostError``, ``DownloadFailedError``...) are
    looked through to their cause, and ``ResponseNeverReceived``/``ResponseFailed``
    to their reasons, so a TLS handshake failure reads "TLS error", not "no response".
    Robots.txt refusals are ``blocked``; an ``HttpError`` is classified by its status.
    Everything else is ``error`` with a short reason ("DNS lookup failed").
    """
    exc = _unwrap(failure)
    if isinstance(exc, str):
        family_names = [({exc, exc.rsplit(".", 1)[-1]}, "")]
        exceptions: list[BaseException] = []
    else:
        exceptions = _exception_family(exc)
        family_names = [(_names(e), str(e)) for e in exceptions]

    for e in exceptions:
        response = getattr(e, "response", None)
        status = getattr(response, "status", None)
        if "HttpError" in _names(e) and isinstance(status, int):
            verdict = classify_http_status(status)
            if isinstance(verdict, Verdict):
                return verdict
        if "IgnoreRequest" in _names(e) and "robots.txt" in str(e).lower():
            return Verdict(
                Status.BLOCKED,
                "robots.txt disallows the page",
                extra={"failure": "robots_txt", "exception": _qualified(e)},
            )

    for kind, reason, names in _FAILURE_RULES:
        for index, (candidate_names, message) in enumerate(family_names):
            if kind == "too_large":
                hit = any(marker in message.lower() for marker in _TOO_LARGE_MARKERS)
            else:
                hit = bool(names & candidate_names)
            if not hit:
                continue
            if kind == "tls" and "certificate verify failed" in message.lower():
                kind, reason = "tls_certificate", "TLS certificate verification failed"
            extra: dict[str, Any] = {"failure": kind}
            if exceptions:
                extra["exception"] = _qualified(exceptions[index])
                if message:
                    extra["message"] = _clean(message)
            else:
                extra["exception"] = exc
            return Verdict(Status.ERROR, reason, extra=extra)

    name = _qualified(exc) if isinstance(exc, BaseException) else exc
    short = name.rsplit(".", 1)[-1]
    extra = {"failure": "other", "exception": name}
    if isinstance(exc, BaseException) and str(exc):
        extra["message"] = _clean(str(exc))
    return Verdict(Status.ERROR, f"download failed ({_clean(short, 80)})", extra=extra)


def _qualified(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


# --- the failure policy -------------------------------------------------------------


def apply_failure_policy(
    verdict: Verdict,
    consecutive_failures_before: int,
    lost_after: int = LINKCRAWLER_LOST_AFTER,
) -> tuple[Status, int]:
    """The status to store and the new ``consecutive_failures`` count.

    A failure (``error``) adds one to the count and is stored as ``unreachable``
    once the count reaches ``lost_after`` (``LINKCRAWLER_LOST_AFTER``), ``error``
    before. Any other verdict resets the count to 0 and keeps its status;
    ``blocked`` too, since a server that refuses us did answer. (A 304 keeps the
    previous states; reset the count for it as well.)
    """
    if lost_after < 1:
        raise ValueError(f"lost_after must be at least 1, got {lost_after}")
    if not verdict.is_failure:
        return verdict.status, 0
    count = max(0, consecutive_failures_before) + 1
    return (Status.UNREACHABLE if count >= lost_after else Status.ERROR), count


# --- redirect chains ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedirectHop:
    """One response of a chain: the URL requested and the status it answered."""

    url: str
    status: int


@dataclass(frozen=True)
class RedirectChain:
    """A chain of responses from the first URL to the last, and what is wrong with it."""

    hops: tuple[RedirectHop, ...]
    next_url: str | None
    """The ``Location`` the last hop points to, when it is a redirect not yet followed."""
    loop: bool
    """The chain went round: a redirect from one URL to another was seen twice."""
    too_long: bool
    """More than ``max_hops`` redirects."""
    cycle: tuple[str, ...]
    """The URLs of the loop, first one repeated at the end: ``(a, b, a)``."""
    max_hops: int

    @property
    def redirects(self) -> int:
        """How many hops were redirects."""
        return sum(1 for hop in self.hops if is_redirect_status(hop.status))

    @property
    def final_url(self) -> str | None:
        """The URL of the last response."""
        return self.hops[-1].url if self.hops else None

    @property
    def complete(self) -> bool:
        """The last response is not a redirect: the chain delivered something."""
        return bool(self.hops) and not is_redirect_status(self.hops[-1].status)

    @property
    def should_stop(self) -> bool:
        """Following ``next_url`` would go round or too far."""
        return self.loop or self.too_long

    def failure(self) -> Verdict | None:
        """The ``error`` verdict for a loop or an over-long chain, else ``None``."""
        extra = {
            "failure": "redirect_loop" if self.loop else "redirect_too_long",
            "redirect_chain": self.as_documents(),
        }
        if self.loop:
            return Verdict(Status.ERROR, "redirect loop: " + " -> ".join(self.cycle), extra=extra)
        if self.too_long:
            return Verdict(
                Status.ERROR, f"too many redirects (more than {self.max_hops})", extra=extra
            )
        return None

    def as_documents(self) -> list[dict[str, Any]]:
        """The chain as ``backlinks.redirect_chain`` stores it: ``[{url, status}]``."""
        return [{"url": hop.url, "status": hop.status} for hop in self.hops]


def _comparable(url: str) -> str:
    return _normalized_or_none(url) or url


def analyze_redirect_chain(
    hops: Iterable[tuple[str, int] | RedirectHop],
    max_hops: int = DEFAULT_MAX_REDIRECTS,
    next_url: str | None = None,
) -> RedirectChain:
    """Whether a chain of ``(url, status)`` responses loops or runs too long.

    Call it after each redirect with the chain so far and the ``Location`` about to
    be followed (``next_url``); stop when :attr:`RedirectChain.should_stop`. A URL
    may come back once (sites redirect to themselves to set a cookie); a loop is a
    redirect *edge* (from one URL to the next) seen twice in a chain that has not
    ended, since a server that answers the same request the same way twice will
    keep doing so. Too long: more than ``max_hops`` redirects.
    """
    chain = tuple(h if isinstance(h, RedirectHop) else RedirectHop(h[0], int(h[1])) for h in hops)
    redirects = sum(1 for hop in chain if is_redirect_status(hop.status))
    complete = bool(chain) and not is_redirect_status(chain[-1].status)
    if complete:
        next_url = None
    sequence = [_comparable(hop.url) for hop in chain]
    shown = [hop.url for hop in chain]
    if next_url is not None:
        sequence.append(_comparable(next_url))
        shown.append(next_url)
    cycle: tuple[str, ...] = ()
    if not complete:
        first_seen: dict[tuple[str, str], int] = {}
        for index in range(len(sequence) - 1):
            edge = (sequence[index], sequence[index + 1])
            if edge in first_seen:
                cycle = tuple(shown[first_seen[edge] : index + 1])
                break
            first_seen[edge] = index
    return RedirectChain(
        hops=chain,
        next_url=next_url,
        loop=bool(cycle),
        too_long=redirects > max_hops,
        cycle=cycle,
        max_hops=max_hops,
    )


def with_redirect_context(verdict: Verdict, chain: RedirectChain) -> Verdict:
    """``verdict`` for the end of a redirect chain, its reason saying where it went.

    A destination answering 404/410 keeps ``page_gone`` ("redirects to X, which
    answers HTTP 404"): there is no page. A verdict from :func:`classify_backlink`
    already speaks of the redirect and is returned as it is.
    """
    if not chain.redirects or verdict.status in (Status.REDIRECTED,) or chain.final_url is None:
        return verdict
    if verdict.status in (Status.PAGE_GONE, Status.BLOCKED, Status.ERROR):
        reason = f"redirects to {chain.final_url}, which answers {verdict.reason}"
        if not verdict.reason.startswith("HTTP"):
            reason = f"redirects to {chain.final_url}: {verdict.reason}"
        extra = {**verdict.extra, "final_url": chain.final_url}
        return Verdict(verdict.status, reason, verdict.anchor_text, verdict.rel, extra)
    return verdict
