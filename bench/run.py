#!/usr/bin/env python3
"""The benchmark of issue 6: the app through HTTP, the raw SQL floor and Datasette, side by side.

    python3 dev.py bench [--incidents N] [--people M] [--runs R] [--db sqlite|postgres]

Steps, in one run:

1. Data. `manage.py generate_synthetic` fills a database kept for these parameters: a SQLite
   file in bench-data/ or the PostgreSQL database cabar_bench_i<N>_p<M>_s<S>. A marker file
   in bench-data/ records the parameters and the generation time, so a second run reuses the
   data (`--regenerate` forces a new one). `migrate` runs every time, so new indexes apply.
2. The app under gunicorn (DEBUG off, 2 workers, a random SECRET_KEY, plain HTTP) on a free
   loopback port. Each case: warm-up requests, then R timed requests (time to the last byte);
   median and p90.
3. Queries per request and the raw SQL floor: a child process renders each case's URL once
   in-process under `CaptureQueriesContext`, then times exactly those SQL statements on a
   database cursor (all rows fetched), R times; the floor is the median of their sum.
4. Datasette (requirements-dev.txt, `suggest_facets` off) on a copy of the SQLite file
   with an FTS5 table over the incidents' texts: the equivalent table URLs.
5. Peak memory: the RSS of the gunicorn workers, sampled from /proc every 20 ms, while one
   export of every row streams.
6. A short load test (threads, bounded in time) for requests per second on two cases.

It prints a table and writes bench-results/<timestamp>.json. Only loopback addresses are
contacted; every process started here is stopped before it returns. Standard library only,
plus psycopg2 for PostgreSQL (the app's own requirement).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
WARMUP = 2


# --- helpers ------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def stop(process: subprocess.Popen | None) -> None:
    """Stop a server started here (its own process group), politely, then firmly."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p90_ms": round(percentile(values, 0.9) * 1000, 2),
        "min_ms": round(min(values) * 1000, 2),
        "runs": len(values),
    }


