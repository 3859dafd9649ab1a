"""A bounded schemathesis run against /api/schema/ as an admin, with every check schemathesis has:
no 5xx; status codes, content types, headers and bodies as documented; schema-valid requests accepted
and schema-violating ones (negative data: wrong types, out-of-range numbers, control characters,
unknown enum values) refused; no access without the token.

The one allowance: a ranking is checked against its prompt (one rank per response, the project's tie
and partial rules) and a launch or an import against the project's data, which no schema can state;
for those operations alone a schema-valid body may also get a 400 naming the problem.
``GRPO_SCHEMATHESIS_EXAMPLES`` raises the examples per operation for a longer run (default: bounded,
part of ``make test``)."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from tests.conftest import make_project, make_user

DATA_DEPENDENT_OPERATIONS = ["rankings_save", "rankings_update", "project_import", "jobs_launch", "generation_launch"]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict({
    "operations": [{
        "include-operation-id": DATA_DEPENDENT_OPERATIONS,
        "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
    }],
})  # fmt: skip
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)
MAX_EXAMPLES = int(os.environ.get("GRPO_SCHEMATHESIS_EXAMPLES", "12"))  # bounded: part of make test


@pytest.fixture
def admin_token(db, export_dir):
    admin = make_user("st-admin", "admin")
    make_project("demo", n_prompts=2)
    # Requests go through the WSGI handler, which closes the database connection after each one;
    # inside the test's transaction it must stay open (Django's own test client does the same).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield Token.objects.create(user=admin).key
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"})
