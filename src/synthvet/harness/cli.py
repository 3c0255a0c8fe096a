"""The ``synthvet`` command line.

Exit codes (the contract): 0 the gate passed; 1 the gate failed (``verify``: the record
was not verified); 2 bad usage or unreadable input, one sentence and no traceback;
3 synthvet itself failed; 130 interrupted (the ledger keeps what was settled; run the
same command again to resume).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from synthvet.errors import HarnessError, UsageError

__all__ = ["main", "cli"]

EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_HARNESS = 3
EXIT_INTERRUPTED = 130


def _parse_field_overrides(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        canonical, sep, theirs = pair.partition("=")
        if not sep or not canonical.strip() or not theirs.strip():
            raise UsageError(f"--field expects canonical=theirs (e.g. answer=model_output), "
                             f"got {pair!r}")
        out[canonical.strip()] = theirs.strip()
    return out


def _config(config_path: str | None, fields: Sequence[str], domain: str | None) -> Any:
    from synthvet.harness.config import load_config

    config = load_config(config_path)
    overrides: dict[str, dict[str, Any]] = {}
    if fields:
        overrides["fields"] = _parse_field_overrides(fields)
    if domain:
        overrides["run"] = {"domain": domain}
    return config.with_overrides(**overrides) if overrides else config


_common = [
    click.option("--config", "config_path", metavar="FILE",
                 help="Config file (default: ./synthvet.toml or [tool.synthvet] in "
                      "./pyproject.toml)."),
    click.option("--field", "fields", multiple=True, metavar="CANONICAL=THEIRS",
                 help="Map one of your column names to a canonical field; repeatable."),
    click.option("--domain", metavar="NAME", help="Domain for records without a domain field."),
]


def _with_common(fn: Any) -> Any:
    for opt in reversed(_common):
        fn = opt(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synthvet")
def cli() -> None:
    """Vet synthetic training examples with real verifiers."""


@cli.command("run")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--out", required=True, metavar="DIR", help="Run folder to write.")
@_with_common
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the machine's cores).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True)
@click.option("--ledger", metavar="PATH",
              help="Ledger file (default: .synthvet/ledger.sqlite, or [run] ledger).")
@click.option("--no-ledger", is_flag=True, help="Neither read nor write the ledger.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary table.")
def run_cmd(inputs: tuple[str, ...], out: str, config_path: str | None, fields: tuple[str, ...],
            domain: str | None, workers: int | None, executor: str, ledger: str | None,
            no_ledger: bool, quiet: bool) -> None:
    """Verify INPUT files (.jsonl, .jsonl.gz, .parquet, .arrow, dataset folders; - for stdin)
    and write the run folder DIR."""
    from synthvet.harness.console import Progress, print_summary
    from synthvet.harness.runner import RunOptions, run

    config = _config(config_path, fields, domain)
    progress = Progress(enabled=not quiet)
    try:
        result = run(RunOptions(list(inputs), out, config, workers=workers, executor=executor,
                                ledger=ledger, use_ledger=not no_ledger), progress=progress)
    finally:
        progress.close()
    _after_run(result.out, result.summary)
    if not quiet:
        print_summary(result.report, str(result.out))
    sys.exit(0 if result.passed else EXIT_GATE_FAILED)


def _after_run(run_dir: Path, summary: Any = None) -> None:
    """The human report, junit.xml and CI annotations: from the summary the run gathered,
    or (without one) from the finished run folder's files."""
    from synthvet.harness import github, junit, report_html

    junit.write_junit(run_dir, gathered=summary)
    report_html.write_html_report(run_dir, gathered=summary)
    github.emit(run_dir, gathered=summary)


def _read_one_record(source: str | None) -> dict[str, Any]:
    if source is None or source == "-":
        text, where = sys.stdin.read(), "standard input"
    elif source.lstrip().startswith("{"):
        text, where = source, "the argument"
    else:
        path = Path(source)
        try:
            text, where = path.read_text(encoding="utf-8"), repr(source)
        except OSError as exc:
            raise UsageError(f"cannot read {source!r}: {exc.strerror or exc}") from exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    try:
        obj = json.loads(text) if len(lines) != 1 else json.loads(lines[0])
    except ValueError as exc:
        if len(lines) > 1:
            raise UsageError(f"{where} holds {len(lines)} lines; `synthvet verify` takes one "
                             "record (use `synthvet run` for a dataset)") from exc
        raise UsageError(f"{where} is not a JSON object: {exc}") from exc
    if not isinstance(obj, dict):
        raise UsageError(f"{where} must hold one JSON object, got a {type(obj).__name__}")
    return obj


@cli.command("verify")
@click.argument("record", required=False, metavar="[RECORD|FILE|-]")
@_with_common
def verify_cmd(record: str | None, config_path: str | None, fields: tuple[str, ...],
               domain: str | None) -> None:
    """Check one record (JSON text, a file holding it, or stdin) and print its verdict."""
    from synthvet.harness.runner import check_one

    config = _config(config_path, fields, domain)
    data = _read_one_record(record)
    verdict = check_one(data, config)
    click.echo(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))
    sys.exit(0 if verdict.status.value == "verified" else EXIT_GATE_FAILED)


@cli.command("domains")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--config", "config_path", metavar="FILE")
def domains_cmd(as_json: bool, config_path: str | None) -> None:
    """List installed domains, their versions, and whether their checkers are available."""
    from synthvet.domains.base import checkers_of
    from synthvet.errors import DomainValidationError
    from synthvet.harness.config import load_config

    config = load_config(config_path)
    registry = config.registry()
    rows = []
    for name in registry.names():
        row: dict[str, Any] = {"name": name, "origin": registry.origins[name], "version": "?",
                               "fields": [], "checkers": []}
        try:
            domain = registry.get(name, config.domain_options(name))
        except DomainValidationError as exc:
            row["checkers"] = [{"name": "plugin", "available": False, "detail": exc.message}]
        else:
            row["version"], row["fields"] = domain.version, list(domain.fields)
            row["checkers"] = [{"name": c.name, "available": c.available, "detail": c.detail}
                               for c in checkers_of(domain)]
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        from synthvet.harness.console import domains_table

        domains_table(rows)


def _register_extras() -> None:
    from synthvet.harness.cli_experts import register

    register(cli)


_register_extras()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: maps errors to the exit codes of the contract."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="synthvet",
                 standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except UsageError as exc:
        click.echo(f"synthvet: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except HarnessError as exc:
        click.echo(f"synthvet: harness failure: {exc}", err=True)
        sys.exit(EXIT_HARNESS)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("synthvet: interrupted; verdicts settled so far are in the ledger, run "
                   "the same command again to resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # the contract: a harness failure is exit 3, never a crash dump
        click.echo(f"synthvet: internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("SYNTHVET_DEBUG"):
            traceback.print_exc()
        else:
            click.echo("synthvet: set SYNTHVET_DEBUG=1 to see the traceback", err=True)
        sys.exit(EXIT_HARNESS)
    sys.exit(0)
