#!/usr/bin/env python3
"""Deploy linkcrawler to every Scrapyd node of a cluster and start a distributed crawl on all of them.

    python deploy/deploy.py --node http://scrapyd1:6800/ --node http://scrapyd2:6800/ \\
        --schedule backlinks -s REDIS_URL=redis://:pw@redis:6379/0 \\
        -s MONGO_URI='mongodb://mongo1,mongo2,mongo3/?replicaSet=rs0'

1. builds the project's egg once with ``scrapyd-deploy --build-egg`` (scrapyd-client),
   from a copy of the project so the working tree is left as it is: the egg holds
   the ``linkcrawler`` and ``pipelines`` packages;
2. uploads it to every node with ``scrapyd-deploy <node> --egg`` (same version
   everywhere: ``--version``, by default the time);
3. with ``--schedule SPIDER``, schedules the spider on every node
   (``--jobs-per-node`` times), passing the ``-s`` settings and ``-a`` arguments and
   ``SCHEDULER_RUN_ID`` (``--run-id``, by default the time): the jobs share one run
   of the crawl through Redis, and a job started after that run is over stops at
   once instead of starting it again;
4. with ``--wait``, waits for the jobs to finish and reads each one's log: a job
   that closed for another reason than ``finished``, logged an exception at
   ERROR or has no log failed, and deploy.py then exits with status 1, naming it.

Credentials: ``--user``/``--password`` or the ``SCRAPYD_USERNAME`` and
``SCRAPYD_PASSWORD`` environment variables (the same that Scrapyd reads). Nodes:
``--node URL`` (repeat) or ``--nodes-file FILE`` (one URL per line). Needs
scrapyd-client and setuptools (``pip install -e '.[deploy]'``). Prints what it
did; with ``--json``, one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin
from urllib.request import Request, urlopen

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: What the egg is built from (the packages are found by pyproject.toml's rules).
PROJECT_FILES = ("pyproject.toml", "README.md", "linkcrawler", "pipelines")
SETTINGS_MODULE = "linkcrawler.settings"
#: The start of a line of Scrapy's log format: a new record, not a traceback's line.
_LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d ")


class DeployError(Exception):
    """Something the operator has to fix: the message says what."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--node", action="append", default=[], metavar="URL", help="a Scrapyd node (repeat)")
    parser.add_argument("--nodes-file", type=Path, help="a file with one Scrapyd URL per line")
    parser.add_argument("--project", default="linkcrawler")
    parser.add_argument("--version", default=None, help="egg version (default: the time, UTC)")
    parser.add_argument("--user", default=os.environ.get("SCRAPYD_USERNAME", ""))
    parser.add_argument("--password", default=os.environ.get("SCRAPYD_PASSWORD", ""))
    parser.add_argument("--no-deploy", action="store_true", help="schedule only (the egg is already there)")
    parser.add_argument("--schedule", metavar="SPIDER", help="schedule this spider on every node")
    parser.add_argument("--jobs-per-node", type=int, default=1, metavar="N")
    parser.add_argument("-s", "--setting", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("-a", "--arg", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--run-id", default=None, help="SCHEDULER_RUN_ID shared by the jobs (default: the time)")
    parser.add_argument("--wait", action="store_true", help="wait for the scheduled jobs to finish")
    parser.add_argument("--timeout", type=float, default=24 * 3600.0, help="seconds --wait waits at most")
    parser.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    args = parser.parse_args(argv)
    if args.nodes_file:
        args.node += [line.strip() for line in args.nodes_file.read_text().splitlines()
                      if line.strip() and not line.lstrip().startswith("#")]
    if not args.node:
        parser.error("no Scrapyd node: give --node URL or --nodes-file FILE")
    args.node = [url if url.endswith("/") else url + "/" for url in args.node]
    for option in args.setting + args.arg:
        if "=" not in option:
            parser.error(f"expected NAME=VALUE, got {option!r}")
    return args


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime())


# --- the egg ------------------------------------------------------------------


def _scrapyd_deploy(workdir: Path, *arguments: str, env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "scrapyd_client.deploy", *arguments]
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=env, check=False)
    # scrapyd-deploy reports a failed upload on stderr with exit status 1.
    if done.returncode != 0:
        raise DeployError(f"scrapyd-deploy {' '.join(arguments)} failed:\n{done.stderr.strip()}\n{done.stdout.strip()}")


def build_egg(workdir: Path, nodes: list[str], project: str) -> Path:
    """Copy the project into ``workdir`` with a scrapy.cfg naming every node, and build the egg there."""
    for name in PROJECT_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, workdir / name)
    targets = "".join(
        f"\n[deploy:node{i}]\nurl = {url}\nproject = {project}\n"
        # scrapyd-client expands ${VARIABLES}: no password is written to disk.
        "username = ${SCRAPYD_USERNAME}\npassword = ${SCRAPYD_PASSWORD}\n"
        for i, url in enumerate(nodes, 1)
    )
    (workdir / "scrapy.cfg").write_text(f"[settings]\ndefault = {SETTINGS_MODULE}\n{targets}")
    egg = workdir / f"{project}.egg"
    _scrapyd_deploy(workdir, "--build-egg", str(egg))
    return egg


def upload(workdir: Path, egg: Path, nodes: list[str], project: str, version: str, user: str, password: str) -> None:
    env = {**os.environ, "SCRAPYD_USERNAME": user, "SCRAPYD_PASSWORD": password}
    for i, url in enumerate(nodes, 1):
        say(f"deploying {project} {version} to {url}")
        _scrapyd_deploy(workdir, f"node{i}", "-p", project, "-v", version, "--egg", str(egg), env=env)


