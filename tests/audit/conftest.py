"""The web fixtures, for the write-path tests that act through the pages and the API."""

from tests.web.fixtures import api_as, app, clock, login_as, make_user  # noqa: F401  (fixtures, registered by name)
