"""The recap questions, one entry per notebook: data for :mod:`statelab.exercises.quiz`.

Each entry answers its notebook's opening "Questions to keep in mind" and restates its Key
points, in three to five questions. The wrong options are the misconceptions the notebook
fights (a missing key answers 404, a 409 is worth resending, a transaction is all or nothing
everywhere), so picking one and reading the explanation is itself part of the lesson. Every
claim follows the spec copies in ``docs/`` (Dapr's HTTP and gRPC state APIs) and what the
notebook shows; the right letters vary so that no pattern answers for the learner.
"""

from __future__ import annotations

from statelab.exercises.question import Question

__all__ = ["RECAPS"]

_START = (
    Question(
        "How does your app reach its state store?",
        options=(
            "It sends HTTP or gRPC requests to its Dapr sidecar, which talks to the store",
            "It connects to Redis itself, at the address in the component file",
            "The Python SDK connects to Redis directly; only httpx goes through the sidecar",
        ),
        right="a",
        explanation="The app only talks to its sidecar (HTTP on port 3500, gRPC on 50001); "
                    "the sidecar's state store component is what talks to Redis.",
    ),
    Question(
        "A save (POST /v1.0/state/statestore with a JSON array) worked. What did Dapr answer?",
        options=("200 OK with the saved item", "201 Created", "204 No Content",
                 "202 Accepted"),
        right="c",
        explanation="A save answers 204 No Content: saved, with nothing to say, so code that "
                    "waits for a 200 never sees its save succeed.",
    ),
    Question(
        "You read a key that was never saved. What does Dapr answer?",
        options=("404 Not Found, with an errorCode", "200 with the body null",
                 "204 with an empty body and no ETag", "500 ERR_STATE_GET"),
        right="c",
        explanation="A missing key is a normal outcome, not an error: 204, an empty body and "
                    "no ETag header.",
    ),
    Question(
        "On Dapr's Redis store, where does the number in a read's ETag header come from?",
        options=(
            "A hash of the stored value",
            "The time of the last save, in milliseconds",
            "A counter in the sidecar's memory, which starts again when the sidecar restarts",
            "The version field of the Redis hash myapp||<key>, which every save increments",
        ),
        right="d",
        explanation="Dapr's Redis store keeps each key as a hash with data and version; every "
                    "save adds 1 to version, and that version is the ETag.",
    ),
)

_SAVE_READ_DELETE = (
    Question(
        "You save the number 3.14159265 over HTTP in Dapr's Redis store. What does a read return?",
        options=("3.14159265", "3.141593", '"3.14159265", as a string', "3"),
        right="b",
        explanation="Dapr's Redis store re-encodes values with a JSON encoder that keeps at most "
                    "six decimals, so store money as integer cents and exact numbers as strings.",
    ),
    Question(
        'How does a program tell "this key does not exist" from "this key holds null"?',
        options=(
            "A missing key answers 404 Not Found; a key holding null answers 200 and null",
            "It cannot: both answer 204",
            "A missing key answers 200 with null; a null answers 204",
            "204 with no body and no ETag for a missing key; 200 with null for a null",
        ),
        right="d",
        explanation="A missing key reads as 204 with an empty body and no ETag, a stored null as "
                    "200 with the body null and an ETag; in a bulk read, test \"etag\" in item.",
    ),
    Question(
        "Which key does GET /v1.0/state/statestore/tea+milk read?",
        options=("tea milk, with a space", "tea+milk", "None: Dapr answers 400 Bad Request",
                 "tea"),
        right="a",
        explanation="Dapr decodes a key in the URL the way Go decodes a query string, so a raw + "
                    "is a space; put keys into URLs with quote(key, safe=\"\").",
    ),
    Question(
        "You delete a key that does not exist. What does Dapr answer?",
        options=("404 Not Found", "409 Conflict: there is nothing to delete",
                 "204, as for a key that existed"),
        right="c",
        explanation="A delete answers 204 whether or not the key existed, which makes a delete "
                    "safe to retry.",
    ),
    Question(
        "How do you give a key a time to live of two minutes in a save?",
        options=(
            '"metadata": {"ttlInSeconds": 120} in the item',
            'A header TTL: 120 on the request',
            '"metadata": {"ttlInSeconds": "120"} in the item',
            '"options": {"ttl": 120} in the item',
        ),
        right="c",
        explanation="Every metadata value in Dapr is a string: the number 120 is rejected with "
                    "an error before anything is stored.",
    ),
)

