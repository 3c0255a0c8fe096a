"""The expert queue out of a run folder, and the experts' decisions back into the ledger.

Out (:func:`export_review`): every ``needs_review`` record of a run, with the reason a
person is needed, the machine's evidence (the parsed answer, the failing test, the
checker's messages) and, when policy moved a verified record, what the machine said.

* ``jsonl``: one object a line::

      {"id", "content_key", "domain", "reason", "detail", "source", "line", "tags",
       "record": {...original...}, "evidence": {...}, "machine": {...} | null,
       "decision": null, "reviewer": null, "note": null}

  An expert fills in ``decision`` (``"accept"`` or ``"reject"``), ``reviewer`` and
  ``note``, and the same file imports back; lines left undecided are skipped.
* ``label-studio``: a JSON task list (``data`` holds the record, reason and evidence as
  text, plus ``record_id`` and ``content_key`` to bring decisions home; the machine's
  findings are ``predictions``, i.e. pre-annotations) and, beside it,
  ``<stem>.label_config.xml``, the labeling config to create the project with.

Back (:func:`import_decisions`): a Label Studio export (``JSON`` or ``JSON_MIN``) or
JSONL lines ``{"id", "decision", "reviewer", "note"}`` (optionally ``content_key``,
``domain`` and ``decided_at``). Each decision is written with
:meth:`~synthvet.harness.ledger.Ledger.add_decision`, with who and when. Ids are mapped to
content keys through the ledger (``keys_for_id``); an id the ledger has never seen, or
one that maps to several contents, is reported and not written. Decisions that disagree
with each other or with earlier ones are all written and reported: the runner turns them
into ``needs_review``/``expert_conflict`` instead of picking a winner.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from synthvet.errors import InputError, UsageError
from synthvet.harness._expert_io import (
    iter_originals,
    iter_verdicts,
    read_jsonl,
    run_folder,
    short_json,
    sub,
    where_key,
)

__all__ = [
    "FORMATS",
    "ExportResult",
    "ImportReport",
    "IncomingDecision",
    "export_review",
    "import_decisions",
    "label_config",
    "load_users",
    "parse_decisions",
]

FORMATS = ("jsonl", "label-studio")
#: what a record's machine status suggests an expert decide, for pre-annotations
_SUGGESTION = {"verified": "accept", "refuted": "reject"}


class DecisionLedger(Protocol):
    """The part of :class:`~synthvet.harness.ledger.Ledger` the import uses."""

    def add_decision(self, content_key: str, domain: str, record_id: str, decision: str,
                     reviewer: str, note: str, decided_at: str, origin: str) -> Any: ...

    def decisions_for(self, content_key: str) -> list[Any]: ...

    def keys_for_id(self, record_id: str) -> list[tuple[str, str]]: ...


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_review` wrote."""

    count: int
    path: Path
    config_path: Path | None = None


def _queue_items(run_dir: Path | str) -> Iterator[dict[str, Any]]:
    """The review items, streamed: ``verdicts.jsonl`` filtered to ``needs_review`` and
    ``review.jsonl`` hold the same records in the same (input) order, so they are read
    side by side and checked to agree on (source, line)."""
    path = run_folder(run_dir)
    originals = iter_originals(path, "needs_review")
    pending: tuple[tuple[str, int], dict[str, Any]] | None = None
    for v in iter_verdicts(path):
        if v.get("status") != "needs_review":
            continue
        if pending is None:
            pending = next(originals, None)
        original = None
        if pending is not None and pending[0] == where_key(v):
            original, pending = pending[1], None
        evidence = sub(v, "evidence")
        yield {
            "id": v.get("id"),
            "content_key": v.get("content_key"),
            "domain": v.get("domain"),
            "reason": v.get("reason"),
            "detail": v.get("detail", ""),
            "source": v.get("source"),
            "line": v.get("line"),
            "tags": v.get("tags") or {},
            "verifier": v.get("verifier", ""),
            "record": original if original is not None else {"id": v.get("id")},
            "evidence": evidence,
            "machine": sub(evidence, "machine") or None,
        }


