"""Streaming readers: JSON Lines (plain or gzip), Parquet, Arrow and dataset folders.

Every reader yields :class:`InputItem` one at a time, so memory does not grow with the
file. A line that does not decode is still an item (with ``error`` set): the runner turns
it into a ``parse_error`` verdict that names the line, and the line is never dropped.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from synthvet.errors import InputError

__all__ = ["InputItem", "InputSet"]

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")
TABLE_SUFFIXES = (".parquet", ".arrow")
_DATASET_SKIP = {"dataset_info.json", "state.json", "dataset_dict.json"}


@dataclass(slots=True)
class InputItem:
    source: str
    line: int
    #: the original line (JSON Lines) or ``None`` for a table row
    text: str | None
    obj: Any
    error: str | None = None


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(TABLE_SUFFIXES):
        return name.rsplit(".", 1)[1]
    return None


def _expand(arg: str) -> list[Path]:
    if arg == "-":
        return [Path("-")]
    path = Path(arg)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*")
            if p.is_file() and _kind(p) and p.name not in _DATASET_SKIP
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise InputError(f"input folder {arg!r} holds no .jsonl, .parquet or .arrow files")
        return files
    if not path.exists():
        raise InputError(f"cannot read input {arg!r}: no such file or folder")
    if not path.is_file():
        raise InputError(f"cannot read input {arg!r}: not a regular file")
    if _kind(path) is None:
        raise InputError(f"unknown input format for {arg!r}: use .jsonl (or .jsonl.gz), "
                         ".parquet, .arrow, or a dataset folder")
    if not os.access(path, os.R_OK):
        raise InputError(f"cannot read input {arg!r}: permission denied")
    return [path]


class InputSet:
    """The files of one run, validated before any work starts."""

    def __init__(self, args: Sequence[str], *, decode: bool = True) -> None:
        #: False: JSON Lines come out as text (``obj`` None), decoded later by a worker
        self.decode = decode
        if not args:
            raise InputError("no input given: name at least one .jsonl/.parquet file or folder")
        self.paths: list[Path] = [p for a in args for p in _expand(a)]
        self.bytes_total = sum(p.stat().st_size for p in self.paths if str(p) != "-")
        self.bytes_read = 0
        self.blank_lines = 0

    def __iter__(self) -> Iterator[InputItem]:
        for path in self.paths:
            kind = "jsonl" if str(path) == "-" else _kind(path)
            if kind == "jsonl":
                yield from self._jsonl(path)
            else:
                yield from self._table(path, kind or "")

    def _jsonl(self, path: Path) -> Iterator[InputItem]:
        source = "<stdin>" if str(path) == "-" else str(path)
        fh: BinaryIO
        try:
            if str(path) == "-":
                fh = sys.stdin.buffer
            elif path.name.lower().endswith(".gz"):
                fh = gzip.open(path, "rb")  # type: ignore[assignment]
            else:
                fh = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(f"cannot read input {source!r}: {exc.strerror or exc}") from exc
        compressed = path.name.lower().endswith(".gz")
        loads = json.loads
        try:
            for n, raw in enumerate(fh, 1):
                if not compressed:
                    self.bytes_read += len(raw)
                if not raw.strip():
                    self.blank_lines += 1
                    continue
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    text = raw.decode("utf-8", "replace").rstrip("\r\n")
                    yield InputItem(source, n, text, None,
                                    f"line {n} is not valid UTF-8 (byte {exc.start})")
                    continue
                if not self.decode:
                    yield InputItem(source, n, text, None)
                    continue
                try:
                    obj = loads(text)
                except ValueError as exc:
                    yield InputItem(source, n, text, None, f"line {n} is not valid JSON: {exc}")
                    continue
                if not isinstance(obj, dict):
                    yield InputItem(source, n, text, None,
                                    f"line {n} is a JSON {type(obj).__name__}, not an object")
                    continue
                yield InputItem(source, n, text, obj)
        except OSError as exc:
            raise InputError(f"cannot read input {source!r}: {exc}") from exc
        finally:
            if fh is not sys.stdin.buffer:
                fh.close()
            if compressed:
                self.bytes_read += path.stat().st_size

    def _table(self, path: Path, kind: str) -> Iterator[InputItem]:
        import pyarrow as pa

        try:
            batches: Iterator[Any]
            if kind == "parquet":
                import pyarrow.parquet as pq

                batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
            else:
                batches = _arrow_batches(pa, path)
            n = 0
            for batch in batches:
                for row in batch.to_pylist():
                    n += 1
                    yield InputItem(str(path), n, None, _plain(row))
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read {kind} input {str(path)!r}: {exc}") from exc
        self.bytes_read += path.stat().st_size


def _arrow_batches(pa: Any, path: Path) -> Iterator[Any]:
    """HF ``datasets`` folders hold Arrow *stream* files; plain Arrow files also work."""
    source = pa.memory_map(str(path), "r")
    try:
        reader = pa.ipc.open_stream(source)
    except pa.ArrowInvalid:
        reader = pa.ipc.open_file(source)
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)
        return
    yield from reader


def _plain(value: Any) -> Any:
    """Table cells as JSON-able values (bytes, dates and decimals become strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