_LOSE_AN_UPDATE = (
    Question(
        "A counter holds 0. Two writers each read it and save what they read plus 1, without an "
        "ETag. Where can the counter end?",
        options=("Always at 2: Dapr runs the saves one after the other",
                 "At 2 or at 1, never at 0", "At 2, 1 or 0", "Always at 1"),
        right="b",
        explanation="Each save writes what its writer read plus 1, so the last save leaves at "
                    "least 1, and it leaves 1 when both writers read 0 before either wrote.",
    ),
    Question(
        "With two writers that each read once and write once there are 6 orders. How many of "
        "them lose an update? (a number)",
        right="4",
        also=("four",),
        explanation="Every order in which both reads come before both writes loses an update: "
                    "4 of the 6.",
    ),
    Question(
        "In that race without ETags, what does Dapr answer to the save that erases the other "
        "writer's increment?",
        options=("409 Conflict", "412 Precondition Failed",
                 "500 ERR_STATE_SAVE, because the write was stale", "204, like every other save"),
        right="d",
        explanation="Under Dapr's default last-write-wins a save without an ETag simply replaces "
                    "what is stored, so every request answers 204 and nobody is told.",
    ),
    Question(
        "Does the Python SDK's save_state without an ETag protect you from this race?",
        options=(
            "Yes: gRPC saves of one key are applied in order",
            "Yes: the second save raises DaprGrpcError with code ABORTED, as for a conflict",
            "No: it is the same last-write save, and no exception says an update was lost",
        ),
        right="c",
        explanation="Without an ETag the SDK sends the same last-write save over gRPC, so the "
                    "same race loses the same update in silence.",
    ),
)

_USE_ETAGS = (
    Question(
        "Two people edit the same profile. How can the second save notice that the first one "
        "happened?",
        options=(
            "Send the ETag it read in the save item, with concurrency first-write",
            "Send the ETag in an If-Match header on the save",
            "Read the profile again just before saving, and save only if it is unchanged",
            "Nothing to do: Dapr warns when a save overwrites a newer version",
        ),
        right="a",
        explanation="Dapr compares the item's ETag with the stored version and answers 409 when "
                    "someone saved in between; If-Match on a save is ignored, and a read just "
                    "before the save still leaves a gap for another writer.",
    ),
    Question(
        'On Dapr\'s Redis store, does "concurrency": "first-write" without an ETag stop you from '
        "overwriting an existing key?",
        options=(
            "Yes: the save answers 409 Conflict",
            "Yes: the save answers 412 Precondition Failed",
            "No: the save overwrites (204) and marks the key first-write",
        ),
        right="c",
        explanation="Without an ETag there is nothing to compare, so the save overwrites and "
                    "sets the key's sticky first-write flag, after which saves without an ETag "
                    "fail with 500: send first-write with an ETag.",
    ),
    Question(
        'You send an ETag with "concurrency": "last-write" to Dapr\'s Redis store. What '
        "happens to the ETag?",
        options=("It is ignored: a stale ETag still overwrites with 204",
                 "It is checked as with first-write",
                 "The save is rejected with 400: an ETag needs first-write"),
        right="a",
        explanation="With last-write Dapr's Redis store does not compare the ETag (unless the key "
                    "carries the first-write flag), so send first-write with every ETag.",
    ),
    Question(
        "Where does the ETag go for a conditional delete over HTTP?",
        options=("In an If-Match header", 'In a JSON body {"etag": "3"}',
                 "In the query string, ?etag=3"),
        right="a",
        explanation="A delete's ETag travels in If-Match (a save's goes in the item), and a "
                    "mismatch answers 409 ERR_STATE_DELETE.",
    ),
    Question(
        "On Dapr's Redis store a key is deleted and then created again. Can an ETag read before "
        "the delete still match?",
        options=(
            "No: an ETag is never used twice",
            "Yes: versions restart at 1, so an old ETag can match the new item",
            "No: Dapr remembers the versions of deleted keys and never hands them out again",
        ),
        right="b",
        explanation="The version lives in the key's Redis hash, which the delete removes, so the "
                    "new item counts from 1 again and an old \"1\" matches it.",
    ),
)

