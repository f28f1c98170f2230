"""Dapr's Redis state store (``state.redis``), split so that every door shares one set of rules.

- :mod:`~statelab.stores.redis.scripts`: the two Lua scripts, their SHAs, and their errors as
  Redis 7 words them;
- :mod:`~statelab.stores.redis.plan`: the sans-I/O core, deciding what each operation sends and
  reading what comes back;
- :mod:`~statelab.stores.redis.store`: :class:`RedisStore`, the synchronous redis-py door;
- :mod:`~statelab.stores.redis.fakeredis_direct`: its fast path on an in-process fakeredis;
- :mod:`~statelab.stores.redis.model`: a pure-Python model of the scripts for the simulator.
"""
