"""Security headers on every response: pages, API, files, error pages (issue 16 point 8).

The Content-Security-Policy allows scripts, styles, fonts and fetches from this site only —
no inline script, no `javascript:` URLs, no inline event handlers (templates load static JS
files instead) — and no framing at all (`frame-ancestors 'none'`, and X-Frame-Options DENY for
older browsers). Responses are `Cache-Control: no-store` except the static assets: pages and
API answers carry personal data and CSRF tokens and must not be kept by a browser or proxy.
HSTS is sent only in production (REGISTRY_ENV=production), where TLS is terminated in front.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
ALWAYS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
CACHEABLE_ENDPOINTS = frozenset({"pages.static"})


def add_security_headers(response: Response) -> Response:
    """Set the headers above on `response`."""
    response.headers.update(ALWAYS)
    if current_app.config["REGISTRY"].is_production:
        response.headers["Strict-Transport-Security"] = HSTS
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        response.headers.pop("ETag", None)
    return response


def init_app(app: Flask) -> None:
    """Register the header hook (runs for error pages too)."""
    app.after_request(add_security_headers)
