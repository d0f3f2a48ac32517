"""The linearizability checker: known histories, unknown outcomes, a brute-force cross-check, JSON lines."""

import itertools
import json
import random

import pytest

from replsim import Cluster
from replsim.course.sessions import one_key
from replsim.history.linearizability import (
    HistoryFormatError,
    Operation,
    check,
    check_register,
    parse_jsonl,
    read_jsonl,
    to_jsonl,
)


def ops(text):
    """A history from compact lines: 'process f value invoke complete outcome' (complete '-' for none)."""
    out = []
    for line in text.strip().splitlines():
        p, f, v, a, b, outcome = line.split()
        value = json.loads(v)
        value = tuple(value) if isinstance(value, list) else value
        out.append(Operation(p, f, value, float(a), None if b == "-" else float(b), outcome))
    return out


def test_a_read_after_a_write_completed_must_see_it():
    assert check(ops("a write 1 0 1 ok\nb read 1 2 3 ok")).linearizable
    r = check(ops("a write 1 0 1 ok\nb read null 2 3 ok"))
    assert r.linearizable is False
    (k,) = r.failures
    assert k.stuck.f == "read" and k.value == 1 and "could not take effect next" in str(r)


def test_overlapping_operations_may_take_effect_in_either_order():
    # the read overlaps the write: it may see the old value or the new one
    assert check(ops("a write 1 0 2 ok\nb read null 1 3 ok")).linearizable
    assert check(ops("a write 1 0 2 ok\nb read 1 1 3 ok")).linearizable
    # once a reader saw the new value, a later reader must not see the old one
    assert not check(ops("a write 1 0 5 ok\nb read 1 1 2 ok\nc read null 3 4 ok")).linearizable


def test_compare_and_set():
    assert check(ops("a write 1 0 1 ok\nb cas [1,2] 2 3 ok\nc read 2 4 5 ok")).linearizable
    assert not check(ops("a write 1 0 1 ok\nb cas [3,2] 2 3 ok")).linearizable
    # a failed cas did not happen: it is left out
    assert check(ops("a write 1 0 1 ok\nb cas [3,2] 2 3 fail\nc read 1 4 5 ok")).linearizable


def test_an_unknown_outcome_may_have_taken_effect_or_not():
    # the write's client never heard back: a later read may or may not see it
    assert check(ops("a write 1 0 - info\nb read 1 2 3 ok")).linearizable
    assert check(ops("a write 1 0 - info\nb read null 2 3 ok")).linearizable
    # but it takes effect once at most: seen, then gone, is not possible
    assert not check(ops("a write 1 0 - info\nb read 1 2 3 ok\nc read null 4 5 ok")).linearizable
    # an unknown cas that found another value did nothing
    assert check(ops("a write 1 0 1 ok\nb cas [5,6] 1 - info\nc read 1 2 3 ok")).linearizable
    # an unknown cas whose new value was read did succeed, so the value it expected was written
    assert check(ops("a write 1 0 - info\nb cas [1,2] 1 - info\nc read 2 5 6 ok")).linearizable
    assert not check(ops("b cas [1,2] 1 - info\nc read 2 5 6 ok")).linearizable


def test_keys_are_separate_registers():
    h = [Operation("a", "write", 1, 0, 1, "ok", key="x"), Operation("b", "read", None, 2, 3, "ok", key="y")]
    r = check(h)
    assert r.linearizable and [k.key for k in r.keys] == ["x", "y"]


def test_agrees_with_brute_force_on_small_random_histories():
    rng = random.Random(7)
    verdicts = set()
    for _ in range(400):
        history = []
        for i in range(rng.randint(1, 6)):
            a = round(rng.uniform(0, 4), 1)
            b = round(a + rng.uniform(0, 2), 1)
            outcome = rng.choice(["ok", "ok", "ok", "info", "fail"])
            f = rng.choice(["read", "write", "write", "cas"])
            value = (
                rng.choice([None, 1, 2])
                if f == "read"
                else i + 1
                if f == "write"
                else (rng.choice([1, 2]), i + 1)
            )
            history.append(Operation(f"p{i}", f, value, a, None if outcome == "info" else b, outcome))
        got = check_register(history).linearizable
        assert got == _reference(history), to_jsonl(history)
        verdicts.add(got)
    assert verdicts == {True, False}


