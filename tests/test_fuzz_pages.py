"""A property-based run over the query parameters of every page, public and staff: whatever a
reader or a careless link puts in the query string, the answer is never a server error.

The URLs come from the URL resolver itself, so a page added later is fuzzed without anyone
listing it. A concrete address for each route (a real case, person, history entry) is found
by crawling the demo data from the home page and the staff desk; a route the crawl does not
reach is fuzzed with made-up path arguments (it answers 404, which must hold too). The
parameter names of each page are the ones its view reads: two first requests record every
name looked up in `request.GET`, so filters, forms and hand-read parameters alike are
fuzzed, plus a few names no page reads. Each such page gets every value that once broke a
page in all its parameters at once (a sweep), then Hypothesis's random mixes, within a time
budget per page; as staff (a superuser) and, for public pages, anonymously.

The API is left to tests/cabar_tracker/api/test_schemathesis.py (its schema says what it
takes) and the admin to Django. The figures (routes, requests, answers by class, failures)
are printed and named in the failure message.
"""

from __future__ import annotations

import logging
import os
import re
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field

import django.test.client
import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.core.management import call_command
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.exceptions import Resolver404
from django.utils.functional import cached_property
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cabar_tracker import urls as root_urls
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

# Left to their own tests: the API (schemathesis over its schema), the admin (Django's), the
# static files and the language switch (a POST).
SKIPPED_PREFIXES = ("/api/", "/admin/", "/static/", "/i18n/")
# Seconds of requests for each route whose view reads parameters (FUZZ_SECONDS_PER_ROUTE
# for a longer run); a route that reads none gets `MINIMUM_EXAMPLES` requests. With about
# 16 such routes of 72 the whole test takes ~30 s.
SECONDS_PER_ROUTE = float(os.environ.get("FUZZ_SECONDS_PER_ROUTE", "0.8"))
MINIMUM_EXAMPLES = 2
ALWAYS_SWEPT = 8
PRIVATE_ROUTES = ("staff/", "account/", "accounts/password")
CRAWL_LIMIT = 400
PAGES_PER_ROUTE = 3

# Values that once gave a 500 somewhere, or are known to trouble parsers: a NUL byte,
# digits `int()` refuses or `isdigit()` accepts, integers past 64 bits, huge page numbers,
# implausible dates, long and many-word text, markup, percent signs.
NASTY_VALUES = [
    # These first ones were each a server error once.
    "a\x00b",
    "²",
    "9" * 20,
    str(2**63),
    "9" * 400,
    "a" * 89,
    " ".join(["word"] * 60),
    "9999-12-31",
    "٣",
    "x" * 5000,
    "-1",
    "",
    "0",
    "1",
    "\x00",
    "\x07",
    "١٢",
    "𝟗",
    "Ⅻ",
    str(-(2**63) - 1),
    "1e309",
    "nan",
    "inf",
    "1.5",
    "0x10",
    " 1",
    "0001-01-01",
    "10000-01-01",
    "2022-02-30",
    "2022-13-01",
    "-2022-01-01",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "%%",
    "_",
    "\\",
    "*",
    "рузахунов",
    "🙂",
    "\u202e",
    "\ufeff",
    "true",
    "null",
    "[]",
    "{}",
    "//evil.example",
    "https://evil.example/",
    "/../../etc/passwd",
]
EXTRA_NAMES = ["page", "q", "format", "sort", "o", "id", "x\x00y", "ü"]


@dataclass
class Route:
    route: str
    url: str
    parameters: list[str] = field(default_factory=list)
    crawled: bool = False


# --- the routes -----------------------------------------------------------------------------


def _routes(patterns, prefix: str = "", converters: dict | None = None):
    """(route, converters) for every URL pattern, following includes."""
    converters = converters or {}
    for entry in patterns:
        route = prefix + str(entry.pattern)
        merged = {**converters, **entry.pattern.converters}
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route, merged)
        elif isinstance(entry, URLPattern):
            yield route, merged


def _made_up(route: str, converters: dict) -> str:
    """An address for the route from made-up path arguments."""

    def sample(match):
        name = match.group(2)
        converter = converters.get(name)
        if isinstance(converter, IntConverter):
            return "1"
        if isinstance(converter, UUIDConverter):
            return str(uuid.UUID(int=1))
        return {"app_label": "incidents", "model_name": "incident"}.get(name, "sample")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sample, route)


