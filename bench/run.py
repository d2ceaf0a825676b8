"""The benchmark: Hubbub against a minimal `websockets` baseline, scenario by scenario.

    .venv/bin/python -m bench.run [--quick] [--scenario fanout,rooms,idle,slow,join,login,...]

Servers run pinned to core 0 (`taskset -c 0`), this load generator pins itself to core 1.
Every scenario starts its own servers on fresh databases; setup is not counted. The table
goes to standard output (and to --json); diagnostics go to the log on standard error.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from bench import report
from bench.scenarios import (
    activity,
    fanout,
    idle,
    join,
    login,
    publisher,
    rooms,
    slow,
    ws_fanout,
    ws_memory,
    ws_subscribe,
)
from bench.scenarios.common import Settings
from bench.setup_db import REPO_ROOT

logger = logging.getLogger("bench")

LOADGEN_CPU = 1
# Run only when named: search_cost runs the rooms scenario four times per database, and
# ws_memory opens about 23,000 connections (about 4½ minutes at full size).
NOT_BY_DEFAULT = ("search_cost", "ws_memory")
SCENARIOS: dict[str, Callable[[Settings], Awaitable[list[report.Figure]]]] = {
    "fanout": fanout.run,
    "publisher": publisher.run,
    "rooms": rooms.run,
    "idle": idle.run,
    "slow": slow.run,
    "join": join.run,
    "login": login.run,
    "search_cost": rooms.run_search_cost,
    "ws_memory": ws_memory.run,
    "ws_subscribe": ws_subscribe.run,
    "ws_fanout": ws_fanout.run,
    "activity": activity.run,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        default=",".join(name for name in SCENARIOS if name not in NOT_BY_DEFAULT),
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: all but {', '.join(NOT_BY_DEFAULT)})",
    )
    parser.add_argument("--quick", action="store_true", help="small counts and short phases: a smoke run")
    parser.add_argument(
        "--rooms-db",
        default="sqlite,postgresql",
        help="databases for the rooms and search_cost scenarios (default: sqlite,postgresql)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--workdir", type=Path, help="for databases and server logs (default: a temp dir)")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def _pin_and_raise_limits() -> None:
    try:
        os.sched_setaffinity(0, {LOADGEN_CPU})
    except OSError as exc:
        logger.warning("could not pin the load generator to core %d: %s", LOADGEN_CPU, exc)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        # Servers started from here inherit the raised limit.
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < 12_000:
        logger.warning("open-file limit %d: the idle scenario needs about 2 × 5000 + headroom", hard)


def _git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


async def _run(names: list[str], settings: Settings, rooms_dbs: tuple[str, ...]) -> list[report.Figure]:
    figures: list[report.Figure] = []
    for name in names:
        logger.info("=== %s", name)
        started = time.monotonic()
        try:
            if name == "rooms":
                figures += await rooms.run(settings, rooms_dbs)
            elif name == "search_cost":
                figures += await rooms.run_search_cost(settings, rooms_dbs)
            else:
                figures += await SCENARIOS[name](settings)
        except Exception:
            logger.exception("scenario %s failed", name)
            figures.append(
                report.Figure(name, "scenario failed (see the log)", "error", target="runs", met=False)
            )
        logger.info("=== %s took %.0f s", name, time.monotonic() - started)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("picows").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    names = [name.strip() for name in args.scenario.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        logger.error("unknown scenario(s): %s", ", ".join(unknown))
        return 2
    _pin_and_raise_limits()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hubbub-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    settings = (
        Settings.quick_settings(workdir, secret) if args.quick else Settings(workdir=workdir, secret=secret)
    )
    logger.info("workdir %s (server logs are there)", workdir)
    started = time.time()
    figures = uvloop.run(_run(names, settings, tuple(args.rooms_db.split(","))))
    meta = {
        "commit": _git_commit(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "seconds": round(time.time() - started),
        "quick": args.quick,
        "scenarios": names,
        "load_average": os.getloadavg(),
    }
    header = (
        f"Hubbub benchmark — commit {meta['commit']}, {meta['started']}, {meta['seconds']} s"
        f"{', QUICK' if args.quick else ''}; server on core 0, load generator on core {LOADGEN_CPU}\n\n"
    )
    sys.stdout.write(header + report.table(figures) + "\n" + report.summary(figures))
    if args.json:
        report.save_json(figures, args.json, meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
