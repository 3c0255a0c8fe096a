"""Command-line commands for experts and CI: ``review export``, ``review import``,
``report`` and ``diff``. :func:`register` adds them to the main ``synthvet`` group.

Errors the user can fix raise :class:`~synthvet.errors.UsageError` /
:class:`~synthvet.errors.InputError`; the main CLI prints the one sentence and exits 2.
"""

from __future__ import annotations

import json
import sys

import click

__all__ = ["register"]


@click.group("review")
def review_group() -> None:
    """The expert queue: export records that need a person, import their decisions."""


@review_group.command("export")
@click.argument("run_dir", metavar="RUN_DIR")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "label-studio"]), default="jsonl",
              show_default=True, help="jsonl: one item a line, fill in decision/reviewer/note; "
              "label-studio: a task list plus <stem>.label_config.xml beside it.")
@click.option("--out", required=True, metavar="FILE", help="Where to write the queue.")
def review_export(run_dir: str, fmt: str, out: str) -> None:
    """Write the needs_review records of RUN_DIR, with reasons and evidence, to FILE."""
    from synthvet.harness.review import export_review

    result = export_review(run_dir, fmt, out)
    click.echo(f"wrote {result.count} review item(s) to {result.path}")
    if result.config_path is not None:
        click.echo(f"labeling config: {result.config_path} (create the Label Studio project "
                   f"with it, then import the tasks)")


@review_group.command("import")
@click.argument("file", metavar="FILE")
@click.option("--ledger", "ledger_path", metavar="PATH",
              help="Ledger file (default: .synthvet/ledger.sqlite, or [run] ledger).")
@click.option("--config", "config_path", metavar="FILE",
              help="Config file, to find [run] ledger (default: ./synthvet.toml).")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@click.option("--users", "users_path", metavar="FILE",
              help="Label Studio user list (saved GET /api/users) to turn the user numbers "
                   "in its exports into e-mails.")
@click.option("--strict", is_flag=True,
              help="Exit 1 when a decision could not be placed or decisions conflict.")
def review_import(file: str, ledger_path: str | None, config_path: str | None, as_json: bool,
                  users_path: str | None, strict: bool) -> None:
    """Read expert decisions (Label Studio export or JSONL) into the ledger.

    JSONL lines: {"id", "decision": "accept"|"reject", "reviewer", "note"}. Ids the ledger
    has never seen and conflicting decisions are reported, never silently resolved.
    """
    from synthvet.harness.config import load_config
    from synthvet.harness.ledger import Ledger
    from synthvet.harness.review import import_decisions, load_users, parse_decisions, summarize

    if ledger_path is None:
        ledger_path = load_config(config_path).ledger_path
    users = load_users(users_path) if users_path else None
    parse_decisions(file, users=users)  # fail on a malformed file before opening the ledger
    with Ledger(ledger_path) as ledger:
        report = import_decisions(file, ledger, users=users)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        lines = list(summarize(report))
        click.echo(lines[0])
        for line in lines[1:]:
            click.echo(line, err=True)
    if strict and not report.clean:
        sys.exit(1)


@click.command("report")
@click.argument("run_dir", metavar="RUN_DIR")
def report_cmd(run_dir: str) -> None:
    """Rebuild report.html (and junit.xml) of RUN_DIR from its files."""
    from synthvet.harness.junit import write_junit
    from synthvet.harness.report_html import write_html_report

    path = write_html_report(run_dir)
    write_junit(run_dir)
    click.echo(str(path))


@click.command("diff")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]),
              default="table", show_default=True)
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when any record is newly refuted or newly in review.")
def diff_cmd(run_a: str, run_b: str, fmt: str, exit_code: bool) -> None:
    """What changed from RUN_A to RUN_B: newly refuted, newly verified, newly in review."""
    from synthvet.harness.diff import diff_runs

    result = diff_runs(run_a, run_b)
    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "markdown":
        click.echo(result.to_markdown(), nl=False)
    else:
        result.print_rich()
    if exit_code and (result.newly_refuted or result.newly_review):
        sys.exit(1)


def register(cli: click.Group) -> None:
    """Add ``review export``, ``review import``, ``report`` and ``diff`` to ``cli``."""
    cli.add_command(review_group)
    cli.add_command(report_cmd)
    cli.add_command(diff_cmd)
