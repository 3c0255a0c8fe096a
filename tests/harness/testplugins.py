"""Domains that misbehave on purpose, to test the harness's limits. Real code run in real
worker processes; nothing here replaces a component under test."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from typing import Any

from synthvet.model import Limits, Record, Verdict, refuted, verified


class _Base:
    version = "1"
    fields = ("answer", "reference")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})


class SleepyDomain(_Base):
    """Sleeps ``sleep`` seconds, then compares like exact."""

    name = "sleepy"

    def check(self, record: Record, limits: Limits) -> Verdict:
        time.sleep(float(record.get("sleep", 0)))
        if record.get("answer") == record.get("reference"):
            return verified("answer_matches", "same")
        return refuted("answer_mismatch", "different")


class CrashDomain(_Base):
    """Kills its own worker when ``crash`` is true."""

    name = "crashy"

    def check(self, record: Record, limits: Limits) -> Verdict:
        if record.get("crash"):
            os.kill(os.getpid(), signal.SIGKILL)
        return verified("answer_matches", "fine")


class HogDomain(_Base):
    """Allocates ``mb`` megabytes."""

    name = "hog"

    def check(self, record: Record, limits: Limits) -> Verdict:
        blob = bytearray(int(record.get("mb", 1)) * 1024 * 1024)
        return verified("answer_matches", f"allocated {len(blob)} bytes")


class RaiseDomain(_Base):
    name = "raisy"

    def check(self, record: Record, limits: Limits) -> Verdict:
        raise RuntimeError("bug in a plugin")


class NoVersionDomain(_Base):
    name = "noversion"
    version = ""

    def check(self, record: Record, limits: Limits) -> Verdict:
        return verified("answer_matches", "never reached")


class WrongNameDomain(_Base):
    name = "something_else"

    def check(self, record: Record, limits: Limits) -> Verdict:
        return verified("answer_matches", "never reached")


def dying_worker(*args: object) -> None:
    """A worker process that exits before it is ready (as when workers cannot start)."""
    raise SystemExit(7)


class WhereDomain(_Base):
    """Says where its worker runs: its parent, the CPUs it may use, and those of a
    process it starts (read by that process from ``/proc/self/status``)."""

    name = "where"

    def check(self, record: Record, limits: Limits) -> Verdict:
        import subprocess

        time.sleep(float(record.get("sleep", 0)))
        status = subprocess.run(["cat", "/proc/self/status"], capture_output=True,
                                text=True, check=True).stdout
        child = next(line.split(":", 1)[1].strip() for line in status.splitlines()
                     if line.startswith("Cpus_allowed_list:"))
        return verified("answer_matches", "here", {
            "pid": os.getpid(), "ppid": os.getppid(), "cpus": sorted(os.sched_getaffinity(0)),
            "child": child})
