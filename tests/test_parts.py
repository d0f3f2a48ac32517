"""A node's parts (commit policy, stages, elector, batch sender, failover monitor) compose in any order.

Bug 5 of review v3: features attached by overwriting entries of a node's handler table, so whichever
came last won: ``Elections`` then ``set_commit`` gave a healthy cluster a dozen elections, and after
``set_stages`` the message journal showed earlier messages as ``('?', '?')``.
"""

import itertools

import pytest

from replsim import Cluster
from replsim.failover import FailoverMonitor
from replsim.node.commit import First, Quorum, SemiSync
from replsim.node.election import Elections
from replsim.node.sender import send_in_batches


def fingerprint(c):
    h = c.history
    ops = [(o.kind, o.node, o.key, o.value, o.invoke, o.complete, o.outcome, o.lsn, o.epoch) for o in h.ops]
    events = [(e.time, e.kind, e.node, e.detail) for e in h.events if e.kind != "commit"]
    messages = [(m.sent, m.src, m.dst, m.kind, m.fate) for m in c.network.messages]
    return ops, events, messages


STEPS = {
    "elections": lambda c: Elections(c, (0.15, 0.3), commit="async"),
    "monitor": lambda c: FailoverMonitor(c, timeout=1.0),
    "commit": lambda c: c.set_commit(Quorum(1, stage="applied")),
    "first": lambda c: c.set_commit(First(1, ["n2", "n3"], timeout=0.5)),
    "semi": lambda c: c.set_commit(SemiSync(1, timeout=0.2)),
    "stages": lambda c: c.set_stages("n2", flush=0.001, apply=0.002),
    "batches": lambda c: send_in_batches(c, 0.01),
}


def run(order):
    c = Cluster("n1", ["n2", "n3"], heartbeat=0.05, delay=0.004, jitter=0.001, seed=1)
    for step in order:
        STEPS[step](c)
    c.start_writes(rate=50, count=100)
    c.advance(1.0)
    c.crash("n1")
    c.advance(2.0)
    c.recover("n1")
    c.advance(2.0)
    return c


@pytest.mark.parametrize(
    "parts",
    [
        ("elections", "commit", "stages"),
        ("elections", "first", "stages", "batches"),
        ("monitor", "semi", "stages", "batches"),
    ],
    ids=lambda p: "+".join(p),
)
def test_every_order_of_configuration_gives_the_same_history(parts):
    runs = [run(order) for order in itertools.permutations(parts)]
    first = fingerprint(runs[0])
    assert len(first[0]) >= 100 and first[2]  # it wrote, and messages were journaled
    for c in runs[1:]:
        assert fingerprint(c) == first
    assert all(m.dst != "?" and m.kind != "?" for m in runs[-1].network.messages)


def test_a_healthy_cluster_configured_after_its_elections_holds_none():
    for after in ("commit", "stages", "first", "batches"):
        c = Cluster("n1", ["n2", "n3"], heartbeat=0.05, seed=1)
        el = Elections(c, (0.15, 0.3), commit="async")
        STEPS[after](c)
        c.run(until=5.0)
        assert el.rounds == [] and c.leader == "n1", after


def test_the_journal_names_messages_sent_before_stages_were_set():
    c = Cluster("n1", ["n2", "n3"], heartbeat=0.05, seed=1)
    c.write("k", 1)
    c.advance(0.1)
    c.set_stages("n2", flush=0.001)
    c.set_commit(Quorum(1))
    kinds = {(m.dst, m.kind) for m in c.network.messages}
    assert ("n2", "append") in kinds and ("n1", "ack") in kinds
    assert not any("?" in k for k in kinds)
