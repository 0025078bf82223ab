"""`python -m bench [--scale tiny|small|full] [--only 1,2,...] [--no-docs]`.

The scale comes from --scale, else BENCH_SCALE, else "small". Every scenario
empties the domain tables and builds its own data, so the bench never uses
DATABASE_URL's database itself: it uses `<name>_bench` next to it (`oms` ->
`oms_bench`; a name already containing "bench" is used as is), created and
migrated on the first run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE") or "small",
                        choices=["tiny", "small", "full"])
    parser.add_argument("--only", default="", help="comma-separated scenarios, e.g. 1,4")
    parser.add_argument("--no-docs", action="store_true",
                        help="write the JSON but leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/oms"
    base, _slash, name = url.rpartition("/")
    if "bench" not in name:
        os.environ["DATABASE_URL"] = f"{base}/{name}_bench"
    print(f"bench database: {os.environ['DATABASE_URL']}, scale {args.scale}", flush=True)
    from bench.suite import prepare_database, run_suite

    prepare_database()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    started = time.monotonic()
    run_suite(args.scale, only=only, write_docs=not args.no_docs)
    print(f"done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