def public_routes() -> dict[str, str]:
    """Every route of the site outside the skipped prefixes, with a made-up address."""
    found = {}
    for route, converters in _routes(get_resolver(root_urls).url_patterns):
        url = _made_up(route, converters)
        if not url.startswith(SKIPPED_PREFIXES):
            found[route] = url
    return found


def route_of(path: str) -> str | None:
    try:
        return resolve(path).route
    except Resolver404:
        return None


def crawl(client: Client, starts: list[str], wanted: set[str]) -> dict[str, str]:
    """A real address for as many routes as the links from `starts` reach."""
    found: dict[str, str] = {}
    queue = list(starts)
    seen: set[str] = set()
    visits: Counter = Counter()
    while queue and len(seen) < CRAWL_LIMIT and len(found) < len(wanted):
        url = queue.pop(0)
        route = route_of(urllib.parse.urlsplit(url).path)
        # A few pages of a route found already, for the links only they have (a history
        # entry's undo link), not every one.
        if url in seen or (visits[route] >= PAGES_PER_ROUTE and url not in starts):
            continue
        seen.add(url)
        visits[route] += 1
        response = client.get(url)
        if route in wanted and route not in found and response.status_code == 200:
            found[route] = url
        if "html" not in response.get("Content-Type", ""):
            continue
        for href in re.findall(r'href="([^"#]+)"', response.content.decode()):
            href = href.replace("&amp;", "&")
            parts = urllib.parse.urlsplit(href)
            if parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(SKIPPED_PREFIXES):
                continue
            target = route_of(parts.path)
            if target in wanted and target not in found:
                queue.append(parts.path)  # the bare path: its parameters are fuzzed later
    CRAWLED.append(len(seen))
    return found


CRAWLED: list[int] = []


# --- the parameters each view reads ---------------------------------------------------------

READ_NAMES: set[str] = set()
PROBE = "fuzz-probe"


class RecordingQueryDict(QueryDict):
    """A QueryDict that notes every name a view looks up."""

    def __getitem__(self, key):
        READ_NAMES.add(key)
        return super().__getitem__(key)

    def getlist(self, key, default=None):
        READ_NAMES.add(key)
        return super().getlist(key, default)

    def __contains__(self, key):
        READ_NAMES.add(key)
        return super().__contains__(key)


def _recording_get(self):
    return RecordingQueryDict(self.environ.get("QUERY_STRING", ""), encoding=self._encoding)


@pytest.fixture
def recording_query_dicts(monkeypatch):
    recording = cached_property(_recording_get)
    recording.__set_name__(WSGIRequest, "GET")
    monkeypatch.setattr(WSGIRequest, "GET", recording)


def parameters_read(client: Client, url: str) -> tuple[int, list[str]]:
    """The status of a request, and the names the view looks up. Some views read their
    filters only when the query string is not empty: the request has one, and a second
    without it runs the view's plain path too."""
    READ_NAMES.clear()
    client.get(f"{url}?{PROBE}=1")
    status = client.get(url).status_code
    return status, sorted(READ_NAMES - {PROBE})


# --- the fuzzing ----------------------------------------------------------------------------


def values():
    return st.one_of(
        st.sampled_from(NASTY_VALUES),
        st.text(max_size=40),
        st.integers().map(str),
        st.lists(st.sampled_from(NASTY_VALUES), min_size=2, max_size=3),
    )


def query_strings(names: list[str]):
    """A query string over the route's parameter names and a few others, sometimes with a
    raw percent escape that is not UTF-8."""
    pairs = st.dictionaries(
        st.sampled_from(names + EXTRA_NAMES) | st.text(min_size=1, max_size=8),
        values(),
        min_size=1,
        max_size=4,
    )
    junk = st.sampled_from(["", "", "", "&%FF=%FE", "&page=%C0%AF", "&q=%00", "&=&&"])

    def encode(pair_and_junk):
        params, tail = pair_and_junk
        text = urllib.parse.urlencode(params, doseq=True, encoding="utf-8", errors="replace")
        return text + tail

    return st.tuples(pairs, junk).map(encode)


