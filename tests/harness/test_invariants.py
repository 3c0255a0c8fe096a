"""Property tests: hashing, serialisation, input parsing and gate arithmetic."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthvet.harness.gate import Gate
from synthvet.harness.inputs import InputSet
from synthvet.harness.records import map_fields, to_record
from synthvet.model import Status, Verdict, canonical_json, content_hash

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=8), inner, max_size=4), max_leaves=20)
objects = st.dictionaries(st.text(max_size=10), json_values, max_size=8)


@given(objects, st.randoms())
def test_content_hash_ignores_key_order(obj, rnd):
    items = list(obj.items())
    rnd.shuffle(items)
    assert content_hash(dict(items)) == content_hash(obj)


@given(objects, objects)
def test_content_hash_separates_different_objects(a, b):
    if canonical_json(a) != canonical_json(b):
        assert content_hash(a) != content_hash(b)


@given(objects)
def test_record_key_ignores_id_and_tags_only(obj):
    base = to_record(dict(obj))
    renamed = to_record({**obj, "id": "other-id", "tags": {"difficulty": "x"}})
    assert base.content_key == renamed.content_key
    changed = to_record({**obj, "answer": ["definitely", "changed", obj.get("answer")]})
    assert changed.content_key != base.content_key


@given(objects)
def test_record_id_is_stable(obj):
    obj.pop("id", None)
    assert to_record(dict(obj)).id == to_record(dict(obj)).id


statuses = st.sampled_from(list(Status))
verdicts = st.builds(Verdict, status=statuses, reason=st.text(min_size=1, max_size=20),
                     detail=st.text(max_size=40),
                     evidence=st.dictionaries(st.text(max_size=5), json_scalars, max_size=3),
                     id=st.text(max_size=10), domain=st.text(max_size=10),
                     verifier=st.text(max_size=10),
                     seconds=st.floats(min_value=0, max_value=1e6), cached=st.booleans())


@given(verdicts)
def test_verdict_roundtrip(v):
    back = Verdict.from_dict(json.loads(json.dumps(v.to_dict())))
    assert (back.status, back.reason, back.detail, back.id, back.domain, back.cached) == (
        v.status, v.reason, v.detail, v.id, v.domain, v.cached)
    assert dict(back.evidence) == json.loads(canonical_json(dict(v.evidence)))


def test_verdict_needs_a_reason():
    with pytest.raises(ValueError):
        Verdict(Status.VERIFIED, "")


@given(st.dictionaries(st.sampled_from(["a", "b", "answer", "gold"]), json_scalars),
       st.dictionaries(st.sampled_from(["answer", "reference"]), st.sampled_from(["a", "gold"])))
def test_field_mapping_takes_the_named_column(obj, mapping):
    out = map_fields(obj, mapping)
    for canonical, theirs in mapping.items():
        if theirs in obj:
            assert out[canonical] == obj[theirs]


lines = st.lists(st.one_of(
    objects.map(json.dumps),
    st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s),
    st.binary(max_size=30).filter(lambda b: b"\n" not in b).map(
        lambda b: b.decode("latin-1"))), max_size=30)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(lines)
def test_reader_yields_one_item_per_nonblank_line(tmp_path, raw_lines):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"".join(ln.encode("utf-8", "surrogateescape") + b"\n" for ln in raw_lines))
    inputs = InputSet([str(path)])
    items = list(inputs)
    # blank means ASCII white space only: a line of U+00A0 is not silently dropped, it
    # becomes a parse_error item like any other line that is not a JSON object
    nonblank = [i for i, ln in enumerate(raw_lines, 1)
                if ln.encode("utf-8", "surrogateescape").strip()]
    assert [it.line for it in items] == nonblank
    assert inputs.blank_lines == len(raw_lines) - len(nonblank)
    for it in items:
        assert (it.error is None) == isinstance(it.obj, dict)
        if it.error:
            assert f"line {it.line}" in it.error


def test_gzip_and_folder_inputs(tmp_path: Path):
    rows = [{"domain": "exact", "answer": str(i), "reference": str(i)} for i in range(5)]
    folder = tmp_path / "ds"
    folder.mkdir()
    with gzip.open(folder / "part-0.jsonl.gz", "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    (folder / "part-1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "dataset_info.json").write_text("{}")
    items = list(InputSet([str(folder)]))
    assert len(items) == 10 and all(it.error is None for it in items)


def test_arrow_stream_folder_like_hf_datasets(tmp_path: Path):
    import pyarrow as pa

    table = pa.Table.from_pylist([{"domain": "exact", "answer": "1", "reference": "1"}] * 3)
    with pa.OSFile(str(tmp_path / "data-00000-of-00001.arrow"), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    (tmp_path / "state.json").write_text("{}")
    items = list(InputSet([str(tmp_path)]))
    assert [it.obj["answer"] for it in items] == ["1", "1", "1"]


@given(st.dictionaries(st.sampled_from(["verified", "refuted", "needs_review"]),
                       st.integers(0, 50)),
       st.integers(0, 60), st.floats(0, 1))
def test_gate_counts_and_fractions(counts, count_limit, frac_limit):
    total = sum(counts.values())
    gate = Gate.from_config({"max_refuted": count_limit, "max_review": frac_limit,
                             "min_verified": frac_limit})
    res = {r.rule.rule: r for r in gate.evaluate({"d": counts}, {})}
    assert res["max_refuted"].passed == (counts.get("refuted", 0) <= count_limit)
    review = counts.get("needs_review", 0) / total if total else 0.0
    assert res["max_review"].passed == (round(review, 6) <= frac_limit or review <= frac_limit)
    ver = counts.get("verified", 0) / total if total else 0.0
    assert res["min_verified"].passed == (ver >= frac_limit)


def test_random_is_not_used_unseeded():
    # the audit sample and reservoir must be reproducible: same stats for the same input
    from synthvet.harness.stats import Stats
    from synthvet.model import verified

    def times() -> dict:
        s = Stats()
        rnd = random.Random(1)
        for i in range(20_500):
            s.add(verified("x").stamped(id=str(i), domain="d", seconds=rnd.random()), {})
        return s.timings()

    assert times() == times()
