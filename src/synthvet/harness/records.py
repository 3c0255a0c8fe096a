"""Turning a decoded input object into a :class:`Record`: field mapping, id, domain, tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthvet.model import Record, content_hash

__all__ = ["map_fields", "to_record", "record_id"]


def map_fields(obj: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Rename the user's columns to canonical names (``mapping`` is canonical -> theirs).

    A canonical field already present wins over nothing; the user's column wins over a
    same-named canonical one only when the mapping names it, which is what they asked for.
    """
    if not mapping:
        return dict(obj)
    out = dict(obj)
    for canonical, theirs in mapping.items():
        if theirs in obj:
            out[canonical] = obj[theirs]
            if theirs != canonical and theirs not in mapping:
                out.pop(theirs, None)
    return out


def record_id(data: Mapping[str, Any]) -> str:
    """The record's own ``id``, or a stable hash of its content when it has none."""
    raw = data.get("id")
    if raw is None or raw == "":
        return "sha256:" + content_hash(dict(data))[:16]
    return str(raw)


def to_record(
    data: dict[str, Any],
    *,
    source: str = "<input>",
    line: int = 0,
    default_domain: str | None = None,
) -> Record:
    domain = data.get("domain") or default_domain or ""
    tags = data.get("tags")
    return Record(
        id=record_id(data),
        domain=str(domain),
        data=data,
        tags=tags if isinstance(tags, dict) else {},
        source=source,
        line=line,
    )