def test_a_few_hundred_operations_of_several_clients_reading_replicas():
    """Reads from the leader only: linearizable. Reads from asynchronous followers: not."""
    for read_from, expected in ((["L"], True), (["F1", "F2"], False)):
        c = Cluster(leader="L", followers=["F1", "F2"], delay=0.02, jitter=0.01, seed=3)
        clients = [c.client(f"c{i}", near=n) for i, n in enumerate(["L", "F1", "F2", "L", "F1"])]
        one_key(c, clients, read_from, count=400)
        r = check(c.history.ops)
        assert r.linearizable is expected and r.keys[0].operations == 400


# --- the JSON lines format --------------------------------------------------------------
def test_json_lines_round_trip(tmp_path):
    h = ops("a write 1 0 1 ok\nb cas [1,2] 0.5 - info\nc read 2 1.5 2 ok")
    path = tmp_path / "h.jsonl"
    path.write_text(to_jsonl(h))
    assert read_jsonl(path) == h and check(path).linearizable
    text = (
        '{"process": 1, "f": "write", "value": {"a": [1]}, "invoke": 0, "complete": 1, "outcome": "ok"}\n\n'
    )
    (op,) = parse_jsonl(text)
    assert op.value == (("a", (1,)),) and op.process == 1


@pytest.mark.parametrize(
    "line, says",
    [
        ("not json", "line 2: expected one JSON object per line"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ('{"process": "a", "f": "read", "invoke": 0}', "line 2: missing 'outcome'"),
        ('{"process": "a", "f": "incr", "invoke": 0, "complete": 1, "outcome": "ok"}', "f must be one of"),
        (
            '{"process": "a", "f": "read", "value": 1, "invoke": 0, "complete": 1, "outcome": "done"}',
            "outcome must",
        ),
        (
            '{"process": "a", "f": "read", "value": 1, "invoke": -1, "complete": 1, "outcome": "ok"}',
            "invoke must",
        ),
        (
            '{"process": "a", "f": "read", "value": 1, "invoke": 2, "complete": 1, "outcome": "ok"}',
            "at or after",
        ),
        ('{"process": "a", "f": "read", "value": 1, "invoke": 0, "outcome": "ok"}', "complete is needed"),
        (
            '{"process": "a", "f": "write", "invoke": 0, "complete": 1, "outcome": "ok"}',
            "a write needs a value",
        ),
        (
            '{"process": "a", "f": "read", "invoke": 0, "complete": 1, "outcome": "ok"}',
            "needs the value it returned",
        ),
        (
            '{"process": "a", "f": "cas", "value": 3, "invoke": 0, "complete": 1, "outcome": "ok"}',
            "[expected, new]",
        ),
        (
            '{"process": [1], "f": "read", "value": 1, "invoke": 0, "complete": 1, "outcome": "ok"}',
            "process must",
        ),
        (
            '{"process": "a", "f": "read", "value": 1, "invoke": 0, "complete": 1, "outcome": "ok", "t": 1}',
            "'t'",
        ),
    ],
)
def test_a_malformed_line_is_named_with_what_was_expected(line, says):
    good = '{"process": "a", "f": "write", "value": 1, "invoke": 0, "complete": 1, "outcome": "ok"}'
    with pytest.raises(HistoryFormatError) as err:
        parse_jsonl(f"{good}\n{line}\n")
    assert says in str(err.value) and str(err.value).startswith("line 2:")


def _reference(history, init=None):
    """Linearizable? by brute force: every subset of unknown operations (an unknown one may never
    take effect, and has no deadline: its ``complete``, if any, is when its client gave up), every
    order that keeps real time (a known operation that completed before another began comes first)."""
    history = [o for o in history if o.outcome != "fail" and not (o.f == "read" and o.outcome == "info")]
    unknown = [o for o in history if o.outcome == "info"]
    known = [o for o in history if o.outcome != "info"]
    for r in range(len(unknown) + 1):
        for chosen in itertools.combinations(unknown, r):
            group = known + list(chosen)
            end = {id(o): o.complete if o.outcome == "ok" else float("inf") for o in group}
            for order in itertools.permutations(group):
                if any(end[id(a)] < b.invoke for i, b in enumerate(order) for a in order[i + 1 :]):
                    continue
                state, ok = init, True
                for o in order:
                    if o.f == "write":
                        state = o.value
                    elif o.f == "read":
                        ok = o.value == state
                    elif state == o.value[0]:
                        state = o.value[1]
                    else:
                        ok = o.outcome == "info"
                    if not ok:
                        break
                if ok:
                    return True
    return False


def _random_history(rng, values=(0, 1, 2)):
    """A few operations on one register whose values repeat (and may be the initial value)."""
    history = []
    for i in range(rng.randint(1, 6)):
        a = round(rng.uniform(0, 4), 1)
        b = round(a + rng.uniform(0, 2), 1)
        outcome = rng.choice(["ok", "ok", "ok", "info", "info", "fail"])
        f = rng.choice(["read", "write", "write", "cas", "cas"])
        value = rng.choice(values) if f != "cas" else (rng.choice(values), rng.choice(values))
        complete = None if outcome == "info" and rng.random() < 0.5 else b  # some unknown ones gave up
        history.append(Operation(f"p{i}", f, value, a, complete, outcome))
    return history


def test_agrees_with_brute_force_on_random_histories_whose_values_repeat():
    """Repeated values, the initial value written again, unknown cas, unknown operations that carry
    the time their client gave up: the checker and the brute-force reference agree on every one."""
    rng = random.Random(16)
    verdicts = {True: 0, False: 0}
    for _ in range(3000):
        history = _random_history(rng)
        init = rng.choice([0, 1, None])
        got = check_register(history, init).linearizable
        assert got == _reference(history, init), (init, to_jsonl(history))
        verdicts[got] += 1
    assert min(verdicts.values()) > 300  # both answers are common: the comparison means something


def test_an_unknown_operation_is_judged_the_same_whatever_time_its_client_gave_up():
    """The time a client gave up on an unknown write is not a deadline: a later read may still see it,
    whether or not someone else also wrote that value earlier (an unrelated operation)."""
    late = "a write 1 0 {} info\nc write 2 1 2 ok\nb read 1 5 6 ok"
    for complete in ("-", "0.5", "5.5", "7"):
        for earlier in ("", "\nd write 1 0 0.1 ok"):
            assert check(ops(late.format(complete) + earlier)).linearizable, (complete, earlier)


@pytest.mark.parametrize(
    "lines",
    [
        # an unknown cas 5 -> 0 whose new value is the initial value: reading 0 says nothing of it
        [
            "w write 5 0 - info",
            "c cas [5,0] 0 - info",
            "r read 0 0 1 ok",
            "r read 0 1.5 1.8 ok",
            "r read 5 2 3 ok",
        ],
        # an unknown cas 5 -> 7 whose new value someone else also wrote
        [
            "w write 5 0 - info",
            "c cas [5,7] 0 - info",
            "a write 7 0 0.5 ok",
            "r read 7 0.6 1 ok",
            "r read 7 1.5 1.8 ok",
            "r read 5 2 3 ok",
        ],
    ],
    ids=["cas-back-to-the-initial-value", "cas-to-a-value-written-by-another"],
)
def test_an_unknown_cas_to_a_value_also_written_elsewhere_sets_no_deadline(lines):
    """The reviewer's two false alarms: the unknown write of 5 takes effect at about t = 1.9."""
    assert check(ops("\n".join(lines)), init=0 if "[5,0]" in lines[1] else None).linearizable
