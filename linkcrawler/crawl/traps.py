"""Bounds that keep calendars, faceted filters and relative-link loops from trapping a site crawl."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class TrapLimits:
    """Bounds that keep calendars, faceted filters and relative-link loops from trapping a crawl.

    A limit of 0 is no limit.
    """

    max_depth: int = 10
    max_url_length: int = 2000
    max_query_variants: int = 100
    max_segment_repeats: int = 3
    deny: tuple[str, ...] = ()


class TrapGuard:
    """Decides which newly found internal URLs are crawled (:meth:`admit`)."""

    def __init__(self, limits: TrapLimits = TrapLimits()) -> None:
        self.limits = limits
        self._deny = [re.compile(pattern) for pattern in limits.deny]
        self._variants: Counter[str] = Counter()

    def refusal(self, url: str, depth: int) -> str | None:
        """Why ``url`` found at ``depth`` is not crawled, or ``None``; counts it when admitted.

        Reasons: ``depth``, ``url_length``, ``deny``, ``repeated_segments``, ``query_variants``.
        """
        limits = self.limits
        if limits.max_depth and depth > limits.max_depth:
            return "depth"
        if limits.max_url_length and len(url) > limits.max_url_length:
            return "url_length"
        if any(pattern.search(url) for pattern in self._deny):
            return "deny"
        path, _, query = url.partition("?")
        if limits.max_segment_repeats and path.count("/") > limits.max_segment_repeats + 3:
            segments = [s for s in path.split("/")[3:] if s]
            if segments and Counter(segments).most_common(1)[0][1] > limits.max_segment_repeats:
                return "repeated_segments"
        if query and limits.max_query_variants:
            if self._variants[path] >= limits.max_query_variants:
                return "query_variants"
            self._variants[path] += 1
        return None



