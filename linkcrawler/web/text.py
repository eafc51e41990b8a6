"""Third-party text (URLs, titles, anchors, exception messages) made safe to log and to store.

Two uses, two functions, one definition each:

- :func:`printable` for log lines and terminal output: control characters are
  *escaped* (``\\n`` becomes the two characters ``\\n``), so a hostile URL or
  title can neither forge a log line nor hide what it was;
- :func:`squash` for text stored in documents and shown as a reason: control
  characters and whitespace runs become one space, and the result is capped.
"""

from __future__ import annotations

import re

__all__ = ["printable", "squash"]

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with control characters escaped, so it cannot forge a log line."""
    return _CONTROL_CHARS.sub(lambda m: ascii(m.group())[1:-1], text)


def squash(text: str, limit: int | None = None) -> str:
    """Whitespace runs and control characters to one space, stripped, at most ``limit`` characters."""
    if not text.isprintable():
        text = _CONTROL_CHARS.sub(" ", text)
    text = " ".join(text.split())
    return text if limit is None else text[:limit]
