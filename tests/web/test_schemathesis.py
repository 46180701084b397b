"""Schemathesis against the app's own OpenAPI document (issue 13 §6).

Every operation of /api/v1 is called with generated input (valid and invalid) by an authenticated
admin, then a stateful run follows the document's links (create → read → change). Each response
must be documented: no 5xx, a documented status code, a body matching its schema, the documented
content type. The run is bounded (MAX_EXAMPLES per operation) and deterministic (derandomize);
"today" is fixed with time-machine. It writes through the test's rolled-back session (SAVEPOINT),
so nothing it generates outlives the test.
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from datetime import UTC, datetime

import pytest
import schemathesis
import time_machine
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, _WrappedBaseException
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.accounts.users import create_token
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, make_uscc

#: A deeper run by hand: REGISTRY_SCHEMATHESIS_EXAMPLES=200 (stateful scenarios scale with it).
MAX_EXAMPLES = int(os.environ.get("REGISTRY_SCHEMATHESIS_EXAMPLES", "12"))
STATEFUL_EXAMPLES = MAX_EXAMPLES * 4
SEED = 20261206
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
SETTINGS = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: keeps the run short
FIXED = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def bearer(session, admin, rules, make_user):
    """An admin's bearer token, and some data for the generated ids to find."""
    user = make_user("admin", "000000")
    record, token = create_token(session, actor=admin, username=user.username, name="schemathesis", at=NOW)
    ent = make_enterprise(session, admin, region_code="331002", name="台州精工有限公司")
    grant(session, admin, rules, ent, "innovative_sme", d("2025-06-15"))
    session.commit()
    return {"Authorization": f"Bearer {token}", "token_id": record.id}


def described(exc: BaseException) -> str:
    """What went wrong, with the errors inside a group: a Hypothesis FlakyFailure ("Inconsistent results")
    only names them, and the error the case first met is the one to see.

    A failed check (FailureGroup, a BaseException) ends Hypothesis' run at once, never replayed; so a
    FlakyFailure holds an Exception that escaped the call or the checks (e.g. an error the app did not
    map to a response: TESTING propagates it), and its traceback tells where it came from."""
    if isinstance(exc, _WrappedBaseException):  # how FlakyFailure holds a BaseException (FailureGroup is one)
        exc = exc.__cause__
    if isinstance(exc, FailureGroup):  # schemathesis' own report: the checks, the response, a curl command
        return str(exc)
    if isinstance(exc, BaseExceptionGroup):
        inner = "\n".join(f"  [{n}] " + described(sub).replace("\n", "\n      ")
                           for n, sub in enumerate(exc.exceptions, 1))
        return f"{type(exc).__name__}: {exc}\n{inner}"
    return "".join(traceback.format_exception(exc)).rstrip()  # an error raised in the call: where it came from


def run_collecting(check, label: str, failures: list[str]) -> None:  # noqa: ANN001
    """Run one operation's Hypothesis test; a failure is added to `failures`, so one run lists every operation's."""
    try:
        check()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001  collected, reported by the caller's assertion
        failures.append(f"{label}: {described(exc)}")


def keep_own_token(case, token_id: int) -> None:
    """Let the run revoke any token but the one it runs on (that would log it out midway)."""
    if (case.path_parameters or {}).get("token_id") == token_id:
        case.path_parameters["token_id"] = token_id + 1


