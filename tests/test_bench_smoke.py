"""The benchmark (bench/run.py) runs end to end on a tiny data set and writes its result.

It generates 2,000 incidents into a temporary SQLite file, serves them with gunicorn, measures
every case through HTTP, captures and replays the SQL, and measures Datasette (pinned in
requirements-dev.txt) on the same file. Only the shape of the JSON result is checked, never
a time: this proves the script works; the full-size figures are for bench/README.md. And
the app and Datasette must select the same incidents, in the same order, for the same
filter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "page: first",
    "page: filtered",
    "page: 90% deep",
    "page: full-text",
    "page: name (Cyrillic)",
    "api: first",
    "api: filtered",
    "api: 90% deep",
    "api: full-text",
    "api: name (Cyrillic)",
    "search: name (Cyrillic)",
    "search: misspelt name",
    "case page",
    "api: detail",
    "export: CSV ~10k",
}


@pytest.fixture(scope="module")
def bench_result(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("bench")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    command = [sys.executable, str(ROOT / "bench" / "run.py")]
    command += ["--incidents", "2000", "--people", "600", "--runs", "2", "--db", "sqlite"]
    command += ["--data-dir", str(work / "data"), "--out", str(work / "out")]
    command += ["--load-seconds", "0.5"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    (result_file,) = (work / "out").glob("*-sqlite-i2000.json")
    return json.loads(result_file.read_text())


def test_it_measures_every_case_through_http(bench_result):
    cases = {case["name"]: case for case in bench_result["cases"]}
    assert set(cases) >= CASES
    for case in cases.values():
        assert case["status"] == [200], case["name"]
        assert case["runs"] >= 2
        assert 0 < case["median_ms"] <= case["p90_ms"]
        assert case["bytes"] > 0


def test_it_counts_queries_and_times_the_raw_sql(bench_result):
    for case in bench_result["cases"]:
        assert case["queries"] >= 1, case["name"]
        assert case["sql"], case["name"]
        assert "raw" in case or "raw_error" in case or "raw_skipped" in case, case["name"]
    replayed = [case for case in bench_result["cases"] if "raw" in case]
    assert len(replayed) >= len(CASES) - 1
    assert all(case["app_raw"] > 0 for case in replayed)


def test_it_reports_generation_memory_and_load(bench_result):
    assert bench_result["generation"]["incidents"] == 2000
    assert bench_result["generation"]["seconds"] >= 0
    export = bench_result["export_all"]
    assert export["status"] == 200
    assert export["worker_rss_peak_mb"] >= export["worker_rss_before_mb"] > 0
    assert [item["errors"] for item in bench_result["load"]] == [0, 0]


def test_it_compares_with_datasette(bench_result):
    assert bench_result["datasette"] == "measured"
    compared = [case for case in bench_result["cases"] if "datasette" in case]
    assert {case["name"] for case in compared} >= {"api: first", "case page"}
    for case in compared:
        assert case["datasette"]["status"] == [200], case["name"]
        assert case["app_ds"] > 0


def test_the_app_and_datasette_select_the_same_incidents(bench_result):
    agreement = bench_result["agreement"]
    assert agreement["app_rows"] > 0
    assert agreement["app_rows"] == agreement["datasette_rows"]
    assert agreement["same_ids_in_same_order"] is True
