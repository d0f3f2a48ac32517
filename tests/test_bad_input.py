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
