"""`docker run` lines derived from docker/compose.yaml, for machines without Docker Compose v2.

    python docker/compose_run.py [--project-directory DIR] [--project-name NAME] [--network NET]
        SERVICE [--name NAME] [--detach] [-e KEY=VALUE ...] [--print] [-- COMMAND ...]

Reads the compose file itself (so the CI scenario and the file cannot drift) and runs one
service's container with what the file asks of it: image, user, read-only root, tmpfs, dropped
capabilities, security options, environment (interpolated as compose does: the shell's
environment, then `.env` in the project directory), env_file, volumes (named volumes get the
project's prefix, relative bind mounts are resolved against the project directory), restart
policy, stop grace period, health check and command. It prints the derived line first.

What it cannot mean on one shared network namespace, it leaves out and says so: `ports`
(the containers share the pod's loopback, the port is reached there), `depends_on` (docker/ci.sh
starts the services in that order and waits for the conditions), `deploy.replicas` (ci.sh
starts one container per replica), `build` (ci.sh builds the image).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().with_name("compose.yaml")
UNUSED = ("ports", "depends_on", "deploy", "build", "profiles")
KNOWN = {
    "image",
    "env_file",
    "environment",
    "user",
    "read_only",
    "tmpfs",
    "cap_drop",
    "security_opt",
    "volumes",
    "command",
    "restart",
    "stop_grace_period",
    "healthcheck",
    *UNUSED,
}
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value
    return values


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, as compose does."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        present = name in env
        text = env.get(name, "")
        if op == ":-":
            return text if text else arg
        if op == "-":
            return text if present else arg
        if op in (":?", "?") and (not present or (op == ":?" and not text)):
            raise SystemExit(f"compose.yaml: {name}: {arg or 'required'}")
        return text

    return _VAR.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def _seconds(value: str) -> int:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(value))
    if not match or not any(match.groups()):
        raise SystemExit(f"compose.yaml: cannot read the duration {value!r}")
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def load(project_dir: Path) -> dict[str, Any]:
    env = {**_dotenv(project_dir / ".env"), **os.environ}
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return interpolate(data, env)  # type: ignore[no-any-return]


def docker_run(
    compose: dict[str, Any],
    service: str,
    *,
    project_dir: Path,
    name: str,
    network: str | None,
    detach: bool,
    command: list[str] | None,
) -> tuple[list[str], list[str]]:
    """The `docker run` argv for `service`, and the notes on what was left out."""
    project = compose.get("name", "exposure")
    spec = compose["services"][service]
    unknown = set(spec) - KNOWN
    if unknown:  # a key this script does not carry over would silently drift: refuse
        raise SystemExit(f"compose.yaml: {service}: no docker run equivalent for {sorted(unknown)}")
    argv = ["docker", "run", "--name", name, "--label", f"com.docker.compose.project={project}"]
    argv += ["--label", f"com.docker.compose.service={service}"]
    argv.append("--detach" if detach else "--rm")
    if network:
        argv += ["--network", network]
    for entry in spec.get("env_file", []):
        path, required = (
            (entry, True)
            if isinstance(entry, str)
            else (entry["path"], entry.get("required", True))
        )
        resolved = (project_dir / path).resolve()
        if resolved.is_file():
            argv += ["--env-file", str(resolved)]
        elif required:
            raise SystemExit(f"compose.yaml: {service}: env_file {resolved} is missing")
    environment = spec.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    for key, value in environment.items():
        argv += ["--env", f"{key}={'' if value is None else value}"]
    if "user" in spec:
        argv += ["--user", str(spec["user"])]
    if spec.get("read_only"):
        argv.append("--read-only")
    for mount in spec.get("tmpfs", []):
        argv += ["--tmpfs", mount]
    for cap in spec.get("cap_drop", []):
        argv += ["--cap-drop", cap]
    for opt in spec.get("security_opt", []):
        argv += ["--security-opt", opt]
    for volume in spec.get("volumes", []):
        source, _, rest = volume.partition(":")
        if source.startswith((".", "/")):
            source = str((project_dir / source).resolve())
        else:
            source = f"{project}_{source}"
        argv += ["--volume", f"{source}:{rest}"]
    restart = spec.get("restart")
    if restart and restart != "no" and detach:
        argv += ["--restart", restart]
    if "stop_grace_period" in spec:
        argv += ["--stop-timeout", str(_seconds(spec["stop_grace_period"]))]
    health = spec.get("healthcheck")
    if health and health.get("disable"):
        argv.append("--no-healthcheck")
    elif health:
        test = health["test"]
        if isinstance(test, list) and test[0] == "CMD":
            # docker run has only the shell form (CMD-SHELL): the same argv, quoted for /bin/sh
            test = shlex.join(test[1:])
        elif isinstance(test, list) and test[0] == "CMD-SHELL":
            test = test[1]
        argv += ["--health-cmd", test]
        for key, flag in (
            ("interval", "--health-interval"),
            ("timeout", "--health-timeout"),
            ("start_period", "--health-start-period"),
        ):
            if key in health:
                argv += [flag, f"{_seconds(health[key])}s"]
        if "retries" in health:
            argv += ["--health-retries", str(health["retries"])]
    argv.append(spec["image"])
    argv += command if command is not None else list(spec.get("command", []))
    notes = [f"{key} not carried over (docker/ci.sh sees to it)" for key in UNUSED if key in spec]
    return argv, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docker/compose_run.py", description=__doc__)
    parser.add_argument("--project-directory", type=Path, default=COMPOSE.parent)
    parser.add_argument("--project-name", default=None, help="instead of compose.yaml's name")
    parser.add_argument("--network", default=None, help="e.g. container:POD")
    parser.add_argument("service")
    parser.add_argument("--name", default=None)
    parser.add_argument("--detach", action="store_true")
    parser.add_argument(
        "-e", "--env", action="append", default=[], help="KEY=VALUE, as `docker compose run -e`"
    )
    parser.add_argument("--print", action="store_true", help="print the line, run nothing")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = None
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1 :]
    args = parser.parse_args(argv)
    compose = load(args.project_directory)
    if args.project_name:
        compose["name"] = args.project_name
    line, notes = docker_run(
        compose,
        args.service,
        project_dir=args.project_directory,
        name=args.name or f"{compose.get('name', 'exposure')}-{args.service}",
        network=args.network,
        detach=args.detach,
        command=command,
    )
    at = line.index(compose["services"][args.service]["image"])
    for item in args.env:
        line[at:at] = ["--env", item]
        at += 2
    print(f"[compose_run] {args.service}: {shlex.join(line)}", file=sys.stderr)
    if notes:
        print(f"[compose_run] {args.service}: {'; '.join(notes)}", file=sys.stderr)
    if args.print:
        return 0
    return subprocess.run(line, check=False).returncode  # noqa: S603 (docker, from our compose file)


if __name__ == "__main__":
    sys.exit(main())
