"""The runner's stack on Docker Swarm, from the command line.

    python -m scripts.swarm up [--name xc] [--runners 3|global] [--port 8077]
    python -m scripts.swarm down [--name xc] [--volumes]

(`make swarm-up` builds the images first; `make swarm-down`.) `up` makes a
single-node swarm when the engine is in none, and leaves it there: `docker
swarm leave --force` undoes it; it returns once the stack is ready. `down`
drains the runners and removes the stack (scripts/swarm_stack.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from scripts.swarm_cluster import SwarmError, ensure_swarm, swarm_state
from scripts.swarm_stack import Stack, deploy, remove, wait_ready

log = logging.getLogger("swarm")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.swarm", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--name", default="xc", help="stack name (xc)")
    parser.add_argument(
        "--runners", default="3", help="number of runner replicas, or `global`: one per node (3)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("XC_LOCAL_PORT") or 8077),
        help="port of the local server on 127.0.0.1 (XC_LOCAL_PORT, 8077)",
    )
    parser.add_argument("--volumes", action="store_true", help="down: remove the volumes too")
    return parser


def _stack(args: argparse.Namespace) -> Stack:
    if args.runners == "global":
        return Stack(name=args.name, port=args.port, replicas=None)
    if not args.runners.isdigit() or int(args.runners) < 1:
        raise SwarmError(f"--runners must be a positive number or `global`, got {args.runners!r}")
    return Stack(name=args.name, port=args.port, replicas=int(args.runners))


def up(stack: Stack) -> None:
    created = ensure_swarm()
    deploy(stack)
    runners = wait_ready(stack)
    out = sys.stdout
    ids = ", ".join(sorted(runners.values()))
    out.write(f"stack {stack.name}: {len(runners)} runner(s) polling: {ids}\n")
    out.write(f"local server: {stack.server_url}, API key in {stack.key_file}\n")
    out.write(
        f"  XC_SCENARIO_SERVER={stack.server_url} XC_SCENARIO_APIKEY=$(cat {stack.key_file}) "
        f"{sys.executable} -m runner submit sample simple arg=hi --wait\n"
    )
    if created.swarm:
        undo = " && docker network rm docker_gwbridge" if created.gwbridge else ""
        out.write(f"the swarm stays initialised; `docker swarm leave --force{undo}` ends it\n")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    try:
        stack = _stack(args)
        if args.command == "up":
            up(stack)
        elif swarm_state() != "active":
            sys.stdout.write("this engine is in no swarm: there is no stack to remove\n")
        else:
            left = remove(stack, volumes=args.volumes)
            sys.stdout.write(
                f"stack {stack.name} removed; {len(left)} task container(s) left by its runners\n"
            )
    except SwarmError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
