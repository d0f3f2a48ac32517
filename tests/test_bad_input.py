"""Bad input a learner may type: refused at once with a specific message, never a hang or a bare error.

Bugs 4 and 5 of the engine review: these inputs used to hang the kernel, escape as a
bare Python error from deep inside, or be silently taken the wrong way.
"""

import numpy as np
import pytest

from replsim import Cluster
from replsim.errors import ConfigError, NetworkError, ReplsimError, UnknownNodeError
from replsim.ui import ControlPanel


def three():
    return Cluster(leader="L", followers=["A", "B"], seed=1)


# inputs that used to never return
HANGS = {
    "advance(inf)": (lambda: three().advance(float("inf")), ConfigError, "finite number of seconds"),
    "run(until=inf)": (lambda: three().run(until=float("inf")), ConfigError, "finite number of seconds"),
    "advance(1e18)": (lambda: three().advance(1e18), ConfigError, "can go up to 10,000,000 s"),
    "heartbeat=1e-300": (lambda: Cluster(heartbeat=1e-300), ConfigError, "heartbeat must be between 0.001"),
    "rate=inf": (lambda: three().start_writes(rate=float("inf")), ConfigError, "rate must be a number"),
    "rate=1e12": (lambda: three().start_writes(rate=1e12), ConfigError, r"in \(0, 100,000\]"),
}

