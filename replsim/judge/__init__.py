"""Build and break: a learner's own rule replaces one decision of the simulator, and a judge runs it
under a thousand seeded fault schedules, replaying the first failure shrunk to its shortest schedule.

The three rules and what each is given are in :mod:`.rules`; calling a rule safely
(time budget, answers checked, the learner's line in every error) in :mod:`.guard`;
the judge itself, its workers and its verdict in :mod:`.run`::

    from replsim.judge import judge

    def my_vote(candidate, me):
        return True  # grant every vote

    verdict = judge(my_vote, "vote")  # prints the counts and the first failure's story
"""

from .guard import RuleError
from .rules import TRIALS, Candidate, Follower, NodeInfo, Session, Voter
from .run import Verdict, judge

__all__ = ["judge", "Verdict", "RuleError", "TRIALS", "Session", "NodeInfo", "Follower", "Candidate", "Voter"]
