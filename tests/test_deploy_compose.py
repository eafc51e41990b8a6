"""The compose cluster's MongoDB requires authentication (checked on the file: no Docker daemon here).

What can be checked without running it: every mongod starts with a keyFile (which
turns access control on), MongoDB publishes no port, the nodes connect with a user
and a password that compose refuses to run without, and the app user gets
readWrite on the linkcrawler database only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[1] / "deploy" / "docker-compose.yml"


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def test_every_mongod_requires_authentication_and_publishes_nothing() -> None:
    services = compose()["services"]
    mongods = {name: s for name, s in services.items() if (s.get("command") or [None])[0] == "mongod"}
    assert set(mongods) == {"mongo1", "mongo2", "mongo3"}
    for name, service in mongods.items():
        command = list(service["command"])
        assert "--keyFile" in command, name
        assert "--noauth" not in command, name
        assert not service.get("ports"), f"{name} publishes a port"
        assert any(str(v).endswith(":ro") and "keyfile" in str(v) for v in service["volumes"]), name


def test_nodes_connect_with_credentials_compose_will_not_run_without() -> None:
    scrapyd = compose()["x-scrapyd"]
    uri = scrapyd["environment"]["MONGO_URI"]
    assert re.match(r"mongodb://\$\{MONGO_APP_USER[^}]*\}:\$\{MONGO_APP_PASSWORD:\?[^}]+\}@mongo1:27017,", uri)
    assert "authSource=" in uri and "replicaSet=rs0" in uri
    assert "${SCRAPYD_PASSWORD:?" in scrapyd["environment"]["SCRAPYD_PASSWORD"]


def test_the_app_user_can_only_read_and_write_the_linkcrawler_database() -> None:
    init = compose()["services"]["mongo-init"]
    script = "\n".join(map(str, init["command"]))
    assert 'const roles = [{role: "readWrite", db: env.MONGO_DATABASE}];' in script
    assert "app.createUser({user: env.MONGO_APP_USER, pwd: env.MONGO_APP_PASSWORD, roles: roles})" in script
    # root is the admin user's alone, in the admin database.
    assert script.count('role: "root"') == 1 and 'roles: [{role: "root", db: "admin"}]' in script
