"""Issue 16 point 8: security headers on pages, API answers, files and error pages; no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry import create_app
from registry.web.headers import CSP

TEMPLATES = Path(__file__).resolve().parents[2] / "registry" / "web" / "templates"
COMMON = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_secure(response, *, no_store: bool = True) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, name
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no hosts
    assert policy["object-src"] == ["'none'"]
    if no_store:
        assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # testing, not production


def test_headers_on_an_authenticated_page_an_api_answer_and_files(login_as, api_as):
    page = login_as("officer", "331000")
    assert_secure(page.get("/"))
    assert_secure(page.get("/enterprises"))
    api = api_as("auditor", "331000")
    assert_secure(api.get("/api/v1/enterprises"))
    assert_secure(api.get("/api/v1/openapi.json"))


def test_headers_on_error_pages_and_api_errors(client, api_as):
    assert_secure(client.get("/login"))
    assert_secure(client.get("/no-such-page"))
    assert_secure(client.get("/api/v1/enterprises"))  # 401 JSON
    assert_secure(client.get("/enterprises"))  # redirect to login
    assert_secure(api_as("auditor", "331000").post("/api/v1/enterprises", json={}))  # 403
    assert_secure(client.post("/login", data={"username": "x"}))  # CSRF refusal (400)


def test_static_assets_may_be_cached_but_keep_the_other_headers(client):
    asset = client.get("/assets/app.css")
    assert asset.status_code == 200
    assert_secure(asset, no_store=False)
    assert asset.headers.get("Cache-Control") != "no-store"


def test_hsts_only_in_production(settings, session):
    app = create_app(settings.with_overrides(env="production", pi_key="k1:" + "ab" * 16, pi_index_key="cd" * 32))
    app.extensions["registry.sessionmaker"] = lambda: session
    session.info["shared"] = True
    response = app.test_client().get("/api/v1/health")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_policy_forbids_inline_script():
    policy = directives(CSP)
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-inline'" not in policy["default-src"]
    assert "'unsafe-inline'" not in policy["style-src"]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script(template):
    """Every <script> loads a file; no on*= handlers, no javascript: URLs (the CSP would block them)."""
    html = (TEMPLATES / template).read_text()
    for tag in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE):
        assert "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html, re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert "javascript:" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)
