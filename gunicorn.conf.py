"""gunicorn settings for `make serve` (gunicorn also reads this file by itself from the working directory).

Every value can be set from the environment; the command line wins over this file.
"""
import os

# A worker busy this long on one request is killed and replaced (the last resort: the portal answers first).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Request line and headers: what a browser or API client sends fits well inside; more is refused (400/414)
# before the portal sees it.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "4094"))
limit_request_fields = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELDS", "50"))
limit_request_field_size = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "8190"))


def deadline_for(worker_timeout: int) -> float:
    """The portal's own request deadline: early enough to answer 503 before gunicorn kills the worker."""
    return max(1.0, worker_timeout - max(2.0, worker_timeout / 6))


def on_starting(server):
    """In the master, before any worker is forked: the deadline from the timeout in force (file or command line)."""
    os.environ.setdefault("REQUEST_DEADLINE_SECONDS", str(deadline_for(server.cfg.timeout)))
    _drop_server_banner()


def _drop_server_banner():
    """gunicorn writes "Server: gunicorn" on every answer and has no setting for it: the header is left out,
    so the portal's answers name no server software (the workers inherit the change when forked)."""
    from gunicorn.http import wsgi

    if getattr(wsgi.Response.default_headers, "portal_without_banner", False):
        return
    write_default_headers = wsgi.Response.default_headers

    def default_headers(self):
        return [line for line in write_default_headers(self) if not line.lower().startswith("server:")]

    default_headers.portal_without_banner = True
    wsgi.Response.default_headers = default_headers