_RETRY = (
    Question(
        "Your save answered 409. Why is sending the same request again useless?",
        options=(
            "Dapr refuses retries for a second after a conflict",
            "It is not useless: once the other writer is done, the same request succeeds",
            "It carries the same stale ETag, so it gets the same 409 again",
        ),
        right="c",
        explanation="A 409 means your value and ETag are stale, so re-read the value and its "
                    "ETag, recompute and save again: only a fresh read gives an ETag that can "
                    "match.",
    ),
    Question(
        "32 writers increment one key and retry at once after each 409. About how many "
        "attempts does one increment take?",
        options=(
            "One or two: ETags make conflicts rare",
            "About ten: writers that read the same version collide again",
            "32: one for every writer",
        ),
        right="b",
        explanation="The notebook's seeded race with 32 writers needed 9.6 retries per "
                    "increment, because immediate retries keep colliding writers in lock-step, "
                    "and backoff with full jitter wastes far fewer.",
    ),
    Question(
        "Exponential backoff with full jitter waits, after n failures:",
        options=(
            "A random time between 0 and min(cap, base * 2**n)",
            "Half of min(cap, base * 2**n), plus a random time up to the other half",
            "Exactly min(cap, base * 2**n)",
            "A random time from Python's global random module, whatever the ceiling",
        ),
        right="a",
        explanation="Full jitter draws the whole wait uniformly below the growing ceiling, so "
                    "writers that collided spread out instead of retrying together.",
    ),
    Question(
        "Your save timed out: no answer came back. Did it happen?",
        options=(
            "No: a timeout means Dapr did not apply it, so retry at once",
            "Maybe: it may have landed and only the answer was lost",
            "Yes: Dapr always finishes a request it received",
        ),
        right="b",
        explanation="A timeout is indeterminate: the store may have applied the write and only "
                    "the answer was lost, so find out before you write again.",
    ),
    Question(
        "An increment's save timed out. You re-read, and the ETag has moved. Did your save land?",
        options=(
            "Yes: an ETag that moved after your save shows that your save landed",
            "No: a save that timed out is never applied by the store",
            "You can't tell: another writer may have moved it; look for your write's id",
            "Yes, if the new ETag is exactly the old one plus 1, since Redis counts versions",
        ),
        right="c",
        explanation="An ETag that moved does not say whose write moved it, so store an id with "
                    "each non-idempotent write and look for it before you retry, or an increment "
                    "may be lost or applied twice.",
    ),
)

_CONSISTENCY = (
    Question(
        "On a store with replicas you save a value and read it back at once, asking for no "
        "consistency. Can the read return the old value, or nothing?",
        options=(
            "No: you always see your own writes",
            "Only if another writer saved between your save and your read",
            "Yes: a replica that has not received the write may answer",
        ),
        right="c",
        explanation="An eventual read may be served by a lagging replica, even right after your "
                    "own write; ask for consistency=strong when you need the latest value.",
    ),
    Question(
        "What does a strong write wait for, and what does it cost?",
        options=(
            "The replicas to have it; its latency grows with the slowest one",
            "A lock on the key; it costs nothing when there is one writer",
            "Nothing: strong only changes how reads are served",
        ),
        right="a",
        explanation="A strong write is answered once the replicas (all, or a quorum) have it, so "
                    "it pays the replication lag; a quorum buys some of that latency back.",
    ),
    Question(
        "On a replicated store, where should the ETag for a first-write save come from?",
        options=(
            "From any read: ETags are the same on every replica",
            "From the answer to your last save, which always carries the new ETag",
            "From a strong read, because ETags are checked on the primary",
        ),
        right="c",
        explanation="A lagging replica hands out an old ETag, which the primary rejects with a "
                    "needless 409 even when nobody else is writing.",
    ),
    Question(
        'On Dapr\'s Redis store with one Redis server, what does "consistency": "strong" change?',
        options=(
            "Nothing you can see: Redis WAIT finds no replica to wait for",
            "Reads go to the primary instead of a replica",
            "Saves become atomic transactions",
        ),
        right="a",
        explanation="Dapr's Redis store uses the option on writes only, running Redis WAIT after "
                    "a strong save, and one server has no replica to wait for, so strong and "
                    "eventual behave the same.",
    ),
)

