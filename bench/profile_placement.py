"""`python -m bench.profile_placement [--orders N] [--top N] [--sort cumulative|tottime]`.

Where one placement's client CPU goes: one process places N orders through
`orders.services.place_order` as scenario 1's clients do (same catalogue,
customers, lines and payment, no payment approver) under cProfile with a
CPU clock, after a warm-up, and prints the CPU per placement and the
functions by cumulative time. Uses the bench database (`<name>_bench`, as
`python -m bench`), which it fills with a fresh catalogue.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_placement",
                                     description=__doc__)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--no-profile", action="store_true",
                        help="time only (CPU and wall per placement, no cProfile overhead)")
    parser.add_argument("--dump", default="", help="write the raw profile to this file")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/oms"
    base, _slash, name = url.rpartition("/")
    if "bench" not in name:
        os.environ["DATABASE_URL"] = f"{base}/{name}_bench"
    from bench.common import build_catalogue
    from bench.scenarios.placement import service_client
    from bench.suite import prepare_database

    prepare_database()
    from dataclasses import asdict

    catalogue = asdict(build_catalogue(products=1000, customers=400))
    state = service_client(prepare=True, orders=0, seed=0, catalogue=catalogue,
                           approver=False)
    service_client(prepare=False, state=state, orders=args.warmup, seed=1,
                   catalogue=catalogue, approver=False)
    profiler = None if args.no_profile else cProfile.Profile(time.process_time)
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    outcome = service_client(prepare=False, state=state, orders=args.orders, seed=2,
                             catalogue=catalogue, approver=False)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert outcome["placed"] == args.orders, outcome["errors"][:3]
    print(f"{args.orders} placements: CPU {1000 * cpu / args.orders:.2f} ms, "
          f"wall {1000 * wall / args.orders:.2f} ms per placement"
          + (" (under cProfile)" if profiler else ""))
    if profiler:
        if args.dump:
            profiler.dump_stats(args.dump)
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
