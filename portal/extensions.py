"""Flask extensions, created unbound; `create_app` binds them (the database lives in models/)."""
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
migrate = Migrate()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def remote_address() -> str:
    """The client address as the proxy configuration lets us trust it."""
    return request.remote_addr or "unknown"
