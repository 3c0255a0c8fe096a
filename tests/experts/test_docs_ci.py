"""The recipes in docs/ci and docs/experts.md name commands and options that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthvet.harness.cli import cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci"
COMMANDS = sorted({
    m.group(0).strip()
    for path in (DOCS / "github-workflow.yml", DOCS / "pre-commit-config.yaml",
                 DOCS / "README.md", DOCS.parent / "experts.md")
    for m in re.finditer(r"synthvet (?:run|diff|report|review (?:export|import))[^\n|>&`\[]*",
                         path.read_text())
})


def test_the_recipes_have_commands() -> None:
    assert len(COMMANDS) >= 6
    assert any(c.startswith("synthvet diff") for c in COMMANDS)
    assert any("review import" in c for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_and_option_exists(command: str) -> None:
    words = command.split()[1:]
    sub = words[:2] if words[0] == "review" else words[:1]
    result = CliRunner().invoke(cli, [*sub, "--help"])
    assert result.exit_code == 0, result.output
    for option in (w for w in words if w.startswith("--")):
        assert option in result.output, f"{option} is not an option of synthvet {' '.join(sub)}"
