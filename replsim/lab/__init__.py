"""The lab on a real PostgreSQL primary with streaming standbys (lesson 8)."""
