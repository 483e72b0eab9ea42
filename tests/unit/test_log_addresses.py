"""The filter on gunicorn's error log removes every spelling of an address."""
import logging

import pytest

from portal.web.serving import _DropAddresses, without_addresses


@pytest.mark.parametrize("text, address", [
    ("Invalid request from ip=203.0.113.9: Invalid HTTP request line", "203.0.113.9"),
    ("from 2001:db8::7 came", "2001:db8::7"),
    ("peer [::1]:8000", "::1"),
    ("mapped ::ffff:198.51.100.23 too", "198.51.100.23"),
    ("mapped ::ffff:198.51.100.23 too", "51.100"),
    ("full 2001:0db8:0000:0000:0000:ff00:0042:8329.", "0042:8329"),
    ("link-local fe80::1ff:fe23:4567:890a%eth0", "fe23"),
    ("peer:2001:db8::1 closed", "db8::1"),  # the shapes the review found
    ("host2001:db8::1", "db8::1"),
    ("a_2001:db8::1", "db8::1"),
    ("x.203.0.113.5", "203.0.113"),
    ("2001:db8:0:0:0:0:1:12345", "0:1:1234"),
    ("GET /?ip=198.51.100.4 HTTP/1.1", "198.51.100.4"),
])
def test_no_spelling_of_an_address_survives(text, address):
    assert address not in without_addresses(text)
    assert "[address]" in without_addresses(text)


def test_a_record_loses_addresses_in_its_arguments_and_traceback():
    try:
        raise ValueError("connection from 192.0.2.44 reset")
    except ValueError:
        import sys

        record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "Error from %s", ("192.0.2.44",),
                                   sys.exc_info())
    assert _DropAddresses().filter(record)
    formatted = logging.Formatter().format(record)
    assert "192.0.2.44" not in formatted and "Error from [address]" in formatted
    assert "ValueError" in formatted  # the traceback itself is kept
