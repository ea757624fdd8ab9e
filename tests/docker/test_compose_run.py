"""docker/compose_run.py: the `docker run` lines docker/ci.sh derives from compose.yaml.

Runs without a container engine: only the derivation is checked here; docker/ci.sh runs the
lines for real where an engine can start.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("compose_run", ROOT / "docker" / "compose_run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["compose_run"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def derive(tmp_path, monkeypatch):
    module = _module()
    monkeypatch.setenv("POSTGRES_PASSWORD", "secret")
    monkeypatch.delenv("EXPOSURE_IMAGE", raising=False)
    (tmp_path / ".env").write_text("EXPOSURE_NIGHTLY_CRON=\n", encoding="utf-8")

    def run(service: str, **kwargs):
        compose = module.load(tmp_path)
        options = {"name": "x", "network": "container:pod", "detach": True, "command": None}
        options.update(kwargs)
        return module.docker_run(compose, service, project_dir=tmp_path, **options)

    return run


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


def test_a_worker_runs_as_the_compose_file_says(derive, tmp_path):
    argv, notes = derive("worker")
    assert _pairs(argv, "--user") == ["10001:10001"]
    assert "--read-only" in argv
    assert _pairs(argv, "--tmpfs") == ["/tmp"]
    assert _pairs(argv, "--cap-drop") == ["ALL"]
    assert _pairs(argv, "--security-opt") == ["no-new-privileges:true"]
    assert _pairs(argv, "--restart") == ["unless-stopped"]
    assert _pairs(argv, "--stop-timeout") == ["45"]
    assert _pairs(argv, "--health-cmd") == ["exposure doctor --check database"]
    env = _pairs(argv, "--env")
    assert "EXPOSURE_DATABASE=postgresql://exposure:secret@postgres:5432/exposure" in env
    # ${EXPOSURE_NIGHTLY_CRON:-...}: an empty value in .env takes the default, as compose does
    assert "EXPOSURE_NIGHTLY_CRON=30 0 * * *" in env
    volumes = _pairs(argv, "--volume")
    assert "exposure_outbox:/var/lib/exposure/outbox" in volumes
    assert f"{(tmp_path / 'data').resolve()}:/data:ro" in volumes
    assert _pairs(argv, "--env-file") == [str((tmp_path / ".env").resolve())]
    assert argv[-4:] == ["exposure:latest", "worker", "--concurrency", "32"]
    assert any("deploy" in note for note in notes)


def test_one_off_services_have_no_health_check_and_no_restart(derive):
    argv, _ = derive("migrate", detach=False)
    assert "--no-healthcheck" in argv and "--rm" in argv and "--restart" not in argv
    argv, _ = derive("cli", detach=False, command=["targets", "import", "/data/m.csv"])
    assert argv[-4:] == ["exposure:latest", "targets", "import", "/data/m.csv"]


def test_a_required_variable_that_is_missing_stops_it(derive, monkeypatch):
    monkeypatch.delenv("POSTGRES_PASSWORD")
    with pytest.raises(SystemExit, match="POSTGRES_PASSWORD"):
        derive("worker")


def test_a_compose_key_without_a_docker_run_equivalent_is_refused(derive, monkeypatch):
    module = sys.modules["compose_run"]
    original = module.load

    def with_extra(project_dir):
        compose = original(project_dir)
        compose["services"]["worker"]["privileged"] = True
        return compose

    monkeypatch.setattr(module, "load", with_extra)
    with pytest.raises(SystemExit, match="privileged"):
        derive("worker")