def fetch(port: int, url: str, *, timeout: float = 600) -> tuple[int, int, float]:
    """GET one URL on the loopback; (status, body bytes, seconds to the last byte)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", url, headers={"Host": "127.0.0.1", "Accept-Encoding": "identity"})
        response = connection.getresponse()
        size = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
        return response.status, size, time.perf_counter() - started
    finally:
        connection.close()


def measure(port: int, url: str, runs: int) -> dict:
    for _ in range(WARMUP):
        fetch(port, url)
    times, statuses, size = [], set(), 0
    for _ in range(runs):
        status, size, seconds = fetch(port, url)
        statuses.add(status)
        times.append(seconds)
    return {**summary(times), "status": sorted(statuses), "bytes": size}


# --- the data -----------------------------------------------------------------------------


class Data:
    """Where the synthetic data of one parameter set lives, and how to reach it."""

    def __init__(self, args: argparse.Namespace, db: str) -> None:
        self.db = db
        self.incidents, self.people, self.seed = args.incidents, args.people, args.seed
        self.dir = Path(args.data_dir).resolve()
        stem = f"i{self.incidents}-p{self.people}-s{self.seed}"
        self.marker = self.dir / f"{db}-{stem}.json"
        self.sqlite_path = self.dir / f"sqlite-{stem}.sqlite3"
        self.pg_name = f"cabar_bench_{stem.replace('-', '_')}"
        self.datasette_path = self.dir / f"datasette-{stem}.sqlite3"

    @property
    def url(self) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"{PG_SERVER}/{self.pg_name}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "cabar_tracker.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            # The benchmark is one anonymous client asking many times: no throttling.
            "API_THROTTLE_ANON": "1000000/minute",
            # The page exports stream however many rows they hold, as measured before
            # exports past EXPORT_JOB_ROWS became background jobs (which write the same
            # lines to a file): the figures stay comparable.
            "EXPORT_JOB_ROWS": "1000000000",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        env.update(extra)
        return env

    def manage(self, *args: str) -> float:
        started = time.monotonic()
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env(), check=True)
        return time.monotonic() - started

    def _pg_admin(self, sql: str) -> None:
        import psycopg2

        connection = psycopg2.connect(f"{PG_SERVER}/postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
        connection.close()

    def _drop(self) -> None:
        if self.db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
        else:
            self._pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
            self._pg_admin(f'CREATE DATABASE "{self.pg_name}"')
        self.datasette_path.unlink(missing_ok=True)

    def ensure(self, regenerate: bool, migrate: bool = True) -> dict:
        """Generate the data unless a marker says it is there; migrate either way."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.marker.exists() and not regenerate:
            info = json.loads(self.marker.read_text())
            log(f"reusing {self.db} data ({self.marker.name}, generated in {info['seconds']} s)")
            if migrate:
                self.manage("migrate", "--noinput", "-v", "0")
            return {**info, "reused": True}
        self.marker.unlink(missing_ok=True)
        self._drop()
        log(f"generating {self.incidents:,} incidents and {self.people:,} people on {self.db}")
        migrate = self.manage("migrate", "--noinput", "-v", "0")
        seconds = self.manage(
            "generate_synthetic",
            f"--incidents={self.incidents}",
            f"--people={self.people}",
            f"--seed={self.seed}",
        )
        info = {
            "db": self.db,
            "incidents": self.incidents,
            "people": self.people,
            "seed": self.seed,
            "seconds": round(seconds, 1),
            "migrate_seconds": round(migrate, 1),
            "generated_at": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        if self.db == "sqlite":
            with sqlite3.connect(self.sqlite_path) as connection:
                connection.execute("ANALYZE")
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            import psycopg2

            connection = psycopg2.connect(self.url)
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            connection.close()
        self.marker.write_text(json.dumps(info, indent=2) + "\n")
        return {**info, "reused": False}

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """A read on the benchmark database, from this process (for choosing the cases)."""
        if self.db == "sqlite":
            with sqlite3.connect(self.sqlite_path) as connection:
                return connection.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg2

        connection = psycopg2.connect(self.url)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()


# --- the cases ----------------------------------------------------------------------------

PUBLISHED = "publication_state = 'published' AND archived_at IS NULL"


def _cursor(start_date, pk: int) -> str:
    """An API cursor (cabar_tracker/api/pagination.py) for the row after (start_date, pk)."""
    value = start_date if isinstance(start_date, str) or start_date is None else str(start_date)
    payload = {"o": ["-start_date", "-id"], "v": [value, pk], "b": False}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def choose_parameters(data: Data) -> dict:
    """Concrete values for the cases, read from the data: the country with the most
    incidents, the commonest kind, a year, a common word, a Cyrillic name, one incident."""
    q = data.query
    (situation_id,) = q("SELECT id FROM incidents_situation WHERE slug = 'synthetic'")[0]
    countries = q(
        "SELECT id, slug, path FROM incidents_location WHERE kind = 'country' "
        "AND slug LIKE 'synthetic-%%' ORDER BY path"
    )
    country_id, country_slug, country_path = countries[1 % len(countries)]
    (kind,) = q(
        f"SELECT kind FROM incidents_incident WHERE {PUBLISHED} "
        "GROUP BY kind ORDER BY COUNT(*) DESC LIMIT 1"
    )[0]
    year = 2023
    published = q(f"SELECT COUNT(*) FROM incidents_incident WHERE {PUBLISHED}")[0][0]
    # The page at 90% depth: the page offers numbered pages of 25; the API a cursor, built
    # from the row just before 90% of the published rows in its order (date desc, id desc).
    depth = max(0, int(published * 0.9) - 1)
    row = q(
        f"SELECT start_date, id FROM incidents_incident WHERE {PUBLISHED} "
        "ORDER BY start_date DESC, id DESC LIMIT 1 OFFSET %s",
        (depth,),
    )
    deep_cursor = _cursor(*row[0]) if row else ""
    deep_page = max(1, int(published * 0.9) // 25)
    # ~10,000 rows for the export: every published incident on or after a date.
    target = min(10_000, published)
    (export_after,) = q(
        f"SELECT start_date FROM incidents_incident WHERE {PUBLISHED} "
        "AND start_date IS NOT NULL ORDER BY start_date DESC LIMIT 1 OFFSET %s",
        (max(0, target - 1),),
    )[0]
    export_after = str(export_after)
    export_rows = q(
        f"SELECT COUNT(*) FROM incidents_incident WHERE {PUBLISHED} AND start_date >= %s",
        (export_after,),
    )[0][0]
    # A Cyrillic name of a published, not withheld person, as a reader would type it.
    name = q(
        "SELECT name_native, name FROM people_person WHERE publication_state = 'published' "
        "AND archived_at IS NULL AND identity_withheld = %s AND name_native <> '' "
        "ORDER BY id LIMIT 1",
        (False,),
    )
    cyrillic = name[0][0] if name else "Айбек"
    # The same person's surname in Latin letters with a letter dropped, as the fuzzy pass
    # of the site search must still find it: "Ruzakhunov" → "Ruzakunov".
    surname = (name[0][1] if name else "Aibek Ruzakhunov").split()[-1]
    middle = len(surname) // 2
    misspelt = surname[:middle] + surname[middle + 1 :]
    incident = q(
        f"SELECT id, slug FROM incidents_incident WHERE {PUBLISHED} ORDER BY id LIMIT 1 OFFSET %s",
        (max(0, published // 2),),
    )[0]
    return {
        "situation_id": situation_id,
        "country": country_slug,
        "country_id": country_id,
        "country_path": country_path,
        "kind": kind,
        "year": year,
        "published_incidents": published,
        "deep_page": deep_page,
        "deep_cursor": deep_cursor,
        # The generator's summaries are "Synthetic case about <four words>": "protest" is
        # one of its words, in about a third of the summaries.
        "word": "protest",
        # A word in one title only: each synthetic title ends with its number, "(12345)".
        "rare_word": f"({incident[1].rsplit('-', 1)[-1]})",
        "cyrillic_name": cyrillic,
        "misspelt_name": misspelt,
        "incident_id": incident[0],
        "incident_slug": incident[1],
        "export_after": export_after,
        "export_rows": export_rows,
    }


def filtered_query(p: dict, **extra) -> str:
    """The filtered case's query string: country + kind + one year."""
    year = p["year"]
    return urllib.parse.urlencode(
        {
            "place": p["country"],
            "kind": p["kind"],
            "date_after": f"{year}-01-01",
            "date_before": f"{year}-12-31",
            **extra,
        }
    )


def app_cases(p: dict) -> list[dict]:
    """(name, URL) of each case through the app; `raw` says whether to time its SQL floor."""
    filtered = filtered_query(p)
    word = urllib.parse.quote(p["word"])
    rare = urllib.parse.quote(p["rare_word"])
    name = urllib.parse.quote(p["cyrillic_name"])
    misspelt = urllib.parse.quote(p["misspelt_name"])
    return [
        {"name": "page: first", "url": "/incidents/"},
        {"name": "page: filtered", "url": f"/incidents/?{filtered}"},
        {"name": "page: 90% deep", "url": f"/incidents/?page={p['deep_page']}"},
        {"name": "page: full-text", "url": f"/incidents/?q={word}"},
        {"name": "page: full-text, rare", "url": f"/incidents/?q={rare}"},
        {"name": "page: name (Cyrillic)", "url": f"/incidents/?q={name}"},
        # The site search scores names in Python (the raw SQL is no floor for it): only its
        # HTTP time is measured.
        {"name": "search: name (Cyrillic)", "url": f"/search/?q={name}", "raw": False},
        {"name": "search: misspelt name", "url": f"/search/?q={misspelt}", "raw": False},
        {"name": "api: first", "url": "/api/v1/incidents/"},
        {"name": "api: filtered", "url": f"/api/v1/incidents/?{filtered}"},
        {"name": "api: 90% deep", "url": f"/api/v1/incidents/?cursor={p['deep_cursor']}"},
        {"name": "api: full-text", "url": f"/api/v1/incidents/?q={word}"},
        {"name": "api: full-text, rare", "url": f"/api/v1/incidents/?q={rare}"},
        {"name": "api: name (Cyrillic)", "url": f"/api/v1/people/?q={name}"},
        # A detainee's citizenship: a named person of it, or a number reported of it
        # (incidents.ReportedGroup).
        {"name": "page: citizenship", "url": "/incidents/?citizenship=TJ"},
        {"name": "api: citizenship", "url": "/api/v1/incidents/?citizenship=TJ"},
        {"name": "case page", "url": f"/incidents/{p['incident_slug']}/"},
        {"name": "api: detail", "url": f"/api/v1/incidents/{p['incident_id']}/"},
        {
            "name": "export: CSV ~10k",
            "url": f"/incidents/export.csv?date_after={p['export_after']}",
            "runs": "few",
        },
    ]


def datasette_cases(p: dict) -> dict[str, str]:
    """The equivalent Datasette URL of each app case (same rows, same order)."""
    table = "/bench/incidents_incident"
    published = "publication_state=published&archived_at__isnull=1"
    year = p["year"]
    # The app's place filter is "location path starts with the country's"; Datasette's
    # _where takes the same SQL.
    where = urllib.parse.quote(
        f"location_id in (select id from incidents_location where path like '{p['country_path']}%')"
    )
    filtered = (
        f"{published}&kind={p['kind']}&start_date__gte={year}-01-01"
        f"&start_date__lte={year}-12-31&_where={where}"
    )
    order = "_sort_desc=start_date&_size=50"
    facets = "_facet=kind&_facet=verification&_facet=location_id&_facet=situation_id"
    word = urllib.parse.quote(p["word"])
    rare = urllib.parse.quote(p["rare_word"])
    name = urllib.parse.quote(p["cyrillic_name"])
    return {
        "page: first": f"{table}?{published}&{order}&{facets}",
        "page: filtered": f"{table}?{filtered}&{order}&{facets}",
        "page: full-text": f"{table}?{published}&_search={word}&{order}",
        "page: full-text, rare": f"{table}?{published}&_search={rare}&{order}",
        "api: full-text, rare": f"{table}.json?{published}&_search={rare}&{order}",
        "page: name (Cyrillic)": f"/bench/people_person?name_native__contains={name}&_size=50",
        "api: first": f"{table}.json?{published}&{order}",
        "api: filtered": f"{table}.json?{filtered}&{order}",
        "api: full-text": f"{table}.json?{published}&_search={word}&{order}",
        "api: name (Cyrillic)": (
            f"/bench/people_person.json?name_native__contains={name}&_size=50"
        ),
        "case page": f"{table}/{p['incident_id']}",
        "api: detail": f"{table}/{p['incident_id']}.json",
        "export: CSV ~10k": (
            f"{table}.csv?{published}&start_date__gte={p['export_after']}&_stream=on&_size=max"
        ),
    }


# --- the raw SQL floor (runs in a child process with Django set up) -----------------------


def capture(urls_file: str, runs: int) -> None:
    """For each URL: render it once in-process under CaptureQueriesContext, then time the
    same SQL on a cursor. Prints a JSON list to stdout."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = []
    client = Client()
    for item in json.loads(Path(urls_file).read_text()):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(item["url"])
            if response.streaming:
                for _chunk in response.streaming_content:
                    pass
            else:
                _ = response.content
        # A fresh connection for the timing: the export's server-side cursor (PostgreSQL)
        # must not linger, and the app's requests each start on a new one too.
        connection.close()
        # PostgreSQL logs a streamed export's statements as `DECLARE "<cursor>" … FOR
        # SELECT …` (a server-side cursor); the floor runs the SELECT itself.
        statements = [
            re.sub(r'^DECLARE "[^"]+" .*? CURSOR .*?FOR ', "", query["sql"], flags=re.S)
            for query in captured.captured_queries
        ]
        # Connection set-up (SQLite PRAGMAs) and transaction control are not the floor.
        statements = [
            sql
            for sql in statements
            if not sql.upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE", "BEGIN", "SET "))
        ]
        entry = {"name": item["name"], "status": response.status_code, "queries": len(statements)}
        if item.get("raw", True):
            times, failed = [], None
            each: list[list[float]] = [[] for _ in statements]
            with connection.cursor() as cursor:
                for run in range(runs + 1):
                    started = time.perf_counter()
                    try:
                        for index, sql in enumerate(statements):
                            began = time.perf_counter()
                            cursor.execute(sql)
                            if cursor.description is not None:
                                cursor.fetchall()
                            if run:
                                each[index].append(time.perf_counter() - began)
                    except Exception as error:  # the interpolated SQL did not run as is
                        failed = f"{type(error).__name__}: {error}"[:300]
                        break
                    if run:  # the first run warms the cache
                        times.append(time.perf_counter() - started)
            if failed:
                entry["raw_error"] = failed
            elif times:
                entry["raw"] = summary(times)
                # Which statement costs what: the first place to look when a case is slow.
                entry["raw_each_ms"] = [round(statistics.median(t) * 1000, 2) for t in each]
        else:
            entry["raw_skipped"] = "measured through HTTP only"
        entry["sql"] = [sql[:2000] for sql in statements]
        results.append(entry)
    print(json.dumps(results))


def floor(data: Data, cases: list[dict], runs: int, work: Path) -> dict[str, dict]:
    urls_file = work / "capture-urls.json"
    urls_file.write_text(json.dumps(cases))
    done = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--capture", str(urls_file), "--runs", str(runs)],
        cwd=ROOT,
        env=data.env(),
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return {entry["name"]: entry for entry in json.loads(done.stdout)}


# --- servers ------------------------------------------------------------------------------


def collectstatic(data: Data) -> None:
    """DEBUG off serves hashed static names from the manifest, which collectstatic writes
    (unless STATIC_MANIFEST=0, as in the smoke test: then plain names and no copy)."""
    if data.env().get("STATIC_MANIFEST") == "0":
        return
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=data.env(),
        check=True,
    )


def start_gunicorn(data: Data, port: int, log_file: Path) -> subprocess.Popen:
    command = [PYTHON, "-m", "gunicorn", "cabar_tracker.wsgi", "-b", f"127.0.0.1:{port}"]
    command += ["--workers=2", "--timeout=900", "--log-level=warning"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=data.env(),
        stdout=log_file.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process)
    return process


def prepare_datasette_copy(data: Data) -> Path:
    """A copy of the SQLite file with an FTS5 index over the incidents' texts (made once)."""
    if data.datasette_path.exists():
        return data.datasette_path
    log("making the Datasette copy with its FTS table")
    with sqlite3.connect(data.sqlite_path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial = data.datasette_path.with_suffix(".partial")
    shutil.copyfile(data.sqlite_path, partial)
    connection = sqlite3.connect(partial)
    connection.executescript(
        """
        PRAGMA journal_mode=DELETE;
        CREATE VIRTUAL TABLE incidents_incident_fts USING fts5(
            title, summary, description,
            content="incidents_incident", content_rowid="id"
        );
        INSERT INTO incidents_incident_fts(incidents_incident_fts) VALUES ('rebuild');
        ANALYZE;
        """
    )
    connection.close()
    partial.rename(data.datasette_path)
    return data.datasette_path


def start_datasette(path: Path, port: int, log_file: Path) -> subprocess.Popen:
    # The database is named "bench" in the URLs, whatever the parameters.
    link = path.with_name("bench.sqlite3")
    link.unlink(missing_ok=True)
    link.symlink_to(path.name)
    command = [PYTHON, "-m", "datasette", "serve", str(link), "--port", str(port)]
    command += ["--host", "127.0.0.1", "--setting", "suggest_facets", "off"]
    # Same work as the app, so no early give-up: the defaults stop a facet after 200 ms
    # and a query after 1 s and would show a partial page instead.
    command += ["--setting", "facet_time_limit_ms", "60000"]
    command += ["--setting", "sql_time_limit_ms", "60000"]
    command += ["--setting", "num_sql_threads", "2"]
    # The agreement check reads a whole filtered set through one SQL query.
    command += ["--setting", "max_returned_rows", "1000000"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=log_file.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process)
    return process


def datasette_available() -> bool:
    try:
        import datasette  # noqa: F401
    except ImportError:
        return False
    return True


# --- memory and load ----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def export_memory(port: int, master: int, url: str) -> dict:
    """Peak RSS of the gunicorn workers while one export streams (sampled every 20 ms)."""
    workers = children(master)
    before = {pid: rss_kib(pid) for pid in workers}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        status, size, seconds = fetch(port, url, timeout=3600)
    finally:
        done.set()
        sampler.join()
    rises = {pid: peak[pid] - before[pid] for pid in workers}
    busiest = max(rises, key=rises.get) if rises else None
    return {
        "url": url,
        "status": status,
        "bytes": size,
        "seconds": round(seconds, 2),
        "worker_rss_before_mb": round(before.get(busiest, 0) / 1024, 1),
        "worker_rss_peak_mb": round(peak.get(busiest, 0) / 1024, 1),
        "worker_rss_rise_mb": round(rises.get(busiest, 0) / 1024, 1),
    }


def load(port: int, url: str, seconds: float, threads: int = 4) -> dict:
    """Requests per second from `threads` clients for `seconds` (bounded in time)."""
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()

    def client() -> None:
        while time.monotonic() < deadline:
            try:
                status, _size, _seconds = fetch(port, url, timeout=60)
                ok = status == 200
            except OSError:
                ok = False
            with lock:
                counts["ok" if ok else "errors"] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    return {
        "url": url,
        "threads": threads,
        "seconds": round(elapsed, 1),
        "requests": counts["ok"] + counts["errors"],
        "errors": counts["errors"],
        "rps": round(counts["ok"] / elapsed, 1),
    }


# --- the run ------------------------------------------------------------------------------


def get_json(port: int, url: str):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("GET", url, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
        return json.loads(body)
    finally:
        connection.close()


def app_filtered_ids(port: int, p: dict) -> list[int]:
    """Every id the API gives for the filtered case, following its cursor links."""
    url, ids = f"/api/v1/incidents/?{filtered_query(p, page_size=200)}", []
    while url:
        page = get_json(port, url)
        ids += [row["id"] for row in page["results"]]
        url = (
            page["next"]
            and urllib.parse.urlsplit(page["next"])._replace(scheme="", netloc="").geturl()
        )
    return ids


def datasette_filtered_ids(port: int, p: dict) -> list[int]:
    """The same filter asked of Datasette, as SQL over the same file, in the app's order."""
    year = p["year"]
    # A date range selects what may fall in it (issue 13): possible days that meet the
    # range, or no known date.
    sql = (
        f"select id from incidents_incident where {PUBLISHED} and kind = :kind "
        "and ((earliest_date <= :last and latest_date >= :first) or earliest_date is null) "
        "and location_id in (select id from incidents_location where path like :path) "
        "order by start_date desc nulls last, id desc"
    )
    query = urllib.parse.urlencode(
        {
            "sql": sql,
            "kind": p["kind"],
            "first": f"{year}-01-01",
            "last": f"{year}-12-31",
            "path": f"{p['country_path']}%",
            "_shape": "array",
            "_size": "max",
            "_json_infinity": "off",
        }
    )
    return [row["id"] for row in get_json(port, f"/bench.json?{query}")]


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return round(a / b, 2)


def print_table(result: dict) -> None:
    head = f"{'case':<26}{'median':>10}{'p90':>10}{'queries':>9}{'raw':>9}"
    head += f"{'app/raw':>9}{'datasette':>11}{'app/ds':>8}"
    print(f"\n{result['db']} · {result['incidents']:,} incidents · {result['people']:,} people")
    print(head)
    for case in result["cases"]:
        raw = case.get("raw", {}).get("median_ms")
        ds = case.get("datasette", {}).get("median_ms")

        def cell(value, width: int, digits: int = 1) -> str:
            return (
                f"{value:>{width}.{digits}f}"
                if isinstance(value, float | int)
                else " " * (width - 1) + "–"
            )

        line = f"{case['name']:<26}{cell(case['median_ms'], 10)}{cell(case['p90_ms'], 10)}"
        line += f"{cell(case.get('queries'), 9, 0)}{cell(raw, 9)}"
        line += f"{cell(case.get('app_raw'), 9, 2)}{cell(ds, 11)}{cell(case.get('app_ds'), 8, 2)}"
        print(line)
    memory = result.get("export_all")
    if memory:
        print(
            f"\nexport of all rows: {memory['seconds']} s, {memory['bytes'] / 1e6:.1f} MB, "
            f"worker RSS {memory['worker_rss_before_mb']} → {memory['worker_rss_peak_mb']} MB "
            f"(+{memory['worker_rss_rise_mb']} MB)"
        )
    for item in result.get("load", []):
        print(f"load {item['url']}: {item['rps']} req/s, {item['errors']} errors")
    print(f"generation: {result['generation']['seconds']} s")


def markdown_table(result: dict) -> str:
    """The result as the Markdown table of bench/README.md (times in ms)."""

    def cell(value, digits: int = 1) -> str:
        if not isinstance(value, float | int):
            return "–"
        return f"{value:,.{digits}f}"

    lines = [
        f"{result['db']}, {result['incidents']:,} incidents, {result['people']:,} people, "
        f"{result['runs']} runs",
        "",
        "| case | median | p90 | queries | raw SQL | app/raw | Datasette | app/DS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in result["cases"]:
        raw = case.get("raw", {}).get("median_ms")
        ds = case.get("datasette", {}).get("median_ms")
        lines.append(
            f"| {case['name']} | {cell(case['median_ms'])} | {cell(case['p90_ms'])} "
            f"| {cell(case.get('queries'), 0)} | {cell(raw)} | {cell(case.get('app_raw'), 2)} "
            f"| {cell(ds)} | {cell(case.get('app_ds'), 2)} |"
        )
    memory = result.get("export_all")
    if memory:
        lines += [
            "",
            f"Export of every published row: {memory['seconds']} s, "
            f"{memory['bytes'] / 1e6:.1f} MB; worker RSS {memory['worker_rss_before_mb']} → "
            f"{memory['worker_rss_peak_mb']} MB (+{memory['worker_rss_rise_mb']} MB).",
        ]
    for item in result.get("load", []):
        lines.append(f"Load on {item['url']}: {item['rps']} req/s, {item['errors']} errors.")
    agreement = result.get("agreement")
    if agreement:
        lines.append(
            f"Same ids as Datasette for the filtered case: {agreement['same_ids_in_same_order']} "
            f"({agreement['app_rows']:,} rows)."
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict:
    data = Data(args, args.db)
    generation = data.ensure(args.regenerate, migrate=not args.skip_migrate)
    params = choose_parameters(data)
    cases = app_cases(params)
    work = Path(args.out).resolve()
    work.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    server_log = work / f"{stamp}-servers.log"
    few = max(2, min(args.runs, 5))  # exports are long; a few runs say enough

    collectstatic(data)
    log("raw SQL floor and queries per request (in-process)")
    floors = floor(data, cases, args.runs, work)

    result = {
        "db": args.db,
        "incidents": args.incidents,
        "people": args.people,
        "seed": args.seed,
        "runs": args.runs,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "generation": generation,
        "parameters": params,
        "started_at": stamp,
        "cases": [],
    }
    gunicorn = datasette = None
    try:
        port = free_port()
        log(f"gunicorn on 127.0.0.1:{port}")
        gunicorn = start_gunicorn(data, port, server_log)
        for case in cases:
            runs = few if case.get("runs") == "few" else args.runs
            measured = measure(port, case["url"], runs)
            captured = floors.get(case["name"], {})
            entry = {"name": case["name"], "url": case["url"], **measured}
            entry["queries"] = captured.get("queries")
            if "raw" in captured:
                entry["raw"] = captured["raw"]
            if "raw_each_ms" in captured:
                entry["raw_each_ms"] = captured["raw_each_ms"]
            if "raw_error" in captured:
                entry["raw_error"] = captured["raw_error"]
            if "raw_skipped" in captured:
                entry["raw_skipped"] = captured["raw_skipped"]
            entry["sql"] = captured.get("sql", [])
            entry["app_raw"] = ratio(entry["median_ms"], entry.get("raw", {}).get("median_ms"))
            result["cases"].append(entry)
            log(f"{case['name']}: {entry['median_ms']} ms (p90 {entry['p90_ms']})")
        app_ids = app_filtered_ids(port, params)
        if not args.skip_export_all:
            log("export of every row, sampling the workers' memory")
            result["export_all"] = export_memory(port, gunicorn.pid, "/incidents/export.csv")
        if args.load_seconds > 0:
            for name in ("case page", "page: filtered"):
                url = next(c["url"] for c in cases if c["name"] == name)
                result.setdefault("load", []).append(load(port, url, args.load_seconds))
        stop(gunicorn)
        gunicorn = None

        sqlite_data = Data(args, "sqlite")
        if args.no_datasette or not datasette_available():
            result["datasette"] = "skipped" if args.no_datasette else "not installed"
        elif not sqlite_data.sqlite_path.exists():
            result["datasette"] = "no SQLite data of these parameters"
        else:
            path = prepare_datasette_copy(sqlite_data)
            port = free_port()
            log(f"datasette on 127.0.0.1:{port}")
            datasette = start_datasette(path, port, server_log)
            result["datasette"] = "measured"
            datasette_ids = datasette_filtered_ids(port, params)
            result["agreement"] = {
                "case": "api: filtered (every page) vs Datasette SQL, same filter and order",
                "app_rows": len(app_ids),
                "datasette_rows": len(datasette_ids),
                "same_ids_in_same_order": app_ids == datasette_ids,
            }
            log(f"agreement with Datasette: {result['agreement']}")
            for entry in result["cases"]:
                url = datasette_cases(params).get(entry["name"])
                if url is None:
                    continue
                runs = few if entry["name"].startswith("export") else args.runs
                entry["datasette"] = {"url": url, **measure(port, url, runs)}
                entry["app_ds"] = ratio(entry["median_ms"], entry["datasette"]["median_ms"])
    finally:
        stop(gunicorn)
        stop(datasette)

    out = work / f"{stamp}-{args.db}-i{args.incidents}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(markdown_table(result))
    result["file"] = str(out)
    return result


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--data-dir", default=str(ROOT / "bench-data"))
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    parser.add_argument("--regenerate", action="store_true", help="generate the data again")
    parser.add_argument(
        "--generate-only", action="store_true", help="make (or migrate) the data, measure nothing"
    )
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--skip-export-all", action="store_true")
    parser.add_argument(
        "--skip-migrate",
        action="store_true",
        help="reuse the data as it is (e.g. to measure before a new index migration)",
    )
    parser.add_argument(
        "--load-seconds", type=float, default=10, help="load test per case; 0 skips it"
    )
    parser.add_argument("--capture", help=argparse.SUPPRESS)  # internal: the floor's child
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.capture:
        capture(args.capture, args.runs)
        return
    if args.generate_only:
        info = Data(args, args.db).ensure(args.regenerate, migrate=not args.skip_migrate)
        log(f"data ready: {info}")
        return
    result = run(args)
    print_table(result)
    print(f"\nresults: {result['file']}")


if __name__ == "__main__":
    main()
