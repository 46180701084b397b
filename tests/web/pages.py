"""Helpers for page tests: fetch a page, read its forms, submit them the way a browser does."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.conftest import csrf_from

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    """GET `url`, check the status and return the HTML."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:400])
    return response.get_data(as_text=True)


def hidden_fields(html: str) -> dict[str, str]:
    """Return the hidden inputs of a page (version, csrf_token …) by name."""
    out = {}
    for tag in HIDDEN.findall(html):
        attrs = dict(ATTR.findall(tag))
        if "name" in attrs:
            out[attrs["name"]] = attrs.get("value", "")
    return out


def post(client: FlaskClient, url: str, data: dict[str, object], *, token_from: str | None = None) -> TestResponse:
    """POST `data` with the CSRF token of the session (taken from `token_from` or `url`)."""
    html = page(client, token_from or url)
    return client.post(url, data={"csrf_token": csrf_from(html), **{k: str(v) for k, v in data.items()}})


def submit(client: FlaskClient, url: str, data: dict[str, object]) -> tuple[str, TestResponse]:
    """Fill the form at `url`, read the confirmation page, confirm; return (confirmation HTML, final response)."""
    form_html = page(client, url)
    fields = {k: v for k, v in hidden_fields(form_html).items() if not k.endswith("csrf_token")}
    values = {**fields, **{k: str(v) for k, v in data.items()}}
    first = client.post(url, data={"csrf_token": csrf_from(form_html), **values})
    text = first.get_data(as_text=True)
    assert first.status_code == 200 and "请确认" in text, (first.status_code, text[:2000])
    second = client.post(url, data={"csrf_token": csrf_from(text), "confirmed": "1", **values})
    return text, second


class Controls(HTMLParser):
    """Collect form controls and the labels bound to them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label" and found.get("for"):
            self.labelled.add(found["for"] or "")
        if tag in ("input", "select", "textarea") and found.get("type") not in ("hidden", "submit"):
            self.controls.append(found)


def unlabelled(html: str) -> list[dict[str, str | None]]:
    """Return the visible controls of a page that have no <label for=…> bound to their id."""
    parser = Controls()
    parser.feed(html)
    return [c for c in parser.controls if not c.get("id") or c["id"] not in parser.labelled]
