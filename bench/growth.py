"""The growth table of issue 6: the same cases at several sizes, from `bench/run.py` results.

    python bench/growth.py bench-results/*-sqlite-i10000.json bench-results/*-sqlite-i100000.json \
        bench-results/*-sqlite-i1000000.json

prints, per database, each case's median at each size and the ratio of the largest size's
median to the smallest's (the target: under 2 from 10,000 to 1,000,000 incidents), as a
Markdown table. The newest result of each (database, size) counts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(paths: list[str]) -> dict[str, dict[int, dict]]:
    """{db: {incidents: result}}, the newest result for each pair (names start with a stamp)."""
    by_db: dict[str, dict[int, dict]] = {}
    for path in sorted(paths, key=lambda p: Path(p).name):
        result = json.loads(Path(path).read_text())
        by_db.setdefault(result["db"], {})[result["incidents"]] = result
    return by_db


def table(results: dict[int, dict]) -> str:
    sizes = sorted(results)
    names: list[str] = []
    for size in sizes:
        for case in results[size]["cases"]:
            if case["name"] not in names:
                names.append(case["name"])
    medians = {
        size: {case["name"]: case["median_ms"] for case in results[size]["cases"]} for size in sizes
    }
    head = " | ".join(f"{size:,}" for size in sizes)
    lines = [
        f"| case | {head} | {sizes[-1]:,} / {sizes[0]:,} |",
        "| --- |" + " ---: |" * (len(sizes) + 1),
    ]
    for name in names:
        values = [medians[size].get(name) for size in sizes]
        cells = " | ".join("–" if v is None else f"{v:,.1f}" for v in values)
        first, last = values[0], values[-1]
        growth = f"{last / first:.2f}" if first and last is not None else "–"
        lines.append(f"| {name} | {cells} | {growth} |")
    return "\n".join(lines)


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit(__doc__)
    for db, results in load(paths).items():
        print(f"\n{db}: median ms by incidents\n")
        print(table(results))


if __name__ == "__main__":
    main(sys.argv[1:])
