"""What gunicorn itself writes: its error log without client addresses, no
access log, and no Server header. Loaded by gunicorn.conf.py; the
application's own logging is in web/errors.py."""
from __future__ import annotations

import logging
import re

from gunicorn import glogging
from gunicorn.http import wsgi as gunicorn_wsgi

# IPv4, and IPv6 in any of its spellings (two colons or more among hex
# digits), wherever they stand, glued to other words too (review finding:
# "peer:2001:db8::1" and "x.203.0.113.5" slipped through). Clock times and
# version numbers match too: better a time removed than an address kept.
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_IPV6 = re.compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,}")
ADDRESS_PLACEHOLDER = "[address]"


def without_addresses(text: str) -> str:
    # IPv4 first, so that an IPv4 address inside an IPv6 one goes whole.
    return _IPV6.sub(ADDRESS_PLACEHOLDER, _IPV4.sub(ADDRESS_PLACEHOLDER, text))


class _DropAddresses(logging.Filter):
    """Rewrites each record with every address removed from its message and
    traceback: gunicorn names the client of a malformed request ("Invalid
    request from ip=..."), and an address is what must never be written."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = without_addresses(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = without_addresses(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = without_addresses(record.stack_info)
        return True


class AddresslessLogger(glogging.Logger):
    """gunicorn's logger (logger_class), with its error log filtered and its
    access log, which is a list of client addresses, never written."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(_DropAddresses())

    def access(self, resp, req, environ, request_time) -> None:
        return None


def drop_server_header() -> None:
    """gunicorn has no setting for its `Server: gunicorn` line; it tells an
    attacker what to try, so the response's default headers go without it."""
    original = gunicorn_wsgi.Response.default_headers
    if getattr(original, "without_server", False):
        return

    def default_headers(self):
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.without_server = True
    gunicorn_wsgi.Response.default_headers = default_headers