class Budget:
    """Seconds to spend on one route, and how fast its answers come: a slow page (the new
    detention form renders 120 KB) gets fewer requests, so the run stays bounded."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self.spent = 0.0
        self.requests = 0

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def affordable(self, minimum: int) -> int:
        per_request = self.spent / self.requests if self.requests else 0.05
        return max(minimum, int(self.left() / per_request))


def _request(client: Client, url: str, stats: Counter, failures: list[str], route, budget):
    started = time.monotonic()
    status = client.get(url).status_code
    budget.spent += time.monotonic() - started
    budget.requests += 1
    stats["requests"] += 1
    stats[f"{status // 100}xx"] += 1
    if status >= 500:
        failures.append(f"{route.route}: {status} for {url[:300]}")
    return status


def sweep_route(client: Client, route: Route, stats: Counter, failures: list[str], budget):
    """Each nasty value in every parameter the view reads at once, one request per value, so
    each parameter meets the values that once broke a page whatever Hypothesis draws. The
    first `ALWAYS_SWEPT` values always; the rest while the route's budget lasts."""
    path = route.url.split("?")[0]
    for index, value in enumerate(NASTY_VALUES):
        if index >= ALWAYS_SWEPT and budget.left() <= 0:
            break
        query = urllib.parse.urlencode(dict.fromkeys(route.parameters, value))
        _request(client, f"{path}?{query}", stats, failures, route, budget)


def fuzz_route(clients: dict, route: Route, stats: Counter, failures: list[str], budget) -> None:
    """Random mixes of names (the view's and others), values, repeated names and raw bytes,
    as staff or (public pages) anonymously."""
    path = route.url.split("?")[0]
    found: list[str] = []
    readers = ["staff"] if route.route.startswith(PRIVATE_ROUTES) else ["staff", "anonymous"]

    @settings(
        max_examples=budget.affordable(MINIMUM_EXAMPLES),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(query=query_strings(route.parameters), reader=st.sampled_from(readers))
    def check(query, reader):
        _request(clients[reader], f"{path}?{query}", stats, found, route, budget)

    check()
    failures.extend(found[:3])


@pytest.fixture
def quiet_request_log():
    # Hundreds of expected 4xx answers would each log a warning.
    logging.disable(logging.ERROR)
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture
def no_template_contexts(monkeypatch):
    """The test client copies every template context it renders for `response.context`;
    nothing here reads them, and the copies took half the time of a large page."""
    monkeypatch.setattr(django.test.client, "store_rendered_templates", lambda *a, **kw: None)


def test_no_query_string_makes_a_page_fail(
    db, capsys, recording_query_dicts, quiet_request_log, no_template_contexts
):
    started = time.monotonic()
    call_command("load_demo", verbosity=0)
    staff = StaffUserFactory(username="fuzz-staff", is_superuser=True)
    clients = {"staff": Client(raise_request_exception=False)}
    clients["staff"].force_login(staff)
    clients["anonymous"] = Client(raise_request_exception=False)

    made_up = public_routes()
    real = crawl(clients["staff"], ["/", "/staff/", "/incidents/", "/statements/"], set(made_up))
    routes = [
        Route(route, real.get(route, url), crawled=route in real) for route, url in made_up.items()
    ]
    stats: Counter = Counter(routes=len(routes), crawled=len(real), pages_crawled=CRAWLED[-1])
    failures: list[str] = []
    for route in routes:
        status, route.parameters = parameters_read(clients["staff"], route.url)
        stats["parameters"] += len(route.parameters)
        if status >= 500:
            failures.append(f"{route.route}: {status} for {route.url} with no query string")
        if route.parameters:
            budget = Budget(SECONDS_PER_ROUTE)
            sweep_route(clients["staff"], route, stats, failures, budget)
        else:
            budget = Budget(0)
        fuzz_route(clients, route, stats, failures, budget)

    # The walk and the recording work: the case list's filters, a staff page's hand-read
    # parameter and a history page's paging were found and fuzzed.
    read = {route.route: set(route.parameters) for route in routes}
    assert {"q", "kind", "date_after", "page"} <= read["incidents/"]
    assert {"incident", "person"} <= read["staff/statements/new/"]
    assert "page" in read["staff/history/<str:app_label>/<str:model_name>/<int:pk>/"]

    figures = ", ".join(f"{name}: {count}" for name, count in stats.items())
    with capsys.disabled():
        print(
            f"\npage fuzz: {figures}, failures: {len(failures)}, {time.monotonic() - started:.1f} s"
        )
    assert not failures, f"{figures}\n\n" + "\n\n".join(failures)
