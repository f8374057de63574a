#!/usr/bin/env python3
"""Benchmark of the CSV import as a background job (issue 14): a file of N rows (default
50,000, under the 5 MB limit of the import page) into a fresh database with the demo cases.

    .venv/bin/python bench/import_bench.py [--rows 50000] [--database-url URL]

It writes the file (N detentions: ten people per incident, one source per incident, names
made of syllables so that every person is new), runs the import job in this process as the
worker would (`incidents.import_jobs.start_import(run_here=True)`), and reports the time of
the check (no writes) and of the write (one transaction). On SQLite, a second connection
meanwhile writes a row every half second as another user would, with the app's 20 s busy
timeout, and the report gives its longest wait and how many of its writes failed with
"database is locked". Results go to bench-results/import-<time>.json.

Default database: a SQLite file bench-data/import-bench.sqlite3, made anew each run.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYLLABLES = ["ba", "ka", "lo", "mi", "nu", "ra", "se", "ti", "vo", "zy"]
COLUMNS = [
    "incident_slug",
    "incident_title",
    "incident_kind",
    "place_slug",
    "person_name",
    "person_citizenship",
    "detained_on",
    "outcome",
    "source_urls",
]


def word(number: int) -> str:
    letters = ""
    for _ in range(5):
        letters += SYLLABLES[number % 10]
        number //= 10
    return letters.capitalize()


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for index in range(rows):
            case = index // 10
            writer.writerow(
                [
                    f"b-{case}",
                    f"Case {case}",
                    "mass_detention",
                    "almaty",
                    f"{word(index)} {word(index // 7 + 3)[:8]}",
                    "KG",
                    f"2022-01-0{1 + index % 9}",
                    "released",
                    f"https://e.org/{case}",
                ]
            )


class OtherWriter(threading.Thread):
    """Another user saving on SQLite: a short write every half second, waiting up to 20 s
    for the lock as the app does."""

    def __init__(self, path: str):
        super().__init__(daemon=True)
        self.path, self.waits, self.failures, self.running = path, [], 0, True

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=20, isolation_level=None)
        connection.execute("CREATE TABLE IF NOT EXISTS bench_probe (at REAL)")
        while self.running:
            started = time.monotonic()
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO bench_probe VALUES (?)", (started,))
                connection.execute("COMMIT")
                self.waits.append(time.monotonic() - started)
            except sqlite3.OperationalError:
                self.failures += 1
            time.sleep(0.5)
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    data, results = ROOT / "bench-data", ROOT / "bench-results"
    data.mkdir(exist_ok=True)
    results.mkdir(exist_ok=True)
    sqlite_path = data / "import-bench.sqlite3"
    if not args.database_url:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{sqlite_path}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cabar_tracker.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from incidents import import_jobs
    from incidents.models import Detention, ImportJobState
    from tests.factories import StaffUserFactory

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    user = StaffUserFactory(username="bench_editor")

    csv_path = data / f"import-{args.rows}.csv"
    write_file(csv_path, args.rows)
    size = csv_path.stat().st_size
    print(f"{args.rows} rows, {size / 1024 / 1024:.2f} MB", flush=True)

    stages: dict[str, float] = {}
    real_perform = import_jobs.perform_import

    def timed_perform(job):
        stages["started"] = time.monotonic()
        return real_perform(job)

    import_jobs.perform_import = timed_perform
    real_set = import_jobs._set

    def timed_set(job, **values):
        if values.get("state") == ImportJobState.WRITING:
            stages["writing"] = time.monotonic()
        if "rows_checked" in values and values["rows_checked"] % 5000 < 100:
            elapsed = time.monotonic() - stages.get("started", time.monotonic())
            print(f"  checked {values['rows_checked']} at {elapsed:.0f} s", flush=True)
        real_set(job, **values)

    import_jobs._set = timed_set

    other = None
    if connection.vendor == "sqlite":
        other = OtherWriter(str(sqlite_path))
        other.start()
    started = time.monotonic()
    job = import_jobs.start_import(
        text=csv_path.read_text(encoding="utf-8"),
        file_name=csv_path.name,
        user=user,
        run_here=True,
    )
    finished = time.monotonic()
    if other is not None:
        other.running = False
        other.join()

    check_s = stages.get("writing", finished) - stages.get("started", started)
    write_s = finished - stages["writing"] if "writing" in stages else 0.0
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "rows": args.rows,
        "file_mb": round(size / 1024 / 1024, 2),
        "state": job.state,
        "detentions": Detention.objects.count(),
        "total_s": round(finished - started, 1),
        "check_s": round(check_s, 1),
        "write_s": round(write_s, 1),
    }
    if other is not None:
        waits = sorted(other.waits)
        result["other_writer"] = {
            "writes": len(waits),
            "failed_database_locked": other.failures,
            "max_wait_s": round(waits[-1], 2) if waits else None,
            "median_wait_ms": round(1000 * waits[len(waits) // 2], 1) if waits else None,
        }
    out = results / f"import-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
