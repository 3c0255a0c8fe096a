"""Domain adapters: read a record's fields, call engines, return a verdict.

Built-in domains register through the same ``synthvet.domains`` entry-point group
that plugins use, so nothing here is special.
"""

from synthvet.domains.base import CheckerStatus, Domain
from synthvet.domains.registry import DomainRegistry, load_registry

__all__ = ["Domain", "CheckerStatus", "DomainRegistry", "load_registry"]
