"""The run folder. Files are written under temporary names and renamed into place only
when the run completes, so a killed or interrupted run never leaves a half-written
``accepted.jsonl`` that looks finished."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from synthvet.errors import HarnessError, UsageError
from synthvet.model import Status

__all__ = ["RunFolder", "SPLIT_FILES"]

SPLIT_FILES = {Status.VERIFIED: "accepted.jsonl", Status.REFUTED: "rejected.jsonl",
               Status.NEEDS_REVIEW: "review.jsonl"}
_PARTIAL = ".partial"


class RunFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"--out {str(self.path)!r} exists and is not a folder")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            names = ["verdicts.jsonl", *SPLIT_FILES.values()]
            self._files: dict[str, IO[str]] = {
                n: open(self.path / (n + _PARTIAL), "w", encoding="utf-8",  # noqa: SIM115
                        buffering=1 << 20)
                for n in names
            }
        except OSError as exc:
            raise UsageError(f"cannot write the run folder {str(self.path)!r}: "
                             f"{exc.strerror or exc}") from exc
        self._verdicts = self._files["verdicts.jsonl"]
        self._split = {s.value: self._files[n] for s, n in SPLIT_FILES.items()}

    def write_lines(self, outs: list[tuple[int, str, str, str]]) -> None:
        """Settled records, in input order: (seq, status, verdict line, split line)."""
        verdicts = self._verdicts
        split = self._split
        try:
            verdicts.write("\n".join([o[2] for o in outs]) + "\n")
            for _, status, _, line in outs:
                split[status].write(line + "\n")
        except OSError as exc:
            raise HarnessError(f"cannot write to the run folder {str(self.path)!r}: {exc}"
                               ) from exc

    def write_json(self, name: str, data: Any) -> Path:
        target = self.path / name
        tmp = self.path / (name + _PARTIAL)
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                       encoding="utf-8")
        os.replace(tmp, target)
        return target

    def finish(self) -> None:
        """Close and move every file into place."""
        for name, fh in self._files.items():
            fh.close()
            os.replace(self.path / (name + _PARTIAL), self.path / name)

    def abandon(self) -> None:
        """Close and remove the temporary files; the folder keeps its previous contents."""
        for name, fh in self._files.items():
            fh.close()
            try:
                os.unlink(self.path / (name + _PARTIAL))
            except OSError:
                pass
