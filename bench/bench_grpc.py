#!/usr/bin/env python3
"""Benchmark of the gRPC door: the official SDK against statelab and against a gRPC floor.

What it measures (all on 127.0.0.1; every process it starts is stopped in ``finally``):

* ``statelab run`` as a separate process with the embedded store (``state.redis`` on fakeredis,
  the ``dapr init`` default), HTTP and gRPC ports chosen here;
* the *gRPC floor*: this script in ``--serve-floor`` mode, a separate process running the same
  grpcio server stack as statelab (``statelab.server.grpc_server.GrpcServer``: same thread
  pool, same options) with a servicer that answers a constant: ``GetState`` returns a fixed
  value and etag, ``SaveState`` returns ``Empty``;
* the SDK (``dapr.clients.DaprClient``): ``get_state`` in a loop, and an *etag-checked*
  ``save_state`` (the key's current etag with ``Concurrency.first_write``; statelab's Redis
  etags are versions, so the loop knows the next one), first one client sequentially, then 16
  clients on 16 threads of this process (one key each);
* beside them, the HTTP door of the same statelab process, with ``httpx`` (GET, and the same
  etag-checked save as a POST), sequential and 16 threads.

Every SDK client's health wait probes statelab's HTTP port (the floor has no HTTP). The client
side shares one process (and its GIL) for every variant, so the ratios compare like with like.
The machine is shared and noisy: each cell runs several rounds in a fresh random order; the
table shows the median.

Targets (issue 11): GetState at least 0.5 of the floor, etag-checked SaveState at least 0.3.

With a ``redis-server`` on the PATH it also serves a real Redis twice (issue 14): the default
``grpc.aio`` door awaiting ``redis.asyncio``, and ``STATELAB_ASYNC_STORES=off`` (grpcio's
threaded server, synchronous redis-py on its workers), and prints both side by side.

Usage: ``python bench/bench_grpc.py [--quick] [--rounds N] [--seconds S]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_sidecar import (  # noqa: E402 - sibling script
    Processes,
    cpu_seconds,
    free_port,
    start_redis,
    wait_for_line,
    write_components,
)

HOST = "127.0.0.1"
STORE = "statestore"
VALUE = b'{"n":1,"s":"' + b"x" * 100 + b'"}'   # ~120 bytes, as bench_sidecar's VALUE
THREADS = 16


# -- the floor: the same server stack, a constant answer --------------------------------------

def serve_floor(port: int) -> int:
    from dapr.proto.runtime.v1 import state_pb2
    from google.protobuf import empty_pb2

    from statelab.dapr.service import StateService
    from statelab.server.grpc_server import GrpcServer

    answer = state_pb2.GetStateResponse(data=VALUE, etag="1")
    server = GrpcServer(StateService([]))
    servicer = server.servicer
    # Replace the handlers on this instance only: the server, pool and options stay statelab's.
    servicer.GetState = lambda request, context: answer
    servicer.SaveState = lambda request, context: empty_pb2.Empty()
    server.start(port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"floor listening on {server.endpoint}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


# -- load loops -------------------------------------------------------------------------------

def timed(seconds: float, step: Callable[[int], None]) -> float:
    """Calls per second of *step(i)* for about *seconds*."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            step(count)
            count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def threaded(seconds: float, make_step: Callable[[int], Callable[[int], None]]) -> float:
    """Total calls per second of THREADS threads, each running its own *make_step(t)*."""
    rates: list[float] = [0.0] * THREADS
    steps = [make_step(t) for t in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def run(t: int) -> None:
        barrier.wait()
        rates[t] = timed(seconds, steps[t])

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(rates)


class SdkTarget:
    """SDK loops against one gRPC endpoint; ``versioned``: a real store with Redis versions
    as etags (statelab), not the floor."""

    def __init__(self, name: str, endpoint: str, versioned: bool) -> None:
        self.name, self.endpoint, self.versioned = name, endpoint, versioned
        self._round = 0

    def client(self) -> Any:
        from dapr.clients import DaprClient

        return DaprClient(address=self.endpoint)

    def get_step(self, client: Any, key: str) -> Callable[[int], None]:
        return lambda i: client.get_state(STORE, key)

    def save_step(self, client: Any, key: str) -> Callable[[int], None]:
        from dapr.clients.grpc._state import Concurrency, StateOptions

        options = StateOptions(concurrency=Concurrency.first_write)
        if self.versioned:  # statelab: the key starts at version 1 (the floor has no store)
            client.delete_state(STORE, key)
            client.save_state(STORE, key, VALUE)
        return lambda i: client.save_state(STORE, key, VALUE, etag=str(i + 1), options=options)

    def fresh_key(self, base: str) -> str:
        self._round += 1
        return f"{base}-{self._round}"


class StubTarget(SdkTarget):
    """The same loops on the generated stub, without the SDK's wrapper: the server side's cost
    shows more plainly (the SDK's own per-call work dominates the figures above)."""

    class _Client:
        def __init__(self, endpoint: str) -> None:
            import grpc
            from dapr.proto.runtime.v1 import dapr_pb2_grpc

            self.channel = grpc.insecure_channel(endpoint)
            self.stub = dapr_pb2_grpc.DaprStub(self.channel)

        def close(self) -> None:
            self.channel.close()

    def client(self) -> Any:
        return self._Client(self.endpoint)

    def get_step(self, client: Any, key: str) -> Callable[[int], None]:
        from dapr.proto.runtime.v1 import state_pb2

        request = state_pb2.GetStateRequest(store_name=STORE, key=key)
        return lambda i: client.stub.GetState(request)

    def save_step(self, client: Any, key: str) -> Callable[[int], None]:
        from dapr.proto.common.v1 import common_pb2
        from dapr.proto.runtime.v1 import state_pb2

        first_write = common_pb2.StateOptions(
            concurrency=common_pb2.StateOptions.CONCURRENCY_FIRST_WRITE)
        if self.versioned:
            client.stub.DeleteState(state_pb2.DeleteStateRequest(store_name=STORE, key=key))
            client.stub.SaveState(state_pb2.SaveStateRequest(store_name=STORE, states=[
                common_pb2.StateItem(key=key, value=VALUE)]))

        def step(i: int) -> None:
            client.stub.SaveState(state_pb2.SaveStateRequest(store_name=STORE, states=[
                common_pb2.StateItem(key=key, value=VALUE, etag=common_pb2.Etag(value=str(i + 1)),
                                     options=first_write)]))
        return step


class HttpTarget:
    """httpx loops against statelab's HTTP door (same operations as the SDK's)."""

    def __init__(self, url: str) -> None:
        self.name, self.url = "statelab HTTP", url
        self._round = 0

    def client(self) -> Any:
        import httpx

        return httpx.Client(base_url=self.url, timeout=30)

    def get_step(self, client: Any, key: str) -> Callable[[int], None]:
        return lambda i: client.get(f"/v1.0/state/{STORE}/{key}")

    def save_step(self, client: Any, key: str) -> Callable[[int], None]:
        url = f"/v1.0/state/{STORE}"
        client.delete(f"{url}/{key}")
        client.post(url, content=b'[{"key":"' + key.encode() + b'","value":' + VALUE + b"}]")

        def step(i: int) -> None:
            body = (b'[{"key":"' + key.encode() + b'","value":' + VALUE + b',"etag":"'
                    + str(i + 1).encode() + b'","options":{"concurrency":"first-write"}}]')
            resp = client.post(url, content=body, headers={"content-type": "application/json"})
            if resp.status_code != 204:
                raise RuntimeError(f"HTTP save failed: {resp.status_code} {resp.text}")
        return step

    def fresh_key(self, base: str) -> str:
        self._round += 1
        return f"{base}-{self._round}"


def measure(target: Any, op: str, concurrent: bool, seconds: float) -> float:
    if not concurrent:
        client = target.client()
        try:
            key = target.fresh_key(f"seq-{op}")
            step = target.get_step(client, "hot") if op == "get" else \
                target.save_step(client, key)
            return timed(seconds, step)
        finally:
            client.close()
    clients = [target.client() for _ in range(THREADS)]
    try:
        prefix = target.fresh_key(f"par-{op}")
        return threaded(seconds, lambda t: target.get_step(clients[t], "hot") if op == "get"
                        else target.save_step(clients[t], f"{prefix}-{t}"))
    finally:
        for client in clients:
            client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve-floor", type=int, metavar="PORT")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.serve_floor is not None:
        return serve_floor(args.serve_floor)
    rounds, seconds = (1, 0.5) if args.quick else (args.rounds, args.seconds)

    procs = Processes()
    try:
        http_port, grpc_port, floor_port = free_port(), free_port(), free_port()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        statelab = procs.start([sys.executable, "-m", "statelab", "run", "--port",
                                str(http_port), "--grpc-port", str(grpc_port)],
                               stdout=subprocess.PIPE, env=env)
        wait_for_line(statelab, r"listening on", 60)
        floor = procs.start([sys.executable, str(Path(__file__).resolve()), "--serve-floor",
                             str(floor_port)], stdout=subprocess.PIPE, env=env)
        wait_for_line(floor, r"floor listening", 60)

        from dapr.conf import settings

        settings.DAPR_HTTP_PORT = http_port  # every SDK client's health wait asks statelab
        settings.DAPR_HTTP_ENDPOINT = None
        targets = [SdkTarget("gRPC floor", f"{HOST}:{floor_port}", versioned=False),
                   SdkTarget("statelab gRPC", f"{HOST}:{grpc_port}", versioned=True),
                   HttpTarget(f"http://{HOST}:{http_port}"),
                   StubTarget("stub floor", f"{HOST}:{floor_port}", versioned=False),
                   StubTarget("stub statelab", f"{HOST}:{grpc_port}", versioned=True)]
        redis_endpoints: dict[str, str] = {}
        server_pids: dict[str, int] = {}
        #: Server CPU (us) per call of each real-Redis cell, per round.
        cpu_per_call: dict[tuple[str, str, bool], list[float]] = {}
        if shutil.which("redis-server") is not None:
            redis_port, _ = start_redis(procs)
            folder = write_components(Path(tempfile.mkdtemp(prefix="statelab-bench-grpc-")),
                                      f"{HOST}:{redis_port}")
            for mode in ("asyncio", "threads"):
                port = free_port()
                proc = procs.start(
                    [sys.executable, "-m", "statelab", "run", "--port", str(free_port()),
                     "--grpc-port", str(port), "--components", str(folder)],
                    stdout=subprocess.PIPE,
                    env=dict(env, STATELAB_ASYNC_STORES="on" if mode == "asyncio" else "off"))
                wait_for_line(proc, r"listening on", 60)
                redis_endpoints[mode] = f"{HOST}:{port}"
                server_pids[mode] = proc.pid
                targets += [SdkTarget(f"SDK redis {mode}", redis_endpoints[mode], True),
                            StubTarget(f"stub redis {mode}", redis_endpoints[mode], True)]
        for endpoint in (f"{HOST}:{grpc_port}", *redis_endpoints.values()):
            seed = SdkTarget("seed", endpoint, True).client()
            seed.save_state(STORE, "hot", VALUE)
            seed.close()

        cells = [(op, conc) for op in ("get", "save") for conc in (False, True)]
        results: dict[tuple[str, str, bool], list[float]] = {}
        for _ in range(rounds):
            order = [(t, op, conc) for t in targets for op, conc in cells]
            random.shuffle(order)
            for target, op, conc in order:
                mode = next((m for m in server_pids if target.name.endswith(f"redis {m}")), None)
                before = cpu_seconds(server_pids[mode]) if mode else 0.0
                rate = measure(target, op, conc, seconds)
                results.setdefault((target.name, op, conc), []).append(rate)
                if mode:
                    used = cpu_seconds(server_pids[mode]) - before
                    cpu_per_call.setdefault((target.name, op, conc), []).append(
                        used / max(rate * seconds, 1) * 1e6)

        def med(name: str, op: str, conc: bool) -> float:
            return statistics.median(results[(name, op, conc)])

        print(f"\ngRPC door benchmark (median of {rounds} round(s) x {seconds:g} s; "
              f"SDK dapr {_version('dapr')}, grpcio {_version('grpcio')}; embedded store)")
        print(f"{'calls/s':<28}{'gRPC floor':>12}{'statelab gRPC':>15}{'ratio':>8}"
              f"{'statelab HTTP':>15}")
        ok = True
        for op, conc in cells:
            floor_rate = med("gRPC floor", op, conc)
            grpc_rate = med("statelab gRPC", op, conc)
            http_rate = med("statelab HTTP", op, conc)
            ratio = grpc_rate / floor_rate
            label = ("GetState" if op == "get" else "SaveState (etag, fw)") + \
                (f" x{THREADS} thr" if conc else " 1 client")
            target = 0.5 if op == "get" else 0.3
            ok &= ratio >= target
            print(f"{label:<28}{floor_rate:>12.0f}{grpc_rate:>15.0f}{ratio:>8.2f}"
                  f"{http_rate:>15.0f}   target >= {target}: "
                  f"{'met' if ratio >= target else 'MISSED'}")
        print("\nthe generated stub instead of the SDK (the server side's share shows more):")
        print(f"{'calls/s':<28}{'gRPC floor':>12}{'statelab gRPC':>15}{'ratio':>8}")
        for op, conc in cells:
            floor_rate, rate = med("stub floor", op, conc), med("stub statelab", op, conc)
            label = ("GetState" if op == "get" else "SaveState (etag, fw)") + \
                (f" x{THREADS} thr" if conc else " 1 client")
            print(f"{label:<28}{floor_rate:>12.0f}{rate:>15.0f}{rate / floor_rate:>8.2f}")
        if redis_endpoints:
            print("\na real redis-server (issue 14): grpc.aio awaiting redis.asyncio vs grpcio's "
                  "threaded server with synchronous redis-py (STATELAB_ASYNC_STORES=off)")
            print(f"{'calls/s (server CPU us/call)':<28}{'SDK asyncio':>16}{'SDK threads':>16}"
                  f"{'ratio':>7}{'stub asyncio':>16}{'stub threads':>16}{'ratio':>7}")
            for op, conc in cells:
                label = ("GetState" if op == "get" else "SaveState (etag, fw)") + \
                    (f" x{THREADS} thr" if conc else " 1 client")
                sdk_a, sdk_t = med("SDK redis asyncio", op, conc), med("SDK redis threads", op,
                                                                       conc)
                stub_a, stub_t = med("stub redis asyncio", op, conc), med("stub redis threads",
                                                                          op, conc)
                def cpu(name: str, op: str = op, conc: bool = conc) -> str:
                    return f"({statistics.median(cpu_per_call[(name, op, conc)]):.0f})"

                print(f"{label:<28}{sdk_a:>9.0f} {cpu('SDK redis asyncio'):>6}"
                      f"{sdk_t:>9.0f} {cpu('SDK redis threads'):>6}{sdk_a / sdk_t:>7.2f}"
                      f"{stub_a:>9.0f} {cpu('stub redis asyncio'):>6}"
                      f"{stub_t:>9.0f} {cpu('stub redis threads'):>6}{stub_a / stub_t:>7.2f}")
        print("\nall targets met (SDK rows)" if ok else "\nsome targets missed")
        return 0
    finally:
        procs.stop_all()


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
