"""``statelab run``: a foreground sidecar process, started like ``daprd``.

It prints the URL once the sidecar answers, and exits cleanly (status 0) on SIGINT or SIGTERM.
Configuration errors (a bad component file, an unreachable Redis) exit with status 2 and one
line that names the problem, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statelab", description="A Dapr state API sidecar for learning and testing.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a sidecar in the foreground (like daprd)")
    run.add_argument("--port", type=int, default=3500, help="HTTP port (default 3500)")
    run.add_argument("--grpc-port", type=int, default=50001,
                     help="gRPC API port, for the Python SDK (default 50001, as daprd; 0 picks "
                          "a free port)")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    run.add_argument("--app-id", default="myapp", help="the app id used to prefix keys")
    run.add_argument("--components", metavar="DIR",
                     help="folder of Dapr component YAML files (default: one embedded Redis "
                          "store named statestore)")
    run.add_argument("--api-token", default=os.environ.get("DAPR_API_TOKEN"),
                     help="require this dapr-api-token header (default: $DAPR_API_TOKEN; "
                          "empty means no token, as in daprd)")
    run.add_argument("--max-body-size", type=int, default=4 * 1024 * 1024,
                     help="largest request body in bytes (default 4 MiB)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from statelab.errors import StatelabError
    from statelab.server.sidecar import start

    stop_requested = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_requested.set())
    try:
        sidecar = start(args.port, args.app_id, args.components, host=args.host,
                        api_token=args.api_token, max_body_size=args.max_body_size,
                        role="process", grpc_port=args.grpc_port)
    except StatelabError as exc:
        print(f"statelab: {exc}", file=sys.stderr)
        return 2
    stores = ", ".join(f"{c.name} ({c.type})" for c in (sidecar.api.components or [])) \
        if sidecar.api else "(attached)"
    grpc = f" and gRPC on {sidecar.grpc_endpoint}" if sidecar.grpc_endpoint else ""
    print(f"statelab sidecar for app '{args.app_id}' listening on {sidecar.url}{grpc} "
          f"(state stores: {stores})", flush=True)
    for note in sidecar.notes():
        print(f"statelab: {note}", flush=True)
    try:
        while not stop_requested.wait(0.5):
            if not sidecar.running:
                print("statelab: the server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        sidecar.stop()
    print("statelab sidecar stopped", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