# inputs that escaped as bare Python errors, or were taken the wrong way
WRONG = {
    "followers=None": (lambda: Cluster(followers=None), ConfigError, "followers must be a list of names"),
    "followers=iterator": (lambda: Cluster(followers=iter(["A"])), ConfigError, "followers must be a list"),
    "followers=set": (lambda: Cluster(followers={"A", "B"}), ConfigError, "not a set"),
    "heartbeat='fast'": (lambda: Cluster(heartbeat="fast"), ConfigError, "heartbeat must be a number"),
    "heartbeat=True": (lambda: Cluster(heartbeat=True), ConfigError, "heartbeat must be a number"),
    "keep_messages=-1": (lambda: Cluster(keep_messages=-1), ConfigError, "keep_messages must be between"),
    "keep_messages=None": (lambda: Cluster(keep_messages=None), ConfigError, "keep_messages must be a whole"),
    "keep_messages=2.5": (lambda: Cluster(keep_messages=2.5), ConfigError, "keep_messages must be a whole"),
    "keep_messages=1e20": (
        lambda: Cluster(keep_messages=10**20),
        ConfigError,
        "keep_messages must be between",
    ),
    "write(['k'])": (lambda: three().write(["k"], 1), ConfigError, "a key must be a string or a number"),
    "read(['k'])": (lambda: three().read(["k"]), ConfigError, "a key must be a string or a number"),
    "keys=[['k']]": (
        lambda: three().start_writes(rate=1, keys=[["k"]]),
        ConfigError,
        "must be a string or a",
    ),
    "keys='abc'": (lambda: three().start_writes(rate=1, keys="abc"), ConfigError, r"did you mean \['abc'\]"),
    "partition(None)": (lambda: three().partition(None), NetworkError, "must be a list of names, got None"),
    "partition(42)": (lambda: three().partition(42), NetworkError, "must be a list of names, got 42"),
    "cut(['A'], 'B')": (lambda: three().cut(["A"], "B"), UnknownNodeError, r"unknown node \['A'\]"),
    "promote(followers='B')": (
        lambda: three().promote("A", followers="B"),
        ConfigError,
        r"did you mean \['B'\]",
    ),
    "promote(duplicates)": (lambda: three().promote("A", followers=["B", "B"]), ConfigError, "repeated: 'B'"),
    "divergence(names='LA')": (lambda: three().divergence(names="LA"), ConfigError, r"did you mean \['LA'\]"),
    "set_link(both_ways='no')": (
        lambda: three().set_link("L", "A", delay=0.1, both_ways="no"),
        ConfigError,
        "both_ways must be True or False",
    ),
    "sync_replicas=True": (lambda: Cluster(sync_replicas=True), ConfigError, "sync_replicas must be a whole"),
    "keep_log=0": (lambda: Cluster(keep_log=0), ConfigError, "keep_log must be a whole number >= 1"),
    "delay=1e9": (lambda: Cluster(delay=1e9), ConfigError, "at most 3600 seconds"),
    "ControlPanel(None)": (lambda: ControlPanel(None), ConfigError, "needs a Cluster"),
    "actions=None": (lambda: ControlPanel(three(), actions=None), ConfigError, "actions must be a list"),
    "figsize='big'": (lambda: ControlPanel(three(), figsize="big"), ConfigError, "figsize must be"),
    "figsize=(0, 0)": (lambda: ControlPanel(three(), figsize=(0, 0)), ConfigError, "figsize must be"),
    "dpi=-1": (lambda: ControlPanel(three(), dpi=-1), ConfigError, "dpi must be a number between"),
    "client timeout=0": (lambda: three().client("app", timeout=0), ConfigError, "timeout must be"),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", list(HANGS) + list(WRONG))
def test_bad_input_is_refused_with_a_specific_message(name):
    call, error, message = {**HANGS, **WRONG}[name]
    with pytest.raises(error, match=message):
        call()
    assert issubclass(error, ReplsimError)


def test_numpy_numbers_are_numbers():
    c = three()
    c.advance(np.int64(2))
    c.advance(np.float64(0.5))
    c.run(until=np.float32(3.0))
    assert c.now == 3.0


def test_a_refused_writer_leaves_no_dead_client_behind():
    c = three()
    with pytest.raises(ConfigError):
        c.start_writes(rate=10, keys=[["k"]])
    c.advance(5)  # nothing was scheduled, nothing raises later
    assert c.history.ops == []


def test_the_rate_slider_never_writes_to_a_blank_key():
    c = three()
    panel = ControlPanel(c, actions=("write", "rate"))
    panel.inputs["write_key"].value = "   "
    panel.inputs["rate"].value = 5.0
    c.advance(1)
    assert panel.last_error is None and {o.key for o in c.history.ops} == {"x"}


# --- review v3: bad input that escaped as a bare exception or was silently accepted ---------------
def _check(*args, **kw):
    from replsim.history.linearizability import check

    return check(*args, **kw)


def _policy(name, then):
    from replsim.clients import policies

    return getattr(policies, name)(then=then)


def _sessions(clients):
    from replsim.clients.policies import Leader
    from replsim.course.sessions import Sessions

    return Sessions(clients, Leader())


def _geo(**kw):
    from replsim.course.geo import geo_cluster

    return geo_cluster(**kw)


V3 = {
    "check(missing file)": (
        lambda tmp: _check(str(tmp / "nope.jsonl")),
        "HistoryFormatError",
        "no such file",
    ),
    "check(binary file)": (lambda tmp: _check(str(tmp / "bin")), "HistoryFormatError", "is not text"),
    "check(folder)": (lambda tmp: _check(str(tmp)), "HistoryFormatError", "is a folder"),
    "check([1, 2, 3])": (lambda tmp: _check([1, 2, 3]), "ConfigError", "got 1 among them"),
    "check(None)": (lambda tmp: _check(None), "ConfigError", "takes operations or the path"),
    "check(init=[1])": (
        lambda tmp: _check([], init=[1]),
        "ConfigError",
        "init is the register's first value",
    ),
    "check(max_steps=-1)": (lambda tmp: _check([], max_steps=-1), "ConfigError", "max_steps must be a whole"),
    "LeaderAfterWrite(then=3)": (lambda tmp: _policy("LeaderAfterWrite", 3), "ConfigError", "then must be"),
    "Sticky(then='x')": (lambda tmp: _policy("Sticky", "x"), "ConfigError", "then must be a read policy"),
    "WaitForPosition(then=1)": (lambda tmp: _policy("WaitForPosition", 1), "ConfigError", "then must be"),
    "Sessions(['app'])": (lambda tmp: _sessions(["app"]), "ConfigError", "needs clients made with"),
    "Sessions('app')": (lambda tmp: _sessions("app"), "ConfigError", "needs at least one client"),
    "geo_cluster(followers=[])": (lambda tmp: _geo(followers=[]), "ConfigError", "non-empty list of cities"),
    "client(delays=[0.1])": (
        lambda tmp: three().client("app", delays=[0.1]),
        "ConfigError",
        "delays must be a dict",
    ),
    "client(delays={'A': -1})": (
        lambda tmp: three().client("app", delays={"A": -1}),
        "ConfigError",
        "the delay to 'A' must be",
    ),
    "execute() on key-value nodes": (
        lambda tmp: three().execute("DELETE FROM t"),
        "ConfigError",
        "use write",
    ),
    "lost_writes(at=future)": (
        lambda tmp: three().lost_writes(at=100),
        "ConfigError",
        "must not be in the future",
    ),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", list(V3))
def test_bad_input_of_review_v3_is_refused_with_a_specific_message(name, tmp_path):
    from replsim import errors
    from replsim.history.linearizability import HistoryFormatError

    (tmp_path / "bin").write_bytes(bytes(range(256)))
    call, error, message = V3[name]
    error = HistoryFormatError if error == "HistoryFormatError" else getattr(errors, error)
    with pytest.raises(error, match=message):
        call(tmp_path)
    assert issubclass(error, ReplsimError)


def test_a_sql_read_of_a_sql_cluster_runs_the_query_and_a_bad_one_says_why():
    from replsim.errors import StoreError
    from replsim.stores.sqlite import sql_store

    c = Cluster("L", ["A"], store=sql_store("row", schema="CREATE TABLE t (x INTEGER PRIMARY KEY)"), seed=1)
    c.execute("INSERT INTO t VALUES (7)")
    c.advance(1.0)
    assert c.read("SELECT x FROM t", node="A") == [(7,)]
    with pytest.raises(StoreError, match="syntax error"):
        c.read("SELEC x")
