"""A node's roles."""

LEADER = "leader"
FOLLOWER = "follower"
CANDIDATE = "candidate"  # standing in an election (replsim.node.election)

__all__ = ["LEADER", "FOLLOWER", "CANDIDATE"]
