"""Reading a finished run folder, for the expert-facing tools (review, reports, CI, diff).

Everything here reads what ``synthvet run`` wrote (see the run-folder format in the
harness docs) and fails with :class:`~synthvet.errors.InputError` naming the file when
a folder is not a run folder, instead of a traceback.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthvet.errors import InputError

__all__ = ["STATUSES", "RunData", "load_run", "read_jsonl", "short_json"]

STATUSES = ("verified", "refuted", "needs_review")


def read_jsonl(path: Path, *, what: str = "file") -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each JSON object line; blank lines are skipped.

    Raises:
        InputError: the file cannot be read, or a line is not a JSON object.
    """
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{number}: not valid JSON ({exc.msg}); each line of the {what} "
                    f"must be one JSON object"
                ) from exc
            if not isinstance(obj, dict):
                raise InputError(
                    f"{path}:{number}: expected a JSON object, got {type(obj).__name__}"
                )
            yield number, obj


@dataclass
class RunData:
    """A run folder loaded into memory: its report and its verdict lines."""

    path: Path
    report: dict[str, Any]
    verdicts: list[dict[str, Any]]
    #: the original record objects of rejected/review lines, keyed by (source, line)
    originals: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def status_counts(self) -> Counter[str]:
        return Counter(str(v.get("status")) for v in self.verdicts)

    def domains(self) -> list[str]:
        return sorted({str(v.get("domain") or "?") for v in self.verdicts})

    def original(self, verdict: dict[str, Any]) -> dict[str, Any] | None:
        """The record object as it was in the input, without the ``_synthvet`` key."""
        key = (str(verdict.get("source", "")), int(verdict.get("line") or 0))
        obj = self.originals.get(key)
        if obj is None:
            return None
        return {k: v for k, v in obj.items() if k != "_synthvet"}


def load_run(run_dir: Path | str, *, originals: bool = False) -> RunData:
    """Load ``report.json`` and ``verdicts.jsonl`` (and, if asked, the original records
    of ``review.jsonl`` and ``rejected.jsonl``).

    Raises:
        InputError: the folder or one of its files is missing or unreadable.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise InputError(
            f"run folder {str(path)!r} does not exist or is not a folder; pass the --out "
            f"folder of a `synthvet run`"
        )
    verdict_path = path / "verdicts.jsonl"
    if not verdict_path.is_file():
        raise InputError(
            f"{str(path)!r} is not a synthvet run folder: it has no verdicts.jsonl"
        )
    report: dict[str, Any] = {}
    report_path = path / "report.json"
    if report_path.is_file():
        try:
            loaded = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read {str(report_path)!r}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError(f"{str(report_path)!r} does not hold a JSON object")
        report = loaded
    verdicts = [obj for _, obj in read_jsonl(verdict_path, what="verdicts file")]
    data = RunData(path=path, report=report, verdicts=verdicts)
    if originals:
        for name in ("review.jsonl", "rejected.jsonl"):
            file = path / name
            if not file.is_file():
                continue
            for _, obj in read_jsonl(file, what=name):
                meta = obj.get("_synthvet")
                if isinstance(meta, dict):
                    key = (str(meta.get("source", "")), int(meta.get("line") or 0))
                    data.originals[key] = obj
    return data


def sub(mapping: Any, key: str) -> dict[str, Any]:
    """``mapping[key]`` when that is an object, else an empty dict (files may be partial)."""
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return dict(value) if isinstance(value, Mapping) else {}


def short_json(value: Any, limit: int = 4000) -> str:
    """Indented JSON for people, cut at ``limit`` characters with a marker."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=repr)
    if len(text) > limit:
        text = text[: limit - 1] + "\n… (truncated)"
    return text
