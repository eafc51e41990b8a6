"""Where a URL appears on a page without being a crawlable link (scripts, handlers,
comments, plain text): the hint behind a ``removed`` verdict's reason.

Not to be confused with brand mentions (a brand's *name* in a page's main text, and
whether it links to us): :mod:`linkcrawler.mentions`, over :mod:`linkcrawler.web.content`.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from linkcrawler.web.links import HIDDEN_RE, TAG_RE

__all__ = ["SEEN_IN_PHRASES", "mention_pattern", "page_texts"]

#: Where a URL can appear on a page without being a crawlable link, in the order
#: reasons list them, with the words a reason uses.
SEEN_IN_PHRASES: dict[str, str] = {
    "javascript_url": "as a javascript: URL",
    "handler": "in an onclick handler",
    "script": "in a script",
    "comment": "in an HTML comment",
    "text": "as plain text",
}


def page_texts(root: Any, source: str, parsed_fully: bool) -> dict[str, str]:
    """The ``script``, ``handler``, ``comment`` and ``visible`` texts of a parsed page.

    ``root`` is modified (scripts, styles and comments are stripped). When libxml2
    stopped early the visible text is read from the ``source`` instead.
    """
    texts: dict[str, str] = {}
    if root is not None:
        texts["script"] = "\n".join(
            s.text for s in root.iter("script") if s.text and s.text.strip()
        )
        texts["handler"] = "\n".join(root.xpath("//@*[starts-with(name(), 'on')]"))
        texts["comment"] = "\n".join(c.text or "" for c in root.iter(etree.Comment))
        etree.strip_elements(root, "script", "style", etree.Comment, with_tail=False)
        body = root.find("body")
        texts["visible"] = "".join((body if body is not None else root).itertext())
    if not parsed_fully:
        # The tree stops where libxml2 gave up; the source goes on.
        texts["visible"] = html.unescape(TAG_RE.sub(" ", HIDDEN_RE.sub(" ", source)))
    return texts


@lru_cache(maxsize=4096)
def mention_pattern(target: str) -> re.Pattern[str]:
    parts = urlsplit(target)
    host = parts.hostname or ""
    if host.startswith("www."):
        host = host[4:]
    port = r"(?::(?:80|443))?" if parts.port is None else f":{parts.port}"
    slash = r"\\?/"

    def path_pattern(path: str) -> str:
        return slash.join(re.escape(segment) for segment in path.split("/"))

    path = parts.path or "/"
    if path == "/" and not parts.query:
        path_re = f"(?:{slash})?"
    else:
        spellings = dict.fromkeys([path, unquote(path)])
        path_re = "(?:" + "|".join(path_pattern(p) for p in spellings) + ")"
        if parts.query:
            path_re += r"\?" + re.escape(parts.query)
    return re.compile(
        r"(?<![\w.@-])(?:https?:)?(?:\\?/\\?/)?(?:www\.)?"
        + re.escape(host)
        + port
        + path_re
        # Not followed by more of a URL: "/page" must not match "/page/2" or "/pages".
        + r"(?![\w%~+=&/-]|\.\w|\\/|\?)",
        re.IGNORECASE,
    )
