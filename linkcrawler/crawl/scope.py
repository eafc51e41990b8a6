"""Which URLs belong to the crawled site, and which query parameters make one page look like many."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

from linkcrawler import defaults
from linkcrawler.web.urls import normalize_url

#: Query parameters removed from every URL (session ids and click trackers make one
#: page look like many). ``fnmatch`` patterns, matched case-insensitively.
SESSION_PARAMS: tuple[str, ...] = tuple(defaults.LINKCRAWLER_AUDIT_STRIP_PARAMS)
_PATH_SESSION_RE = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)


class ParamStripper:
    """Removes session-id and tracking parameters from normalized URLs."""

    def __init__(self, patterns: Iterable[str] = SESSION_PARAMS) -> None:
        self.patterns = tuple(p.strip().lower() for p in patterns if p.strip())
        self._regex = re.compile(
            "|".join(fnmatch.translate(p) for p in self.patterns) or r"(?!)", re.IGNORECASE
        )

    def __call__(self, url: str) -> str:
        if "?" not in url and ";" not in url:
            return url
        parts = urlsplit(url)
        path = _PATH_SESSION_RE.sub("", parts.path) if ";" in parts.path else parts.path
        query = parts.query
        if query:
            kept = [pair for pair in query.split("&") if not self._regex.match(unquote(pair.split("=", 1)[0]))]
            query = "&".join(kept)
        if path == parts.path and query == parts.query:
            return url
        return urlunsplit((parts.scheme, parts.netloc, path, query, ""))





class SiteScope:
    """Which URLs are the audited site's: the start URL's host (and its ``www.`` twin), any scheme."""

    def __init__(self, start_url: str, extra_hosts: Iterable[str] = ()) -> None:
        parts = urlsplit(normalize_url(start_url))
        self.site = parts.netloc
        hosts = {parts.netloc, *(h.strip().lower() for h in extra_hosts if h.strip())}
        for host in list(hosts):
            hosts.add(host[4:] if host.startswith("www.") else f"www.{host}")
        self.hosts = frozenset(hosts)
        self._prefixes = tuple(f"{scheme}://{host}/" for host in sorted(hosts) for scheme in ("http", "https"))

    def is_internal(self, url: str) -> bool:
        """For normalized URLs (``scheme://host[:port]/...``)."""
        return url.startswith(self._prefixes)




