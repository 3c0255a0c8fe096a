"""The public API type-checks as plugin authors use it (mypy --strict on typing_tests/),
and the plugin there actually behaves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_plugin_code_type_checks_strictly():
    p = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--follow-imports=silent", str(ROOT / "typing_tests")],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_typed_plugin_passes_the_conformance_kit():
    sys.path.insert(0, str(ROOT / "typing_tests"))
    try:
        import plugin_domain

        plugin_domain.use()
    finally:
        sys.path.remove(str(ROOT / "typing_tests"))


def test_package_type_checks():
    p = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "src/synthvet"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr


def test_every_public_name_is_listed_once_and_imports_lazily():
    """``synthvet`` imports its public names on first use (so the command's entry point
    stays light); the lazy table, ``__all__`` and the objects must agree."""
    code = ("import sys, synthvet\n"
            "assert 'synthvet.model' not in sys.modules, 'imported eagerly'\n"
            "assert sorted(synthvet.__all__) == sorted(synthvet._HOMES)\n"
            "for name in synthvet.__all__:\n"
            "    obj = getattr(synthvet, name)\n"
            "    assert obj.__module__ == synthvet._HOMES[name], name\n"
            "from synthvet import *  # noqa: F403\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
