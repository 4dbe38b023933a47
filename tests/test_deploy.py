"""deploy/: the compose file and Dockerfile hold together without a Docker daemon.

`.ci/run` builds the image when `docker info` answers; here, and on any machine
without a daemon, these checks stand in: every service runs something (an image or a
build), named volumes are declared, every service has a healthcheck, and every
CARNEWS_* variable is a setting carnews reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from carnews.settings import all_specs

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_every_service_runs_an_image_or_a_build_and_says_when_it_is_healthy() -> None:
    services = compose()["services"]
    assert {"db", "relay", "carnews", "worker"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on a missing service {needed}"
    build = services["carnews"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert services["worker"]["image"] == services["carnews"]["image"]  # built once


def test_named_volumes_are_declared_and_bind_mounts_are_read_only() -> None:
    loaded = compose()
    declared = set(loaded.get("volumes") or {})
    for name, service in loaded["services"].items():
        for volume in service.get("volumes", []):
            source, _, rest = volume.partition(":")
            if source.startswith((".", "/")):
                assert rest.endswith(":ro"), f"{name}: {volume} should be read-only"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_every_carnews_variable_is_a_setting() -> None:
    known = {spec.env for spec in all_specs()}
    for name, service in compose()["services"].items():
        for key in service.get("environment", {}):
            if key.startswith("CARNEWS_"):
                assert key in known, f"{name}: {key} is not a carnews setting"
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for key in re.findall(r"\b(CARNEWS_[A-Z_]+)=", dockerfile):
        assert key in known, f"Dockerfile: {key} is not a carnews setting"


def test_the_health_checks_ask_a_route_the_app_serves() -> None:
    from carnews.web.ops import router

    paths = {getattr(route, "path", "") for route in router.routes}
    checks = [" ".join(s["healthcheck"]["test"]) for s in compose()["services"].values()]
    checks.append((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    for text in checks:
        for path in re.findall(r"127\.0\.0\.1:8000(/[a-z]+)", text):
            assert path in paths, f"health check asks {path}, which the app does not serve"
