"""The Dapr v1.4 how-to "Build a stateful service": each of its mistakes, then the fix.

Spec section 16 lists nine mistakes in the page's Python snippets (the same snippets are still
on the v1.15 docs branch). Each test below first runs the snippet as the page has it (with
an ``httpx`` client in place of ``requests``: same JSON encoding, same header handling)
against a running sidecar and asserts what Dapr really answers (status, ``errorCode``,
message), then runs the corrected snippet and asserts it works. Row 2 fails in Python
before any request is sent.

Rows 1-5, 8 and 9 run on every store profile (``profile`` fixture). Rows 6 and 7 are about the
store's *name*, so they run on a sidecar with the ``dapr init`` default store, ``statestore``.
(The page's unused ``import json``, part of row 9, has nothing to run.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from support import free_port

from statelab.server.sidecar import Sidecar, start

MISMATCH = "possible etag mismatch. error from state store: "


def state_url(profile: Any) -> str:
    """The page's ``dapr_state_url``, on the profile's store."""
    return f"{profile.sidecar.url}/v1.0/state/{profile.store}"


def assert_error(response: httpx.Response, status: int, code: str, message: str | None = None
                 ) -> str:
    """A Dapr error answer (spec 2.1): JSON with errorCode and message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["errorCode"] == code, body
    if message is not None:
        assert body["message"] == message, body
    return str(body["message"])


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module (cheaper than httpx.post's client per call); URLs are
    absolute, as in the page's snippets."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def dapr_init_sidecar() -> Iterator[Sidecar]:
    """A sidecar with what ``dapr init`` writes: one Redis store named ``statestore`` (spec
    15.1), here on the embedded Redis. Its own free port, so the shared port-0 sidecar stays
    up; the environment variables start() exports are restored afterwards."""
    saved = {name: os.environ.get(name) for name in ("DAPR_HTTP_PORT", "DAPR_API_TOKEN")}
    sidecar = start(free_port(), "myapp", None, quiet=True)
    try:
        sidecar.reset("statestore")
        yield sidecar
    finally:
        sidecar.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- row 1: a JSON string instead of an item array ---------------------------------------------

def test_row1_request_built_as_a_string_is_encoded_twice(http: httpx.Client,
                                                         profile: Any) -> None:
    dapr_state_url = state_url(profile)
    # The page's snippet: the body is already JSON text, then json= encodes it again.
    stateReq = '[{ "key": "k1", "value": "Some Data", "options": { "consistency": "strong" }}]'
    response = http.post(dapr_state_url, json=stateReq)
    assert response.request.content.startswith(b'"[{ \\"key\\"')  # a JSON string literal
    # §16 row 1, E4: Go cannot decode a string into []state.SetRequest.
    assert_error(response, 400, "ERR_MALFORMED_REQUEST",
                 "json: cannot unmarshal string into Go value of type []state.SetRequest")
    assert http.get(dapr_state_url + "/k1").status_code == 204  # nothing was saved (§4)

    # Corrected: pass a Python list to json= ...
    response = http.post(dapr_state_url, json=[
        {"key": "k1", "value": "Some Data", "options": {"consistency": "strong"}}])
    assert response.status_code == 204 and response.content == b""  # §3.2
    got = http.get(dapr_state_url + "/k1")
    assert (got.status_code, got.content) == (200, b'"Some Data"')  # §3.4: quotes kept
    # ... or send the JSON text as it is (requests' data=, httpx's content=).
    response = http.post(dapr_state_url, content=stateReq.replace("Some Data", "Other"))
    assert response.status_code == 204
    assert http.get(dapr_state_url + "/k1").content == b'"Other"'


# -- row 2: str.format on a template full of braces --------------------------------------------

def test_row2_format_on_json_braces(http: httpx.Client, profile: Any) -> None:
    dapr_state_url = state_url(profile)
    assert http.post(dapr_state_url, json=[{"key": "k1", "value": "Some Data"}]
                      ).status_code == 204
    etag = http.get(dapr_state_url + "/k1").headers["ETag"]

    # The page's snippet raises before any request is sent (§16 row 2).
    with pytest.raises(KeyError) as raised:
        '[{ "key": "k1", "value": "New Data", "etag": {}, "options": { "concurrency": "first-write" }}]'.format(etag)  # noqa: E501
    assert raised.value.args == (' "key"',)

    # With the braces escaped, the etag goes in unquoted, so it is not a JSON string.
    unquoted = ('[{{ "key": "k1", "value": "New Data", "etag": {}, "options": '
                '{{ "concurrency": "first-write" }}}}]').format(etag)
    response = http.post(dapr_state_url, content=unquoted)
    if profile.is_redis:
        # Redis etags are integers, so this is a JSON number: E4 (etag must be a string).
        assert_error(response, 400, "ERR_MALFORMED_REQUEST",
                     "json: cannot unmarshal number into Go struct field SetRequest.etag of "
                     "type string")
    else:
        # An in-memory etag is a UUID: unquoted, it is not even JSON (a Go scanner error).
        message = assert_error(response, 400, "ERR_MALFORMED_REQUEST")
        assert message.startswith("invalid character "), message
    assert http.get(dapr_state_url + "/k1").content == b'"Some Data"'  # unchanged

    # Corrected: build a dict; the etag stays a string.
    response = http.post(dapr_state_url, json=[{
        "key": "k1", "value": "New Data", "etag": etag,
        "options": {"concurrency": "first-write"}}])
    assert response.status_code == 204  # §9 S8: matching etag
    assert http.get(dapr_state_url + "/k1").content == b'"New Data"'


# -- row 3: saves k1, reads key1 ---------------------------------------------------------------

def test_row3_saves_one_key_and_reads_another(http: httpx.Client, profile: Any) -> None:
    dapr_state_url = state_url(profile)
    assert http.post(dapr_state_url, json=[{"key": "k1", "value": "Some Data"}]
                      ).status_code == 204
    response = http.get(dapr_state_url + "/key1", params={"consistency": "strong"})
    # §4: a missing key is 204 with an empty body and no Etag header.
    assert (response.status_code, response.content) == (204, b"")
    with pytest.raises(KeyError):
        print(response.headers["ETag"])  # the page's next line

    # Corrected: the same key throughout.
    response = http.get(dapr_state_url + "/k1", params={"consistency": "strong"})
    assert response.status_code == 200
    etag = response.headers["ETag"]  # read case-insensitively; Dapr sends "Etag" (§4)
    assert etag == "1" if profile.is_redis else len(etag) == 36  # §19.4


# -- row 4: consistency and concurrency sent as headers --------------------------------------

def test_row4_options_as_headers_are_ignored(http: httpx.Client, profile: Any) -> None:
    dapr_state_url = state_url(profile)
    assert http.post(dapr_state_url, json=[{"key": "k1", "value": 1}]).status_code == 204

    # The page's GET: works, but only because the header is ignored; so is nonsense.
    for value in ("strong", "nonsense"):
        response = http.get(dapr_state_url + "/k1", headers={"consistency": value})
        assert response.status_code == 200
    # GET has no concurrency option at all; consistency is not validated on GET (§4, 19.6).
    assert http.get(dapr_state_url + "/k1",
                     params={"concurrency": "nonsense", "consistency": "nonsense"}
                     ).status_code == 200

    # As a query parameter, DELETE validates the word (E11) and keeps the data ...
    response = http.delete(dapr_state_url + "/k1", params={"consistency": "nonsense"})
    assert_error(response, 500, "ERR_STATE_DELETE",
                 "failed deleting state with key k1: unrecognized consistency model 'nonsense'")
    assert http.get(dapr_state_url + "/k1").status_code == 200
    # ... as a header it is never looked at: the delete goes through (§5).
    response = http.delete(dapr_state_url + "/k1", headers={"consistency": "nonsense"})
    assert response.status_code == 204
    assert http.get(dapr_state_url + "/k1").status_code == 204

    # first-write as a header is ignored too. As a query parameter in-memory refuses to
    # delete an existing key without If-Match (§9 D5); Redis deletes it anyway.
    assert http.post(dapr_state_url, json=[{"key": "k1", "value": 2}]).status_code == 204
    response = http.delete(dapr_state_url + "/k1", params={"concurrency": "first-write"})
    if profile.is_memory:
        assert_error(response, 409, "ERR_STATE_DELETE", "failed deleting state with key k1: "
                     + MISMATCH + "item already exists and no etag was passed")
        response = http.delete(dapr_state_url + "/k1", headers={"concurrency": "first-write"})
    assert response.status_code == 204
    assert http.post(dapr_state_url, json=[{"key": "k1", "value": 3}]).status_code == 204

    # Corrected: query parameters, and the etag in If-Match.
    response = http.get(dapr_state_url + "/k1", params={"consistency": "strong"})
    assert response.status_code == 200
    etag = response.headers["ETag"]
    response = http.delete(dapr_state_url + "/k1",
                            params={"consistency": "strong", "concurrency": "first-write"},
                            headers={"If-Match": etag})
    assert response.status_code == 204  # §9 D3
    assert http.get(dapr_state_url + "/k1").status_code == 204


# -- row 5: the retry helper waits for a 200 that never comes ---------------------------------

def test_row5_success_is_204_not_200(http: httpx.Client, profile: Any) -> None:
    dapr_state_url = state_url(profile)

    def save_state(data: Any) -> bool:  # the page's helper (its own URL mistakes fixed)
        try:
            response = http.post(dapr_state_url, json=data)
            if response.status_code == 200:
                return True
        except:  # noqa: E722 - as on the page (row 9)
            return False
        return False

    # The page loops `while success != True`; three rounds show that it never ends.
    etags = []
    for _ in range(3):
        etag = http.get(dapr_state_url + "/key1").headers.get("ETag")
        item = {"key": "key1", "value": "New Data", "options": {"concurrency": "first-write"}}
        if etag is not None:
            item["etag"] = etag
        assert save_state([item]) is False  # although the save succeeded (204, §3.2) ...
        etags.append(http.get(dapr_state_url + "/key1").headers["ETag"])
    # ... every round wrote again: three writes, three etags (Redis counts them, §9 S8).
    assert len(set(etags)) == 3
    if profile.is_redis:
        assert etags == ["1", "2", "3"]

    # Corrected: success is 204 (response.is_success); an etag conflict is 409.
    def save_state_fixed(data: Any) -> bool:
        response = http.post(dapr_state_url, json=data)
        if response.status_code == 409:
            return False  # someone else wrote first: read again and retry
        response.raise_for_status()
        return response.status_code == 204

    etag = http.get(dapr_state_url + "/key1").headers["ETag"]
    item = {"key": "key1", "value": "Newer", "etag": etag,
            "options": {"concurrency": "first-write"}}
    assert save_state_fixed([item]) is True
    assert save_state_fixed([item]) is False  # the same etag again is now stale (§9 S9)
    response = http.post(dapr_state_url, json=[item])
    assert_error(response, 409, "ERR_STATE_SAVE")  # E6


# -- rows 6 and 7: the store name -----------------------------------------------------------

def test_row6_placeholder_store_name(http: httpx.Client,
                                     dapr_init_sidecar: Sidecar) -> None:
    base = dapr_init_sidecar.url
    http.post(f"{base}/v1.0/state/statestore", json=[{"key": "key1", "value": "v"}])

    def get_state(key: str) -> httpx.Response:  # the page's helper, verbatim URL
        return http.get("%s/v1.0/state/<state_store_name>/%s" % (base, key),
                         headers={"concurrency": "first-write"})

    response = get_state("key1")
    # E2: 400 ERR_STATE_STORE_NOT_FOUND (the name is the decoded placeholder).
    assert_error(response, 400, "ERR_STATE_STORE_NOT_FOUND",
                 "state store <state_store_name> is not found")
    with pytest.raises(KeyError):
        response.headers["ETag"]  # the page's next line

    # Corrected: the real store name.
    response = http.get(f"{base}/v1.0/state/statestore/key1")
    assert response.status_code == 200 and response.headers["ETag"] == "1"


def test_row7_store_name_must_match_the_component(http: httpx.Client,
                                                 dapr_init_sidecar: Sidecar,
                                                 tmp_path: Path) -> None:
    base = dapr_init_sidecar.url
    store_name = "redis-store"  # the page's name
    dapr_state_url = f"{base}/v1.0/state/{store_name}"
    response = http.post(dapr_state_url, json=[{"key": "k1", "value": "Some Data"}])
    # §16 row 7: `dapr init` names its store "statestore", so this is E2.
    message = assert_error(response, 400, "ERR_STATE_STORE_NOT_FOUND",
                           "state store redis-store is not found")
    assert "redis-store" in message
    assert response.json()["details"][0]["reason"] == "DAPR_STATE_NOT_FOUND"  # §2.1 rich

    # Corrected: use the name dapr init gave the store ...
    response = http.post(f"{base}/v1.0/state/statestore",
                          json=[{"key": "k1", "value": "Some Data"}])
    assert response.status_code == 204

    # ... or write a component whose metadata.name is the name the code uses.
    (tmp_path / "redis-store.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\n"
        "kind: Component\n"
        "metadata:\n"
        "  name: redis-store\n"
        "spec:\n"
        "  type: state.redis\n"
        "  version: v1\n"
        "  metadata:\n"
        "  - name: redisHost\n"
        "    value: embedded\n", encoding="utf-8")
    saved = os.environ.get("DAPR_HTTP_PORT")
    sidecar = start(free_port(), "myapp", tmp_path, quiet=True)
    try:
        sidecar.reset("redis-store")
        response = http.post(f"{sidecar.url}/v1.0/state/{store_name}",
                              json=[{"key": "k1", "value": "Some Data"}])
        assert response.status_code == 204
    finally:
        sidecar.stop()
        if saved is None:
            os.environ.pop("DAPR_HTTP_PORT", None)
        else:
            os.environ["DAPR_HTTP_PORT"] = saved


# -- row 8: deleting with the etag read before the save --------------------------------------

def test_row8_delete_with_the_etag_from_before_the_save(http: httpx.Client,
                                                        profile: Any) -> None:
    dapr_state_url = state_url(profile)
    assert http.post(dapr_state_url, json=[{"key": "k1", "value": "Old"}]).status_code == 204
    etag = http.get(dapr_state_url + "/k1").headers["ETag"]
    # The page's flow with rows 1 to 3 fixed: save with the etag, then delete with it.
    response = http.post(dapr_state_url, json=[{
        "key": "k1", "value": "New Data", "etag": etag,
        "options": {"concurrency": "first-write"}}])
    assert response.status_code == 204
    response = http.delete(dapr_state_url + "/k1", headers={"If-Match": etag})
    # The save bumped the version: E10, 409; the message names the key, not the store.
    message = assert_error(response, 409, "ERR_STATE_DELETE")
    assert message.startswith("failed deleting state with key k1: " + MISMATCH), message
    assert http.get(dapr_state_url + "/k1").content == b'"New Data"'  # still there

    # Corrected: read the etag again after the save.
    etag = http.get(dapr_state_url + "/k1").headers["ETag"]
    response = http.delete(dapr_state_url + "/k1", headers={"If-Match": etag})
    assert response.status_code == 204  # §9 D3
    assert http.get(dapr_state_url + "/k1").status_code == 204


# -- row 9: a bare except hides every error above ---------------------------------------------

def test_row9_bare_except_hides_errors(http: httpx.Client, profile: Any) -> None:
    dapr_state_url = state_url(profile)
    nobody_listens = f"http://127.0.0.1:{free_port()}/v1.0/state/{profile.store}"

    def save_state(url: str, data: Any) -> bool:  # the page's helper
        try:
            response = http.post(url, json=data)
            if response.status_code == 200:
                return True
        except:  # noqa: E722 - the mistake under test
            return False
        return False

    # A bug in the caller (a set is not JSON), a sidecar that is not running and a
    # malformed body (row 1) all look the same as an etag conflict: False.
    assert save_state(dapr_state_url, [{"key": "k1", "value": {1, 2}}]) is False
    assert save_state(nobody_listens, [{"key": "k1", "value": 1}]) is False
    assert save_state(dapr_state_url, '[{"key": "k1", "value": 1}]') is False

    # Corrected: catch only what a retry can fix.
    def save_state_fixed(url: str, data: Any) -> bool:
        try:
            response = http.post(url, json=data)
        except httpx.RequestError:  # requests.RequestException on the page's library
            return False  # the sidecar is unreachable: worth retrying
        if response.status_code == 409:
            return False  # etag conflict (E6): read again, retry
        response.raise_for_status()  # 400 or 500: a bug to fix, not to retry
        return True

    with pytest.raises(TypeError):
        save_state_fixed(dapr_state_url, [{"key": "k1", "value": {1, 2}}])
    assert save_state_fixed(nobody_listens, [{"key": "k1", "value": 1}]) is False
    with pytest.raises(httpx.HTTPStatusError) as raised:
        save_state_fixed(dapr_state_url, '[{"key": "k1", "value": 1}]')
    assert raised.value.response.json()["errorCode"] == "ERR_MALFORMED_REQUEST"  # E4
    assert save_state_fixed(dapr_state_url, [{"key": "k1", "value": 1}]) is True
    stale = "999" if profile.is_redis else "00000000-0000-4000-8000-000000000000"
    assert save_state_fixed(dapr_state_url, [{"key": "k1", "value": 2, "etag": stale}]) is False
