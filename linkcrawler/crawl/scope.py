"""Which URLs belong to the crawled site, and which query parameters make one page look like many."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from w3lib.url import url_query_cleaner

from linkcrawler import defaults
from linkcrawler.web.urls import normalize_url

#: Query parameters removed from every URL (session ids and click trackers make one
#: page look like many). ``fnmatch`` patterns, matched case-insensitively.
SESSION_PARAMS: tuple[str, ...] = tuple(defaults.LINKCRAWLER_AUDIT_STRIP_PARAMS)
_PATH_SESSION_RE = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)


class ParamStripper:
    """Removes session-id and tracking parameters from normalized URLs.

    ``w3lib.url.url_query_cleaner`` removes the parameters; the ``fnmatch``
    wildcards (``utm_*``, ``aspsessionid*``) are first expanded into the names
    this URL carries, matched percent-decoded and case-insensitively. Session ids
    in the path (``;jsessionid=``) are beyond it and removed here.
    """

    def __init__(self, patterns: Iterable[str] = SESSION_PARAMS) -> None:
        self.patterns = tuple(p.strip().lower() for p in patterns if p.strip())
        self._regex = re.compile(
            "|".join(fnmatch.translate(p) for p in self.patterns) or r"(?!)", re.IGNORECASE
        )

    def __call__(self, url: str) -> str:
        if "?" not in url and ";" not in url:
            return url
        head, _, query = url.partition("?")
        if ";" in head:
            head = _PATH_SESSION_RE.sub("", head)
        names = {pair.partition("=")[0] for pair in query.split("&")} if query else ()
        removed = [name for name in names if self._regex.match(unquote(name))]
        if not removed:
            return f"{head}?{query}" if query else head
        # unique=False: "?a=1&a=2" is another page than "?a=1".
        return url_query_cleaner(f"{head}?{query}", removed, remove=True, unique=False)


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




