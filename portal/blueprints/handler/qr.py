"""QR codes for authenticator enrolment, as inline SVG (no image request,
nothing the CSP has to allow)."""
from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str) -> Markup:
    code = segno.make(text, error="m")
    # Dark on light with a quiet zone, scaled so phones read it from a screen.
    svg = code.svg_inline(scale=5, border=4, dark="#000", light="#fff", svgclass="qr", omitsize=False)
    return Markup(svg)
