"""The ``artlineage`` command line: a thin typer layer over the library.

Commands live one module per area in ``artlineage.interfaces.commands``; each module defines
``register(app)``. They are discovered at start-up, so adding a command group touches no shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="artlineage",
    help="Consent, provenance and lineage of images, machine-checkable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    from . import commands

    # The provenance commands (inspect, scan) are the core job: list them first in --help.
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: (i.name != "provenance", i.name)):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app)


_register_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
