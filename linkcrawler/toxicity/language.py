"""The language a page is written in, by py3langid.

py3langid is langid.py (Lui & Baldwin, 97 languages) with its model shipped
inside the wheel and a numpy classifier: nothing is downloaded at run time, and a
page's first few thousand characters are classified in about a millisecond. The
model is loaded once per process, on first use (about a second).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: Characters of a page's text that are classified: enough for a confident answer.
SAMPLE_CHARS = 4000


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """``(ISO 639-1 code, probability 0-1)`` of ``text``; ``(None, 0.0)`` when there is no text."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if not sample:
        return None, 0.0
    language, probability = _identifier().classify(sample)
    return str(language), round(float(probability), 3)
