"""The Tillit portal: create_app() wires settings, extensions and blueprints."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from config import Settings, check_production, load_settings

from . import db, errors, i18n, security
from .uploads import TillitRequest

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    """Build an app; tests pass settings (and Flask config overrides) directly."""
    settings = settings or load_settings()
    check_production(settings)

    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.request_class = TillitRequest  # uploads are spooled encrypted, never as plaintext temp files
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TILLIT=settings,
        # Generous on purpose: a file over max_upload_mib is discarded while it
        # streams (uploads.EncryptedSpool) so the form comes back with what was
        # typed; only a body far beyond any valid form gets the bare 413 page.
        MAX_CONTENT_LENGTH=(settings.max_upload_mib * settings.max_attachments * 4 + 1) * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=3600,
        TESTING=settings.env == "testing",
    )
    app.config.update(settings.extra)
    app.config.update(overrides)

    db.init_app(app, settings.database_url)
    security.init_app(
        app,
        cookie_secure=settings.cookie_secure,
        redis_url=settings.redis_url,
        proxy_count=settings.proxy_count,
    )
    csrf.init_app(app)
    i18n.init_app(app, settings.languages)
    errors.init_app(app)
    _register_blueprints(app)
    _register_template_globals(app)

    from .cli import register as register_cli

    register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .handler import bp as handler_bp
    from .insights import bp as insights_bp
    from .reporter import bp as reporter_bp
    from .site import bp as site_bp

    for blueprint in (site_bp, reporter_bp, handler_bp, admin_bp, insights_bp):
        app.register_blueprint(blueprint)


def _register_template_globals(app: Flask) -> None:
    from flask import request
    from flask_babel import format_date, format_datetime, get_locale

    from . import labels
    from .forms import LanguageForm
    from .i18n import LANGUAGE_NAMES

    app.jinja_env.globals["labels"] = labels
    app.jinja_env.filters["format_date"] = lambda day: format_date(day, "long") if day else ""
    # Staff-side timestamps only (audit); reporter-side data has dates alone.
    app.jinja_env.filters["format_datetime"] = lambda moment: format_datetime(moment, "short") if moment else ""

    @app.context_processor
    def layout_context():
        return {
            "organisation_name": app.config["TILLIT"].organisation_name,
            "language_form": LanguageForm(formdata=None, next=request.full_path.rstrip("?")),
            "language_names": LANGUAGE_NAMES,
            "current_language": str(get_locale()),
        }
