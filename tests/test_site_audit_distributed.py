"""``site_audit`` shared by several ``scrapy crawl`` processes through Redis, black box.

Two workers started with the same ``-a start_url``, ``REDIS_URL``, ``SCHEDULER_RUN_ID``
and ``MONGO_URI`` share one audit: every URL is fetched once by one worker or the
other, and what ends up in MongoDB (``pages``, ``broken_links``, ``redirected_links``)
is exactly what one process without Redis writes for the same site, even when a
worker is killed with SIGKILL half-way.

The site (:func:`build_site`) is a tree of a few hundred slow pages whose click
depth cannot depend on the order pages are fetched in: a page is only linked from
its parent and from descendants of its parent (see :func:`build_site`). Around the
tree: broken internal links (404, 410, 500), an internal 301, a redirect chain and
a loop, external links (fine, 404, redirected, redirected to a 404) to a second
server, robots.txt with a ``Disallow:`` and a ``Sitemap:`` line, sitemaps with a page
reachable only through them, a PDF, noindex and canonical pages.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymongo
import pytest

from tests.fixtures.services import SecantusProcess
from tests.mockserver import MockServer

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: The tree: the home page, SECTIONS sections, SUBSECTIONS subsections each, LEAVES leaves each.
SECTIONS, SUBSECTIONS, LEAVES = 6, 7, 6
#: Seconds each page of the tree takes to answer: a crawl lasts long enough to be caught half-way.
DELAY = 0.06
#: Seconds a worker may take, at most (a noisy machine is slow, a hung worker is a failure).
WORKER_TIMEOUT = 180
#: Requests (``downloader/request_count``) a worker must have sent to count as having taken part.
MIN_REQUESTS_PER_WORKER = 10

#: What a worker's stats dump says.
_STAT = r"'{name}': (\d+)"

Key = Any
Collection = dict[Key, dict[str, Any]]
Snapshot = dict[str, Collection]

PAGE_FIELDS = (
    "url", "status", "final_status", "final_url", "redirect_chain", "redirect_loop", "content_type", "title",
    "canonical", "noindex", "depth", "found_by", "inlinks", "in_sitemap",
)
BROKEN_FIELDS = ("status", "kind", "anchor_text", "final_url")
REDIRECTED_FIELDS = ("final_url", "redirects", "anchor_text", "kind")
ABSENT = "<absent>"


# --- the site ----------------------------------------------------------------------------------


@dataclass
class AuditedSite:
    """The site on 127.0.0.1, the external one on 127.0.0.2, and what an audit must find there."""

    server: MockServer
    external: MockServer
    root: Path
    #: Path -> click depth (None: not reached by links) of every URL the audit records in ``pages``.
    depths: dict[str, int | None] = field(default_factory=dict)
    #: Path -> how it was found ("start", "link", "redirect", "sitemap").
    found_by: dict[str, str] = field(default_factory=dict)
    #: Paths of the tree (home, sections, subsections, leaves): slow pages.
    tree: list[str] = field(default_factory=list)
    #: Paths the sitemaps list.
    in_sitemap: set[str] = field(default_factory=set)

    @property
    def base(self) -> str:
        return self.server.url("")

    @property
    def ext(self) -> str:
        return self.external.url("")

    def url(self, path: str) -> str:
        return self.base + path

    def shorten(self, value: Any) -> Any:
        """``value`` with this run's hosts shortened: ``/path`` for the site, ``EXT/path`` for the external one."""
        if isinstance(value, str):
            if value.startswith(self.base):
                return value.removeprefix(self.base)
            if value.startswith(self.ext):
                return "EXT" + value.removeprefix(self.ext)
            return value
        if isinstance(value, list | tuple):
            return tuple(self.shorten(item) for item in value)
        if isinstance(value, dict):
            return {name: self.shorten(item) for name, item in value.items()}
        return value


def html(title: str, links: list[tuple[str, str]], head: str = "") -> str:
    anchors = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head>"
            f"<body><h1>{title}</h1><ul>{anchors}</ul></body></html>")


