"""The demo's toxic-link step: a link farm, a hidden link, a foreign page and a small
network of hosts on one subnet link to us; the audit scores them and writes the disavow file.

Each kind of page is served from its own loopback address (127.0.0.0/8 is all
loopback on Linux, so each address can play a different host): the farm on
127.0.5.1, the hidden link on 127.0.6.1, the German page on 127.0.7.1, and the
network on 127.0.9.1-3 (one /24).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path

from linkcrawler.demo.server import SITE, _Handler

PAGES = {
    "farm.html": ["127.0.5.1"],
    "hidden.html": ["127.0.6.1"],
    "fremd.html": ["127.0.7.1"],
    "network.html": ["127.0.9.1", "127.0.9.2", "127.0.9.3"],
}
ANCHORS = {"farm.html": "best link checker", "hidden.html": "best link checker", "fremd.html": "Link-Prüfer",
           "network.html": "best link checker"}
MONEY_TERMS = "best link checker,cheap seo tools"


@contextmanager
def serve(root: Path, addresses: list[str]) -> Iterator[dict[str, str]]:
    """``root`` served on each of ``addresses`` (port 0); yields address -> base URL."""
    servers = [ThreadingHTTPServer((address, 0), partial(_Handler, directory=str(root))) for address in addresses]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield {address: f"http://{address}:{server.server_address[1]}" for address, server in zip(addresses, servers,
                                                                                                   strict=True)}
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def toxicity_demo(data_dir: Path, our: str, env: dict[str, str], run: Callable[[list[str], dict[str, str]], None],
                  say: Callable[[str], None]) -> None:
    """Serve the toxic pages, import their links to ``our`` (a base URL of our site), check, audit, disavow."""
    root = data_dir / "demo-toxic-site"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(SITE / "toxic", root / "toxic")
    for html in root.rglob("*.html"):
        html.write_text(html.read_text(encoding="utf-8").replace("{our}", our), encoding="utf-8")
    addresses = [address for hosts in PAGES.values() for address in hosts]
    with serve(root, addresses) as bases:
        export = data_dir / "demo-toxic-export.csv"
        rows = ["source_url,target_url,anchor_text"]
        for page, hosts in PAGES.items():
            rows += [f"{bases[host]}/toxic/{page},{our}/,{ANCHORS[page]}" for host in hosts]
        export.write_text("\n".join(rows) + "\n", encoding="utf-8")
        say("7. Toxic links: a link farm (127.0.5.1), a hidden link (127.0.6.1), a German page (127.0.7.1) "
            "and three hosts on one /24 (127.0.9.1-3) link to us")
        run(["importlinks", str(export)], env)
        run(["crawl", "backlinks", "-a", "all=1", "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1",
             "-s", "LINKCRAWLER_OWN_DOMAINS=localhost"], env)
    audit_env = {**env, "LINKCRAWLER_MONEY_TERMS": MONEY_TERMS}
    say("8. Score every linking domain: the signals that fired, in words")
    run(["toxicaudit"], audit_env)
    run(["toxicaudit", "--explain", "127.0.6.1"], audit_env)
    say("9. A person knows 127.0.9.3 (a partner that shares a host): keep it. Then the disavow file "
        "(toxic domains, minus what a person decided to keep), checked")
    run(["toxicaudit", "--keep", "127.0.9.3", "--limit", "0"], audit_env)
    disavow = data_dir / "disavow.txt"
    run(["disavow", "-o", str(disavow)], audit_env)
    print(disavow.read_text(encoding="utf-8"), end="", flush=True)
    run(["disavow", "--check", str(disavow)], audit_env)