# --- the Scrapyd API ----------------------------------------------------------


def call(node: str, endpoint: str, user: str, password: str, data: list[tuple[str, str]] | None = None) -> Any:
    request = Request(urljoin(node, endpoint), data=urlencode(data).encode() if data is not None else None)
    if user:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urlopen(request, timeout=60) as response:
            answer = json.load(response)
    except URLError as exc:
        raise DeployError(f"{node}{endpoint}: {exc}") from exc
    if answer.get("status") != "ok":
        raise DeployError(f"{node}{endpoint}: {answer.get('message', answer)}")
    return answer


def schedule(args: argparse.Namespace, version: str | None, run_id: str) -> list[dict[str, str]]:
    jobs = []
    for node in args.node:
        for _ in range(args.jobs_per_node):
            data = [("project", args.project), ("spider", args.schedule)]
            if version:
                data.append(("_version", version))
            data += [("setting", setting) for setting in args.setting]
            data.append(("setting", f"SCHEDULER_RUN_ID={run_id}"))
            data += [tuple(arg.split("=", 1)) for arg in args.arg]  # type: ignore[misc]
            answer = call(node, "schedule.json", args.user, args.password, data)
            jobs.append({"node": node, "job": answer["jobid"]})
            say(f"scheduled {args.schedule} on {node}: job {answer['jobid']}")
    return jobs


def job_outcome(log: str | None) -> str | None:
    """Why a finished job failed, from its Scrapy log; ``None`` when it did its job.

    Scrapyd lists a job as finished however its process ended: a crawl that
    could not start, or closed for another reason than ``finished``, or logged
    an exception at ERROR, failed.
    """
    if log is None:
        return "no log: Scrapyd has none for the job"
    lines = log.splitlines()
    for number, line in enumerate(lines):
        # Scrapy and asyncio log an exception as an ERROR line followed by its traceback.
        if "] ERROR: " in line and any(
            following.startswith("Traceback (most recent call last):") for following in lines[number + 1: number + 4]
        ):
            error = line.split("] ERROR: ", 1)[1]
            # The exception is the last unindented line of the traceback, before the next record.
            block = itertools.takewhile(lambda text: not _LOG_RECORD.match(text), lines[number + 1:])
            raised = [text for text in block if text and not text[0].isspace()
                      and not text.startswith(("Traceback", "The above", "During handling"))]
            return f"{error} {raised[-1]}" if raised else error
    reasons = re.findall(r"'finish_reason': '([^']*)'", log)
    if not reasons:
        errors = [line.split("] ERROR: ", 1)[1] for line in lines if "] ERROR: " in line]
        if errors:
            return f"the crawl did not start: {errors[-1]}"
        return "the crawl never closed (no finish_reason in its log)"
    if reasons[-1] != "finished":
        return f"finish_reason {reasons[-1]!r}"
    return None


def read_log(node: str, job: dict[str, Any], user: str, password: str) -> str | None:
    """The job's log through Scrapyd's ``log_url``, or ``None`` when there is none."""
    if not job.get("log_url"):
        return None
    request = Request(urljoin(node, job["log_url"]))
    if user:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urlopen(request, timeout=60) as response:
            return response.read().decode("utf-8", errors="replace")
    except HTTPError as exc:
        if exc.code == 404:
            return None
        raise DeployError(f"{node}{job['log_url']}: {exc}") from exc
    except URLError as exc:
        raise DeployError(f"{node}{job['log_url']}: {exc}") from exc


def wait(args: argparse.Namespace, jobs: list[dict[str, str]]) -> list[dict[str, str]]:
    """Wait for ``jobs`` to finish; each job's outcome (``ok`` or ``failed`` and why) is added to it."""
    deadline = time.monotonic() + args.timeout
    by_key = {(job["node"], job["job"]): job for job in jobs}
    remaining = set(by_key)
    while remaining:
        for node in {node for node, _ in remaining}:
            finished = call(node, f"listjobs.json?project={args.project}", args.user, args.password)["finished"]
            for listed in finished:
                key = (node, listed["id"])
                if key in remaining:
                    remaining.discard(key)
                    reason = job_outcome(read_log(node, listed, args.user, args.password))
                    by_key[key] |= {"outcome": "failed", "reason": reason} if reason else {"outcome": "ok"}
        if remaining and time.monotonic() > deadline:
            raise DeployError(f"{len(remaining)} jobs still running after {args.timeout:.0f}s")
        if remaining:
            time.sleep(1)
    failed = [job for job in jobs if job["outcome"] == "failed"]
    for job in failed:
        say(f"job {job['job']} on {job['node']} failed: {job['reason']}")
    say(f"{len(failed)} of {len(jobs)} jobs failed" if failed else "every job finished")
    return failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {"nodes": args.node, "project": args.project}
    version = None
    failed: list[dict[str, str]] = []
    try:
        if not args.no_deploy:
            version = args.version or stamp()
            with tempfile.TemporaryDirectory(prefix="linkcrawler-deploy-") as tmp:
                workdir = Path(tmp)
                egg = build_egg(workdir, args.node, args.project)
                upload(workdir, egg, args.node, args.project, version, args.user, args.password)
            report["version"] = version
        if args.schedule:
            run_id = args.run_id or f"{args.schedule}-{stamp()}"
            report |= {"spider": args.schedule, "run_id": run_id, "jobs": schedule(args, version, run_id)}
            if args.wait:
                failed = wait(args, report["jobs"])
    except DeployError as exc:
        say(f"error: {exc}")
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
