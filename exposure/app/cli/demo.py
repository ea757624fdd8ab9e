"""`exposure demo`: the simulated port area, scanned, warned and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from exposure.app.cli.common import out


def demo(
    output: Annotated[
        Path, typer.Option(help="where the demo writes its database and files")
    ] = Path("exposure-demo"),
) -> None:
    """Simulated port area on loopback: import, scan, report. Touches no real host."""
    from exposure.app.demo import run_demo

    try:
        code = run_demo(output, out)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(demo)
