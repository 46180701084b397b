"""Helpers for page tests: fetch a page, read its forms, submit them the way a browser does."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.fixtures import csrf_from

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


class FormValues(HTMLParser):
    """Collect what a browser would send for the first form with controls: inputs, selected options, textareas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "checkbox", "radio"):
            self.values.setdefault(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def submit_as_browser(client: FlaskClient, url: str, changes: dict[str, object]) -> tuple[str, TestResponse]:
    """Like `submit`, but send every control as the page filled it (prefilled values included), with `changes`."""
    form_html = page(client, url)
    parser = FormValues()
    parser.feed(form_html)
    values = {k: v for k, v in parser.values.items() if k != "csrf_token"}
    values.update({k: str(v) for k, v in changes.items()})
    first = client.post(url, data={"csrf_token": csrf_from(form_html), **values})
    text = first.get_data(as_text=True)
    assert first.status_code == 200 and "请确认" in text, (first.status_code, text[:2000])
    second = client.post(url, data={"csrf_token": csrf_from(text), "confirmed": "1", **values})
    return text, second


def edit_enterprise(client: FlaskClient, enterprise_id: int, data: dict[str, object], *, reason: str = "原登记有误",
                    environ_base: dict[str, str] | None = None) -> tuple[str, TestResponse]:
    """Submit the enterprise page's 修改基本信息 form the way a browser does: the form, then the preview of the
    changes (asserted), then 确认保存 with the reason; return (preview HTML, final response)."""
    url = f"/enterprises/{enterprise_id}"
    html = page(client, url)
    values = {k: str(v) for k, v in data.items() if k != "csrf_token"}
    first = client.post(url, data={"csrf_token": csrf_from(html), **values}, environ_base=environ_base or {})
    text = first.get_data(as_text=True)
    assert first.status_code == 200 and "请确认：修改基本信息" in text, (first.status_code, text[:2000])
    second = client.post(url, data={"csrf_token": csrf_from(text), **values, "confirmed": "1", "reason": reason},
                         environ_base=environ_base or {})
    return text, second
