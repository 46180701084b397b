"""Issue 13 §7: X-Forwarded-For is believed only from configured proxies; client request ids only when safe."""

import pytest

from registry.accounts.access import SAFE_REQUEST_ID
from tests.audit.helpers import events_after, last_id
from tests.factories import make_enterprise


@pytest.fixture
def trusted_proxies() -> int:
    """No proxy in front (the default, and `make run`)."""
    return 0


@pytest.fixture
def settings(settings, trusted_proxies):
    """The test settings with `trusted_proxies` reverse proxies declared."""
    return settings.with_overrides(trusted_proxies=trusted_proxies)


def wsgi(headers: dict[str, str]) -> dict[str, str]:
    """Headers as a server puts them in the WSGI environ (bytes read as latin-1, newlines and all): the test
    client itself would refuse a header with a newline, a real socket does not."""
    return {"HTTP_" + name.upper().replace("-", "_"): value.encode().decode("latin-1")
            for name, value in headers.items()}


def patch_phone(session, admin, client, headers):
    """PATCH an enterprise through the API with `headers`; return the single audit event it wrote."""
    ent = make_enterprise(session, admin, region_code="331002", contact_phone="0576-1")
    session.commit()
    mark = last_id(session)
    response = client.patch(f"/api/v1/enterprises/{ent.id}", json={"contact_phone": "0576-2", "version": ent.version},
                            environ_overrides=wsgi(headers))
    assert response.status_code == 200, response.get_data(as_text=True)
    [event] = events_after(session, mark)
    return event


def test_a_spoofed_forwarded_for_is_not_recorded_without_a_trusted_proxy(session, admin, api_as):
    client = api_as("officer", "331000")
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    event = patch_phone(session, admin, client, {"X-Forwarded-For": "10.66.66.66", "X-Forwarded-Proto": "https"})
    assert event.ip == "198.51.100.7"


@pytest.mark.parametrize("trusted_proxies", [1])
def test_with_one_trusted_proxy_its_forwarded_for_is_the_client(session, admin, api_as):
    client = api_as("officer", "331000")
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    # A client may prepend its own lie; only the address the one trusted proxy appended counts.
    event = patch_phone(session, admin, client, {"X-Forwarded-For": "1.2.3.4, 203.0.113.9"})
    assert event.ip == "203.0.113.9"


@pytest.mark.parametrize("hostile", [
    "evil\r\nSet-Cookie: x=1", "a" * 10_000, "请求编号-12345678", "short", "id with spaces 1234", "a" * 65,
    "../../etc/passwd\x00",
])
def test_a_hostile_request_id_is_replaced_by_a_fresh_one(session, admin, api_as, hostile):
    client = api_as("officer", "331000")
    event = patch_phone(session, admin, client, {"X-Request-Id": hostile})
    assert event.request_id != hostile and SAFE_REQUEST_ID.fullmatch(event.request_id)


@pytest.mark.parametrize("good", ["req-7f3a.0001", "A" * 64, "0123abcd"])
def test_a_safe_request_id_from_the_proxy_is_kept(session, admin, api_as, good):
    event = patch_phone(session, admin, api_as("officer", "331000"), {"X-Request-Id": good})
    assert event.request_id == good


def test_a_newline_request_id_never_reaches_a_page_response(session, admin, login_as):
    client = login_as("officer", "331000")
    response = client.get("/", environ_overrides=wsgi({"X-Request-Id": "x\n" * 5000}))
    assert response.status_code == 200
