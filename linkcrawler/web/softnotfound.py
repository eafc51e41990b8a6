"""Soft 404s: pages that answer 200 but say "not found".

One detector for every capability: the backlink checker asks it about a linking
page that lost its link (a soft 404 is ``page_gone``, not ``removed``), and the
prospects capability can ask it about a dead outbound link.

Two kinds of evidence, each enough alone, each meant to keep false positives
near zero:

- **What the page says** (:func:`says_not_found`): its ``<title>`` (each part
  between separators such as ``|`` or ``-``) or one of its ``<h1>`` *is* a
  not-found message ("Page not found", "404", "Seite nicht gefunden", "ページが見つ
  かりません"...), in full, not merely containing one: "How to fix a 404 Page Not
  Found error" is an article. The body counts only when the page is short (at
  most :data:`SHORT_PAGE_WORDS` words) and says that a *page* cannot be found: an
  article that mentions "not found" says nothing about itself.
- **What the site answers for a URL that cannot exist** (:func:`same_template`):
  sites that answer 200 for every unknown URL show one template. The caller
  fetches ``<origin>/<random>-linkcrawler-probe`` once per host (:func:`probe_url`),
  keeps its :func:`fingerprint`, and a page whose title is the same and whose text
  is nearly the same (word shingles, :data:`TEMPLATE_SIMILARITY`) is that template.
  A site's root page is never judged by template: some sites answer their home
  page for every URL, and the home page is then a real page. Nor is a template
  of fewer than :data:`MIN_TEMPLATE_WORDS` words: an app shell that builds every
  page with script looks the same at every URL, real or not.

Whether the link is on the page is the caller's part: a page that still carries
the link is never a soft 404.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from linkcrawler.web.page import PageAnalysis, parse_html
from linkcrawler.web.text import squash

__all__ = [
    "MIN_TEMPLATE_WORDS",
    "SHORT_PAGE_WORDS",
    "TEMPLATE_SIMILARITY",
    "PageFingerprint",
    "fingerprint",
    "needs_probe",
    "probe_url",
    "same_template",
    "says_not_found",
    "similarity",
    "soft_404_signals",
]

#: A body's own words count as evidence only on a page this short (in words).
SHORT_PAGE_WORDS = 80
#: A template with less text than this (in words) is not compared: an app shell looks the same everywhere.
MIN_TEMPLATE_WORDS = 20
#: Word-shingle (Jaccard) similarity from which two texts are one template.
TEMPLATE_SIMILARITY = 0.8
_SHINGLE = 4
_MAX_SHINGLE_WORDS = 5_000

# Words around a not-found message that change nothing: "Oops! 404 error - page not found".
_FILLER = (
    r"(?:oops|whoops|ops|uh oh|sorry|error|http|404|fehler|hoppla|erreur|désolé|desole|errore|"
    r"ups|erro|lo sentimos|ошибка|упс|błąd|blad|hata|fout|oeps)"
)
# Each a whole message, matched in full against a normalized title part or heading.
_MESSAGES = [
    # English
    r"(?:(?:the|this|that|requested)\s)?(?:page|file|document|url|resource|content|post|article)?\s?"
    r"(?:you (?:are|were|re) looking for\s|you requested\s|requested\s)?"
    r"(?:was\s|is\s|could\s|can\s)?(?:not|nt|cannot|cant|couldnt|doesnt|does not|no longer)\s"
    r"(?:be\s)?(?:found|exists?)(?:\shere)?",
    r"nothing (?:was\s)?found(?: here)?",
    r"(?:we )?(?:cant|cannot|couldnt|could not) find (?:that|this|the) page",
    # German
    r"(?:die\s)?seite (?:wurde\s|konnte\s)?nicht gefunden(?: werden)?",
    r"(?:diese\s|die\s)?seite existiert nicht(?: mehr)?",
    # French
    r"(?:la\s)?page (?:introuvable|non trouvée|non trouvee|est introuvable)",
    r"(?:cette\s|la\s)?page n ?existe (?:pas|plus)",
    # Spanish, Portuguese, Italian
    r"(?:la\s)?p[aá]gina no (?:encontrada|existe)",
    r"no se (?:ha\s)?(?:encontr[oó]|pudo encontrar) (?:la\s)?p[aá]gina",
    r"(?:a\s)?p[aá]gina n[aã]o (?:encontrada|existe|foi encontrada)",
    r"(?:la\s)?pagina non (?:trovata|esiste)",
    # Dutch, Scandinavian, Polish, Turkish, Russian
    r"(?:de\s|deze\s)?pagina (?:niet gevonden|bestaat niet(?: meer)?|is niet gevonden)",
    r"sidan (?:kunde inte hittas|hittades inte|finns inte)",
    r"siden (?:blev ikke fundet|findes ikke|ble ikke funnet|finnes ikke)",
    r"(?:nie znaleziono strony|strona nie (?:została znaleziona|zostala znaleziona|istnieje))",
    r"sayfa bulunamad[ıi]",
    r"страница не (?:найдена|существует)",
    # Japanese, Chinese, Korean (no spaces to normalize)
    r"(?:お探しの)?ページ(?:が|は)見つかりません(?:でした)?",
    r"(?:页面|頁面|网页|網頁)(?:不存在|未找到|找不到)",
    r"找不到(?:页面|頁面|网页|網頁|该页面|該頁面)",
    r"페이지를 찾을 수 없습니다",
]
_MESSAGE_RE = re.compile("|".join(_MESSAGES), re.IGNORECASE)
_PIECE = rf"(?:{_FILLER}|{'|'.join(_MESSAGES)})"
_HEADING_RE = re.compile(rf"{_PIECE}(?:\s{_PIECE})*", re.IGNORECASE)
# In a short body: a sentence that says a page (not any thing) cannot be found.
_BODY_RE = re.compile(
    r"\b(?:page|seite|pagina|página|страница|sidan|strona)\b[^.!?\n]{0,60}?"
    r"(?:\bnot\b|n't|\bcannot\b|\bno longer\b|\bnicht\b|\bnon\b|\bno\b|\bне\b|\binte\b|\bnie\b)"
    r"[^.!?\n]{0,20}?\b(?:found|exists?|gefunden|existiert|trovata|encontrada|найдена|hittas|znaleziona)\b",
    re.IGNORECASE,
)
_TITLE_SEPARATORS_RE = re.compile(r"\s+[|\-–—:·•»«/]\s+|\s*[|–—·•»«]\s*")
_PUNCTUATION_RE = re.compile(r"[^\w\s]|_", re.UNICODE)


def _normalized(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "").replace("'", "")
    return " ".join(_PUNCTUATION_RE.sub(" ", text).split())


def _is_message(text: str) -> bool:
    """Whether ``text`` is, in full, a not-found message (fillers such as "Oops! 404" allowed)."""
    normalized = _normalized(text)
    if not normalized or len(normalized) > 120 or _HEADING_RE.fullmatch(normalized) is None:
        return False
    # Fillers alone ("Oops!", "Error") say nothing; "404" alone does.
    return "404" in normalized.split() or _MESSAGE_RE.search(normalized) is not None


def _headings(page: PageAnalysis) -> list[str]:
    if not page.is_html or not page.source_text:
        return []
    root = parse_html(page.source_text)[0]
    if root is None:
        return []
    return [squash("".join(h1.itertext()), 200) for h1 in root.iter("h1")][:5]


def says_not_found(page: PageAnalysis) -> str | None:
    """Why the page's own words make it a "not found" page, or ``None``."""
    title = page.title or ""
    for part in [title, *_TITLE_SEPARATORS_RE.split(title)]:
        if part.strip() and _is_message(part):
            return f"title says {squash(title, 100)!r}"
    for heading in _headings(page):
        if _is_message(heading):
            return f"heading says {heading[:100]!r}"
    text = page.visible_text if page.is_html else ""
    words = text.split()
    if words and len(words) <= SHORT_PAGE_WORDS:
        found = _BODY_RE.search(" ".join(words))
        if found:
            return f"short page says {squash(found.group(0), 100)!r}"
    return None