def label_config() -> str:
    """The Label Studio labeling config that matches the exported tasks."""
    return """<View>
  <Header value="$title"/>
  <Text name="detail" value="$detail"/>
  <Header value="Record" size="5"/>
  <View style="white-space: pre-wrap; font-family: monospace; font-size: 13px">
    <Text name="record" value="$record_text"/>
  </View>
  <Header value="Evidence" size="5"/>
  <View style="white-space: pre-wrap; font-family: monospace; font-size: 13px">
    <Text name="evidence" value="$evidence_text"/>
  </View>
  <Header value="Your decision" size="5"/>
  <Choices name="decision" toName="record" choice="single" showInline="true" required="true">
    <Choice value="accept" hint="the example is correct and may be used for training"/>
    <Choice value="reject" hint="the example is wrong"/>
  </Choices>
  <TextArea name="note" toName="record" rows="3" editable="true"
            placeholder="Why? (kept in the ledger with your decision)"/>
</View>
"""


def _ls_task(item: Mapping[str, Any], version: str) -> dict[str, Any]:
    machine = item.get("machine")
    machine_status = (machine or {}).get("status") or None
    title = f"{item.get('domain')} · {item.get('reason')} · {item.get('id')}"
    where = f"{item.get('source')}:{item.get('line')}"
    data = {
        "id": item.get("id"),
        # also under a name of its own: Label Studio's JSON_MIN export puts its task id in "id"
        "record_id": item.get("id"),
        "content_key": item.get("content_key"),
        "domain": item.get("domain"),
        "reason": item.get("reason"),
        "detail": item.get("detail") or "(no detail)",
        "title": title,
        "where": where,
        "tags": item.get("tags") or {},
        "record": item.get("record"),
        "record_text": short_json(item.get("record"), 20000),
        "evidence_text": short_json(item.get("evidence"), 20000),
    }
    note = f"machine: {item.get('reason')} — {item.get('detail') or ''}".strip()
    if machine:
        note = (f"machine said {machine.get('status')} ({machine.get('reason')}: "
                f"{machine.get('detail', '')}); policy: {item.get('reason')}")
    result: list[dict[str, Any]] = []
    suggestion = _SUGGESTION.get(str(machine_status)) if machine_status else None
    if suggestion:
        result.append({
            "id": "machine-decision", "from_name": "decision", "to_name": "record",
            "type": "choices", "value": {"choices": [suggestion]},
        })
    result.append({
        "id": "machine-note", "from_name": "note", "to_name": "record",
        "type": "textarea", "value": {"text": [note[:2000]]},
    })
    return {
        "data": data,
        "predictions": [{"model_version": version, "score": 0.0, "result": result}],
    }


