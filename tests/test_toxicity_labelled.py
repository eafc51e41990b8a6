"""Precision and recall of the ``toxic`` verdict on a generated, labelled set of linking pages.

The pages go through what the backlinks spider runs on a fetched page
(:func:`~linkcrawler.web.page.analyze_page`, then :func:`~linkcrawler.toxicity.page.page_facts`),
then the same roll-up the audit runs (subnets, anchor profile, :func:`assess_domain`).
"""

from __future__ import annotations

from collections import Counter

from linkcrawler.toxicity.network import networks
from linkcrawler.toxicity.page import identify_language, page_facts
from linkcrawler.toxicity.score import anchor_profile, assess_domain
from linkcrawler.toxicity.signals import Rules
from linkcrawler.web.page import analyze_page
from tests.toxicity_corpus import MONEY_TERMS, TARGETS, build_corpus


def precision_recall(predicted: list[bool], labels: list[bool]) -> tuple[float, float]:
    true_positive = sum(p and truth for p, truth in zip(predicted, labels, strict=True))
    return true_positive / max(sum(predicted), 1), true_positive / max(sum(labels), 1)


def test_precision_and_recall_of_toxic_on_a_labelled_set() -> None:
    corpus = build_corpus()
    assert len(corpus) >= 200 and sum(s.label for s in corpus) >= 80
    rules = Rules.build(money_terms=MONEY_TERMS, languages=["en"])
    pages = {}
    for sample in corpus:
        for url, html in sample.pages.items():
            page = analyze_page(url, html.encode(), {"Content-Type": "text/html; charset=utf-8"}, targets=TARGETS)
            pages[url] = page_facts(url, page, TARGETS)
            identify_language(pages[url])
    profile = anchor_profile((link.anchor_text for s in corpus for link in s.links), rules)
    shared = networks({sample.domain: [sample.address] for sample in corpus})
    results = {s.domain: assess_domain(s.domain, s.links, pages, rules, profile, shared.get(s.domain)) for s in corpus}

    labels = [s.label for s in corpus]
    predicted = [results[s.domain].verdict == "toxic" for s in corpus]
    precision, recall = precision_recall(predicted, labels)
    by_kind: dict[str, Counter[str]] = {}
    for sample in corpus:
        by_kind.setdefault(f"{'toxic' if sample.label else 'benign'} {sample.kind}", Counter())[
            results[sample.domain].verdict] += 1
    print(f"\nlabelled set: {len(corpus)} linking domains ({sum(labels)} toxic), anchor share {profile.share:.0%}")
    for kind, verdicts in sorted(by_kind.items()):
        print(f"  {kind:<28} {dict(sorted(verdicts.items()))}")
    print(f"toxic verdict: precision {precision:.3f}, recall {recall:.3f}")
    # No single signal separates the set: each alone is worse than the roll-up.
    for name in rules.weights:
        alone = [any(sig.name == name for sig in results[s.domain].signals) for s in corpus]
        signal_precision, signal_recall = precision_recall(alone, labels)
        print(f"  signal {name:<26} alone: precision {signal_precision:.2f}, recall {signal_recall:.2f}")
        assert not (signal_precision >= 0.9 and signal_recall >= 0.5), name
    # Measured: precision 0.967 (the 3 false positives are responsive menus hiding a copy of a
    # visible link), recall 0.888 (spam pages on .com with a brand anchor, one network domain
    # with a brand anchor, stay at "review").
    assert precision >= 0.95
    assert recall >= 0.85
