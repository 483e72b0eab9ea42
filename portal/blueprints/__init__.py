"""The blueprints: views and forms only. A view parses the request, calls a
service, and renders or redirects; it never commits (the request is one unit
of work, web/db.py). Blueprints never import each other: what two of them
share lives in portal/web/."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .handler import bp as handler_bp
    from .insights import bp as insights_bp
    from .reporter import bp as reporter_bp
    from .site import bp as site_bp

    for blueprint in (site_bp, reporter_bp, handler_bp, admin_bp, insights_bp):
        app.register_blueprint(blueprint)