_GROUP_WRITES = (
    Question(
        "One item of a multi-item save fails its ETag check. What happened to the other items?",
        options=(
            "Nothing: a multi-item save is all or nothing",
            "Dapr retried them until every item succeeded, then answered",
            "They may have been saved: each item is saved on its own",
        ),
        right="c",
        explanation="A multi-item save is not atomic: the items that passed were written and the "
                    "answer joins the failures, so read before you retry (or use a "
                    "transaction).",
    ),
    Question(
        "A transaction with a stale ETag fails. What does Dapr answer?",
        options=("409 Conflict, as for a save", "500 ERR_STATE_TRANSACTION",
                 "412 Precondition Failed"),
        right="b",
        explanation="Dapr reports any failure inside a transaction, a stale ETag included, as "
                    "500 ERR_STATE_TRANSACTION (INTERNAL over gRPC), never 409.",
    ),
    Question(
        "A transaction answered 500 on Dapr's Redis store. Did it change anything?",
        options=(
            "No: a transaction is all or nothing on every store that supports it",
            "Yes, every operation was applied: the 500 is only a warning",
            "Possibly: the operations that passed their ETag check stay applied",
        ),
        right="c",
        explanation="Redis MULTI/EXEC has no rollback, so the operations that passed stay applied "
                    "(only the in-memory store is all or nothing): read before you retry.",
    ),
    Question(
        "Where does the ETag go when you delete a key inside a transaction?",
        options=(
            "In an If-Match header on the transaction request",
            'In the delete operation\'s request: {"key": "k", "etag": "3"}',
            "In the query string of the transaction request",
        ),
        right="b",
        explanation="In a transaction every ETag, a delete's too, goes in the operation's "
                    "request body; If-Match is ignored there.",
    ),
    Question(
        "How do you delete many keys in one HTTP request?",
        options=("A transaction of delete operations",
                 "DELETE /v1.0/state/statestore/bulk with the keys in the body",
                 "DELETE /v1.0/state/statestore"),
        right="a",
        explanation="There is no bulk delete over HTTP: DELETE .../bulk deletes a key called "
                    "bulk, and DELETE .../statestore is a 404.",
    ),
)

_REAL_DAPR = (
    Question(
        'Which statuses mean "saved" and "someone changed it first"?',
        options=("200 and 412", "201 and 409", "204 and 409", "200 and 409"),
        right="c",
        explanation="A save or delete succeeds with 204 and no body, and a stale ETag is 409, "
                    "so a helper that waits for 200 never sees success.",
    ),
    Question(
        "Where do consistency and concurrency travel on a read or a delete over HTTP?",
        options=(
            "In the query string, such as ?consistency=strong",
            "In HTTP headers named consistency and concurrency",
            "In a JSON body on the GET or DELETE",
        ),
        right="a",
        explanation="Dapr reads options from a save item's options and from the query string of "
                    "a read or delete; headers with those names are ignored in silence.",
    ),
    Question(
        "The how-to builds its request as a JSON string and passes it to httpx's json=. "
        "What does Dapr answer?",
        options=(
            "204: httpx sends the string as it is, and Dapr decodes it as the item array",
            "500: Redis cannot store a string",
            "400: the body is encoded twice, a JSON string instead of an array of items",
        ),
        right="c",
        explanation="json= encodes whatever it is given, so pass the Python list itself (or the "
                    "text with content=).",
    ),
    Question(
        "Which errors should a retry loop around a save catch?",
        options=(
            "Every exception, with a bare except, so the loop never crashes",
            "Only what a retry can fix, such as httpx.RequestError and a 409",
            "None: Dapr's resiliency policies retry ETag conflicts for you",
        ),
        right="b",
        explanation="A bare except also swallows the bugs no retry can fix, and retries them "
                    "forever: catch what a retry can fix and let the rest fail loudly.",
    ),
    Question(
        "You point this code at a real daprd with STATELAB_DAPR_URL. What must stay the same?",
        options=(
            "The order of keys in the stored JSON objects",
            "Every status and errorCode your code branches on",
            "The line numbers and hashes in Redis script errors",
        ),
        right="b",
        explanation="daprd answers the same statuses and errorCodes; key order, the Etag "
                    "header's spelling and script details differ, so never branch on them.",
    ),
)

#: Every notebook's recap, in the order of the tutorial: notebook name -> its questions.
RECAPS: dict[str, tuple[Question, ...]] = {
    "01-start-the-sidecar": _START,
    "02-save-read-delete": _SAVE_READ_DELETE,
    "03-lose-an-update": _LOSE_AN_UPDATE,
    "04-use-etags": _USE_ETAGS,
    "05-retry-on-conflict": _RETRY,
    "06-choose-consistency": _CONSISTENCY,
    "07-group-writes": _GROUP_WRITES,
    "08-move-to-real-dapr": _REAL_DAPR,
}
