"""Configuration: ``synthvet.toml``, ``--config FILE`` or ``[tool.synthvet]`` in pyproject.toml.

Only the shape is checked here (known tables, typed limits); each table's contents are
validated by the part that owns it (gate, policy, a domain's options), so the error
names that part.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthvet.errors import InputError, UsageError
from synthvet.model import Limits

__all__ = ["Config", "load_config", "TABLES"]

TABLES = ("run", "gate", "policy", "fields", "domains", "limits")
DEFAULT_LEDGER = ".synthvet/ledger.sqlite"


@dataclass(frozen=True)
class Config:
    """The effective configuration of one run."""

    data: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None

    def table(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise UsageError(f"[{name}] in {self.path or 'the config'} must be a table, "
                             f"got {value!r}")
        return value

    @property
    def fields(self) -> dict[str, str]:
        table = self.table("fields")
        for k, v in table.items():
            if not isinstance(v, str):
                raise UsageError(f"[fields] {k} must name a column (a string), got {v!r}")
        return dict(table)

    @property
    def default_domain(self) -> str | None:
        value = self.table("run").get("domain")
        if value is not None and not isinstance(value, str):
            raise UsageError(f"[run] domain must be a string, got {value!r}")
        return value

    @property
    def ledger_path(self) -> str:
        value = self.table("run").get("ledger", DEFAULT_LEDGER)
        if not isinstance(value, str):
            raise UsageError(f"[run] ledger must be a path, got {value!r}")
        return value

    @property
    def pin_workers(self) -> bool:
        """``[run] pin_workers`` (default true): each worker process, and what it starts,
        stays on one CPU (:func:`synthvet.harness.executors.pin_to`). Turn it off on a
        machine whose CPUs other jobs keep busy."""
        value = self.table("run").get("pin_workers", True)
        if not isinstance(value, bool):
            raise UsageError(f"[run] pin_workers must be true or false, got {value!r}")
        return value

    @property
    def plugins(self) -> dict[str, str]:
        """``[run.plugins]``: extra domains as ``name = "module:attr"``, for a domain that
        is not packaged yet (the module must be importable, e.g. via PYTHONPATH)."""
        table = self.table("run").get("plugins", {})
        if not isinstance(table, dict) or not all(
                isinstance(v, str) and ":" in v for v in table.values()):
            raise UsageError('[run.plugins] must map names to "module:attr" strings, '
                             f"got {table!r}")
        return dict(table)

    def registry(self) -> Any:
        """Installed domains plus this config's ``[run.plugins]``."""
        from synthvet.domains.registry import load_registry

        registry = load_registry()
        if self.plugins and self.path:
            # the config's own folder, so a plugin module beside synthvet.toml imports
            import sys

            folder = str(Path(self.path).resolve().parent)
            if folder not in sys.path:
                sys.path.insert(0, folder)
        for name, target in self.plugins.items():
            registry.add(name, target, origin=self.path or "config")
        return registry

    def domain_options(self, name: str) -> dict[str, Any]:
        value = self.table("domains").get(name, {})
        if not isinstance(value, dict):
            raise UsageError(f"[domains.{name}] must be a table, got {value!r}")
        return value

    def limits_for(self, domain: str) -> Limits:
        """``[limits]`` overall, overridden per domain by ``[limits.<domain>]``."""
        table = self.table("limits")
        merged = {k: v for k, v in table.items() if not isinstance(v, dict)}
        per = table.get(domain, {})
        if isinstance(per, dict):
            merged.update(per)
        unknown = set(merged) - {"seconds", "memory_mb"}
        if unknown:
            raise UsageError(f"[limits]: unknown key(s) {sorted(unknown)}; "
                             "use seconds and memory_mb")
        seconds = merged.get("seconds", Limits().seconds)
        memory = merged.get("memory_mb", Limits().memory_mb)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise UsageError(f"[limits] seconds must be a positive number, got {seconds!r}")
        if isinstance(memory, bool) or not isinstance(memory, int) or memory < 64:
            raise UsageError(f"[limits] memory_mb must be a whole number >= 64, got {memory!r}")
        return Limits(seconds=float(seconds), memory_mb=memory)

    def with_overrides(self, **tables: dict[str, Any]) -> Config:
        data = {k: dict(v) if isinstance(v, dict) else v for k, v in self.data.items()}
        for name, values in tables.items():
            data.setdefault(name, {}).update(values)
        return Config(data, self.path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise InputError(f"cannot read config file {str(path)!r}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc


def load_config(explicit: str | None = None, cwd: Path | None = None) -> Config:
    """Read the config from ``explicit``, else ``synthvet.toml``, else pyproject.toml."""
    cwd = cwd or Path.cwd()
    data: dict[str, Any] = {}
    path: Path | None = None
    if explicit is not None:
        path = Path(explicit)
        raw = _read_toml(path)
        data = raw.get("tool", {}).get("synthvet", raw) if path.name == "pyproject.toml" else raw
    elif (cwd / "synthvet.toml").is_file():
        path = cwd / "synthvet.toml"
        data = _read_toml(path)
    elif (cwd / "pyproject.toml").is_file():
        raw = _read_toml(cwd / "pyproject.toml")
        section = raw.get("tool", {}).get("synthvet")
        if isinstance(section, dict):
            path, data = cwd / "pyproject.toml", section
    for key in data:
        if key not in TABLES:
            close = difflib.get_close_matches(key, TABLES, n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            raise UsageError(f"unknown table [{key}] in {path}{hint}; "
                             f"known tables: {', '.join(TABLES)}")
    config = Config(data, str(path) if path else None)
    for name in TABLES:
        config.table(name)
    return config
