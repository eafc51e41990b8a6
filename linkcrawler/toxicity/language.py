"""The language a page is written in, by py3langid.

py3langid is langid.py (Lui & Baldwin, 97 languages) with its model shipped
inside the wheel and a numpy classifier: nothing is downloaded at run time, and a
sample of a page's prose (500 characters) is classified in about half a millisecond. The
model is loaded once per process, on first use (about a second, and 115 MB of
memory): the audit identifies languages, not the crawl.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: Characters of a page's text that are classified: enough for a confident answer
#: (langid.py was built for texts as short as a tweet); its cost grows with the length
#: (a pure-Python loop per byte: about 0.5 ms for this many).
SAMPLE_CHARS = 500
#: Lines of text shorter than this (menus, buttons, footers) are left out of the sample
#: when the page has longer ones: a German article under an English menu is German.
PROSE_LINE_CHARS = 40


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def prose_sample(text: str, size: int = SAMPLE_CHARS) -> str:
    """Up to ``size`` characters of the page's prose: its long lines first, in document order."""
    picked: list[str] = []
    length = 0
    for line in text.splitlines():
        line = " ".join(line.split())
        if len(line) >= PROSE_LINE_CHARS:
            picked.append(line)
            length += len(line) + 1
            if length >= size:
                break
    if not picked:
        return " ".join(text[: size * 4].split())[:size]
    return " ".join(picked)[:size]


def detect_language(text: str) -> tuple[str | None, float]:
    """``(ISO 639-1 code, probability 0-1)`` of ``text``; ``(None, 0.0)`` when there is no text."""
    sample = prose_sample(text)
    if not sample:
        return None, 0.0
    language, probability = _identifier().classify(sample)
    return str(language), round(float(probability), 3)
