"""Schemathesis against the served OpenAPI document, over HTTP, every operation.

The site is the one ``make run`` serves (``devtools.run`` with its own moto tables, see
``conftest.py``); the schema is loaded from its ``/api/v1/openapi.json``. For each
operation schemathesis runs its coverage phase (boundary values, missing and wrong-typed
fields, unexpected methods) and then its fuzzing phase (random valid and invalid
requests), and every answer must:

- never be a server error (``not_a_server_error``): bad input is a 4xx, SPEC §1;
- have a documented status code, content type and body schema (the ``*_conformance``
  checks): what clients read in the document is what they get;
- answer a method the operation lacks with 405 and ``Allow`` (``unsupported_method``).

Operations behind ``security: bearer`` get a valid token of the path's realm (an NTUA
registrar, a GSIS-verified e-IEP teacher, an eTwinning person) so the run goes past
401s; a 401 (the fuzzer signed the session out) signs in again and replays.

A second test runs chains of operations (schemathesis's stateful phase, links inferred
from the ids one operation answers and another takes).

``make test`` runs a bounded, deterministic pass (``MITROO_FUZZ_EXAMPLES`` fuzzing
examples per operation and chains, default 5); ``make fuzz`` raises the count and draws
new examples each run (its seed is printed with a failure; ``MITROO_FUZZ_SEED`` draws
the same per-operation examples again). Every bug found here has a regression test in
``tests/integration/test_fuzz_regressions.py``.
"""

from __future__ import annotations

import itertools
import os
import random
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from devtools.local_gateway import TEST_ADDRESS_HEADER
from tests.fuzz.conftest import Realms
from tests.support.site import Site

EXAMPLES = int(os.environ.get("MITROO_FUZZ_EXAMPLES", "5"))
SEED = os.environ.get("MITROO_FUZZ_SEED")
LONG_RUN = "MITROO_FUZZ_EXAMPLES" in os.environ
"""``make fuzz``: new examples every run; ``make test``: the same ones every time."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
]

_addresses = itertools.count(1)


def _client_address() -> str:
    """Each request from the next of 508 documentation addresses (TEST-NET-1 and -3), so
    the per-address rate limits and login back-off do not turn the run into 429s."""
    n = next(_addresses) % 508
    return f"{'192.0.2' if n < 254 else '203.0.113'}.{n % 254 + 1}"


@pytest.fixture(scope="session")
def api_schema(fuzz_site: Site, fuzz_realms: Realms) -> Any:
    config: dict[str, Any] = {
        "generation": {
            "max-examples": EXAMPLES,
            "database": "none",  # no .hypothesis/ in the work tree
            "deterministic": not LONG_RUN and SEED is None,
        },
        "phases": {
            "examples": {"enabled": False},  # the document carries no examples
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True},
        },
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    }
    if LONG_RUN or SEED is not None:
        seed = int(SEED) if SEED is not None else random.SystemRandom().randrange(2**32)
        config["seed"] = seed  # shown with a failure (captured setup output)
        print(f"schemathesis seed {seed}: MITROO_FUZZ_SEED={seed} draws the same operation examples again")
    schema = schemathesis.openapi.from_url(
        f"{fuzz_site.url}/api/v1/openapi.json", config=SchemathesisConfig.from_dict(config)
    )

    class RealmToken:
        """A bearer token of the realm named in the path (none for an unknown realm)."""

        def get(self, case: Any, context: Any) -> str | None:
            return fuzz_realms.token(str((case.path_parameters or {}).get("realm", "")))

        def set(self, case: Any, data: str | None, context: Any) -> None:
            if data is not None:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    def by_realm(case: Any, context: Any) -> str:
        return str((case.path_parameters or {}).get("realm", ""))

    schema.auth(refresh_interval=600, cache_by_key=by_realm)(RealmToken)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.xdist_group("fuzz")
@schema.parametrize()
def test_every_operation_answers_as_documented(case: Any) -> None:
    case.call_and_validate(headers={TEST_ADDRESS_HEADER: _client_address()}, checks=CHECKS, timeout=60)


@pytest.mark.xdist_group("fuzz")
def test_chains_of_operations_answer_as_documented(api_schema: Any) -> None:
    """Stateful: schemathesis links operations by the ids one answers and another takes
    (an organisation's id to its validation, a project's to its members...) and runs
    chains of them under the same checks."""
    links = api_schema.as_state_machine()

    class Chains(links):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {TEST_ADDRESS_HEADER: _client_address()}, "timeout": 60}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    Chains.run(
        settings=hypothesis.settings(
            max_examples=EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            database=None,
            derandomize=not LONG_RUN,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
