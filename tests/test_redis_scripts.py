"""The Lua scripts' SHAs and their errors worded as Redis 7 does (statelab/stores/redis/scripts.py).

That the scripts themselves behave like Dapr's is shown on fakeredis and a real server by
tests/test_redis_store.py and tests/test_fakeredis_direct.py.
"""

from __future__ import annotations

import hashlib

from statelab.stores.redis.scripts import (
    DELETE_SCRIPT,
    SAVE_SCRIPT,
    delete_refusal,
    redis7_script_error,
    redis7_wording,
    save_refusal,
    script_sha,
)


def test_script_sha_is_what_evalsha_names() -> None:
    assert script_sha(SAVE_SCRIPT) == hashlib.sha1(SAVE_SCRIPT.encode()).hexdigest()
    assert script_sha(SAVE_SCRIPT) != script_sha(DELETE_SCRIPT)


def test_refusals_name_the_error_line_and_sha() -> None:
    save_line = SAVE_SCRIPT.splitlines().index('  return error("failed to set key " .. KEYS[1])')
    assert save_refusal("myapp||k") == (
        f"ERR user_script:{save_line + 1}: failed to set key myapp||k "
        f"script: {script_sha(SAVE_SCRIPT)}, on @user_script:{save_line + 1}.")
    assert delete_refusal("k") == redis7_script_error(DELETE_SCRIPT, "failed to delete ", "k")
    assert delete_refusal("k").startswith("ERR user_script:5: failed to delete k script: ")


def test_fakeredis_wording_is_rewritten() -> None:
    raw = Exception('Error running script (call to f_abc123): @user_script:?: [string '
                    '"<python>"]:9: failed to set key k\nstack traceback:\n\t[C]: in ?')
    assert redis7_wording(raw) == ("ERR user_script:9: failed to set key k script: abc123, "
                                   "on @user_script:9.")
    assert redis7_wording(Exception("ERR other")) == "ERR other"
    assert redis7_wording(Exception("other")) == "ERR other"


def test_a_key_in_utf8_comes_back_as_its_bytes() -> None:
    mangled = "ü".encode().decode("latin-1")
    raw = Exception('Error running script (call to f_abc): @user_script:?: [string '
                    f'"<python>"]:9: failed to set key {mangled}')
    assert "failed to set key ü script: abc" in redis7_wording(raw)


def test_a_failing_hincrby_names_its_line_in_the_save_script() -> None:
    line = next(i for i, text in enumerate(SAVE_SCRIPT.splitlines(), start=1)
                if 'redis.call("HINCRBY"' in text)
    assert redis7_wording(Exception("ERR hash value is not an integer")) == (
        f"ERR hash value is not an integer script: {script_sha(SAVE_SCRIPT)}, "
        f"on @user_script:{line}.")
