"""Domains by name, discovered through the ``synthvet.domains`` entry-point group.

Entries stay ``"module:attr"`` placeholders until first use, so ``synthvet run`` on a
file of ``exact`` records never imports sympy or z3. A plugin is validated when it is
loaded: a malformed one raises :class:`DomainValidationError` naming it, instead of
failing later inside a worker.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from synthvet.domains.base import Domain
from synthvet.errors import DomainValidationError, UsageError

__all__ = ["DomainRegistry", "load_registry", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "synthvet.domains"
_OWN_DISTRIBUTION = "synthvet"


@dataclass
class DomainRegistry:
    """Maps a domain name to its ``"module:attr"`` target, loading on demand."""

    targets: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    _loaded: dict[str, Domain] = field(default_factory=dict)

    def add(self, name: str, target: str, origin: str = "<direct>") -> None:
        if name in self.targets and self.targets[name] != target:
            raise DomainValidationError(
                name,
                f"registered twice: {self.targets[name]!r} (from {self.origins[name]}) "
                f"and {target!r} (from {origin})",
            )
        self.targets[name] = target
        self.origins[name] = origin

    def names(self) -> list[str]:
        return sorted(self.targets)

    def __contains__(self, name: object) -> bool:
        return name in self.targets

    def get(self, name: str, options: Mapping[str, Any] | None = None) -> Domain:
        """The domain called ``name``, built with ``options`` (cached per name)."""
        if name not in self.targets:
            raise UsageError(_unknown_message(name, self.names()))
        if name not in self._loaded:
            factory = _import_target(name, self.targets[name])
            self._loaded[name] = build_domain(name, factory, options or {})
        return self._loaded[name]


def build_domain(name: str, factory: Callable[..., Any], options: Mapping[str, Any]) -> Domain:
    """Call a domain's factory with its options and check what comes back."""
    try:
        domain = factory(dict(options))
    except UsageError as exc:
        raise UsageError(f"[domains.{name}]: {exc}") from exc
    except TypeError as exc:
        raise DomainValidationError(
            name, f"{factory!r} must accept one argument, the options mapping ({exc})"
        ) from exc
    validate_domain(name, domain)
    return domain


def validate_domain(name: str, domain: Any) -> None:
    """Reject an object that does not keep the :class:`Domain` contract."""
    missing = [a for a in ("name", "version", "fields", "check") if not hasattr(domain, a)]
    if missing:
        raise DomainValidationError(name, f"missing attribute(s) {', '.join(missing)}")
    if not callable(domain.check):
        raise DomainValidationError(name, "`check` must be a method check(record, limits)")
    if domain.name != name:
        raise DomainValidationError(
            name, f"registered as {name!r} but its `name` is {domain.name!r}"
        )
    if not isinstance(domain.version, str) or not domain.version.strip():
        raise DomainValidationError(name, f"`version` must be a non-empty string, got "
                                    f"{domain.version!r}")
    if isinstance(domain.fields, str) or not all(isinstance(f, str) for f in domain.fields):
        raise DomainValidationError(name, "`fields` must be a sequence of field names")


def _import_target(name: str, target: str) -> Callable[..., Any]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a plugin whose module does not import is malformed
        raise DomainValidationError(name, f"cannot import {module_name!r}: {exc}") from exc
    obj: Any = module
    for part in attr.split(".") if attr else []:
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise DomainValidationError(name, f"{module_name!r} has no {attr!r}") from exc
    if not callable(obj):
        raise DomainValidationError(name, f"{target!r} is not a class or factory")
    return obj


def _entry_points() -> Iterable[md.EntryPoint]:
    return md.entry_points(group=ENTRY_POINT_GROUP)


def load_registry() -> DomainRegistry:
    """All installed domains. ``SYNTHVET_DISABLE_PLUGIN_AUTOLOAD=1`` keeps only built-ins."""
    only_own = os.environ.get("SYNTHVET_DISABLE_PLUGIN_AUTOLOAD", "") not in ("", "0")
    registry = DomainRegistry()
    names: dict[int, str] = {}  # a distribution's name parses its metadata on each access
    for ep in _entry_points():
        if ep.dist is None:
            dist = "<unknown>"
        else:
            dist = names.get(id(ep.dist)) or names.setdefault(id(ep.dist), ep.dist.name)
        if only_own and dist != _OWN_DISTRIBUTION:
            continue
        registry.add(ep.name, ep.value, origin=dist)
    return registry


def _unknown_message(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown domain {name!r}{hint} Installed: {', '.join(known) or 'none'}"
