"""The ledger's background writer: what it commits is there after close, a failure of
it stops the run (HarnessError, exit 3) rather than vanishing in a thread, and readers
in other processes see committed rows while it writes."""

from __future__ import annotations

import sqlite3

import pytest

from synthvet.errors import HarnessError
from synthvet.harness.ledger import Ledger, verdict_key
from synthvet.model import dump_json, verified


def _row(i: int) -> tuple[str, str, str, str, float]:
    body = dump_json({**verified("ok").stamped(domain="exact", verifier="exact@1").to_dict()})
    return (verdict_key(f"c{i}", "exact@1", "f"), f"c{i}", "exact", body, 1.0)


def test_rows_written_in_the_background_are_there_after_close(tmp_path):
    path = tmp_path / "l.sqlite"
    led = Ledger(path)
    led.start_writer()
    for chunk in range(5):
        led.add_rows([_row(i) for i in range(chunk * 100, chunk * 100 + 100)],
                     [(f"id{chunk}", f"c{chunk}", "exact", 1.0)])
        led.flush()
    led.close()
    reader = Ledger(path, readonly=True)
    found = reader.lookup([_row(i)[0] for i in range(0, 500, 7)])
    assert len(found) == len(range(0, 500, 7))
    assert all(v.reason == "ok" for v in found.values())
    with pytest.raises(sqlite3.OperationalError):  # read-only means read-only
        reader._db.execute("DELETE FROM verdicts")
    reader.close()


def test_a_failed_background_write_is_raised_not_lost(tmp_path):
    path = tmp_path / "l.sqlite"
    led = Ledger(path)
    led.start_writer()
    other = sqlite3.connect(path)
    other.execute("DROP TABLE seen")
    other.close()
    led.add_rows([_row(1)], [("id", "c1", "exact", 1.0)])
    led.flush()
    with pytest.raises(HarnessError, match="cannot write the ledger"):
        led.close()
