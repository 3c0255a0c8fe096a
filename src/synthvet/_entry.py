"""The command's entry point, kept light: a Ctrl-C while the command line's modules are
still being imported ends the same way as one during a run (exit 130, one line), not
with a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from synthvet.harness.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("synthvet: interrupted\n")
        sys.exit(130)
    cli_main()