def write(root: Path, path: str, body: str | bytes | None, meta: dict[str, Any] | None = None) -> None:
    """The file serving URL ``path`` (``index.html`` for a path ending in ``/``) and its sidecar."""
    relative = path.lstrip("/")
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if body is not None:
        target.write_bytes(body if isinstance(body, bytes) else body.encode())
    if meta is not None:
        target.with_name(target.name + ".meta.json").write_text(json.dumps(meta))


def build_site(site: AuditedSite) -> None:
    """Write the audited site and the external one; fill ``site.depths`` and ``site.found_by``.

    Depth is unambiguous whatever the order of the fetches: the audit keeps the
    depth of the first page found linking to a URL, so every URL is linked only
    from one page (its parent) and from pages that can only be found after that
    parent was read (descendants of the parent: its children, their children...).
    Home, linked from everywhere, is the parent of everything.
    """
    root, ext = site.root, site.ext
    ext_root = root.parent / "external"
    ext_root.mkdir(exist_ok=True)

    def expect(path: str, depth: int | None, found_by: str) -> None:
        site.depths[path] = depth
        site.found_by[path] = found_by

    def tree_page(path: str, title: str, links: list[tuple[str, str]], depth: int, head: str = "",
                  meta: dict[str, Any] | None = None) -> None:
        write(root, path, html(title, links, head), {"delay": DELAY, **(meta or {})})
        expect(path, depth, "start" if depth == 0 else "link")
        site.tree.append(path)

    # The external site: fine, broken, redirected, redirected to a broken page.
    write(ext_root, "/ok.html", html("External fine", []))
    write(ext_root, "/moved.html", None, {"status": 301, "headers": {"Location": "/ok.html"}})
    write(ext_root, "/moved-dead.html", None, {"status": 301, "headers": {"Location": "/dead.html"}})

    # robots.txt and sitemaps: an index named in robots.txt, and /sitemap.xml the audit always reads.
    write(root, "/robots.txt", f"User-agent: *\nDisallow: /private/\nSitemap: {site.url('/sitemap_index.xml')}\n")
    write(root, "/sitemap_index.xml", (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/sitemap-pages.xml')}</loc></sitemap></sitemapindex>"
    ))
    in_sitemaps = ["/", *[f"/s{i}/" for i in range(1, SECTIONS + 1)], "/s2/t3/p4.html", "/orphan.html",
                   "/missing.html"]
    write(root, "/sitemap-pages.xml", (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{site.url(path)}</loc></url>" for path in in_sitemaps)
        + f"<url><loc>{ext}/ok.html</loc></url></urlset>"
    ))
    in_sitemap_xml = ["/s1/t1/", "/s5/t5/p5.html"]
    write(root, "/sitemap.xml", (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{site.url(path)}</loc></url>" for path in in_sitemap_xml)
        + "</urlset>"
    ))
    site.in_sitemap = {*in_sitemaps, *in_sitemap_xml}

    sections = [f"/s{i}/" for i in range(1, SECTIONS + 1)]
    tree_page("/", "Home", [
        *[(section, f"Section {n}") for n, section in enumerate(sections, 1)],
        ("/s1/?utm_source=home&jsessionid=XYZ", "Section 1 (tracked)"),
        ("/missing.html", "Missing page"),
        ("/old.html", "Old page"),
        ("/files/report.pdf", "Report (PDF)"),
        ("/private/secret.html", "Secret"),
        (f"{ext}/ok.html", "External fine"),
        (f"{ext}/dead.html", "Dead external"),
        (f"{ext}/moved.html", "Moved external"),
        (f"{ext}/moved-dead.html", "Moved to a dead end"),
        ("mailto:someone@example.com", "Mail"),
    ], depth=0)

    # Linked from home: depth 1 wherever else they are linked from.
    expect("/missing.html", 1, "link")
    expect("/old.html", 1, "link")
    write(root, "/old.html", None, {"status": 301, "headers": {"Location": "/new.html"}})
    expect("/new.html", 1, "redirect")
    write(root, "/new.html", html("New page", [("/", "Home")]))
    expect("/files/report.pdf", 1, "link")
    write(root, "/files/report.pdf", b"%PDF-1.4\n% not really a PDF\n%%EOF\n")
    expect("/private/secret.html", 1, "link")  # robots_disallowed, never fetched
    write(root, "/private/secret.html", html("Secret", []))
    # Only in the sitemap.
    expect("/orphan.html", None, "sitemap")
    write(root, "/orphan.html", html("Orphan", [("/", "Home"), ("/s1/", "Section 1")]))

    for i, section in enumerate(sections, 1):
        subsections = [f"{section}t{j}/" for j in range(1, SUBSECTIONS + 1)]
        links = [(sub, f"Subsection {i}.{j}") for j, sub in enumerate(subsections, 1)]
        links += [("/", "Home"), *[(other, f"Section {n}") for n, other in enumerate(sections, 1) if other != section]]
        links.append(("/missing.html", f"Missing from section {i}"))  # the same broken link on many pages
        if i <= 2:
            links.append(("/old.html", f"Old page from section {i}"))
        if i == 2:
            links.append(("/error.html", "Broken server"))
            expect("/error.html", 2, "link")
        if i == 5:
            links.append(("/chain/3", "Long chain"))
            expect("/chain/3", 2, "link")
            for hop in (2, 1, 0):
                expect(f"/chain/{hop}", 2, "redirect")
        head = f'<link rel="canonical" href="{site.url(section)}">' if i == 3 else ""
        tree_page(section, f"Section {i}", links, depth=1, head=head)

        for j, sub in enumerate(subsections, 1):
            leaves = [f"{sub}p{k}.html" for k in range(1, LEAVES + 1)]
            # Leaves by relative links; the parent, home and the next sibling by absolute ones.
            links = [(f"p{k}.html", f"Page {i}.{j}.{k}") for k in range(1, LEAVES + 1)]
            links += [(section, f"Back to section {i}"), ("/", "Home")]
            if j < SUBSECTIONS:
                links.append((subsections[j], f"Next: subsection {i}.{j + 1}"))
            if (i, j) == (2, 3):
                links.append(("/gone.html", "Gone page"))
                expect("/gone.html", 3, "link")
            if (i, j) == (6, 7):
                links.append(("/loop/a", "Loop"))
                expect("/loop/a", 3, "link")
                expect("/loop/b", 3, "redirect")
            if (i, j) == (3, 4):
                links.append((f"{sub}missing-child.html", "Missing child"))
                expect(f"{sub}missing-child.html", 3, "link")
            if (i, j) == (4, 1):
                links.append(("/private/secret.html", "Secret again"))
            tree_page(sub, f"Subsection {i}.{j}", links, depth=2)

            for k, leaf in enumerate(leaves, 1):
                n = ((i - 1) * SUBSECTIONS + j - 1) * LEAVES + k  # 1..252
                links = [(sub, f"Up to {i}.{j}"), ("/", "Home"), (section, f"Section {i}")]
                if k < LEAVES:
                    links.append((f"p{k + 1}.html", "Next page"))
                if n % 10 == 0:
                    links.append((f"{ext}/dead.html", f"Dead link on page {n}"))
                if n % 17 == 0:
                    links.append(("/missing.html", f"Missing again from page {n}"))
                if n % 23 == 0:
                    links.append(("/old.html", "An old link"))
                if (i, j) == (3, 4):
                    links.append(("missing-child.html", f"Missing child again ({k})"))
                head, meta = "", {}
                if n % 31 == 0:
                    head = '<meta name="robots" content="noindex, follow">'
                if n % 37 == 0:
                    meta = {"headers": {"X-Robots-Tag": "noindex"}}
                if n % 13 == 0:
                    head += f'<link rel="canonical" href="{site.url(sub)}">'
                tree_page(leaf, f"Page {i}.{j}.{k}", links, depth=3, head=head, meta=meta)

    write(root, "/gone.html", html("Gone", []), {"status": 410})
    write(root, "/error.html", html("Oops", []), {"status": 500})


