#!/usr/bin/env python3
"""Benchmark of the statelab sidecar: one run prints every figure and the target ratios.

What it measures (all on 127.0.0.1, every process it starts is stopped in ``finally``):

* ``statelab run`` as a separate process (``python -m statelab run --port P --components DIR``)
  with (a) the embedded Redis profile (fakeredis) and (b) a real ``redis-server`` it starts on a
  free loopback port; plus (c) the *HTTP floor*: the same server stack (uvicorn with
  httptools/uvloop, configured and placed exactly as ``statelab.server.sidecar`` does: a daemon thread
  of a separate process) serving a constant ASGI app (200 + a small body for GET, 204 for POST).
* wrk (``-t1 -c1`` and ``-t1 -c16``, ``--latency``) for GET and for an *etag-checked save*: a POST
  whose item carries the key's correct etag with ``options.concurrency=first-write``, so the
  ETag comparison succeeds. Each save cell uses a fresh pool of keys pre-populated at version 1
  through the API; ``bench/wrk_save.lua`` writes key ``i % pool`` with etag ``1 + i // pool``.
  Non-2xx answers (wrk counts status >= 400) are reported and must be zero.
* (d) ``statelab run`` on the same real ``redis-server`` with ``STATELAB_ASYNC_STORES=off``:
  every store call hops to a worker thread and runs synchronous redis-py there, as before the
  asyncio path (issue 14), so both are measured in one run.
* A single sequential ``httpx.Client`` loop (GET and etag-checked save) against each server.
* The store floor, in this process: ``RedisStore.get`` / ``RedisStore.set`` (etag-checked) and a
  bare ``EVALSHA`` of ``SAVE_SCRIPT`` with the same arguments on the same redis-py client, for
  the embedded store (fakeredis, where the store runs the script's commands directly: see
  ``statelab/stores/fakeredis_direct.py``), for the same store forced onto EVALSHA
  (``scripts="lua"``) and for the real server, interleaved in small blocks.

The machine is shared and noisy: every section runs several rounds, each visiting the variants in
a fresh random order; tables show the median over rounds.

Usage: ``python bench/bench_sidecar.py [--quick] [--rounds N] [--seconds S]``
(``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
HOST = "127.0.0.1"
STORE = "statestore"
VALUE = {"n": 1, "s": "x" * 100}          # ~120 bytes once encoded, as in the baseline
GET_POOL = 100                             # keys read in rotation by the GET loads
# Reference profile: statelab with its in-memory store (a dict), GET only (its etags are UUIDs):
# the cost of statelab's own HTTP adapter and API layer without a Redis behind them.
MEMORY = "statelab·memory"
FAKEREDIS_LUA = "fakeredis·lua"
# statelab on the real redis-server with its asyncio stores turned off (worker threads).
REDIS_THREADS = "statelab·redis-thr"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Targets (see DESIGN.md, Performance notes).
TARGET_GET_VS_FLOOR = 0.50
TARGET_SAVE_VS_FLOOR = 0.25
TARGET_SET_VS_EVALSHA = 1.20
# Issue 14: a real redis-server behind the sidecar, 16 connections.
TARGET_REDIS_GET_VS_FLOOR = 0.30
TARGET_REDIS_SAVE_VS_FLOOR = 0.20
TARGET_REDIS_CPU_VS_EMBEDDED = 2.0


# ------------------------------------------------------------------------------------------
# The HTTP floor server (run as a child process: ``bench_sidecar.py --serve-floor``)
# ------------------------------------------------------------------------------------------

FLOOR_GET_BODY = json.dumps(VALUE, separators=(",", ":")).encode()


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A constant answer: the least an ASGI app can do for the same requests."""
    if scope["type"] != "http":
        return
    while True:  # read the body, as any real handler must
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            break
    if scope["method"] == "GET":
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(FLOOR_GET_BODY)).encode())]})
        await send({"type": "http.response.body", "body": FLOOR_GET_BODY})
    else:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def serve_floor() -> int:
    """Same stack and placement as ``statelab run``: uvicorn in a daemon thread, main waits."""
    import uvicorn

    from statelab.server.sidecar import _bind, _http_impl, _loop_impl

    sock = _bind(HOST, 0)
    if sock is None:
        print("cannot bind", file=sys.stderr)
        return 2
    config = uvicorn.Config(floor_app, log_level="warning", access_log=False, lifespan="off",
                            server_header=False, http=_http_impl(), loop=_loop_impl(), ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="floor-server")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            return 1
        time.sleep(0.002)
    print(f"floor listening on http://{HOST}:{sock.getsockname()[1]} "
          f"(http={config.http}, loop={config.loop})", flush=True)
    try:
        while not stop.wait(0.5):  # the same idle loop as statelab.cli
            if not thread.is_alive():
                return 1
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
    return 0


