"""`python -m bench [--scale tiny|small|full] [--only 1,2,...] [--no-docs]`.

The scale comes from --scale, else BENCH_SCALE, else "small". The database
is DATABASE_URL's (created and migrated if needed); every scenario empties
the domain tables and builds its own data, so never point it at real data.
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
    parser.add_argument("--yes", action="store_true",
                        help="allow a database whose name does not contain 'bench'")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    name = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1]
    if "bench" not in name and not args.yes:
        print(f"refusing to empty database {name!r}: its name has no 'bench' "
              "(set DATABASE_URL=.../oms_bench or pass --yes)", file=sys.stderr)
        return 2
    from bench.suite import prepare_database, run_suite

    prepare_database()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    started = time.monotonic()
    run_suite(args.scale, only=only, write_docs=not args.no_docs)
    print(f"done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
