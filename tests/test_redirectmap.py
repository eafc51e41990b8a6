"""scrapy redirectmap and scrapy toplinked on an audited site with backlinks, and --verify on deployed rules."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Generator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pymongo
import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from linkcrawler.audit.redirectmap import parse_rules
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.spiders.site_audit import SiteAuditSpider
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.crawling import run_spider
from tests.fixtures.services import free_port, stop_process, wait_for_port
from tests.fixtures.web import MockServerFactory
from tests.mockserver import PROJECT_ROOT, MockServer
from tests.test_site_audit import audit_settings, meta_only, page, write

#: The test servers listen on loopback addresses, which the address guard refuses.
ALLOW_LOOPBACK = {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1"}


def scrapy_command(*args: str, mongo_uri: str, mongo_db_name: str, cwd: Path = PROJECT_ROOT,
                   data_dir: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Explicit guard settings, so the environment the suite runs in cannot change what a test sees.
    env = {**os.environ, "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "", "LINKCRAWLER_ALLOWED_NETWORKS": "",
           "MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, **(env or {})}
    if data_dir is not None:
        env["LINKCRAWLER_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def shop(mockserver: MockServer, site_dir: Path) -> MockServer:
    """A site whose old bread recipe and blue widget pages are gone."""
    write(site_dir, "index.html", page(
        "Home",
        ("/blog/", "Blog"),
        ("/blog/bread-recipe.html", "Bread"),
        ("/blog/old-bread-recipe.html", "Old bread"),
        ("/blog/sourdough-starter.html", "Sourdough"),
        ("/products/widgets/blue.html", "Blue widget"),
        ("/products/blue-widget.html", "Old widget"),
        ("/products/gizmo-2019.html", "Gizmo"),
        ("/nolinks.html", "Nobody links here"),
    ))
    write(site_dir, "blog/index.html", page("Blog"))
    write(site_dir, "blog/bread-recipe.html", page("Bread recipe: a simple loaf"))
    write(site_dir, "blog/sourdough-starter.html", page("Sourdough starter"))
    write(site_dir, "products/widgets/blue.html", page("Blue widget"))
    meta_only(site_dir, "products/blue-widget.html", {"status": 410})
    return mockserver


def add_backlinks(db: pymongo.database.Database, links: list[tuple[str, str, str | None]]) -> None:
    ensure_indexes(db, ["backlinks", "link_events"])
    now = datetime.now(timezone.utc)
    ops = [op for source, target, anchor in links
           for op in new_backlink_ops(source, target, now, "test", anchor_text=anchor)]
    _result, failed = write_batch(db, ops)
    assert not failed


@pytest.fixture
def audited_shop(shop: MockServer, mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database) -> Any:
    @pytest_twisted.inlineCallbacks
    def run() -> Generator[Deferred[Any], Any, None]:
        yield run_spider(SiteAuditSpider, audit_settings(mongo_uri, mongo_db_name), start_url=shop.url("/"))
        add_backlinks(mongo_db, [
            ("https://bakers.example/links", shop.url("/blog/old-bread-recipe.html"), "great bread recipe"),
            ("https://news.example.org/food", shop.url("/blog/old-bread-recipe.html"), "bread"),
            ("https://blog.example.net/a", shop.url("/blog/old-bread-recipe.html"), None),
            ("https://www.example.net/b", shop.url("/blog/old-bread-recipe.html"), None),  # same domain as above
            ("https://widgets.example/review", shop.url("/products/blue-widget.html"), "blue widget"),
            ("https://gone.example/page", shop.url("/products/blue-widget.html"), "widget"),
            ("https://gizmos.example/", shop.url("/products/gizmo-2019.html"), "gizmo 2019"),
            ("https://fans.example/", shop.url("/"), "home"),
            ("https://fans.example/2", shop.url("/blog/bread-recipe.html"), "bread"),
        ])
        # A backlink whose page is gone does not refer any more.
        mongo_db.backlinks.update_one({"source_url": "https://gone.example/page"}, {"$set": {"status": "page_gone"}})

    return run


@pytest_twisted.inlineCallbacks
def test_rules_in_three_formats_ranked_by_referring_domains(
    audited_shop: Any, shop: MockServer, mongo_uri: str, mongo_db_name: str, tmp_path: Path,
) -> Generator[Deferred[Any], Any, None]:
    yield audited_shop()
    outputs = {}
    for fmt in ("nginx", "apache", "csv"):
        out = tmp_path / f"rules.{fmt}"
        done = scrapy_command("redirectmap", "-o", str(out), "--format", fmt, mongo_uri=mongo_uri, mongo_db_name=mongo_db_name)
        assert done.returncode == 0, done.stderr
        assert "3 rule(s)" in done.stderr
        outputs[fmt] = out.read_text()

    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert [(urlsplit(r["source"]).path, urlsplit(r["target"]).path, r["referring_domains"]) for r in rows] == [
        ("/blog/old-bread-recipe.html", "/blog/bread-recipe.html", "3"),
        ("/products/blue-widget.html", "/products/widgets/blue.html", "1"),
        ("/products/gizmo-2019.html", "/", "1"),  # nothing like it: the home page, a fallback
    ]
    assert float(rows[0]["score"]) > float(rows[2]["score"])
    assert "location = /blog/old-bread-recipe.html { return 301 /blog/bread-recipe.html; }" in outputs["nginx"]
    assert r"RedirectMatch 301 ^/blog/old\-bread\-recipe\.html$ /blog/bread-recipe.html" in outputs["apache"]
    # The three formats say the same.
    pairs = [[(urlsplit(s).path, urlsplit(t).path) for s, t in parse_rules(text)] for text in outputs.values()]
    assert pairs[0] == pairs[1] == pairs[2]


def deploy(site: Path, rules: list[tuple[str, str]], wrong: dict[str, dict[str, Any]] | None = None) -> None:
    """Make ``site`` answer the rules (a .meta.json redirect per source), the targets 200."""
    for source, target in rules:
        source_path, target_path = urlsplit(source).path, urlsplit(target).path
        meta_only(site, source_path, (wrong or {}).get(source_path, {"status": 301, "headers": {"Location": target_path}}))
        if target_path.endswith("/"):
            write(site, target_path + "index.html", page("target"))
        else:
            write(site, target_path, page("target"))


@pytest_twisted.inlineCallbacks
def test_verify_accepts_deployed_rules_and_reports_wrong_ones(
    audited_shop: Any, mongo_uri: str, mongo_db_name: str, tmp_path: Path, mockserver_factory: MockServerFactory,
) -> Generator[Deferred[Any], Any, None]:
    yield audited_shop()
    for fmt in ("nginx", "apache", "csv"):
        out = tmp_path / f"rules.{fmt}"
        done = scrapy_command("redirectmap", "-o", str(out), "--format", fmt, mongo_uri=mongo_uri, mongo_db_name=mongo_db_name)
        assert done.returncode == 0, done.stderr
        deployed_dir = tmp_path / f"deployed-{fmt}"
        deployed_dir.mkdir()
        rules = parse_rules(out.read_text())
        deploy(deployed_dir, rules)
        deployed = mockserver_factory(host="127.0.0.4", site_dir=deployed_dir)
        done = scrapy_command("redirectmap", "--verify", deployed.url("/"), "--rules", str(out),
                              mongo_uri=mongo_uri, mongo_db_name=mongo_db_name, env=ALLOW_LOOPBACK)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "3 of 3 rule(s) answer one 301 hop to a 200" in done.stdout

    # A deployment that gets two rules wrong: a 302, and a 301 to a page that redirects again.
    wrong_dir = tmp_path / "deployed-wrong"
    wrong_dir.mkdir()
    rules = parse_rules((tmp_path / "rules.csv").read_text())
    deploy(wrong_dir, rules, wrong={
        "/blog/old-bread-recipe.html": {"status": 302, "headers": {"Location": "/blog/bread-recipe.html"}},
        "/products/blue-widget.html": {"status": 301, "headers": {"Location": "/products/widgets/old-blue.html"}},
    })
    meta_only(wrong_dir, "products/widgets/old-blue.html", {"status": 301, "headers": {"Location": "/products/widgets/blue.html"}})
    wrong = mockserver_factory(host="127.0.0.5", site_dir=wrong_dir)
    done = scrapy_command("redirectmap", "--verify", wrong.url("/"), mongo_uri=mongo_uri, mongo_db_name=mongo_db_name,
                          env=ALLOW_LOOPBACK)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("WRONG")]
    assert len(lines) == 2
    assert "old-bread-recipe.html" in lines[0] and "answers 302, not 301" in lines[0]
    assert "blue-widget.html" in lines[1] and "not " in lines[1]
    assert "1 of 3 rule(s)" in done.stdout


@pytest.fixture
def nginx_with(tmp_path: Path) -> Iterator[Any]:
    """Start nginx (Debian's) on a free loopback port with a rules include and a document root."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    processes: list[subprocess.Popen[bytes]] = []

    def start(rules_file: Path, root: Path) -> str:
        port = free_port()
        conf_dir = tmp_path / "nginx"
        conf_dir.mkdir()
        # As root, workers would run as nobody, who cannot read pytest's private tmp dirs.
        user = "user root;" if os.geteuid() == 0 else ""
        (conf_dir / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {conf_dir}/body;
    proxy_temp_path {conf_dir}/proxy;
    fastcgi_temp_path {conf_dir}/fastcgi;
    uwsgi_temp_path {conf_dir}/uwsgi;
    scgi_temp_path {conf_dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        include {rules_file};
    }}
}}
""")
        process = subprocess.Popen([binary, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        wait_for_port(port, process, "nginx")
        return f"http://127.0.0.1:{port}/"

    yield start
    for process in processes:
        stop_process(process)


@pytest_twisted.inlineCallbacks
def test_nginx_rules_work_on_a_real_nginx(
    audited_shop: Any, mongo_uri: str, mongo_db_name: str, tmp_path: Path, nginx_with: Any,
) -> Generator[Deferred[Any], Any, None]:
    yield audited_shop()
    rules_file = tmp_path / "redirects.conf"
    done = scrapy_command("redirectmap", "-o", str(rules_file), mongo_uri=mongo_uri, mongo_db_name=mongo_db_name)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "root"
    root.mkdir()
    for _, target in parse_rules(rules_file.read_text()):
        path = urlsplit(target).path
        write(root, path + "index.html" if path.endswith("/") else path, page("live"))
    base = nginx_with(rules_file, root)
    done = scrapy_command("redirectmap", "--verify", base, "--rules", str(rules_file),
                          mongo_uri=mongo_uri, mongo_db_name=mongo_db_name, env=ALLOW_LOOPBACK)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 of 3 rule(s)" in done.stdout


@pytest_twisted.inlineCallbacks
def test_toplinked_ranks_pages_and_alerts_on_broken_ones(
    audited_shop: Any, shop: MockServer, mongo_uri: str, mongo_db_name: str, tmp_path: Path,
) -> Generator[Deferred[Any], Any, None]:
    yield audited_shop()
    out = tmp_path / "top.csv"
    done = scrapy_command("toplinked", "-o", str(out), mongo_uri=mongo_uri, mongo_db_name=mongo_db_name)
    assert done.returncode == 1, done.stdout + done.stderr  # broken pages are alerts
    lines = done.stdout.splitlines()
    alerts = [line for line in lines if line.startswith("ALERT")]
    assert alerts[0] == f"ALERT {shop.url('/blog/old-bread-recipe.html')} has 3 referring domain(s) and answers 404"
    assert len(alerts) == 3  # the widget (410) and the gizmo (404) too; the lost backlink is not counted
    assert lines.index(alerts[-1]) < next(i for i, line in enumerate(lines) if line.lstrip().startswith("rank"))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(urlsplit(r["url"]).path, r["referring_domains"], r["health"]) for r in rows] == [
        ("/blog/old-bread-recipe.html", "3", "broken"),
        ("/", "1", "ok"),
        ("/blog/bread-recipe.html", "1", "ok"),
        ("/products/blue-widget.html", "1", "broken"),
        ("/products/gizmo-2019.html", "1", "broken"),
    ]

    # --check asks the site now: the gizmo page is back.
    write(Path(shop.site_dir or "."), "products/gizmo-2019.html", page("Gizmo 2019"))
    done = scrapy_command("toplinked", "--check", mongo_uri=mongo_uri, mongo_db_name=mongo_db_name, env=ALLOW_LOOPBACK)
    assert len([line for line in done.stdout.splitlines() if line.startswith("ALERT")]) == 2


def test_redirectmap_needs_an_output_or_verify(mongo_uri: str, mongo_db_name: str) -> None:
    done = scrapy_command("redirectmap", mongo_uri=mongo_uri, mongo_db_name=mongo_db_name)
    assert done.returncode == 2
    assert "give -o FILE" in done.stderr
    done = scrapy_command("redirectmap", "-o", "-", mongo_uri=mongo_uri, mongo_db_name=mongo_db_name)
    assert done.returncode == 2
    assert "run scrapy crawl site_audit" in done.stderr


# --- every fetch of a command goes through the address guard, robots.txt and USER_AGENT -----


def write_rules_csv(path: Path, rules: list[tuple[str, str]]) -> Path:
    path.write_text("source,target,referring_domains,score\n"
                    + "".join(f"{source},{target},1,1.000\n" for source, target in rules))
    return path


def test_verify_refuses_a_redirect_hop_to_a_refused_address(
    mongo_uri: str, mongo_db_name: str, tmp_path: Path, mockserver_factory: MockServerFactory,
) -> None:
    # 127.0.0.1 is allowed by LINKCRAWLER_ALLOWED_NETWORKS; 127.0.0.2, where its
    # redirect sends, is a loopback address like any other and must not be fetched.
    inside_dir, deployed_dir = tmp_path / "inside", tmp_path / "deployed"
    inside_dir.mkdir()
    deployed_dir.mkdir()
    write(inside_dir, "admin.html", page("internal"))
    inside = mockserver_factory(host="127.0.0.2", site_dir=inside_dir)
    deployed = mockserver_factory(host="127.0.0.1", site_dir=deployed_dir)
    meta_only(deployed_dir, "old.html", {"status": 301, "headers": {"Location": inside.url("/admin.html")}})
    rules = write_rules_csv(tmp_path / "rules.csv", [(deployed.url("/old.html"), inside.url("/admin.html"))])

    done = scrapy_command("redirectmap", "--verify", deployed.url("/"), "--rules", str(rules),
                          mongo_uri=mongo_uri, mongo_db_name=mongo_db_name,
                          env={"LINKCRAWLER_ALLOWED_NETWORKS": "127.0.0.1/32"})
    assert done.returncode == 1, done.stdout + done.stderr
    [wrong] = [line for line in done.stdout.splitlines() if line.startswith("WRONG")]
    assert "the target answers refused_address, not 200" in wrong
    assert "refused 127.0.0.2 (loopback address)" in wrong
    assert "0 of 1 rule(s)" in done.stdout
    assert deployed.hits().get("/old.html") == 1
    assert inside.hits() == {}  # not the page, not its robots.txt


def test_verify_obeys_robots_txt_and_sends_the_project_user_agent(
    mongo_uri: str, mongo_db_name: str, tmp_path: Path, mockserver_factory: MockServerFactory,
) -> None:
    from linkcrawler.settings import USER_AGENT

    deployed_dir = tmp_path / "deployed"
    deployed_dir.mkdir()
    (deployed_dir / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    meta_only(deployed_dir, "private/old.html", {"status": 301, "headers": {"Location": "/new.html"}})
    meta_only(deployed_dir, "old.html", {"status": 301, "headers": {"Location": "/new.html"}})
    write(deployed_dir, "new.html", page("new"))
    deployed = mockserver_factory(host="127.0.0.3", site_dir=deployed_dir)
    rules = write_rules_csv(tmp_path / "rules.csv", [
        (deployed.url("/private/old.html"), deployed.url("/new.html")),
        (deployed.url("/old.html"), deployed.url("/new.html")),
    ])

    done = scrapy_command("redirectmap", "--verify", deployed.url("/"), "--rules", str(rules),
                          mongo_uri=mongo_uri, mongo_db_name=mongo_db_name, env=ALLOW_LOOPBACK)
    assert done.returncode == 1, done.stdout + done.stderr
    [wrong] = [line for line in done.stdout.splitlines() if line.startswith("WRONG")]
    assert "/private/old.html" in wrong
    assert "answers robots_disallowed, not 301 (robots.txt disallows this page)" in wrong
    assert "1 of 2 rule(s)" in done.stdout
    hits = deployed.hits()
    assert "/private/old.html" not in hits
    assert hits["/robots.txt"] == 1 and hits["/old.html"] == 1 and hits["/new.html"] == 1
    agents = deployed.user_agents()
    assert agents["/old.html"] == agents["/new.html"] == agents["/robots.txt"] == [USER_AGENT]


@pytest.fixture
def two_hosts(mockserver_factory: MockServerFactory, tmp_path: Path) -> tuple[MockServer, MockServer]:
    """Our site on 127.0.0.1 and an internal host on 127.0.0.2 that one of its pages redirects to."""
    ours_dir, inside_dir = tmp_path / "ours", tmp_path / "inside"
    ours_dir.mkdir()
    inside_dir.mkdir()
    write(inside_dir, "admin.html", page("internal"))
    inside = mockserver_factory(host="127.0.0.2", site_dir=inside_dir)
    ours = mockserver_factory(host="127.0.0.1", site_dir=ours_dir)
    (ours_dir / "robots.txt").write_text("User-agent: *\nDisallow: /members/\n")
    write(ours_dir, "index.html", page("Home"))
    write(ours_dir, "members/area.html", page("Members"))
    meta_only(ours_dir, "moved.html", {"status": 301, "headers": {"Location": inside.url("/admin.html")}})
    return ours, inside


def test_toplinked_check_fetches_through_the_guard_and_robots_txt(
    two_hosts: tuple[MockServer, MockServer], mongo_uri: str, mongo_db_name: str,
    mongo_db: pymongo.database.Database,
) -> None:
    from linkcrawler.settings import USER_AGENT

    ours, inside = two_hosts
    add_backlinks(mongo_db, [
        ("https://a.example/1", ours.url("/moved.html"), "moved"),
        ("https://b.example/1", ours.url("/moved.html"), "moved"),
        ("https://a.example/2", ours.url("/members/area.html"), "members"),
        ("https://c.example/1", ours.url("/"), "home"),
    ])
    done = scrapy_command("toplinked", "--check", mongo_uri=mongo_uri, mongo_db_name=mongo_db_name,
                          env={"LINKCRAWLER_ALLOWED_NETWORKS": "127.0.0.1/32"})
    # Nothing broken: what we were kept from is not checked, not an alert.
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("ALERT")]
    lines = {line.split()[4]: line for line in done.stdout.splitlines()[1:] if line.strip()}
    moved = lines[ours.url("/moved.html")]
    assert " 301 " in moved and "(not checked: refused 127.0.0.2 (loopback address)" in moved
    members = lines[ours.url("/members/area.html")]
    assert "robots_disallowed" in members and "(not checked: robots.txt disallows this page)" in members
    assert " 200 " in lines[ours.url("/")]
    assert inside.hits() == {}
    hits = ours.hits()
    assert "/members/area.html" not in hits and hits["/moved.html"] == 1 and hits["/"] == 1
    assert set(ours.user_agents()["/"]) == {USER_AGENT}


def test_toplinked_check_uses_download_timeout(
    mockserver: MockServer, site_dir: Path, mongo_uri: str, mongo_db_name: str,
    mongo_db: pymongo.database.Database,
) -> None:
    add_backlinks(mongo_db, [("https://a.example/1", mockserver.url("/delay?s=4"), "slow")])
    done = scrapy_command("toplinked", "--check", "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0",
                          mongo_uri=mongo_uri, mongo_db_name=mongo_db_name, env=ALLOW_LOOPBACK)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"ALERT {mockserver.url('/delay?s=4')} has 1 referring domain(s) and answers timeout" in done.stdout


# --- every format escapes or refuses what it cannot hold ---------------------------------


def test_nginx_loads_and_answers_rules_with_cr_lf_spaces_quotes_and_non_ascii(
    tmp_path: Path, nginx_with: Any, mongo_uri: str, mongo_db_name: str,
) -> None:
    from linkcrawler.audit.redirectmap import RedirectRule, format_rules

    rules = [
        RedirectRule("http://s/a%0D%0ARedirect%20301%20/x", "http://s/new%20page.html", 3, 0.9),
        RedirectRule("http://s/say%20%22hi%22%20%27you%27%20caf%C3%A9", "http://s/caf%C3%A9.html", 2, 0.8),
        RedirectRule("http://s/bell%07", "http://s/new%20page.html", 1, 0.5),  # no way to write it: skipped
    ]
    rules_file = tmp_path / "redirects.conf"
    rules_file.write_text(format_rules(rules, "nginx"), encoding="utf-8")
    assert "# SKIPPED http://s/bell%07" in rules_file.read_text(encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    write(root, "new page.html", page("new"))
    write(root, "café.html", page("café"))
    base = nginx_with(rules_file, root)  # waits until nginx listens: it loaded the file
    done = scrapy_command("redirectmap", "--verify", base, "--rules", str(rules_file),
                          mongo_uri=mongo_uri, mongo_db_name=mongo_db_name, env=ALLOW_LOOPBACK)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 of 2 rule(s) answer one 301 hop to a 200" in done.stdout


def test_redirectmap_counts_the_rules_a_format_cannot_express(
    mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database, tmp_path: Path,
) -> None:
    site = "shop.example"
    mongo_db.pages.insert_many([
        {"site": site, "url": f"http://{site}/", "status": 200, "title": "Home"},
        {"site": site, "url": f"http://{site}/bell-guide.html", "status": 200, "title": "Bell guide"},
        {"site": site, "url": f"http://{site}/bell%07guide.html", "status": 404},
        {"site": site, "url": f"http://{site}/a%0D%0Abell%20%22guide%22%20caf%C3%A9.html", "status": 404},
    ])
    add_backlinks(mongo_db, [
        ("https://a.example/", f"http://{site}/bell%07guide.html", "bell guide"),
        ("https://b.example/", f"http://{site}/a%0D%0Abell%20%22guide%22%20caf%C3%A9.html", "bell guide"),
    ])
    outputs = {}
    for fmt in ("nginx", "apache", "csv"):
        out = tmp_path / f"rules.{fmt}"
        done = scrapy_command("redirectmap", "-o", str(out), "--format", fmt,
                              mongo_uri=mongo_uri, mongo_db_name=mongo_db_name)
        assert done.returncode == 0, done.stderr
        outputs[fmt] = (done.stderr, out.read_text(encoding="utf-8"))
    stderr, text = outputs["nginx"]
    assert "1 rule(s) for shop.example written" in stderr
    assert "1 rule(s) skipped: nginx cannot express them (see the SKIPPED comments)" in stderr
    assert f"# SKIPPED http://{site}/bell%07guide.html: nginx cannot write the character" in text
    for fmt in ("apache", "csv"):
        stderr, text = outputs[fmt]
        assert "2 rule(s) for shop.example written" in stderr and "skipped" not in stderr, fmt
        assert "\r" not in text and len(parse_rules(text)) == 2, fmt
