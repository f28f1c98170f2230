"""Dapr's Redis state store: its Lua scripts on any redis-py client, a fast path on fakeredis,
and a pure-Python model of the scripts for the simulator."""
