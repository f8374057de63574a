"""bench/growth.py: the growth table from results at several sizes."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import growth  # noqa: E402


def write(tmp_path, name, db, incidents, medians):
    cases = [{"name": case, "median_ms": ms} for case, ms in medians.items()]
    path = tmp_path / name
    path.write_text(json.dumps({"db": db, "incidents": incidents, "cases": cases}))
    return str(path)


def test_it_tabulates_each_case_by_size_with_the_growth_ratio(tmp_path):
    paths = [
        write(tmp_path, "20260101-sqlite-i10000.json", "sqlite", 10_000, {"page": 10.0}),
        write(tmp_path, "20260102-sqlite-i1000000.json", "sqlite", 1_000_000, {"page": 15.0}),
        # An older result of the same size is replaced by the newer one.
        write(tmp_path, "20250101-sqlite-i1000000.json", "sqlite", 1_000_000, {"page": 99.0}),
        write(tmp_path, "20260103-postgres-i10000.json", "postgres", 10_000, {"page": 4.0}),
    ]

    results = growth.load(paths)
    table = growth.table(results["sqlite"])

    assert "| case | 10,000 | 1,000,000 | 1,000,000 / 10,000 |" in table
    assert "| page | 10.0 | 15.0 | 1.50 |" in table
    assert set(results) == {"sqlite", "postgres"}


def test_a_case_missing_at_one_size_shows_a_dash(tmp_path):
    paths = [
        write(tmp_path, "1-sqlite-i10000.json", "sqlite", 10_000, {"page": 10.0, "new": 1.0}),
        write(tmp_path, "2-sqlite-i100000.json", "sqlite", 100_000, {"page": 12.0}),
    ]

    table = growth.table(growth.load(paths)["sqlite"])

    assert "| new | 1.0 | – | – |" in table
