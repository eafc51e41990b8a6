"""Finding brand terms in a page's main text as a reader reads them.

A term matches whatever the case, accents and punctuation ("Acme" matches
"ACME's", "Acmé", "acme," and "Acme-Corp"), on word boundaries (not
"Acmeville", not "megaacme"), and a term of several words matches across line
breaks, inline tags and punctuation between its words ("Acme Corp" matches
"ACME\\ncorp" and "Acme-Corp"). URLs and e-mail addresses written in the text
are not read ("acme" in ``https://acme.example/``). Exclusions are context
words of a homonym: an occurrence whose sentence holds one of them is not a
mention ("Apple" with ``exclude=pie,orchard``).

The text searched is :func:`linkcrawler.web.content.main_content`'s blocks
(boilerplate removed), so navigation, footers, scripts, styles, comments and
``alt`` attributes never reach it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from linkcrawler.web.content import Block
from linkcrawler.web.text import squash

__all__ = ["BrandTerms", "Occurrence", "TermMatch", "find_mentions", "fold", "folded"]

#: Longest sentence kept as a mention's context.
MAX_CONTEXT_CHARS = 400
#: Longest term (characters): a longer one is certainly a mistake.
MAX_TERM_CHARS = 200

_URL_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"[.!?…。！？]+[\"'”’»)\]]*\s+")


class _FoldTable(dict[int, str]):
    """``str.translate`` table: each character to its folded letters and digits, or a space."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char.isascii():
            value = char.lower() if char.isalnum() else " "
        else:
            decomposed = unicodedata.normalize("NFKD", char.casefold())
            value = "".join((c if c.isalnum() else " ") for c in decomposed if not unicodedata.combining(c))
        self[code] = value
        return value


_FOLD = _FoldTable()
_SPACES_RE = re.compile(r" {2,}")


def folded(text: str) -> str:
    """``text`` case-folded, without accents, each run of other characters one space.

    How terms, words and texts are compared; :func:`fold` gives the same text with
    where each character comes from (slower: only for the texts that match).
    """
    return _SPACES_RE.sub(" ", text.translate(_FOLD)).strip(" ")


def fold(text: str) -> tuple[str, list[int]]:
    """:func:`folded` ``text``, and where each character of the result comes from in ``text``.

    Only letters and digits survive; any run of other characters (spaces,
    punctuation, line breaks, symbols) is one space.
    """
    out: list[str] = []
    where: list[int] = []
    space = True  # no leading space
    for index, char in enumerate(text):
        for piece in _FOLD[ord(char)]:
            if piece != " ":
                out.append(piece)
                where.append(index)
                space = False
            elif not space:
                out.append(" ")
                where.append(index)
                space = True
    if out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


@lru_cache(maxsize=1024)
def _word_pattern(words: str) -> re.Pattern[str]:
    return re.compile(r"(?<![^ ])" + re.escape(words) + r"(?![^ ])")


@dataclass(frozen=True, slots=True)
class BrandTerms:
    """The configured brand terms and the context words that exclude an occurrence."""

    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, terms: str | Iterable[str], exclude: str | Iterable[str] = ()) -> BrandTerms:
        """Terms from a comma-separated value (or a list); ``ValueError`` when none is usable."""
        chosen = _split(terms)
        for term in chosen:
            if len(term) > MAX_TERM_CHARS:
                raise ValueError(f"brand term longer than {MAX_TERM_CHARS} characters: {term[:40]!r}...")
            if not folded(term):
                raise ValueError(f"brand term {term!r} has no letter or digit")
        if not chosen:
            raise ValueError("no brand term given")
        # Two spellings that fold the same are one term (the first one given).
        unique = {folded(term): term for term in reversed(chosen)}
        ordered = tuple(term for term in chosen if unique[folded(term)] is term)
        return cls(ordered, tuple(word for word in _split(exclude) if folded(word)))


def _split(value: str | Iterable[str]) -> list[str]:
    parts = value.split(",") if isinstance(value, str) else list(value)
    return [squash(part) for part in parts if squash(part)]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One place a term appears: the block, the text as written, and its sentence."""

    block: Block
    matched_text: str
    sentence: str


@dataclass(frozen=True, slots=True)
class TermMatch:
    """What a page says about one term: how often, where, and the first sentence naming it."""

    term: str
    matched_text: str
    context: str
    count: int
    occurrences: tuple[Occurrence, ...] = field(default=(), repr=False)
    prominence: tuple[str, ...] = ()
    """Where the term appears prominently: ``title``, ``heading``, ``first_paragraph``."""


def find_mentions(blocks: Sequence[Block], terms: BrandTerms, title: str = "") -> dict[str, TermMatch]:
    """``{term: TermMatch}`` for each term the blocks (and ``title``) mention; others are absent.

    ``title`` is the page's title; it counts once unless the main text opens
    with the same heading.
    """
    searched = list(blocks)
    title_text = squash(title)
    if title_text and not any(
        block.kind == "heading" and folded(block.text) == folded(title_text) for block in blocks[:3]
    ):
        searched.insert(0, Block("title", title_text))
    first_paragraph = next((i for i, block in enumerate(searched) if block.kind == "paragraph"), None)
    excluded = [_word_pattern(folded(word)) for word in terms.exclude]
    patterns = [(term, _word_pattern(folded(term))) for term in terms.terms]

    found: dict[str, list[Occurrence]] = {}
    places: dict[str, set[str]] = {}
    for index, block in enumerate(searched):
        text = _URL_RE.sub(lambda m: " " * len(m.group()), block.text)
        quick = folded(text)
        if not any(pattern.search(quick) for _, pattern in patterns):
            continue  # most blocks: no term, no need for the character map
        folded_text, where = fold(text)
        for term, pattern in patterns:
            for match in pattern.finditer(folded_text):
                start, end = where[match.start()], where[match.end() - 1] + 1
                sentence = _sentence(block.text, start, end)
                if excluded and any(p.search(folded(sentence)) for p in excluded):
                    continue
                found.setdefault(term, []).append(Occurrence(block, squash(block.text[start:end]), sentence))
                if block.kind == "title":
                    places.setdefault(term, set()).add("title")
                elif block.kind == "heading":
                    places.setdefault(term, set()).add("heading")
                elif index == first_paragraph:
                    places.setdefault(term, set()).add("first_paragraph")
    result = {}
    for term, occurrences in found.items():
        # The context a person reads first: the first occurrence in the text itself, not the title.
        shown = next((o for o in occurrences if o.block.kind != "title"), occurrences[0])
        prominence = tuple(p for p in ("title", "heading", "first_paragraph") if p in places.get(term, ()))
        result[term] = TermMatch(term, shown.matched_text, shown.sentence, len(occurrences),
                                 tuple(occurrences), prominence)
    return result


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` around ``[start, end)``, squashed and capped around the match."""
    begin, finish = 0, len(text)
    for boundary in _SENTENCE_END_RE.finditer(text):
        if boundary.end() <= start:
            begin = boundary.end()
        elif boundary.start() >= end:
            finish = boundary.start() + len(boundary.group().rstrip())
            break
    sentence = text[begin:finish]
    if len(sentence) > MAX_CONTEXT_CHARS:
        middle = (start + end) // 2 - begin
        left = max(0, min(middle - MAX_CONTEXT_CHARS // 2, len(sentence) - MAX_CONTEXT_CHARS))
        sentence = "…" + sentence[left:left + MAX_CONTEXT_CHARS] + "…"
    return squash(sentence)

