"""QR codes for authenticator enrolment, as inline SVG (no image request,
nothing the CSP has to allow)."""
from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str) -> Markup:
    code = segno.make(text, error="m")
    # Dark on light with the 4-module quiet zone. A viewBox and no fixed size,
    # so the stylesheet scales the whole code (a fixed 225 px drawing in a
    # smaller box was cut off and could not be scanned).
    svg = code.svg_inline(border=4, dark="#000", light="#fff", svgclass="qr", omitsize=True)
    # segno's own SVG of the enrolment URI: markup we made, nothing typed reaches it.
    return Markup(svg)  # nosec B704
