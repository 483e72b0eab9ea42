"""Error pages that explain in plain words and reveal nothing about internals.

A request that ends in an error handler changed nothing: its unit of work is
rolled back (db.discard) before the page is rendered. A view that returns
`page(code)` itself keeps what it did (a download that fails its check is
still audited).
"""
from __future__ import annotations

import logging
import traceback

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("The request could not be understood"),
          _l("Something in the request was missing or malformed. Go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("The file is too large"),
          _l("What you sent is larger than this portal accepts. Go back, choose a smaller file and send again.")),
    429: (_l("Too many attempts"),
          _l("Too many attempts in a short time. Wait a few minutes and try again.")),
    500: (_l("Something went wrong"),
          _l("The portal could not complete the request. Nothing you sent has been shown to anyone. Try again later.")),
}
CSRF_MESSAGE = (_l("The form has expired"),
                _l("For your protection the form is only valid for a limited time. "
                   "Go back, reload the page and send again."))


def _render(code: int, title, message):
    return render_template("errors/error.html", code=code, title=title, message=message), code


def page(code: int):
    """The error page for `code`, as a response a view may return."""
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    return _render(code, title, message)


def handle_http_error(error: HTTPException):
    db.discard()
    return page(error.code or 500)


def handle_csrf_error(_error: CSRFError):
    db.discard()
    return _render(400, *CSRF_MESSAGE)


def log_unexpected(error: BaseException) -> None:
    """Log the exception type and where it happened, never its message or the
    request: either may carry report text, a receipt, an id that names a case,
    or a client address (a database error's message holds the SQL and its values)."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("Unhandled %s\n%s", type(error).__name__, frames)


def handle_unexpected(error: Exception):
    log_unexpected(error)
    db.discard()
    return _render(500, *MESSAGES[500])


def init_app(app: Flask) -> None:
    # Flask logs an exception it handles itself (one raised while a response
    # is finalised, say) with its message: log it like any other instead.
    app.log_exception = lambda exc_info: log_unexpected(exc_info[1])
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
