"""The benchmark's site: N static pages with planted findings, and the nginx config that serves it.

The audited site is ``http://127.0.0.1:PORT``; ``http://localhost:PORT`` (the same
nginx, another host name) stands for the external sites its pages link to, so
everything stays on 127.0.0.1. What was planted is returned as :class:`Truth`, to
compare with what the audit found.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

SECTIONS = 100
#: Links of a page to other pages (besides the navigation).
RELATED_LINKS = 8
EXTERNAL_URLS = 300
DEAD_EXTERNAL = 20
MISSING_PAGES = 25
GONE_PAGES = 5
ERROR_PAGES = 3
CHAINS = 10
#: Internal links to a single 301 (not a finding of their own, besides "link to a redirect").
MOVED_PAGES = 20
WORDS = ("bread recipe garden tools travel guide river camera coffee music history winter summer city "
         "mountain cooking science design market games health books cinema sport energy ocean forest").split()


@dataclass
class Truth:
    """What the site plants: broken (page, link) pairs, chains (2+ redirects) and the loop."""

    base: str
    external: str
    pages: int = 0
    broken: set[tuple[str, str]] = field(default_factory=set)
    chains: set[str] = field(default_factory=set)
    loop: set[str] = field(default_factory=set)


def _title(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, 3)).title()


def _html(title: str, links: list[tuple[str, str]], filler: str) -> str:
    items = "\n".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
        f'<meta name="description" content="{title}"><link rel="stylesheet" href="/style.css"></head>\n'
        f"<body><header><h1>{title}</h1></header><main><p>{filler}</p>\n<ul>\n{items}\n</ul></main>"
        "<footer><p>Benchmark site</p></footer></body></html>\n"
    )


def generate(root: Path, port: int, closed_port: int, pages: int = 20_000, seed: int = 7) -> tuple[Truth, str]:
    """Write the site under ``root``; return the truth and the nginx ``server`` locations."""
    rng = random.Random(seed)
    base = f"http://127.0.0.1:{port}"
    external = f"http://localhost:{port}"
    truth = Truth(base=base, external=external)
    per_section = pages // SECTIONS
    urls = [f"/s{s}/p{i}.html" for s in range(SECTIONS) for i in range(per_section)]
    filler = " ".join(rng.choice(WORDS) for _ in range(250))
    nav = [("/", "Home")] + [(f"/s{s}/", f"Section {s}") for s in range(0, SECTIONS, 10)]
    locations: list[str] = []

    ext_ok = [f"{external}/ext/ok{i}.html" for i in range(EXTERNAL_URLS - DEAD_EXTERNAL)]
    ext_dead = [f"{external}/ext/dead{i}.html" for i in range(DEAD_EXTERNAL)]
    refused = f"http://localhost:{closed_port}/nothing-listens"
    (root / "ext").mkdir(parents=True, exist_ok=True)
    for url in ext_ok:
        (root / url.removeprefix(external).lstrip("/")).write_text("<html><title>external</title></html>")

    # Planted findings, each carried by a few random pages.
    extra: dict[str, list[tuple[str, str]]] = {}

    def plant(target: str, text: str, carriers: int, broken: bool) -> None:
        for page in rng.sample(urls, carriers):
            extra.setdefault(page, []).append((target, text))
            if broken:
                truth.broken.add((base + page, target if target.startswith("http") else base + target))

    for j in range(MISSING_PAGES):
        plant(f"/s{j % SECTIONS}/missing{j}.html", "missing", rng.randint(1, 3), True)
    for j in range(GONE_PAGES):
        path = f"/gone{j}.html"
        locations.append(f"location = {path} {{ return 410; }}")
        plant(path, "gone", 2, True)
    for j in range(ERROR_PAGES):
        path = f"/error{j}.html"
        locations.append(f"location = {path} {{ return 500; }}")
        plant(path, "error", 1, True)
    for url in ext_dead:
        plant(url, "dead external", rng.randint(1, 2), True)
    plant(refused, "refused", 2, True)
    for j in range(CHAINS):
        hops = [f"/r/c{j}-{k}" for k in range(3)]
        final = urls[rng.randrange(len(urls))]
        for here, there in zip(hops, [*hops[1:], final], strict=True):
            locations.append(f"location = {here} {{ return 301 {there}; }}")
        truth.chains.update(base + hop for hop in hops[:2])  # 3 and 2 redirects; the last hop is 1
        plant(hops[0], "chain", 1, False)
    locations.append("location = /loop/a { return 302 /loop/b; }")
    locations.append("location = /loop/b { return 302 /loop/a; }")
    truth.loop = {base + "/loop/a", base + "/loop/b"}
    plant("/loop/a", "loop", 1, True)
    for j in range(MOVED_PAGES):
        path = f"/moved{j}.html"
        locations.append(f"location = {path} {{ return 301 {urls[rng.randrange(len(urls))]}; }}")
        plant(path, "moved", 1, False)

    # Home and section index pages: every page is two clicks from home.
    (root / "index.html").write_text(_html("Home", nav + [(f"/s{s}/", f"Section {s}") for s in range(SECTIONS)], filler))
    for s in range(SECTIONS):
        section_dir = root / f"s{s}"
        section_dir.mkdir(exist_ok=True)
        listed = [(f"/s{s}/p{i}.html", f"Page {i}") for i in range(per_section)]
        (section_dir / "index.html").write_text(_html(f"Section {s}", nav + listed, filler[:200]))
    for index, path in enumerate(urls):
        related = [(urls[rng.randrange(len(urls))], "related") for _ in range(RELATED_LINKS)]
        related.append((urls[(index + 1) % len(urls)], "next"))
        outbound = [(rng.choice(ext_ok), "see also")]
        links = nav + related + outbound + extra.get(path, [])
        (root / path.lstrip("/")).write_text(_html(_title(rng), links, filler))
    (root / "style.css").write_text("body { font-family: sans-serif; }\n")
    (root / "robots.txt").write_text(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n")
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<url><loc>{base}{path}</loc></url>\n" for path in ["/", *urls[:1000]])
        + "</urlset>\n"
    )
    truth.pages = len(urls) + SECTIONS + 1
    return truth, "\n        ".join(locations)


def nginx_config(conf_dir: Path, root: Path, port: int, locations: str, as_root: bool) -> Path:
    """An nginx config for a private instance: this directory, this port, 127.0.0.1 only."""
    conf = conf_dir / "nginx.conf"
    conf.write_text(f"""
{"user root;" if as_root else ""}
worker_processes 1;
daemon off;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    types {{ text/html html; text/css css; application/xml xml; text/plain txt; }}
    default_type application/octet-stream;
    client_body_temp_path {conf_dir}/body;
    proxy_temp_path {conf_dir}/proxy;
    fastcgi_temp_path {conf_dir}/fastcgi;
    uwsgi_temp_path {conf_dir}/uwsgi;
    scgi_temp_path {conf_dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        # linkchecker waits 0.1-0.6 s between two requests to a host unless the host
        # answers with this header: lift its throttle, as Scrapy's crawls run unthrottled.
        add_header LinkChecker "max rate" always;
        {locations}
    }}
}}
""")
    return conf