# ------------------------------------------------------------------------------------------
# Process management
# ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Processes:
    """Every child process this run starts; ``stop_all`` ends them by their own PID."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kwargs)
        self.children.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.children:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.children:
            try:
                proc.wait(8)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for proc in self.children:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def wait_for_line(proc: subprocess.Popen[bytes], pattern: str, timeout: float) -> re.Match[str]:
    """Read the child's stdout until a line matches *pattern* (bounded by *timeout*)."""
    assert proc.stdout is not None
    found: list[re.Match[str]] = []
    lines: list[str] = []

    def reader() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            lines.append(line)
            match = re.search(pattern, line)
            if match:
                found.append(match)
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    if not found:
        raise RuntimeError(f"{proc.args!r} did not print {pattern!r} within {timeout}s "
                           f"(exit={proc.poll()}, output={''.join(lines)!r})")
    return found[0]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from procfs."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Server:
    name: str
    url: str
    pid: int
    statelab: bool


def start_redis(procs: Processes) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    proc = procs.start(["redis-server", "--bind", HOST, "--port", str(port), "--save", "",
                        "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no",
                        "--loglevel", "warning"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return port, proc
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("redis-server did not answer PING")


def write_components(folder: Path, redis_host: str | None, ctype: str = "state.redis") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    meta = f"""\n  - name: redisHost\n    value: "{redis_host}\"""" if redis_host else " []"
    (folder / "statestore.yaml").write_text(f"""\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {STORE}
spec:
  type: {ctype}
  version: v1
  metadata:{meta}
""")
    return folder


def start_sidecar(procs: Processes, name: str, components: Path,
                  env: dict[str, str] | None = None) -> Server:
    port = free_port()
    proc = procs.start([sys.executable, "-m", "statelab", "run", "--port", str(port),
                        "--grpc-port", "0", "--components", str(components)],
                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       env={**os.environ, **(env or {})})
    match = wait_for_line(proc, r"listening on (http://127\.0\.0\.1:\d+)", 30)
    return Server(name, match[1], proc.pid, statelab=True)


def start_floor(procs: Processes) -> Server:
    proc = procs.start([sys.executable, str(Path(__file__).resolve()), "--serve-floor"],
                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    match = wait_for_line(proc, r"floor listening on (http://127\.0\.0\.1:\d+)", 30)
    return Server("HTTP floor", match[1], proc.pid, statelab=False)


# ------------------------------------------------------------------------------------------
# Helpers: key pools through the API
# ------------------------------------------------------------------------------------------

def populate(client: Any, url: str, prefix: str, count: int, chunk: int = 500) -> None:
    """Create keys prefix0..prefix{count-1} at version 1 (bulk saves without etag)."""
    for start in range(0, count, chunk):
        items = [{"key": f"{prefix}{i}", "value": VALUE}
                 for i in range(start, min(count, start + chunk))]
        reply = client.post(f"{url}/v1.0/state/{STORE}", json=items, timeout=60)
        if reply.status_code != 204:
            raise RuntimeError(f"pre-populating {prefix} failed: {reply.status_code} "
                               f"{reply.text[:200]}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------------------------------
# wrk
# ------------------------------------------------------------------------------------------

@dataclass
class Cell:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    bad: int = 0              # non-2xx (status >= 400) + socket errors, summed over rounds
    requests: int = 0
    notes: set[str] = field(default_factory=set)


def run_wrk(server: Server, op: str, conns: int, seconds: float, prefix: str,
            pool: int) -> dict[str, Any]:
    script = BENCH_DIR / ("wrk_get.lua" if op == "GET" else "wrk_save.lua")
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency",
            "--timeout", "5s", "-s", str(script), server.url, "--", STORE, prefix, str(pool)]
    env = dict(os.environ, BENCH_DIR=str(BENCH_DIR))
    cpu0 = cpu_seconds(server.pid)
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=seconds + 30)
    cpu1 = cpu_seconds(server.pid)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} "
                           f"{done.stderr[-500:]}")
    result = json.loads(line[len("BENCHJSON "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["cpu_us"] = (cpu1 - cpu0) / max(1, result["requests"]) * 1e6
    result["bad"] = (result["status_errors"] + result["connect_errors"] + result["read_errors"]
                     + result["write_errors"] + result["timeouts"])
    return result


def wrk_section(servers: list[Server], rounds: int, seconds: float,
                expected_rps: dict[tuple[str, int], float], http: Any,
                log: Callable[[str], None]) -> dict[tuple[str, str, int], Cell]:
    """All wrk cells, shuffled in each round.

    An etag-checked save cell gets a fresh pool of keys at version 1, sized from the highest
    rate seen so far for that cell (with margin), so that normally every key is written exactly
    once with ``"etag":"1"``; if the pool runs out, wrk_save.lua revisits keys with their next
    etag, and the table says so.
    """
    cells: dict[tuple[str, str, int], Cell] = {}
    variants = [(s, op, c) for s in servers for op in ("GET", "SAVE") for c in (1, 16)
                if s.name != MEMORY or op == "GET"]
    serial = 0
    for rnd in range(rounds):
        order = variants[:]
        random.shuffle(order)
        for server, op, conns in order:
            cell = cells.setdefault((server.name, op, conns), Cell())
            if op == "GET":
                prefix, pool = "bench-get-", GET_POOL
            else:
                serial += 1
                prefix = f"bench-save-{rnd}-{serial}-"
                if server.statelab:
                    pool = int(expected_rps[(server.name, conns)] * seconds * 1.3) + 200
                    populate(http, server.url, prefix, pool)
                else:
                    pool = 1000  # the floor ignores keys
            result = run_wrk(server, op, conns, seconds, prefix, pool)
            cell.rps.append(result["rps"])
            cell.p50.append(result["p50_us"] / 1000)
            cell.p99.append(result["p99_us"] / 1000)
            cell.cpu.append(result["cpu_us"])
            cell.bad += result["bad"]
            cell.requests += result["requests"]
            if op == "SAVE" and server.statelab:
                key = (server.name, conns)
                expected_rps[key] = max(expected_rps[key], result["rps"])
                sent = result["sent"]
                if sent > pool:
                    cell.notes.add(f"pool of {pool} keys reused (up to etag "
                                   f"{1 + (sent - 1) // pool})")
                # Spot check: key 0 was written once per visit (the last conns requests may
                # or may not have reached the server when wrk stopped).
                if sent > 0:
                    lo = 1 + -(-max(0, sent - conns) // pool)
                    hi = 1 + -(-sent // pool)
                    reply = http.get(f"{server.url}/v1.0/state/{STORE}/{prefix}0")
                    etag = reply.headers.get("etag") or ""
                    if not (etag.isdigit() and lo <= int(etag) <= hi):
                        cell.notes.add(f"etag spot check failed: {etag!r} not in {lo}..{hi}")
            log(f"  wrk round {rnd + 1}/{rounds} {server.name:<15} {op:<4} x{conns:<2} "
                f"{result['rps']:8.0f} req/s  p50 {result['p50_us'] / 1000:6.2f} ms  "
                f"p99 {result['p99_us'] / 1000:6.2f} ms  cpu {result['cpu_us']:5.0f} us/req  "
                f"bad {result['bad']}")
    return cells


# ------------------------------------------------------------------------------------------
# httpx.Client, one sequential caller
# ------------------------------------------------------------------------------------------

@dataclass
class Loop:
    rps: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)  # pooled, ms
    bad: int = 0


def httpx_section(servers: list[Server], rounds: int, seconds: float,
                  log: Callable[[str], None]) -> dict[tuple[str, str], Loop]:
    import httpx

    loops: dict[tuple[str, str], Loop] = {}
    variants = [(s, op) for s in servers for op in ("GET", "SAVE") if s.name != MEMORY]
    serial = 0
    with httpx.Client(timeout=10) as client:
        for rnd in range(rounds):
            order = variants[:]
            random.shuffle(order)
            for server, op in order:
                loop = loops.setdefault((server.name, op), Loop())
                pool = 256
                serial += 1
                prefix = f"bench-py-{rnd}-{serial}-"
                if op == "SAVE" and server.statelab:
                    populate(client, server.url, prefix, pool)
                save_url = f"{server.url}/v1.0/state/{STORE}"
                get_url = f"{server.url}/v1.0/state/{STORE}/bench-get-"
                lat: list[float] = []
                bad = 0
                i = 0
                perf = time.perf_counter
                start = perf()
                deadline = start + seconds
                while True:
                    if op == "GET":
                        t0 = perf()
                        reply = client.get(f"{get_url}{i % GET_POOL}")
                    else:
                        item = [{"key": f"{prefix}{i % pool}", "value": VALUE,
                                 "etag": str(1 + i // pool),
                                 "options": {"concurrency": "first-write"}}]
                        t0 = perf()
                        reply = client.post(save_url, json=item)
                    t1 = perf()
                    lat.append((t1 - t0) * 1000)
                    if not 200 <= reply.status_code < 300:
                        bad += 1
                    i += 1
                    if t1 >= deadline:
                        break
                elapsed = perf() - start
                loop.rps.append(i / elapsed)
                loop.lat.extend(lat)
                loop.bad += bad
                log(f"  httpx round {rnd + 1}/{rounds} {server.name:<15} {op:<4} "
                    f"{i / elapsed:7.0f} req/s  p50 {pct(lat, 50):5.2f} ms  bad {bad}")
    return loops


# ------------------------------------------------------------------------------------------
# Store floor, in-process
# ------------------------------------------------------------------------------------------

@dataclass
class OpStats:
    means: list[float] = field(default_factory=list)   # per round, us
    medians: list[float] = field(default_factory=list)  # per round, us
    samples: list[float] = field(default_factory=list)  # pooled, us


def store_section(stores: dict[str, Any], rounds: int, seconds: float,
                  log: Callable[[str], None]) -> dict[tuple[str, str], OpStats]:
    """RedisStore.get / etag-checked RedisStore.set / bare EVALSHA, interleaved in blocks."""
    from statelab.stores.base import SetRequest
    from statelab.stores.redis.scripts import SAVE_SCRIPT

    stats: dict[tuple[str, str], OpStats] = {}
    pool = 512
    block = 16
    perf = time.perf_counter_ns
    for backend, store in stores.items():
        for i in range(pool):
            store.set(SetRequest(key=f"bench-store-{i}", value=VALUE))  # version 1
    versions = {backend: [1] * pool for backend in stores}
    cursor = {backend: 0 for backend in stores}
    for rnd in range(rounds):
        order = list(stores)
        random.shuffle(order)
        for backend in order:
            store = stores[backend]
            client = store.client
            sha = client.script_load(SAVE_SCRIPT)  # the direct path never loads it
            data = store.encode(VALUE)
            ver = versions[backend]
            times: dict[str, list[float]] = {"get": [], "set": [], "evalsha": []}

            # Each op returns its own duration in ns: only the call itself is timed (the
            # SetRequest and the arguments are built before the clock starts).
            def do_get(k: int) -> int:
                key = f"bench-store-{k}"
                t0 = perf()
                store.get(key, {})
                return perf() - t0

            def do_set(k: int) -> int:
                request = SetRequest(key=f"bench-store-{k}", value=VALUE, etag=str(ver[k]),
                                     concurrency="first-write")
                t0 = perf()
                store.set(request)
                elapsed = perf() - t0
                ver[k] += 1
                return elapsed

            def do_evalsha(k: int) -> int:
                # What RedisStore.set sends: key, expected version, encoded value, "0".
                key, expected = f"bench-store-{k}", str(ver[k])
                t0 = perf()
                client.evalsha(sha, 1, key, expected, data, "0")
                elapsed = perf() - t0
                ver[k] += 1
                return elapsed

            ops = {"get": do_get, "set": do_set, "evalsha": do_evalsha}
            deadline = time.monotonic() + seconds
            gc.collect()
            while time.monotonic() < deadline:
                kinds = list(ops)
                random.shuffle(kinds)
                for kind in kinds:
                    fn = ops[kind]
                    sink = times[kind]
                    for _ in range(block):
                        k = cursor[backend] % pool
                        cursor[backend] += 1
                        sink.append(fn(k) / 1000)
            for kind, values in times.items():
                st = stats.setdefault((backend, kind), OpStats())
                st.means.append(statistics.fmean(values))
                st.medians.append(statistics.median(values))
                st.samples.extend(values)
            log(f"  store round {rnd + 1}/{rounds} {backend:<12} " + "  ".join(
                f"{k} {statistics.median(v):6.1f}/{statistics.fmean(v):6.1f} us"
                for k, v in times.items()) + "  (median/mean)")
    return stats


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------

def versions(redis_port: int) -> list[str]:
    def ver(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "-"

    redis_server = subprocess.run(["redis-server", "--version"], capture_output=True,
                                  text=True, timeout=10).stdout
    match = re.search(r"v=(\S+)", redis_server)
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    wrk_match = re.search(r"wrk (\S+)", wrk_v.stdout + wrk_v.stderr)
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    cpu_model = "-"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"machine: {cores} cores ({usable} usable), {cpu_model}, {platform.system()} "
        f"{platform.release()}",
        f"python {platform.python_version()} · statelab {ver('statelab')} · uvicorn "
        f"{ver('uvicorn')} (httptools {ver('httptools')}, uvloop {ver('uvloop')}) · fakeredis "
        f"{ver('fakeredis')} (lupa {ver('lupa')}) · redis-py {ver('redis')} (hiredis "
        f"{ver('hiredis')}) · redis-server {match[1] if match else '?'} · httpx {ver('httpx')} · wrk "
        f"{wrk_match[1] if wrk_match else '?'}",
    ]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round of everything")
    parser.add_argument("--rounds", type=int, help="rounds per section (default 3, quick 1)")
    parser.add_argument("--seconds", type=int,
                        help="seconds per wrk cell (default 2, quick 1)")
    parser.add_argument("--verbose", action="store_true", help="print every measurement")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a target fails (default: always 0)")
    parser.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        return serve_floor()
    for binary in ("wrk", "redis-server"):
        if shutil.which(binary) is None:
            print(f"bench: {binary} is not installed (Debian: apt-get install {binary})",
                  file=sys.stderr)
            return 2

    rounds = args.rounds or (1 if args.quick else 3)
    wrk_seconds = args.seconds or (1 if args.quick else 2)
    py_seconds = 0.5 if args.quick else 1.0
    store_rounds = 2 if args.quick else 5
    store_seconds = 0.3 if args.quick else 0.6
    # First guess of the etag-checked save rates (req/s) on a 2-core box, to size key pools;
    # each cell then uses the highest rate measured so far.
    expected_rps = {("statelab·embedded", 1): 2000.0, ("statelab·embedded", 16): 2500.0,
                    ("statelab·redis", 1): 2500.0, ("statelab·redis", 16): 5000.0,
                    (REDIS_THREADS, 1): 1500.0, (REDIS_THREADS, 16): 3000.0}
    log = (lambda msg: print(msg, flush=True)) if args.verbose else (lambda msg: None)

    def on_term(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    random.seed()
    began = time.monotonic()
    procs = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="statelab-bench-"))
    stores: dict[str, Any] = {}
    try:
        import httpx

        redis_port, _ = start_redis(procs)
        embedded_dir = write_components(tmp / "embedded", None)
        redis_dir = write_components(tmp / "redis", f"{HOST}:{redis_port}")
        memory_dir = write_components(tmp / "memory", None, "state.in-memory")
        servers = [start_sidecar(procs, "statelab·embedded", embedded_dir),
                   start_sidecar(procs, "statelab·redis", redis_dir),
                   start_floor(procs),
                   start_sidecar(procs, MEMORY, memory_dir),
                   start_sidecar(procs, REDIS_THREADS, redis_dir,
                                 env={"STATELAB_ASYNC_STORES": "off"})]
        with httpx.Client(timeout=60) as http:
            for server in servers:
                if server.statelab:
                    populate(http, server.url, "bench-get-", GET_POOL)
            # warm-up: imports, script load, first connections
            for server in servers:
                run_wrk(server, "GET", 16, 1, "bench-get-", GET_POOL)

            print(f"statelab sidecar benchmark ({'quick' if args.quick else 'full'} run)")
            for line in versions(redis_port):
                print(line)
            print(f"method: {rounds} rounds x {wrk_seconds:g} s per wrk cell, {rounds} rounds x "
                  f"{py_seconds:g} s per httpx loop, {store_rounds} rounds x {store_seconds:g} s "
                  "per store backend; variants shuffled each round; medians over rounds")
            print("servers: `python -m statelab run --port P --components DIR` (separate "
                  "processes); HTTP floor = same uvicorn config and thread placement, constant "
                  "ASGI app")
            print(flush=True)

            # -- store floor (in-process) ---------------------------------------------------
            from statelab.dapr.components import load_components
            from statelab.stores.redis.clients import embedded_redis_client
            from statelab.stores.redis.store import RedisStore

            for name, folder in (("fakeredis", embedded_dir), ("real redis", redis_dir)):
                component = load_components(folder)[0]
                stores[name] = component.open()
            # The same store forced onto EVALSHA on fakeredis: the cost of the Lua path, and
            # of RedisStore's own code around the script.
            stores[FAKEREDIS_LUA] = RedisStore(
                embedded_redis_client("bench-lua", single_connection=True), scripts="lua")
            store_stats = store_section(stores, store_rounds, store_seconds, log)

            # -- single sequential Python client -------------------------------------------
            loops = httpx_section(servers, rounds, py_seconds, log)

            # -- wrk -----------------------------------------------------------------------
            cells = wrk_section(servers, rounds, wrk_seconds, expected_rps, http, log)

        # -- report ---------------------------------------------------------------------------
        print("1. wrk -t1 (separate process), GET and etag-checked save "
              "(POST, correct etag, first-write)")
        print(f"   {'server':<18} {'op':<5} {'conns':>5} {'req/s':>8} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'CPU us/req':>10} {'non-2xx/err':>11} {'requests':>9}")
        for server in servers:
            for op in ("GET", "SAVE"):
                for conns in (1, 16):
                    cell = cells.get((server.name, op, conns))
                    if cell is None:
                        continue
                    print(f"   {server.name:<18} {op:<5} {conns:>5} {med(cell.rps):>8.0f} "
                          f"{med(cell.p50):>7.2f} {med(cell.p99):>7.2f} {med(cell.cpu):>10.0f} "
                          f"{cell.bad:>11} {cell.requests:>9}"
                          + (f"  ({'; '.join(sorted(cell.notes))})" if cell.notes else ""))
        print("   (req/s, p50, p99, CPU: median over rounds of each wrk run's figure; CPU = "
              "server process utime+stime per request;\n    floor SAVE = the constant app's 204 "
              "for the same POST bodies; non-2xx/err summed over rounds)")
        print()
        print("2. httpx.Client, one sequential caller (pooled latencies)")
        print(f"   {'server':<18} {'op':<5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'non-2xx':>8} {'requests':>9}")
        for server in servers:
            for op in ("GET", "SAVE"):
                loop = loops.get((server.name, op))
                if loop is None:
                    continue
                print(f"   {server.name:<18} {op:<5} {med(loop.rps):>8.0f} "
                      f"{pct(loop.lat, 50):>7.2f} {pct(loop.lat, 99):>7.2f} {loop.bad:>8} "
                      f"{len(loop.lat):>9}")
        print()
        print("3. store floor, in-process, same redis-py client (us per call; median us = median "
              "of round medians, mean us = median of round means; p99 pooled)")
        print(f"   {'backend':<12} {'op':<34} {'median us':>9} {'mean us':>8} {'p99 us':>8}")
        labels = {"get": "RedisStore.get (HGETALL)",
                  "set": "RedisStore.set (etag, first-write)",
                  "evalsha": "bare EVALSHA SAVE_SCRIPT"}
        for backend in stores:
            for kind in ("get", "set", "evalsha"):
                st = store_stats[(backend, kind)]
                print(f"   {backend:<12} {labels[kind]:<34} {med(st.medians):>9.1f} "
                      f"{med(st.means):>8.1f} {pct(st.samples, 99):>8.1f}")
        print()

        def cpu_of(name: str, op: str) -> float:
            return med(cells[(name, op, 16)].cpu)

        floor_get = med(cells[("HTTP floor", "GET", 16)].rps)
        floor_post = med(cells[("HTTP floor", "SAVE", 16)].rps)
        print("4. targets (ratios from this run)")
        results: list[bool] = []
        targets = {"statelab·embedded": (TARGET_GET_VS_FLOOR, TARGET_SAVE_VS_FLOOR),
                   "statelab·redis": (TARGET_REDIS_GET_VS_FLOOR, TARGET_REDIS_SAVE_VS_FLOOR)}
        for server in servers[:2]:
            get = med(cells[(server.name, "GET", 16)].rps)
            save = med(cells[(server.name, "SAVE", 16)].rps)
            get_target, save_target = targets[server.name]
            ok_get = get / floor_get >= get_target
            ok_save = save / floor_post >= save_target
            results += [ok_get, ok_save]
            cpu_get = cpu_of(server.name, "GET") / cpu_of("HTTP floor", "GET")
            cpu_save = cpu_of(server.name, "SAVE") / cpu_of("HTTP floor", "SAVE")
            print(f"   {server.name:<18} GET  x16 / floor GET  x16 = {get:6.0f} / "
                  f"{floor_get:6.0f} = {get / floor_get:5.2f}  (>= {get_target:.2f}) "
                  f"{verdict(ok_get)}   [by server CPU/request: {1 / cpu_get:.2f}]")
            print(f"   {server.name:<18} SAVE x16 / floor POST x16 = {save:6.0f} / "
                  f"{floor_post:6.0f} = {save / floor_post:5.2f}  (>= "
                  f"{save_target:.2f}) {verdict(ok_save)}   [by server CPU/request: "
                  f"{1 / cpu_save:.2f}]")
        for op in ("GET", "SAVE"):
            floor_cpu = cpu_of("HTTP floor", op)
            own_redis = cpu_of("statelab·redis", op) - floor_cpu
            own_embedded = cpu_of("statelab·embedded", op) - floor_cpu
            ratio = own_redis / own_embedded if own_embedded > 0 else float("inf")
            ok = ratio <= TARGET_REDIS_CPU_VS_EMBEDDED
            results.append(ok)
            print(f"   statelab CPU/request, {op:<4} x16: redis / embedded = {own_redis:4.0f} / "
                  f"{own_embedded:4.0f} us = {ratio:5.2f}  (<= "
                  f"{TARGET_REDIS_CPU_VS_EMBEDDED:.2f}) {verdict(ok)}")
        for op in ("GET", "SAVE"):
            asyncio_rps = med(cells[("statelab·redis", op, 16)].rps)
            thread_rps = med(cells[(REDIS_THREADS, op, 16)].rps)
            print(f"   {op:<4} x16 on real Redis, asyncio / worker threads = {asyncio_rps:6.0f} / "
                  f"{thread_rps:6.0f} = {asyncio_rps / thread_rps:5.2f}  (informational: "
                  "before and after issue 14)")
        for backend in stores:
            set_us = med(store_stats[(backend, "set")].medians)
            eval_us = med(store_stats[(backend, "evalsha")].medians)
            set_mean = med(store_stats[(backend, "set")].means)
            eval_mean = med(store_stats[(backend, "evalsha")].means)
            ok = set_us / eval_us <= TARGET_SET_VS_EVALSHA
            results.append(ok)
            print(f"   {backend:<18} RedisStore.set / bare EVALSHA = {set_us:6.1f} / "
                  f"{eval_us:6.1f} us = {set_us / eval_us:5.2f}  (<= "
                  f"{TARGET_SET_VS_EVALSHA:.2f}) {verdict(ok)}   [means: "
                  f"{set_mean / eval_mean:.2f}]")
        memory_get = med(cells[(MEMORY, "GET", 16)].rps)
        print(f"   {MEMORY:<18} GET  x16 / floor GET  x16 = {memory_get:6.0f} / "
              f"{floor_get:6.0f} = {memory_get / floor_get:5.2f}  (reference: statelab's HTTP "
              "adapter + API over a dict store)")
        bad_total = sum(c.bad for c in cells.values()) + sum(lp.bad for lp in loops.values())
        print(f"   non-2xx responses or socket errors, all loads: {bad_total} "
              f"{verdict(bad_total == 0)}")
        results.append(bad_total == 0)
        print()
        print("5. where a request's server CPU goes (wrk x16, median us/request; the store op is "
              "the in-process median of section 3)")
        for server, backend in zip(servers[:2], stores):
            for op, kind in (("GET", "get"), ("SAVE", "set")):
                total, floor = cpu_of(server.name, op), cpu_of("HTTP floor", op)
                store_us = med(store_stats[(backend, kind)].medians)
                print(f"   {server.name:<18} {op:<4}: {total:4.0f} = HTTP floor {floor:3.0f} + "
                      f"statelab {total - floor:4.0f}  (RedisStore.{kind} on {backend}: "
                      f"{store_us:.0f}, wall time)")
        total, floor = cpu_of(MEMORY, "GET"), cpu_of("HTTP floor", "GET")
        print(f"   {MEMORY:<18} GET : {total:4.0f} = HTTP floor {floor:3.0f} + statelab "
              f"{total - floor:4.0f}  (adapter + API + dict lookup)")
        for op in ("GET", "SAVE"):
            total, floor = cpu_of(REDIS_THREADS, op), cpu_of("HTTP floor", op)
            print(f"   {REDIS_THREADS:<18} {op:<4}: {total:4.0f} = HTTP floor {floor:3.0f} + "
                  f"statelab {total - floor:4.0f}  (worker threads + synchronous redis-py)")
        print()
        print(f"overall: {verdict(all(results))}  ({time.monotonic() - began:.0f} s)")
        return 0 if all(results) or not args.check else 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        for store in stores.values():
            try:
                store.close()
            except Exception:  # noqa: BLE001
                pass
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
