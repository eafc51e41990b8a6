"""The documented lists the toxic audit matches against: poison words and abused TLDs.

Both are data, kept here so a reader can see exactly what fires a signal (and a
fork can change them). Matching is case-insensitive on word boundaries, so
``casino`` does not fire on ``casinos``'s neighbour ``occasion`` and ``pills``
does not fire on ``spills``.
"""

from __future__ import annotations

#: Words and phrases of the spam trades that buy links, by trade. A page fires the
#: ``poison_words`` signal when they are frequent (see :data:`..signals.THRESHOLDS`),
#: not on one mention: a news article about casino regulation says "casino" too.
POISON_WORDS: dict[str, tuple[str, ...]] = {
    "gambling": (
        "casino", "casinos", "online casino", "slots", "slot machines", "roulette", "blackjack",
        "poker online", "sportsbook", "betting odds", "jackpot", "free spins", "no deposit bonus",
    ),
    "pharma": (
        "viagra", "cialis", "levitra", "pills", "online pharmacy", "no prescription",
        "without prescription", "xanax", "tramadol", "phentermine", "diet pills",
    ),
    "loans": (
        "payday loan", "payday loans", "cash advance", "bad credit loans", "instant loan",
        "quick loans",
    ),
    "adult": ("porn", "xxx", "escort", "escorts", "adult dating", "sex cams", "nude", "webcam girls"),
    "counterfeit": (
        "counterfeit", "replica watches", "replica handbags", "fake rolex", "cheap replica",
    ),
    "link selling": ("buy backlinks", "cheap backlinks", "seo backlinks", "guest post service", "pbn links"),
}

#: Top-level domains that public abuse reports (Spamhaus' "most abused TLDs",
#: Interisle's phishing and cybercrime landscape studies, 2022-2024) rank among
#: the most abused for spam and link schemes: cheap or free registrations. A
#: domain under one is not bad by itself: the signal weighs little alone.
ABUSED_TLDS: frozenset[str] = frozenset({
    "tk", "ml", "ga", "cf", "gq", "xyz", "top", "icu", "buzz", "click", "link", "work", "loan",
    "win", "bid", "stream", "download", "racing", "review", "date", "faith", "accountant",
    "cricket", "science", "party", "gdn", "men", "kim", "country", "pw", "rest", "fit", "cam",
    "monster", "cyou", "sbs", "cfd", "quest", "bar", "casa", "surf", "online", "site", "club",
})
