"""The Tillit portal: create_app() wires settings, web plumbing, blueprints and
the CLI. The layers and their rules are described in docs/architecture.md."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Settings, check_production, load_settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    """Build an app; tests pass settings (and Flask config overrides) directly."""
    from . import blueprints, cli
    from .domain.audit_chain import audit_key
    from .web import db, errors, headers, i18n, rate_limits, templating
    from .web.forms import csrf
    from .web.upload_spool import TillitRequest, body_limit, refuse_nul_in_path

    settings = settings or load_settings()
    check_production(settings)

    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.request_class = TillitRequest  # uploads are spooled encrypted, never as plaintext temp files
    app.url_value_preprocessor(refuse_nul_in_path)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TILLIT=settings,
        # A file over max_upload_mib is discarded while it streams, and a
        # multipart body beyond this is cut here (web/upload_spool.py), so
        # the form comes back with what was typed; other bodies get a 413.
        MAX_CONTENT_LENGTH=body_limit(settings),
        WTF_CSRF_TIME_LIMIT=3600,
        TESTING=settings.env == "testing",
    )
    app.config.update(settings.extra)
    app.config.update(overrides)

    db.init_app(app, settings.database_url, audit_key=audit_key(settings.pepper))
    headers.init_app(app, cookie_secure=settings.cookie_secure, proxy_count=settings.proxy_count)
    rate_limits.init_app(app, redis_url=settings.redis_url, production=settings.env == "production",
                         factor=settings.rate_limit_factor)
    csrf.init_app(app)
    i18n.init_app(app, settings.languages)
    errors.init_app(app)
    blueprints.register(app)
    templating.init_app(app)
    cli.register(app)
    return app
