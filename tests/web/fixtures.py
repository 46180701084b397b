"""Web fixtures: the app on the test's SAVEPOINT session, users of every role, logged-in clients."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry import create_app
from registry.accounts import second_factor
from registry.accounts.models import User
from registry.accounts.users import create_token, create_user
from registry.domain.actors import ADMIN_ROLES
from tests.conftest import NOW

PASSWORD = "correct-horse-9"
#: username → TOTP secret of the users the fixtures enrolled (the tests' authenticator app)
SECRETS: dict[str, str] = {}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Clock:
    """The web tier's injectable clock (registry/web/clock.py): starts at NOW, moved by tests."""

    def __init__(self) -> None:
        self.at = NOW

    def __call__(self):
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """The clock sessions and tokens are judged by in `app`."""
    return Clock()


@pytest.fixture
def app(settings, session, clock) -> Flask:
    """The application, reading and writing through the test's session."""
    application = create_app(settings)
    application.config["TESTING"] = True
    session.info["shared"] = True
    application.extensions["registry.sessionmaker"] = lambda: session
    application.extensions["registry.clock"] = clock
    return application


@pytest.fixture
def client(app) -> FlaskClient:
    """An anonymous client."""
    return app.test_client()


def enrol(session, user: User, at=NOW) -> str:
    """Bind the second factor for `user` as the enrolment page would; return the secret (also in SECRETS)."""
    secret = second_factor.start_enrolment(session, user=user)
    second_factor.confirm_enrolment(session, user=user, code=second_factor.code_at(secret, second_factor.step_of(at)),
                                    at=at)
    user.totp_last_step = None  # enrolled "earlier": the tests' logins may use the current step
    session.commit()
    SECRETS[user.username] = secret
    return secret


def code_for(client: FlaskClient, username: str, steps_ahead: int = 0) -> str:
    """The code the user's authenticator app shows at the app's (injected) clock."""
    at = client.application.extensions["registry.clock"]()
    return second_factor.code_at(SECRETS[username], second_factor.step_of(at) + steps_ahead)


@pytest.fixture
def make_user(session, admin):
    """Create a user of `role` in `region` (username defaults to role-region); administrator roles (and
    `second_factor=True`) are enrolled in the second factor, as they must be to log in."""
    def make(role: str, region: str, username: str | None = None, second_factor: bool = False) -> User:
        user = create_user(session, actor=admin, username=username or f"{role}-{region}", role=role,
                           region_code=region, email=f"{role}{region}@gov.example.cn", password=PASSWORD, at=NOW)
        session.commit()  # each request ends with a rollback: uncommitted test data would vanish
        SECRETS.pop(user.username, None)
        if second_factor or user.role in ADMIN_ROLES:
            enrol(session, user)
        return user
    return make


def csrf_from(html: str) -> str:
    """Return the CSRF token embedded in a page."""
    match = CSRF.search(html)
    assert match, "no csrf_token in page"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = PASSWORD):
    """Log in through the login form (CSRF on) and return the response; a user the fixtures enrolled
    also passes the second step with the current code."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if answer.status_code == 302 and answer.headers["Location"].endswith("/login/second-factor") \
            and username in SECRETS:
        token = csrf_from(client.get("/login/second-factor").get_data(as_text=True))
        answer = client.post("/login/second-factor", data={"code": code_for(client, username), "csrf_token": token})
    return answer


@pytest.fixture
def login_as(app, make_user):
    """Return a client logged in as a new user of `role` in `region`."""
    def make(role: str, region: str) -> FlaskClient:
        make_user(role, region)
        c = app.test_client()
        assert login(c, f"{role}-{region}").status_code == 302
        return c
    return make


@pytest.fixture
def api_as(app, make_user, session, admin):
    """Return a client that sends a bearer token of a new user of `role` in `region`."""
    def make(role: str, region: str) -> FlaskClient:
        user = make_user(role, region)
        _, token = create_token(session, actor=admin, username=user.username, name="tests", at=NOW)
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return c
    return make