@pytest.fixture(scope="module")
def audited_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditedSite]:
    """The site and the external one, served for the whole module (a baseline and several audits)."""
    root = tmp_path_factory.mktemp("audited") / "site"
    root.mkdir()
    ext_root = root.parent / "external"
    ext_root.mkdir()
    with MockServer(site_dir=root) as server, MockServer(host="127.0.0.2", site_dir=ext_root) as external:
        site = AuditedSite(server, external, root)
        build_site(site)
        yield site


# --- workers -----------------------------------------------------------------------------------


class Worker:
    """One ``scrapy crawl site_audit`` process, its output in a file (never a pipe nobody reads)."""

    def __init__(self, name: str, site: AuditedSite, settings: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        arguments = [arg for key, value in settings.items() for arg in ("-s", f"{key}={value}")]
        env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "MONGO_URI")}
        env["PYTHONPATH"] = str(PROJECT_ROOT)
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scrapy", "crawl", "site_audit", "-a", f"start_url={site.url('/')}",
                 *arguments],
                cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float = WORKER_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"worker {self.name} still running after {timeout}s\n{self.tail()}")

    def stop(self) -> None:
        """Kill the worker if it still runs (teardown after a failure)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, chars: int = 4000) -> str:
        return f"--- log of worker {self.name} (last {chars} characters) ---\n{self.log()[-chars:]}"

    def stat(self, name: str) -> int | None:
        """A counter of the stats Scrapy dumps when the worker closes."""
        found = re.findall(_STAT.format(name=re.escape(name)), self.log())
        return int(found[-1]) if found else None


def worker_settings(mongo_uri: str, database: str, data_dir: Path, redis_url: str | None,
                    run_id: str | None) -> dict[str, str]:
    settings = {
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1",
        "MONGO_URI": mongo_uri,
        "MONGO_DATABASE": database,
        "LINKCRAWLER_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "INFO",
        "RETRY_TIMES": "1",
        "CONCURRENT_REQUESTS": "4",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
        "DOWNLOAD_DELAY": "0",
        # The environment may name an HTTP proxy: the mock servers are reached directly.
        "HTTPPROXY_ENABLED": "0",
    }
    if redis_url is not None:
        settings |= {
            "REDIS_URL": redis_url,
            "SCHEDULER_RUN_ID": run_id or uuid.uuid4().hex,
            "SCHEDULER_IDLE_BEFORE_CLOSE": "1",
            "SCHEDULER_WORKER_TTL": "3",
        }
    return settings


@pytest.fixture
def start_workers(
    audited_site: AuditedSite, mongo_uri: str, mongo_db_name: str, redis_url: str, tmp_path: Path,
) -> Iterator[Callable[[int], list[Worker]]]:
    """Start ``n`` workers of one distributed audit (one run id, one Redis, this test's database)."""
    started: list[Worker] = []

    def start(n: int) -> list[Worker]:
        run_id = f"audit-{uuid.uuid4().hex[:8]}"
        workers = []
        for number in range(1, n + 1):
            data_dir = tmp_path / f"data{number}"
            data_dir.mkdir()
            settings = worker_settings(mongo_uri, mongo_db_name, data_dir, redis_url, run_id)
            workers.append(Worker(f"#{number}", audited_site, settings, tmp_path / f"worker{number}.log"))
        started.extend(workers)
        return workers

    yield start
    for worker in started:
        worker.stop()


def all_tails(workers: list[Worker]) -> str:
    return "\n".join(worker.tail() for worker in workers)


def wait_until(condition: Callable[[], bool], timeout: float, what: str, workers: list[Worker]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{all_tails(workers)}")
        if all(worker.process.poll() is not None for worker in workers):
            pytest.fail(f"every worker ended before {what}\n{all_tails(workers)}")
        time.sleep(0.05)


# --- what an audit leaves ------------------------------------------------------------------------


def snapshot(db: pymongo.database.Database, site: AuditedSite) -> Snapshot:
    """``pages``, ``broken_links`` and ``redirected_links`` without ids nor timestamps, URLs shortened.

    A key found twice in one collection (a duplicate document) appears as ``(key, "#2")``.
    """

    def collect(name: str, key_of: Callable[[dict[str, Any]], Key], fields: tuple[str, ...]) -> Collection:
        collected: Collection = {}
        for doc in db[name].find({}, {"_id": 0}):
            key = site.shorten(key_of(doc))
            if key in collected:
                copy = 2
                while (key, f"#{copy}") in collected:
                    copy += 1
                key = (key, f"#{copy}")
            entry = {f: site.shorten(doc.get(f, ABSENT)) for f in fields}
            if name == "pages":
                entry["error"] = bool(doc.get("error"))
            collected[key] = entry
        return collected

    return {
        "pages": collect("pages", lambda doc: doc.get("url"), PAGE_FIELDS),
        "broken_links": collect("broken_links", lambda doc: (doc.get("page_url"), doc.get("link_url")),
                                BROKEN_FIELDS),
        "redirected_links": collect("redirected_links", lambda doc: (doc.get("page_url"), doc.get("link_url")),
                                    REDIRECTED_FIELDS),
    }


def snapshot_differences(actual: Snapshot, expected: Snapshot, limit: int = 12) -> list[str]:
    """What differs, collection by collection: keys missing or extra first, then the fields that differ."""
    problems = []
    for name, wanted in expected.items():
        got = actual[name]
        missing = sorted(set(wanted) - set(got), key=repr)
        extra = sorted(set(got) - set(wanted), key=repr)
        if missing:
            problems.append(f"{name}: {len(missing)} of {len(wanted)} documents of the single-process audit "
                            f"missing: {missing[:limit]}{' ...' if len(missing) > limit else ''}")
        if extra:
            problems.append(f"{name}: {len(extra)} documents the single-process audit does not have: "
                            f"{extra[:limit]}{' ...' if len(extra) > limit else ''}")
        changed = sorted((key for key in wanted if key in got and got[key] != wanted[key]), key=repr)
        for key in changed[:limit]:
            fields = ", ".join(f"{f}: {got[key].get(f)!r} (single process: {wanted[key].get(f)!r})"
                               for f in wanted[key] if got[key].get(f) != wanted[key].get(f))
            problems.append(f"{name} {key!r} differs: {fields}")
        if len(changed) > limit:
            problems.append(f"{name}: ... and {len(changed) - limit} more documents differ")
    return problems


def internal_hits(site: AuditedSite) -> dict[str, int]:
    """``"METHOD /path"`` -> requests the site served; robots.txt left out (every worker reads it)."""
    return {key: n for key, n in site.server.hits(by_method=True).items()
            if key.split(" ", 1)[1].split("?")[0] != "/robots.txt"}


def pages_requested(site: AuditedSite) -> int:
    """Distinct pages of the tree requested so far."""
    tree = set(site.tree)
    return sum(1 for key in site.server.hits(by_method=True) if key.split(" ", 1)[1] in tree)


def hit_differences(got: dict[str, int], wanted: dict[str, int], what: str, limit: int = 12) -> list[str]:
    more = {key: (got[key], wanted.get(key, 0)) for key in sorted(got) if got[key] > wanted.get(key, 0)}
    fewer = {key: (got.get(key, 0), wanted[key]) for key in sorted(wanted) if got.get(key, 0) < wanted[key]}
    problems = []
    if more:
        sample = ", ".join(f"{key} x{n} (single process: x{m})" for key, (n, m) in list(more.items())[:limit])
        problems.append(f"{what}: {len(more)} requests sent more often than by a single process: {sample}"
                        f"{' ...' if len(more) > limit else ''}")
    if fewer:
        sample = ", ".join(f"{key} x{n} (single process: x{m})" for key, (n, m) in list(fewer.items())[:limit])
        problems.append(f"{what}: {len(fewer)} requests sent less often than by a single process: {sample}"
                        f"{' ...' if len(fewer) > limit else ''}")
    return problems


# --- the single-process audit ------------------------------------------------------------------------


@dataclass
class Baseline:
    snapshot: Snapshot
    internal_hits: dict[str, int]
    external_hits: dict[str, int]
    log: str


@pytest.fixture(scope="module")
def baseline(
    audited_site: AuditedSite, secantus_server: SecantusProcess, tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Baseline]:
    """The same site audited by one process without Redis, into a database of its own."""
    site = audited_site
    tmp = tmp_path_factory.mktemp("baseline")
    database = f"t_{uuid.uuid4().hex[:12]}"
    site.server.reset_hits()
    site.external.reset_hits()
    worker = Worker("single", site, worker_settings(secantus_server.uri, database, tmp / "data", None, None),
                    tmp / "single.log")
    try:
        code = worker.wait()
        assert code == 0, f"the single-process audit failed (exit code {code})\n{worker.tail()}"
        with pymongo.MongoClient(secantus_server.uri, tz_aware=True) as client:
            outcome = snapshot(client[database], site)
            client.drop_database(database)
        yield Baseline(outcome, internal_hits(site), site.external.hits(by_method=True), worker.log())
    finally:
        worker.stop()


def test_single_process_baseline_covers_the_site(audited_site: AuditedSite, baseline: Baseline) -> None:
    """The site exercises every finding the distributed audits must reproduce."""
    site = audited_site
    pages, broken, redirected = (baseline.snapshot[name] for name in ("pages", "broken_links", "redirected_links"))

    # Every URL of the site recorded, at the depth and by the way the site was built for.
    assert set(pages) == set(site.depths), (set(pages) ^ set(site.depths))
    assert len(pages) > 300
    assert {path: doc["depth"] for path, doc in pages.items()} == site.depths
    assert {path: doc["found_by"] for path, doc in pages.items()} == site.found_by
    tree = [pages[path] for path in site.tree]
    assert all(doc["status"] == 200 and doc["title"] and doc["content_type"] == "text/html" for doc in tree)

    assert (pages["/missing.html"]["status"], pages["/gone.html"]["status"], pages["/error.html"]["status"]) == (
        404, 410, 500)
    old = pages["/old.html"]
    assert (old["status"], old["final_status"], old["final_url"]) == (301, 200, "/new.html")
    chain = pages["/chain/3"]
    assert [hop["url"] for hop in chain["redirect_chain"]] == ["/chain/3", "/chain/2", "/chain/1", "/chain/0"]
    loop = pages["/loop/a"]
    assert (loop["status"], loop["redirect_loop"], loop["final_url"]) == ("redirect_loop", True, None)
    assert pages["/loop/b"]["redirect_loop"] is True
    secret = pages["/private/secret.html"]
    assert (secret["status"], secret["error"], secret["inlinks"]) == ("robots_disallowed", True, 2)
    orphan = pages["/orphan.html"]
    assert (orphan["status"], orphan["depth"], orphan["found_by"], orphan["in_sitemap"], orphan["inlinks"]) == (
        200, None, "sitemap", True, 0)
    assert pages["/files/report.pdf"]["content_type"] == "application/pdf"
    assert {path for path, doc in pages.items() if doc["in_sitemap"]} == site.in_sitemap
    assert sum(doc["noindex"] for doc in pages.values()) >= 10
    assert sum(doc["canonical"] is not None for doc in pages.values()) >= 10
    assert pages["/"]["inlinks"] == len(site.tree) + 1  # every page of the tree but home, /new.html, /orphan.html
    assert pages["/missing.html"]["inlinks"] > 10

    # The same broken link on many pages, internal and external, with each page's anchor.
    kinds = {(key[1], doc["kind"], doc["status"]) for key, doc in broken.items()}
    assert {("/missing.html", "internal", 404), ("/gone.html", "internal", 410), ("/error.html", "internal", 500),
            ("/loop/a", "internal", "redirect_loop"), ("/s3/t4/missing-child.html", "internal", 404),
            ("EXT/dead.html", "external", 404), ("EXT/moved-dead.html", "external", 404)} == kinds
    assert sum(key[1] == "/missing.html" for key in broken) == pages["/missing.html"]["inlinks"] > 10
    assert sum(key[1] == "EXT/dead.html" for key in broken) > 10
    assert broken[("/", "/missing.html")]["anchor_text"] == "Missing page"
    assert broken[("/", "EXT/moved-dead.html")]["final_url"] == "EXT/dead.html"
    assert {(key[1], doc["kind"]) for key, doc in redirected.items()} == {
        ("/old.html", "internal"), ("/chain/3", "internal"), ("EXT/moved.html", "external")}
    assert redirected[("/s5/", "/chain/3")]["redirects"] == 3
    assert sum(key[1] == "/old.html" for key in redirected) > 3

    # Each URL fetched once (the 500 retried once, as RETRY_TIMES says), each external URL checked once.
    assert {key: n for key, n in baseline.internal_hits.items() if n != 1} == {"GET /error.html": 2}
    assert "GET /private/secret.html" not in baseline.internal_hits
    assert baseline.external_hits == {
        "HEAD /ok.html": 1, "HEAD /dead.html": 1, "HEAD /moved.html": 1, "HEAD /moved-dead.html": 1}


# --- distributed audits ----------------------------------------------------------------------------


def test_two_workers_share_one_audit(
    audited_site: AuditedSite, baseline: Baseline, start_workers: Callable[[int], list[Worker]],
    mongo_db: pymongo.database.Database,
) -> None:
    """Two workers, one audit: the single process's findings, each URL fetched once, both at work."""
    site = audited_site
    site.server.reset_hits()
    site.external.reset_hits()
    workers = start_workers(2)
    codes = [worker.wait() for worker in workers]
    assert codes == [0, 0], f"exit codes {codes}\n{all_tails(workers)}"

    problems = snapshot_differences(snapshot(mongo_db, site), baseline.snapshot)
    # Each page fetched by one worker or the other, once in all (as often as by one process).
    problems += hit_differences(internal_hits(site), baseline.internal_hits, "the site")
    # Each external URL checked by one worker only (HEAD, and GET when HEAD is refused).
    external = site.external.hits(by_method=True)
    twice = {key: n for key, n in external.items() if n > 1}
    if twice:
        problems.append(f"external URLs checked more than once: {twice}")
    paths = {key.split(" ", 1)[1] for key in external}
    wanted_paths = {key.split(" ", 1)[1] for key in baseline.external_hits}
    if paths != wanted_paths:
        problems.append(f"external URLs checked: {sorted(paths)}, single process: {sorted(wanted_paths)}")
    # Both took part.
    requests = [worker.stat("downloader/request_count") for worker in workers]
    if not all(count is not None and count >= MIN_REQUESTS_PER_WORKER for count in requests):
        problems.append(f"a worker did (almost) nothing: downloader/request_count {requests}")
    for worker in workers:
        log = worker.log()
        if "'finish_reason': 'finished'" not in log:
            problems.append(f"worker {worker.name} did not finish normally")
        if "Traceback" in log:
            at = log.index("Traceback")
            problems.append(f"worker {worker.name} logged an error: {log[max(0, at - 300):at + 1200]}")
    assert not problems, "\n".join(problems) + "\n" + all_tails(workers)


def test_worker_killed_mid_audit_loses_nothing(
    audited_site: AuditedSite, baseline: Baseline, start_workers: Callable[[int], list[Worker]],
    mongo_db: pymongo.database.Database,
) -> None:
    """One of two workers SIGKILLed half-way: the other finishes the audit, the findings are complete.

    Pages the dead worker had taken are fetched again: no "once" here.
    """
    site = audited_site
    site.server.reset_hits()
    site.external.reset_hits()
    workers = start_workers(2)
    victim, survivor = workers
    total = len(site.tree)
    wait_until(lambda: pages_requested(site) >= total // 4, 120, "a quarter of the pages requested", workers)
    assert victim.process.poll() is None, f"worker {victim.name} ended before it could be killed\n{victim.tail()}"
    os.kill(victim.pid, signal.SIGKILL)
    requested = pages_requested(site)
    assert requested < total, f"the audit was over before the kill ({requested} of {total} pages requested)"

    assert victim.wait() == -signal.SIGKILL
    code = survivor.wait()
    assert code == 0, f"the surviving worker failed (exit code {code})\n{all_tails(workers)}"
    problems = snapshot_differences(snapshot(mongo_db, site), baseline.snapshot)
    log = survivor.log()
    if "'finish_reason': 'finished'" not in log:
        problems.append(f"worker {survivor.name} did not finish normally")
    assert not problems, (f"(killed {victim.name} after {requested} of {total} pages were requested)\n"
                          + "\n".join(problems) + "\n" + all_tails(workers))
