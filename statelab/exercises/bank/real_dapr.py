"""Notebook 08's exercises: fix the Dapr 1.4 how-to's save and delete.

Both are checked on a ``statestore`` whose two replicas lag 20 ms behind its primary (statelab's
replicated teaching store: Redis semantics on the primary), on a clock that moves 1 ms per
request and, after a strong write, by the wait for the replicas, as notebook 06 teaches. So
the how-to's "strong" has an effect the checker can see: a write Dapr treats as strong is on
every replica when Dapr answers it; a "strong" Dapr never reads (a header, a save's query
string, a field beside the item's ``options``) leaves the replicas behind. (Dapr's Redis store
waits for replicas after a strong save only, never after a delete; the teaching store gives a
delete's option the same meaning, which is why the delete is checked there.) An ETag sent in
``If-Match`` is checked whatever the concurrency, on Redis and in memory alike, so where
``concurrency`` travels cannot be seen once the ETag is right, and is not judged. The checks
record the key on the primary and the replicas at each of the learner's requests and judge
that, and Dapr's answers, never how a request was spelled.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from statelab.dapr.components import Component
from statelab.dapr.service import SaveItem, StateService
from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import MAX_REQUESTS, Interference, Lab, LabClock
from statelab.latency import Latency
from statelab.stores.redis.model import ModelHash
from statelab.stores.replicated import ReplicatedStore

#: How far the replicas lag behind the primary: more than a right answer's requests take.
LAG_MS = 20.0


@dataclass
class Moment:
    """One of the learner's requests as the store saw it: the key's hash on the primary just
    before Dapr answered and just after, and the replicas whose copy still differed then."""

    before: ModelHash | None
    after: ModelHash | None = None
    behind: list[str] = field(default_factory=list)
    answered: bool = False


class ReplicaWatch:
    """A lab on a lagging replicated ``statestore`` that records a :class:`Moment` per request.

    The store's clock moves 1 ms before each request and, during a strong write, by the wait
    for the replicas (the store's *wait* function), so a strong write answers once every
    replica has it. Competing writers (*interference*) act after the moment is recorded."""

    def __init__(self, key: str, interference: Sequence[Interference] = ()) -> None:
        self.clock = LabClock()
        self.store = ReplicatedStore(replicas=2, lag=Latency("fixed", LAG_MS), seed=8,
                                     clock_us=self.clock, wait=self.clock.wait)
        self.moments: list[Moment] = []
        watch = [Interference(n, self.record) for n in range(1, MAX_REQUESTS + 2)]
        self.lab = Lab([Component.around(self.store, "statestore")],
                       interference=[*watch, *interference], tick=self.tick)
        service = self.lab.service
        self.stored_key = service.modified_key(service.component("statestore"), key)

    def tick(self) -> None:
        self.clock.tick()
        self.moments.append(Moment(self.store.primary.entry(self.stored_key)))

    def record(self, service: StateService) -> None:
        moment = self.moments[-1]
        moment.after = self.store.primary.entry(self.stored_key)
        moment.behind = self.behind()
        moment.answered = True

    def behind(self) -> list[str]:
        """The replicas whose copy of the key differs from the primary's, now."""
        entry = self.store.primary.entry(self.stored_key)
        primary = None if entry is None else (entry.data, entry.version)
        lagging = []
        for replica in self.store.replicas:
            replica.catch_up(self.clock.now_us)
            if replica.data.get(self.stored_key) != primary:
                lagging.append(replica.name)
        return lagging

    def save_strong(self, key: str, value: Any) -> None:
        """The checker's own write: strong, so every replica has it before the learner's
        function runs."""
        self.lab.service.save("statestore", [SaveItem(key, value, consistency="strong")])

    def value(self, key: str) -> Any:
        return self.lab.value(key, consistency="strong")

    def refusal(self) -> str:
        """`` Dapr refused request 2: 409 ERR_STATE_DELETE: ...`` for the first error answer."""
        for number, answer in enumerate(self.lab.answers, 1):
            if answer.status >= 400:
                said = str(answer.error) if answer.error is not None \
                    else f"{answer.status} {answer.text.strip()}"
                return f" Dapr refused request {number}: {said.rstrip('.')}."
        return ""


def _sentence(failure: CheckFailed) -> str:
    said = str(failure)
    return said.rstrip(".?") + ("?" if said.endswith("?") else ".")


def _run(watch: ReplicaWatch, fn: Callable[..., Any], *args: Any) -> Any:
    """Run the learner's function; if it raises, say so with the requests and answers."""
    try:
        return run_answer(fn, *args)
    except CheckFailed as failure:
        raise CheckFailed(f"{_sentence(failure)} Your requests and Dapr's answers: "
                          f"{watch.lab.transcript()}.{watch.refusal()}") from None


def _check_fixed_save(fn: Callable[..., Any]) -> str:
    watch = ReplicaWatch("key1")
    with watch.lab as lab:
        _run(watch, fn, lab.client)
        transcript = f"Your requests and Dapr's answers: {lab.transcript()}."
        got = watch.value("key1")
        if got != "Some Data":
            holds = "holds nothing" if got is None else f"holds {got!r}"
            raise CheckFailed(f"{transcript}{watch.refusal()} key1 {holds}; expected "
                              "'Some Data'.")
        for number, moment in enumerate(watch.moments, 1):
            if moment.after != moment.before and moment.behind:
                raise CheckFailed(
                    f"{transcript} Dapr answered request {number} while "
                    f"{' and '.join(moment.behind)} did not have it yet: that save was "
                    "eventual. A strong save answers once every replica has it; Dapr reads "
                    "consistency from the item's \"options\" only (a header, a query "
                    "parameter or a field beside \"options\" is ignored).")
    return "key1 holds 'Some Data', and every replica had it when Dapr answered: a strong save."


register(Exercise(
    id="fix-howto-save", notebook="08-move-to-real-dapr",
    title="Fix the how-to's save",
    task="""
    The Dapr 1.4 how-to builds the body as a string and passes it to `json=`, which encodes
    it twice. Write `save_state(client)` that saves "Some Data" under `key1` with strong
    consistency, correctly. The check runs it on a `statestore` whose two replicas lag
    behind its primary: a strong save answers only once every replica has the value (Dapr's
    Redis store waits the same way when Redis has replicas), so a "strong" that Dapr never
    reads shows.
    """,
    hints=("json= expects Python objects; a string becomes a JSON string literal.",
           "Dapr wants an array of items: [{'key': 'key1', 'value': 'Some Data', 'options': "
           "{...}}]. Dapr reads a save's consistency only from the item's options.",
           "client.post('/v1.0/state/statestore', json=[{'key': 'key1', 'value': 'Some Data', "
           "'options': {'consistency': 'strong'}}])"),
    solution_code="""
    def save_state(client):
        reply = client.post("/v1.0/state/statestore", json=[{
            "key": "key1", "value": "Some Data", "options": {"consistency": "strong"}}])
        reply.raise_for_status()
    """,
    checker=_check_fixed_save))


def delete_schedules(seed: int, longest: int = 4, seeded: int = 4) -> list[list[int]]:
    """After which of the learner's requests another writer saves the key: none, after each
    single one of the first *longest*, then *seeded* random combinations (for retries)."""
    rng = random.Random(seed)
    singles = [[point] for point in range(1, longest + 1)]
    combos = [sorted(rng.sample(range(1, 9), rng.randint(2, 3))) for _ in range(seeded)]
    return [[], *singles, *combos]


def versions_read(lab: Lab, before: int) -> set[str]:
    """The ETags Dapr gave the learner in its first *before* answers: a read's ``ETag``
    header, or the items of a bulk read."""
    seen: set[str] = set()
    for request, answer in zip(lab.requests[:before], lab.answers[:before], strict=False):
        if answer.etag:
            seen.add(answer.etag)
        if request.method == "POST" and request.url.path.endswith("/bulk") and answer.ok:
            try:
                items = json.loads(answer.body or b"[]")
            except ValueError:
                continue
            seen |= {str(item["etag"]) for item in items
                     if isinstance(item, dict) and "etag" in item}
    return seen


def _check_delete_schedule(fn: Callable[..., Any], case: int, points: list[int]) -> None:
    writers = [Interference(p, _other_writer) for p in points]
    watch = ReplicaWatch("key1", writers)
    with watch.lab as lab:
        watch.save_strong("key1", "Some Data")
        watch.save_strong("key1", "New Data")
        try:
            returned: Any = run_answer(fn, lab.client, "key1")
            raised = ""
        except CheckFailed as failure:
            if len(lab.requests) > MAX_REQUESTS:  # the budget: no outcome to judge
                raise CheckFailed(f"schedule {case}: {_sentence(failure)} Your requests and "
                                  f"Dapr's answers: {lab.transcript()}.") from None
            returned, raised = None, _sentence(failure)
        sent = len(lab.requests)
        story = _story(case, [p for p in points if p <= sent], lab)
        removed = [(n, m) for n, m in enumerate(watch.moments, 1)
                   if m.answered and m.before is not None and m.after is None]
        for number, moment in removed:
            assert moment.before is not None  # for mypy: removed moments had the key
            version = moment.before.version
            if str(version) not in versions_read(lab, number - 1):
                raise CheckFailed(
                    f"{story} Request {number} deleted version {version} of key1, which none "
                    "of your reads had returned: a delete without the ETag you read (an empty "
                    "If-Match counts as none) deletes whatever is there, even a value saved "
                    "after your read.")
            if moment.behind:
                raise CheckFailed(
                    f"{story} Dapr answered request {number} while "
                    f"{' and '.join(moment.behind)} still held key1: that delete was "
                    "eventual. Dapr reads a delete's consistency from the query string only "
                    "(?consistency=strong); a header of that name is ignored.")
        if removed and returned is not True:
            said = f"raised: {raised[:-1]}" if raised else f"returned {returned!r}"
            raise CheckFailed(f"{story} Dapr deleted key1 (request {removed[0][0]}), but your "
                              f"function {said}; return True when the delete succeeded.")
        interfered = any(p < sent for p in points)
        if not removed and not interfered:
            raise CheckFailed(f"{story}{watch.refusal()} key1 still holds "
                              f"{watch.value('key1')!r}: nothing was deleted, though nobody "
                              "else had changed it."
                              + (f" Your function raised: {raised}" if raised else ""))
        if not removed and (returned is not False and not raised):
            raise CheckFailed(f"{story} key1 still holds {watch.value('key1')!r}, but your "
                              f"function returned {returned!r}; return False when Dapr "
                              "refuses the delete.")


def _story(case: int, happened: list[int], lab: Lab) -> str:
    """``schedule 1: another writer saved key1 after your request 1. Your requests ...``"""
    if happened:
        numbers = " and ".join(str(p) for p in happened)
        said = f"another writer saved key1 after your request{'s' * (len(happened) > 1)} " \
               f"{numbers}."
    else:
        said = "nobody else wrote."
    return f"schedule {case}: {said} Your requests and Dapr's answers: {lab.transcript()}."


def _other_writer(service: StateService) -> None:
    """Another client saves key1 (strong, so every replica has it when it is done)."""
    service.save("statestore", [SaveItem("key1", "Other Data", consistency="strong")])


def _check_fixed_delete(fn: Callable[..., Any]) -> str:
    schedules = delete_schedules(seed=8)
    for case, points in enumerate(schedules):
        _check_delete_schedule(fn, case, points)
    return (f"on {len(schedules)} schedules, your delete removed only a version you had read, "
            "was strong (every replica had dropped key1 when Dapr answered), and said whether "
            "it deleted.")


register(Exercise(
    id="fix-howto-delete", notebook="08-move-to-real-dapr",
    title="Fix the how-to's delete",
    task="""
    The how-to deletes with an ETag read before a save (409) and sends the options as headers
    (ignored). Write `delete_state(client, key)`: read the current ETag, then delete with it,
    with strong consistency and first-write, each where Dapr reads it. Return True when Dapr
    deleted the key. If someone changed the key after your read, Dapr refuses (409): return
    False (or read again and retry). The check runs it on a `statestore` with lagging
    replicas (statelab's replicated teaching store, where a strong delete answers once every
    replica has dropped the key), with another writer saving the key between your requests.
    """,
    hints=("Read the ETag right before deleting and send it in If-Match: a delete without an "
           "ETag deletes whatever is there, even a value saved after your read.",
           "A delete's options go in the query string (params=...); headers named consistency "
           "or concurrency are ignored. Success is 204; a changed key is 409.",
           "etag = client.get(url).headers['etag']; reply = client.delete(url, headers="
           "{'If-Match': etag}, params={'consistency': 'strong', 'concurrency': "
           "'first-write'}); return False on 409, raise on other errors, else return True"),
    solution_code="""
    def delete_state(client, key):
        url = f"/v1.0/state/statestore/{key}"
        etag = client.get(url).headers["etag"]
        reply = client.delete(url, headers={"If-Match": etag},
                              params={"consistency": "strong", "concurrency": "first-write"})
        if reply.status_code == 409:
            return False  # someone changed the key after our read: it stays
        reply.raise_for_status()
        return True
    """,
    checker=_check_fixed_delete))