def export_review(run_dir: Path | str, fmt: str, out: Path | str) -> ExportResult:
    """Write the run's review queue to ``out`` in format ``fmt`` (see the module doc).

    Raises:
        UsageError: unknown format.
        InputError: the run folder cannot be read or ``out`` cannot be written.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown review format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    config_path: Path | None = None
    count = 0
    items = _queue_items(run_folder(run_dir))  # checks the folder before `out` is touched
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "jsonl":
            with out.open("w", encoding="utf-8") as fh:
                for item in items:
                    row = dict(item)
                    row.update({"decision": None, "reviewer": None, "note": None})
                    fh.write(json.dumps(row, ensure_ascii=False, default=repr) + "\n")
                    count += 1
        else:
            from synthvet import __version__

            version = f"synthvet@{__version__}"
            # a JSON list, written item by item so a large queue never sits in memory
            with out.open("w", encoding="utf-8") as fh:
                fh.write("[")
                for item in items:
                    fh.write(",\n" if count else "\n")
                    fh.write(json.dumps(_ls_task(item, version), ensure_ascii=False,
                                        default=repr))
                    count += 1
                fh.write("\n]\n")
            config_path = out.with_name(out.stem + ".label_config.xml")
            config_path.write_text(label_config(), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from exc
    return ExportResult(count=count, path=out, config_path=config_path)


# ---------------------------------------------------------------------------------------
# import
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingDecision:
    """One expert decision as read from a file, before it is matched to the ledger."""

    record_id: str
    decision: Literal["accept", "reject"]
    reviewer: str
    note: str
    decided_at: str
    origin: str
    content_key: str | None = None
    domain: str | None = None


@dataclass
class ImportReport:
    """What :func:`import_decisions` did, item by item."""

    written: list[IncomingDecision] = field(default_factory=list)
    already: list[IncomingDecision] = field(default_factory=list)
    unknown: list[tuple[IncomingDecision, str]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # undecided / cancelled, with why

    @property
    def clean(self) -> bool:
        return not self.unknown and not self.conflicts

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": len(self.written),
            "already_recorded": len(self.already),
            "unknown": [{"id": d.record_id, "origin": d.origin, "why": why}
                        for d, why in self.unknown],
            "conflicts": self.conflicts,
            "skipped": self.skipped,
        }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _decision_value(raw: Any, where: str) -> Literal["accept", "reject"]:
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    value = str(raw).strip().lower() if isinstance(raw, str) else raw
    if value == "accept":
        return "accept"
    if value == "reject":
        return "reject"
    raise UsageError(
        f"{where}: decision must be \"accept\" or \"reject\", got {raw!r} "
        f"({type(raw).__name__})"
    )


def _jsonl_decisions(path: Path, report: ImportReport) -> list[IncomingDecision]:
    out = []
    for number, obj in read_jsonl(path, what="decisions file"):
        where = f"{path}:{number}"
        raw = obj.get("decision")
        if raw is None or raw == "":
            report.skipped.append(f"{where}: no decision yet")
            continue
        decision = _decision_value(raw, where)
        record_id = obj.get("id")
        if record_id is None or record_id == "":
            if not obj.get("content_key"):
                raise UsageError(f"{where}: a decision needs the record's \"id\" "
                                 f"(or its \"content_key\")")
            record_id = ""
        reviewer = obj.get("reviewer")
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise UsageError(f"{where}: \"reviewer\" must name who decided (a non-empty "
                             f"string), got {reviewer!r}")
        decided_at = obj.get("decided_at")
        if decided_at is not None and not isinstance(decided_at, str):
            raise UsageError(f"{where}: \"decided_at\" must be an ISO time string, "
                             f"got {decided_at!r}")
        out.append(IncomingDecision(
            record_id=str(record_id), decision=decision, reviewer=reviewer.strip(),
            note=_text(obj.get("note")), decided_at=decided_at or _now(),
            origin=f"jsonl:{path.name}:{number}",
            content_key=str(obj["content_key"]) if obj.get("content_key") else None,
            domain=str(obj["domain"]) if obj.get("domain") else None,
        ))
    return out


def _ls_user(who: Any, users: Mapping[str, str]) -> str | None:
    """A person from Label Studio's user field: an e-mail as is, a user number through
    ``users`` (id -> e-mail), else ``label-studio user <n>``."""
    if isinstance(who, Mapping):
        for key in ("email", "username"):
            if who.get(key):
                return str(who[key])
        who = who.get("id")
    if who is None or who == "":
        return None
    if isinstance(who, str) and not who.strip().isdigit():
        return who.strip()
    return users.get(str(who).strip()) or f"label-studio user {str(who).strip()}"


def _ls_reviewer(annotation: Mapping[str, Any], users: Mapping[str, str]) -> str:
    who = _ls_user(annotation.get("completed_by"), users)
    if who is not None and not who.startswith("label-studio user"):
        return who
    name = annotation.get("created_username")
    if isinstance(name, str) and "@" in name:
        return name.split(",")[0].strip()  # Label Studio writes "email, user-id"
    return who or "label-studio"


def _ls_result(result: Any) -> tuple[Any, str]:
    decision: Any = None
    notes = []
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, Mapping):
            continue
        value = sub(item, "value")
        if item.get("from_name") == "decision" and "choices" in value:
            decision = value["choices"]
        elif item.get("from_name") == "note" and "text" in value:
            notes.append(_text(value["text"]))
    return decision, "\n".join(n for n in notes if n)


def _ls_decisions(path: Path, tasks: list[Any], report: ImportReport,
                  users: Mapping[str, str]) -> list[IncomingDecision]:
    out = []
    for index, task in enumerate(tasks):
        if not isinstance(task, Mapping):
            raise UsageError(f"{path}: item {index} is not a task object")
        task_ref = f"task {task.get('id', index)}"
        if "data" in task or "annotations" in task:
            data = sub(task, "data")
            annotations = task.get("annotations") or []
            if not isinstance(annotations, list):
                raise UsageError(f"{path}: {task_ref}: \"annotations\" must be a list, got "
                                 f"{type(annotations).__name__}")
            if not annotations:
                report.skipped.append(f"{path}: {task_ref} has no annotation")
            for ann in annotations:
                if not isinstance(ann, Mapping):
                    continue
                where = f"{path}: {task_ref}, annotation {ann.get('id')}"
                if ann.get("was_cancelled"):
                    report.skipped.append(f"{where} was cancelled (skipped)")
                    continue
                raw, note = _ls_result(ann.get("result"))
                if raw is None:
                    report.skipped.append(f"{where} has no accept/reject choice")
                    continue
                out.append(_ls_incoming(data, _decision_value(raw, where), note,
                                        _ls_reviewer(ann, users),
                                        str(ann.get("updated_at") or ann.get("created_at")
                                            or _now()),
                                        f"label-studio:{path.name}:{task_ref}:"
                                        f"annotation {ann.get('id')}", where))
        else:  # JSON_MIN: the task's data fields and each control's value, flat; its "id"
            # is Label Studio's task id, so the record's id is read from "record_id"
            where = f"{path}: {task_ref}"
            raw = task.get("decision")
            if raw is None:
                report.skipped.append(f"{where} has no decision")
                continue
            flat = {k: v for k, v in task.items() if k != "id"}
            out.append(_ls_incoming(flat, _decision_value(raw, where), _text(task.get("note")),
                                    _ls_user(task.get("annotator"), users) or "label-studio",
                                    str(task.get("updated_at") or task.get("created_at")
                                        or _now()),
                                    f"label-studio:{path.name}:{task_ref}", where))
    return out


def _ls_incoming(data: Mapping[str, Any], decision: Literal["accept", "reject"], note: str,
                 reviewer: str, decided_at: str, origin: str, where: str) -> IncomingDecision:
    record_id = data.get("record_id", data.get("id"))
    if (record_id is None or record_id == "") and not data.get("content_key"):
        raise UsageError(f"{where}: the task's data has neither \"id\" nor \"content_key\"; "
                         f"was it exported by `synthvet review export --format label-studio`?")
    return IncomingDecision(
        record_id=str(record_id if record_id is not None else ""), decision=decision,
        reviewer=reviewer, note=note, decided_at=decided_at, origin=origin,
        content_key=str(data["content_key"]) if data.get("content_key") else None,
        domain=str(data["domain"]) if data.get("domain") else None,
    )


def parse_decisions(path: Path | str, report: ImportReport | None = None, *,
                    users: Mapping[str, str] | None = None) -> list[IncomingDecision]:
    """Read every decision in ``path`` (format detected: a JSON list is a Label Studio
    export, anything else JSON Lines). Nothing is written. ``users`` maps Label Studio
    user numbers to names (see :func:`load_users`): its exports name annotators by number.

    Raises:
        InputError: the file cannot be read or parsed.
        UsageError: an item is malformed (the message names it); no partial result.
    """
    path = Path(path)
    report = report if report is not None else ImportReport()
    try:
        head = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read decisions file {str(path)!r}: "
                         f"{exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"decisions file {str(path)!r} is not UTF-8 text") from exc
    if head.lstrip().startswith("["):
        try:
            tasks = json.loads(head)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: looks like a Label Studio export (a JSON list) but is "
                             f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        return _ls_decisions(path, tasks, report, users or {})
    return _jsonl_decisions(path, report)


def _resolve(ledger: DecisionLedger, d: IncomingDecision) -> tuple[str, str] | str:
    """(content_key, domain) for a decision, or why it cannot be placed."""
    pairs = ledger.keys_for_id(d.record_id) if d.record_id else []
    if d.content_key:
        for key, domain in pairs:
            if key == d.content_key:
                return key, domain
        if not d.record_id and d.domain:
            return d.content_key, d.domain
        if pairs:
            return ("the record with this id has changed since it was exported (its content "
                    "key is not among those this ledger saw); re-run and export again")
        return "no run recorded in this ledger has seen this record (wrong --ledger?)"
    keys = list(dict.fromkeys(pairs))
    if not keys:
        return "no run recorded in this ledger has seen a record with this id (wrong --ledger?)"
    if len({k for k, _ in keys}) > 1:
        return (f"this id names {len(keys)} different record contents in the ledger; give "
                f"\"content_key\" too (it is in `synthvet review export` output)")
    return keys[0]


def load_users(path: Path | str) -> dict[str, str]:
    """User number -> e-mail, from Label Studio's user list (``GET /api/users``, saved as
    JSON: a list of ``{"id", "email", ...}``) or a plain ``{"1": "ann@lab"}`` object.

    Raises:
        InputError: the file cannot be read or has neither shape.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the Label Studio user list {str(path)!r}: {exc}") from exc
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, list):
        out = {str(u["id"]): str(u.get("email") or u.get("username") or u["id"])
               for u in data if isinstance(u, Mapping) and "id" in u}
    elif isinstance(data, Mapping):
        out = {str(k): str(v) for k, v in data.items()}
    else:
        out = {}
    if not out:
        raise InputError(f"{str(path)!r} holds no users: save the output of Label Studio's "
                         f"GET /api/users, or write {{\"<user id>\": \"<e-mail>\"}}")
    return out


