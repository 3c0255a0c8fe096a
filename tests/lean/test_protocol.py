"""The REPL protocol client against the real REPL's recorded exchanges (fixtures/lean/recorded)."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lean_replay import RECORDED, RecordedRepl, load_transcript

from synthvet.verifiers.lean import (
    CommandReply,
    ErrorReply,
    MalformedReply,
    Message,
    Pos,
    Sorry,
    encode_request,
    parse_reply,
    reply_to_json,
    split_stream,
)
from synthvet.verifiers.lean._repl import ReplSession

TRANSCRIPTS = sorted(
    str(p.relative_to(RECORDED))[: -len(".in")]
    for p in RECORDED.rglob("*.in")
    if p.with_name(p.name[: -len(".in")] + ".expected.out").exists()
)


def test_the_recording_is_there() -> None:
    assert len(TRANSCRIPTS) >= 50


@pytest.mark.parametrize("name", TRANSCRIPTS, ids=TRANSCRIPTS)
def test_every_recorded_reply_parses(name: str) -> None:
    requests, replies = load_transcript(name)
    assert len(requests) == len(replies), "one reply per request"
    for text in replies:
        reply = parse_reply(text)
        assert not isinstance(reply, MalformedReply), (text, reply)
        if isinstance(reply, CommandReply):
            # round trip: what we parsed is what the REPL said
            assert reply_to_json(reply) == json.loads(text)


@pytest.mark.parametrize("name", [t for t in TRANSCRIPTS if "pickle" not in t],
                         ids=[t for t in TRANSCRIPTS if "pickle" not in t])
def test_command_replies_number_environments_in_order(name: str) -> None:
    """Every `cmd` the REPL accepted got the next environment number."""
    requests, replies = load_transcript(name)
    expected = 0
    for req_text, rep_text in zip(requests, replies):
        req = json.loads(req_text.replace("\n", ""))
        reply = parse_reply(rep_text)
        if "cmd" in req or "path" in req or "unpickleEnvFrom" in req:
            if isinstance(reply, CommandReply):
                assert reply.env == expected
                expected += 1
            else:
                assert isinstance(reply, ErrorReply)


def test_sorry_reply_term_mode() -> None:
    _, (text,) = load_transcript("term_sorry")
    reply = parse_reply(text)
    assert isinstance(reply, CommandReply)
    assert reply.env == 0
    assert reply.sorries == (Sorry("⊢ Nat", Pos(1, 15), Pos(1, 20), 0),)
    assert [m.data for m in reply.sorry_warnings] == ["declaration uses `sorry`"]
    assert reply.errors == ()


def test_error_with_sorry_inside() -> None:
    _, replies = load_transcript("have_by_sorry")
    reply = parse_reply(replies[0])
    assert isinstance(reply, CommandReply)
    assert reply.errors[0].data.startswith("unsolved goals")
    assert len(reply.sorries) == 1 and reply.sorry_warnings == ()


def test_duplicate_sorries_in_reused_env() -> None:
    requests, replies = load_transcript("dup_sorries")
    assert json.loads(requests[1])["env"] == 0
    second = parse_reply(replies[1])
    assert isinstance(second, CommandReply) and second.env == 1
    assert second.sorries[0].proof_state == 1


def test_unknown_environment_is_an_error_reply() -> None:
    requests, (text,) = load_transcript("unknown_environment")
    assert json.loads(requests[0])["env"] == 5
    assert parse_reply(text) == ErrorReply("Unknown environment.")


def test_lean_error_reply_for_tactic_mode() -> None:
    _, replies = load_transcript("self_proof_check")
    reply = parse_reply(replies[2])
    assert isinstance(reply, ErrorReply) and reply.message.startswith("Lean error:")


def test_info_messages_and_env_reuse() -> None:
    requests, replies = load_transcript("dup_msg")
    assert [json.loads(r).get("env") for r in requests] == [None, 0, 1]
    info = parse_reply(replies[1])
    err = parse_reply(replies[2])
    assert isinstance(info, CommandReply) and info.messages[0] == Message(
        "info", "f : Nat", Pos(1, 0), Pos(1, 6))
    assert isinstance(err, CommandReply) and err.errors[0].data == "Unknown identifier `g`"


@pytest.mark.parametrize("text,problem", [
    ("", "not JSON"),
    ("{\"env\": 0", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ("{\"env\": -1}", "env is not"),
    ("{\"env\": true}", "env is not"),
    ("{\"env\": \"0\"}", "env is not"),
    ("{\"messages\": []}", "neither env"),
    ("{\"env\": 0, \"messages\": {}}", "messages is not a list"),
    ("{\"env\": 0, \"messages\": [{\"severity\": \"fatal\", \"data\": \"x\"}]}", "severity"),
    ("{\"env\": 0, \"messages\": [{\"severity\": \"error\", \"data\": 3}]}", "data"),
    ("{\"env\": 0, \"messages\": [{\"severity\": \"error\", \"data\": \"x\", \"pos\": 1}]}",
     "position"),
    ("{\"env\": 0, \"sorries\": [{\"goal\": 1}]}", "bad goal"),
    ("{\"env\": 0, \"sorries\": \"none\"}", "sorries is not a list"),
    ("{\"message\": 3}", "not a string"),
    ("uncaught exception: boom", "not JSON"),
], ids=["empty", "truncated", "array", "negative-env", "bool-env", "string-env", "no-env",
        "messages-object", "bad-severity", "data-not-text", "bad-pos", "sorry-goal",
        "sorries-text", "message-not-text", "stray-text"])
def test_malformed_replies(text: str, problem: str) -> None:
    reply = parse_reply(text)
    assert isinstance(reply, MalformedReply)
    assert problem in reply.problem


def test_encode_request_is_one_line_then_blank() -> None:
    text = encode_request({"cmd": "theorem t : True := by\n\n  trivial", "env": 3})
    assert text.endswith("\n\n") and "\n" not in text[:-2]
    assert json.loads(text) == {"cmd": "theorem t : True := by\n\n  trivial", "env": 3}


def test_split_stream_keeps_the_unfinished_reply() -> None:
    replies, rest = split_stream('{"env": 0}\n\n{"messages":\n [],\n "env"')
    assert replies == ['{"env": 0}'] and rest == '{"messages":\n [],\n "env"'
    more, rest2 = split_stream(rest + ": 1}\n\n")
    assert more == ['{"messages":\n [],\n "env": 1}'] and rest2 == ""


# -- sessions replaying real recorded exchanges ------------------------------------------

def _recorded_pairs(name: str) -> list[tuple[dict[str, object], str | None]]:
    requests, replies = load_transcript(name)
    return [(json.loads(q), r) for q, r in zip(requests, replies)]


def test_session_reuses_the_base_env_for_each_command() -> None:
    """Recorded with Mathlib: the header once, then each theorem in env 0 — twice the
    same name `test` with no "already declared" error: env 0 does not see env 1."""
    double = RecordedRepl(_recorded_pairs("Mathlib/test/exact"))
    session = ReplSession("import Mathlib", lambda: double)
    deadline = time.monotonic() + 5
    assert session.ready(deadline) == 0
    first = session.command("theorem test : 0 < 1 := by sorry", 0, deadline)
    second = session.command("theorem test : 3 = 7 := by sorry", 0, deadline)
    assert isinstance(first, CommandReply) and isinstance(second, CommandReply)
    assert (first.env, second.env) == (1, 2)
    assert second.errors == () and second.sorries[0].goal == "⊢ 3 = 7"
    assert double.misses == [] and double.env_violations == [] and double.framing_errors == []


def test_session_with_a_header_of_imports_and_opens() -> None:
    pairs = _recorded_pairs("Mathlib/test/H20231020")
    header = pairs[0][0]["cmd"]
    assert isinstance(header, str)
    double = RecordedRepl(pairs)
    session = ReplSession(header, lambda: double)
    deadline = time.monotonic() + 5
    base = session.ready(deadline)
    envs = []
    for request, _ in pairs[1:]:
        reply = session.command(str(request["cmd"]), base, deadline)
        assert isinstance(reply, CommandReply) and reply.errors == () and not reply.sorries
        envs.append(reply.env)
    assert envs == [1, 2, 3]
    assert double.misses == [] and double.env_violations == []


# -- hypothesis ------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_reply_never_raises_on_text(text: str) -> None:
    reply = parse_reply(text)
    assert isinstance(reply, (CommandReply, ErrorReply, MalformedReply))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["env", "messages", "sorries", "message", "severity", "data", "pos",
                         "line", "column", "goal", "proofState", "x"]), kids, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(JSONISH)
def test_parse_reply_never_raises_on_json(value: object) -> None:
    assert parse_reply(json.dumps(value)) is not None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="{}\" \n:,[]abenv0123", max_size=200))
def test_split_stream_loses_nothing(text: str) -> None:
    replies, rest = split_stream(text)
    assert "".join(r.replace("\n", "").replace(" ", "") for r in replies) + rest.replace(
        "\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")


POS = st.builds(Pos, st.integers(0, 10_000), st.integers(0, 500))
MESSAGES = st.builds(Message, st.sampled_from(["error", "warning", "info"]), st.text(),
                     st.none() | POS, st.none() | POS)
SORRIES = st.builds(Sorry, st.text(), st.none() | POS, st.none() | POS,
                    st.none() | st.integers(0, 1000))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.lists(MESSAGES, max_size=4), st.lists(SORRIES, max_size=3),
       st.integers(0, 2))
def test_reply_round_trips(env: int, messages: list[Message], sorries: list[Sorry],
                           indent: int) -> None:
    reply = CommandReply(env, tuple(messages), tuple(sorries), {})
    text = json.dumps(reply_to_json(reply), indent=indent or None, ensure_ascii=False)
    assert parse_reply(text) == reply
    # and through the stream cutter, as the REPL writes it (blank-line separated)
    replies, rest = split_stream(text + "\n\n" + text + "\n\n")
    assert [parse_reply(r) for r in replies] == [reply, reply] and rest == ""
