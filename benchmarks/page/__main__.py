"""Micro-benchmark of :func:`~linkcrawler.web.page.analyze_page` on realistic pages.

``python -m benchmarks.page [--calls 1000]`` prints, for a 15 KB article page (60
links), a 96 KB link-heavy page (about 700 links, inline scripts and JSON-LD) and
table-of-contents pages of 14,000 and 60,000 links: the time per call and the peak
memory one call allocates (tracemalloc). The pages are generated, deterministic.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from linkcrawler.web.page import analyze_page

URL = "https://blog.example.org/2024/05/some-article.html"
HEADERS = {"Content-Type": "text/html; charset=utf-8", "X-Robots-Tag": "max-snippet: 50"}
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua crème brûlée").split()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def page(kb: int, links: int, seed: int = 1) -> bytes:
    """An HTML page of about ``kb`` KB with ``links`` links (nav, body, footer)."""
    rng = random.Random(seed)
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Some article | Blog</title>'
        '<meta name="viewport" content="width=device-width"><meta name="robots" content="index, follow">'
        f'<link rel="canonical" href="{URL}"><link rel="stylesheet" href="/static/site.css">'
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Article",'
        '"url":"https:\\/\\/blog.example.org\\/2024\\/05\\/some-article.html"}</script>'
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script>"
        "</head><body>"
    )
    parts = [head, '<nav class="menu"><ul>']
    for i in range(links):
        kind = i % 5
        if kind == 0:
            href = f"/category/{i}/"
        elif kind == 1:
            href = f"https://other{i % 37}.example.com/path/{i}?ref=blog"
        elif kind == 2:
            href = f"../related-{i}.html"
        elif kind == 3:
            href = f"https://blog.example.org/tag/{rng.choice(WORDS)}-{i}"
        else:
            href = f"//cdn.example.net/{i}.html"
        rel = ' rel="nofollow noopener"' if i % 7 == 0 else ""
        parts.append(f'<li><a href="{href}"{rel} class="l{i % 3}">{_sentence(rng, 3)}</a></li>')
        if i % 6 == 5:
            parts.append(f"</ul><p>{_sentence(rng, 40)}</p><ul>")
    parts.append("</ul></nav><main><article>")
    size = sum(len(p) for p in parts)
    while size < kb * 1024 - 300:
        chunk = f'<p class="para">{_sentence(rng, 30)} <em>{_sentence(rng, 4)}</em></p>'
        parts.append(chunk)
        size += len(chunk)
    parts.append('</article></main><footer><a href="/about">About</a></footer></body></html>')
    return "".join(parts).encode("utf-8")


def toc(links: int) -> bytes:
    rows = "".join(f'<li><a href="/docs/section-{i}.html">Section {i}</a></li>' for i in range(links))
    return f"<html><head><title>Contents</title></head><body><ol>{rows}</ol></body></html>".encode()


def measure(name: str, body: bytes, calls: int) -> None:
    _ = analyze_page(URL, body, HEADERS).links  # warm the caches, as a crawl does
    # Best of 5 rounds: the machine is shared, the minimum is the least disturbed figure.
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(max(1, calls // 5)):
            analyze_page(URL, body, HEADERS)
        rounds.append((time.perf_counter() - start) / max(1, calls // 5))
    per_call = min(rounds)
    tracemalloc.start()
    result = analyze_page(URL, body, HEADERS)
    kept = len(result.links)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{name:>12}: {len(body) / 1024:6.1f} KB, {result.link_count:6d} links ({kept} kept), "
          f"{per_call * 1e3:7.3f} ms/call (best of 5), peak {peak / 2**20:6.1f} MiB (with .links)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    measure("article", page(15, 60), args.calls)
    measure("link-heavy", page(96, 700), args.calls)
    measure("toc-14k", toc(14_000), max(1, args.calls // 50))
    measure("toc-60k", toc(60_000), max(1, args.calls // 200))


if __name__ == "__main__":
    main()