def import_decisions(path: Path | str, ledger: DecisionLedger, *,
                     users: Mapping[str, str] | None = None) -> ImportReport:
    """Read decisions from ``path`` and write them into ``ledger`` (see the module doc).

    The whole file is parsed before anything is written, so a malformed file writes
    nothing.
    """
    report = ImportReport()
    incoming = parse_decisions(path, report, users=users)
    placed: list[tuple[IncomingDecision, str, str]] = []
    for d in incoming:
        where = _resolve(ledger, d)
        if isinstance(where, str):
            report.unknown.append((d, where))
        else:
            placed.append((d, *where))

    # Conflicts: disagreement within this file, or with what the ledger already holds,
    # for one record (content key and domain: what the runner settles by).
    by_key: dict[tuple[str, str], list[tuple[IncomingDecision, str, str]]] = {}
    for entry in placed:
        by_key.setdefault((entry[1], entry[2]), []).append(entry)
    for (key, domain), entries in by_key.items():
        existing = [x for x in ledger.decisions_for(key) if x.domain == domain]
        new_values = {d.decision for d, _, _ in entries}
        old_values = {x.decision for x in existing}
        if len(new_values | old_values) > 1:
            report.conflicts.append({
                "id": entries[0][0].record_id,
                "content_key": key,
                "domain": entries[0][2],
                "decisions": [
                    {"decision": x.decision, "reviewer": x.reviewer, "decided_at": x.decided_at,
                     "origin": x.origin, "note": x.note, "new": False} for x in existing
                ] + [
                    {"decision": d.decision, "reviewer": d.reviewer, "decided_at": d.decided_at,
                     "origin": d.origin, "note": d.note, "new": True} for d, _, _ in entries
                ],
            })
        for d, key_, domain in entries:
            same = [x for x in existing if x.decision == d.decision
                    and x.reviewer == d.reviewer and x.note == d.note]
            if same:
                report.already.append(d)
                continue
            added = ledger.add_decision(key_, domain, d.record_id, d.decision, d.reviewer,
                                        d.note, d.decided_at, d.origin)
            (report.written if added is not False else report.already).append(d)
    return report


def summarize(report: ImportReport) -> Iterable[str]:
    """Lines for a person: counts, then each unknown id and conflict."""
    yield (f"{len(report.written)} decision(s) written, {len(report.already)} already in the "
           f"ledger, {len(report.unknown)} not placed, {len(report.conflicts)} conflict(s), "
           f"{len(report.skipped)} item(s) without a decision")
    for d, why in report.unknown:
        yield f"not placed: id {d.record_id!r} ({d.origin}): {why}"
    for c in report.conflicts:
        parts = ", ".join(f"{x['reviewer']}: {x['decision']}" for x in c["decisions"])
        yield (f"conflict: id {c['id']!r} ({c['domain']}, {c['content_key'][:12]}…) has "
               f"disagreeing decisions ({parts}); the next run sends it to review as "
               f"expert_conflict")
