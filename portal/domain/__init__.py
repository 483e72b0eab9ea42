"""Plain-Python rules of the portal: no Flask imports here."""