@pytest.fixture
def api_schema(app):
    """The document as the server serves it, called in-process through WSGI."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_operation_answers_within_its_schema(app, bearer, api_schema):
    failures, statuses = [], Counter()
    headers = {"Authorization": bearer["Authorization"]}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 40  # every route of /api/v1, not a handful
    with time_machine.travel(FIXED, tick=False):
        for operation in operations:
            @given(case=operation.as_strategy())
            @SETTINGS
            def check(case):
                keep_own_token(case, bearer["token_id"])
                response = case.call(headers=headers)
                statuses[(operation.label, response.status_code)] += 1  # noqa: B023  (run within this iteration)
                case.validate_response(response, checks=CHECKS)

            run_collecting(check, operation.label, failures)
    assert not failures, "\n\n".join(failures)
    # The user really is authenticated: only the login operations may answer 401, and most answer 2xx.
    unauthorised = {label for (label, code) in statuses if code == 401}
    assert unauthorised <= {"POST /api/v1/session", "DELETE /api/v1/session"}, unauthorised
    succeeded = {label for (label, code) in statuses if code < 300}
    assert {"GET /api/v1/enterprises", "GET /api/v1/certifications", "GET /api/v1/audit", "GET /api/v1/tokens",
            "GET /api/v1/batches"} <= succeeded, sorted(succeeded)
    # A token never mints a token (issue 16): the bearer's POST /tokens is a documented 403, never a 2xx.
    assert ("POST /api/v1/tokens", 403) in statuses and "POST /api/v1/tokens" not in succeeded


def test_stateful_links_create_read_change(app, bearer, api_schema, session):
    """Follow the links: create an enterprise, then read, patch, report and grant on it; batches likewise."""
    calls, failures = Counter(), []
    connection = session.get_bind()
    headers = {"Authorization": bearer["Authorization"]}

    @seed(SEED)  # derandomize trips Hypothesis' consistency check on link-driven draws; a fixed seed is as stable
    class Machine(api_schema.as_state_machine()):
        def setup(self):
            # Each scenario starts from the same data (a replayed scenario must meet the same state):
            # a savepoint on the test's connection, below the ones the session opens per request.
            session.close()
            self.savepoint = connection.begin_nested()

        def teardown(self):
            session.close()
            self.savepoint.rollback()

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def before_call(self, case):
            # A generated USCC almost never has a valid check digit: give registrations a real one,
            # so the links to the new enterprise are followed (the stateless run covers bad ones).
            keep_own_token(case, bearer["token_id"])
            if case.operation.label == "POST /api/v1/enterprises" and isinstance(case.body, dict):
                case.body.update(uscc=make_uscc("331002"), region_code="331002")

        def after_call(self, response, case):
            super().after_call(response, case)
            calls[(case.operation.label, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as exc:  # collected, not raised: a replay could not rebuild the same state
                failures.append(f"{case.operation.label}: {exc}")

    with time_machine.travel(FIXED, tick=False):
        try:
            run_state_machine_as_test(Machine, settings=settings(
                SETTINGS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=8, derandomize=False))
        except Flaky:
            # Links draw from earlier responses, so Hypothesis may find a scenario "inconsistent" and stop
            # generating; schemathesis' own runner ends the stateful phase the same way. Every call made
            # was checked above.
            pass
    assert not failures, "\n\n".join(failures)
    assert sum(calls.values()) >= 40, calls
    # The links were followed: an operation on a created enterprise found it (anything but 404).
    linked = {label for (label, code) in calls if code != 404 and "{enterprise_id}" in label}
    assert linked, f"no linked operation reached a created enterprise: {sorted(calls)}"


#: search words an outside checker would try (the roster search: tests/enterprises/test_search_property.py)
HOSTILE_Q = ["a", "精", "精密", "精密机", " ", "\u3000精密\u3000", "\u200b", "\ufeff", "精\u200b密", "%", "_", "\\", "%%",
             "\\%", "'", '"', "' OR 1=1 --", "\x00", "精\x00密", "😀", "臺州", "ab科", "äbc", "ＡＢ", "91331002", "91a",
             "aa ba ca da ea fa ga ha ia ja", "x" * 200, "x" * 201, "精" * 10_000]
SEARCHES = ("GET /api/v1/enterprises", "GET /api/v1/certifications", "GET /api/v1/exports/roster.csv",
            "GET /api/v1/exports/roster.xlsx")


def test_the_searches_answer_hostile_words_within_their_schema(app, bearer, api_schema):
    """The search operations with generated query strings whose `q` is hostile: listed words, or any text (no
    surrogates: a query string cannot carry one). No 5xx, a documented answer; a refused `q` is named in Chinese."""
    failures: list[str] = []
    headers = {"Authorization": bearer["Authorization"]}
    words = st.one_of(st.sampled_from(HOSTILE_Q), st.text(st.characters(exclude_categories=["Cs"]), max_size=220))
    operations = {op.label: op for op in (r.ok() for r in api_schema.get_all_operations()) if op.label in SEARCHES}
    assert set(operations) == set(SEARCHES)
    with time_machine.travel(FIXED, tick=False):
        for operation in operations.values():
            @given(case=operation.as_strategy(), q=words)
            @settings(SETTINGS, max_examples=MAX_EXAMPLES * 4)
            def check(case, q):
                case.query = {**(case.query or {}), "q": q}
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)
                if response.status_code != 422:
                    return
                body = response.json()
                if "q" in body.get("errors", {}):
                    assert any("\u4e00" <= c <= "\u9fff" for c in str(body["errors"]["q"])), body

            run_collecting(check, operation.label, failures)
    assert not failures, "\n\n".join(failures)
