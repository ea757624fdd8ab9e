"""The command line (typer). Every setting is also a global option: `exposure --database URL scan`.

Bad input gets one clear line per problem on stderr and exit code 2; nothing half-written.
One module per command group; what they share (settings, output, errors, the store) is in
`common`, and no module takes another's private names.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from exposure.app.cli import (
    demo,
    discovery,
    findings,
    operations,
    portal,
    report,
    targets,
    warnings,
)
from exposure.app.cli.common import State, fail

app = typer.Typer(
    name="exposure",
    help="Passive external exposure scanner for a Meldpunt Cybersecurity.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="settings file (default ./exposure.toml)")
    ] = None,
    database: Annotated[str | None, typer.Option(help="SQLAlchemy database URL")] = None,
    resolvers: Annotated[
        str | None, typer.Option(help="comma-separated recursive resolvers, ip or ip:port")
    ] = None,
    ca_bundle: Annotated[Path | None, typer.Option(help="PEM trust store for TLS checks")] = None,
    shodan_api_key: Annotated[str | None, typer.Option(help="Shodan API key")] = None,
    shodan_api_url: Annotated[str | None, typer.Option(help="Shodan REST API URL")] = None,
    internetdb_url: Annotated[str | None, typer.Option(help="Shodan InternetDB URL")] = None,
    allow_private: Annotated[
        bool | None,
        typer.Option(
            "--allow-private/--no-allow-private",
            help="scan targets in loopback/private/link-local space (labs, tests)",
        ),
    ] = None,
    ports: Annotated[
        str | None, typer.Option(help="lab override of service ports, e.g. http=8080,https=8443")
    ] = None,
    smtp_url: Annotated[str | None, typer.Option(help="where warnings are sent")] = None,
    language: Annotated[str | None, typer.Option(help="nl (default) or en")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar="EXPOSURE_LOG_FORMAT",
            help="text (default) or json: one JSON object per line on stderr",
        ),
    ] = "text",
) -> None:
    from exposure.logs import LogFormat, configure

    if log_format not in {f.value for f in LogFormat}:
        fail(f"--log-format: {log_format!r} is not one of text, json")
    configure(log_format, verbose=verbose, stream=sys.stderr)
    overrides = {
        "database": database,
        "resolvers": resolvers,
        "ca_bundle": ca_bundle,
        "shodan_api_key": shodan_api_key,
        "shodan_api_url": shodan_api_url,
        "internetdb_url": internetdb_url,
        "allow_private": allow_private,
        "ports": ports,
        "smtp_url": smtp_url,
        "language": language,
    }
    ctx.obj = State(config, overrides)


for _group in (targets, operations, findings, warnings, report, demo, portal, discovery):
    _group.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