# --- the site's answer for a URL that cannot exist --------------------------------


def probe_url(page_url: str, token: str | None = None) -> str:
    """A URL of ``page_url``'s site that cannot exist: ``<origin>/<random>-linkcrawler-probe``."""
    parts = urlsplit(page_url)
    return f"{parts.scheme}://{parts.netloc}/{token or secrets.token_hex(8)}-linkcrawler-probe"


@dataclass(frozen=True)
class PageFingerprint:
    """What :func:`same_template` compares: a page's title, its text's shingles and length."""

    url: str
    title: str
    shingles: frozenset[int]
    words: int


def fingerprint(page: PageAnalysis) -> PageFingerprint:
    """The fingerprint of a page (the answer to :func:`probe_url`, typically)."""
    words = _normalized(page.visible_text).split()[:_MAX_SHINGLE_WORDS]
    return PageFingerprint(page.url, _normalized(page.title), _shingles(words), len(words))


def _shingles(words: list[str]) -> frozenset[int]:
    if len(words) < _SHINGLE:
        return frozenset({hash(" ".join(words))}) if words else frozenset()
    return frozenset(hash(" ".join(words[i : i + _SHINGLE])) for i in range(len(words) - _SHINGLE + 1))


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two :attr:`PageFingerprint.shingles` sets, 0..1."""
    return _similarity(a, b)


def _similarity(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def same_template(page: PageAnalysis, not_found: PageFingerprint | None) -> str | None:
    """Why ``page`` is the site's answer to a URL that cannot exist, or ``None``.

    ``not_found`` is the :func:`fingerprint` of the site's 2xx answer to
    :func:`probe_url` (``None`` when the site answered 404, or was not asked).
    The titles must be the same and the texts nearly the same; a site's root page
    is never judged so (see the module docstring).
    """
    if not_found is None or not page.is_html or urlsplit(page.url).path in ("", "/"):
        return None
    if not_found.words < MIN_TEMPLATE_WORDS:
        return None
    mine = fingerprint(page)
    if mine.title != not_found.title:
        return None
    similarity = _similarity(mine.shingles, not_found.shingles)
    if similarity < TEMPLATE_SIMILARITY:
        return None
    return (
        f"same page as the site answers for a URL that cannot exist ({not_found.url}): "
        f"title {page.title[:100]!r}, {similarity:.0%} of the text alike"
    )


def needs_probe(page: PageAnalysis) -> bool:
    """Whether judging ``page`` (which lacks the link) needs the site's answer for a URL that cannot exist.

    Not when its own words settle it, nor for what :func:`same_template` never
    judges (root pages, non-HTML, bot challenges).
    """
    if not page.is_html or page.challenge or urlsplit(page.url).path in ("", "/"):
        return False
    return says_not_found(page) is None


def soft_404_signals(page: PageAnalysis, not_found: PageFingerprint | None = None) -> str | None:
    """Why ``page``, which answered 2xx, is a soft 404 ("not found" in 200 clothing), or ``None``.

    Its own words first (:func:`says_not_found`), then the site's template for
    unknown URLs when its fingerprint is given (:func:`same_template`). The
    caller checks first that the page does not carry the link it looks for.
    """
    if page.challenge or not page.is_html:
        return None
    return says_not_found(page) or same_template(page, not_found)
