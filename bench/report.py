"""The JSON next to the table, and the table in docs/benchmarks.md.

`bench/results/latest.json` is the last run; `latest-<scale>.json` keeps the
last run of each scale, and docs/benchmarks.md has one generated table per
scale between `<!-- bench:<scale>:start -->` and `<!-- bench:<scale>:end -->`.
A run of some scenarios only (`--only`) replaces just their rows.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Row, Scale, fmt

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"


def _machine() -> dict:
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = cursor.fetchone()[0]
    except Exception:  # the report is still useful without it
        pg = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except Exception:
        commit = "?"
    return {"cores": os.cpu_count(), "python": platform.python_version(), "postgresql": pg,
            "machine": platform.machine(), "commit": commit,
            # Other work on the machine shows here: the ratios absorb it, raw rates do not.
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def write(rows: list[Row], *, scale: Scale, write_docs: bool, partial: bool = False,
          results_dir: Path = RESULTS, docs: Path = DOCS) -> dict:
    results_dir.mkdir(parents=True, exist_ok=True)
    per_scale = results_dir / f"latest-{scale.name}.json"
    new = [row.as_dict() for row in rows]
    if partial and per_scale.exists():
        done = {row.scenario for row in rows}
        old = [r for r in json.loads(per_scale.read_text())["rows"] if r["scenario"] not in done]
        new = sorted(old + new, key=lambda r: r["scenario"])
    data = {"scale": scale.name, "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **_machine(), "rows": new}
    text = json.dumps(data, indent=2, default=str) + "\n"
    per_scale.write_text(text)
    (results_dir / "latest.json").write_text(text)
    if write_docs and docs.exists():
        update_docs(data, docs)
    return data


def _cell(row: dict, key: str, digits: int = 1) -> str:
    value = row.get(key)
    return fmt(value, digits) if isinstance(value, int | float) else "-"


def table(data: dict) -> str:
    head = (f"Scale **{data['scale']}**, {data['at']}, {data['cores']} cores, "
            f"PostgreSQL {data['postgresql']}, Python {data['python']}, "
            f"commit {data['commit']}, load average at the end "
            f"{' / '.join(str(x) for x in data.get('load_average', []))}.\n\n"
            "| # | measurement | median | p95 | unit | baseline (SQL) | ratio | "
            "latency p50 / p95 ms | queries | target | |\n"
            "|---|---|---:|---:|---|---:|---:|---:|---:|---|---|\n")
    lines = []
    for row in data["rows"]:
        if row["status"] != "measured":
            lines.append(f"| {row['scenario']} | {row['name']} | | | | | | | | "
                         f"{row['target']} | *{row['status']}* |")
            continue
        extra = row.get("extra") or {}
        latency = "-"
        if "latency_ms_p50" in extra:
            latency = f"{fmt(extra['latency_ms_p50'])} / {fmt(extra['latency_ms_p95'])}"
        verdict = {True: "met", False: "**missed**", None: ""}[row["met"]]
        lines.append(
            f"| {row['scenario']} | {row['name']} | {_cell(row, 'median')} | "
            f"{_cell(row, 'p95')} | {row['unit']} | {_cell(row, 'baseline')} | "
            f"{_cell(row, 'ratio', 2)} | {latency} | "
            f"{row['queries'] if row['queries'] is not None else '-'} | {row['target']} | "
            f"{verdict} |")
    return head + "\n".join(lines) + "\n"


def update_docs(data: dict, docs: Path) -> None:
    start, end = f"<!-- bench:{data['scale']}:start -->", f"<!-- bench:{data['scale']}:end -->"
    text = docs.read_text()
    block = f"{start}\n{table(data)}{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    docs.write_text(text)
