"""Clients: processes on the network that read and write, and workloads that drive them."""

from .client import Client, Request
from .workload import Writer, check_key

__all__ = ["Client", "Request", "Writer", "check_key"]
