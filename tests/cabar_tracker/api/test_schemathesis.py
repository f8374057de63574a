"""A property-based run of the whole API against its own schema (schemathesis), on the demo
data: every operation gets generated requests, and every answer must be no server error and
conform to the schema (status code, content type, headers, body).

Reads run anonymously; the write operations run again with a superuser's token, so their
validation and success answers are checked too. Figures are printed (pytest -s) and named in
the failure message.
"""

import logging
from collections import Counter

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cabar_tracker.wsgi import application
from tests.api_personas import make_key
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db(transaction=False)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Enough to reach every parameter and body shape a few times; the whole run stays short.
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 4}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def run_operation(
    operation, headers: dict, stats: Counter, failures: list, mode=GenerationMode.POSITIVE
) -> None:
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        stats[f"{mode.value} cases"] += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        check()
    except (
        Exception,
        BaseExceptionGroup,
    ) as error:  # collect every operation's failure, then report them all
        failures.append(f"{operation.label} ({mode.value}): {error}")


@pytest.fixture
def keep_test_connection():
    """The WSGI app closes "old" database connections at the start and end of each request;
    inside a test transaction that would close the test's own connection (PostgreSQL).
    Django's test client disconnects the same handlers for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def quiet_request_log():
    # Hundreds of expected 4xx answers would each log a warning.
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def test_it_conforms_to_its_schema(db, capsys, keep_test_connection, quiet_request_log):
    call_command("load_demo", verbosity=0)
    admin = StaffUserFactory(username="schemathesis-admin", password=None, is_superuser=True)
    key = make_key(admin)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

    stats: Counter = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        stats["operations"] += 1
        run_operation(operation, {}, stats, failures)
        run_operation(operation, {}, stats, failures, GenerationMode.NEGATIVE)
        if operation.method.upper() in WRITE_METHODS:
            stats["write operations with a token"] += 1
            run_operation(operation, {"Authorization": f"Token {key}"}, stats, failures)

    figures = ", ".join(f"{name}: {count}" for name, count in stats.items())
    with capsys.disabled():
        print(f"\nschemathesis: {figures}, failures: {len(failures)}")
    assert not failures, f"{figures}\n\n" + "\n\n".join(failures)
