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
