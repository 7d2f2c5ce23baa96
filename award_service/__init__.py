"""Award Service: ceremonies, registrations and jubilee medal awards."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import PROJECT_ROOT, default_instance_path, load_config


class DatabaseId(IntegerConverter):
    """``<int:…>`` in routes: a number that fits a database integer, else 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """Assemble the app: config -> extensions -> blueprints -> CLI."""
    app = Flask(
        __name__,
        instance_path=default_instance_path(),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.url_map.converters["int"] = DatabaseId
    load_config(app, config)
    from .ops.production import refuse_unsafe_config

    refuse_unsafe_config(app.config)  # AWARD_ENV=production: SQLite, a weak AWARD_ADMIN_PASSWORD
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own, unless replaced
    app.json.sort_keys = False
    if app.config.get("AWARD_PROXY_COUNT"):
        n = int(app.config["AWARD_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=n, x_proto=n, x_host=n
        )

    from .ops import observe

    observe.init_app(app)  # request ids, metrics, logs: before the extensions, so its hooks see every request

    from . import extensions, i18n, models, web  # noqa: F401  (models: every table)
    from .extensions import db

    db.init_app(app)
    extensions.migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    web.init_app(app)

    from .accounts.views import bp as accounts_bp
    from .api import bp as api_bp
    from .awards.views import bp as awards_bp
    from .awards.views import public as verify_bp
    from .ceremonies.checkin_views import bp as checkin_bp
    from .ceremonies.staff_views import bp as staff_ceremonies_bp
    from .ceremonies.views import bp as ceremonies_bp
    from .districts.views import bp as districts_bp
    from .medals.views import bp as medals_bp
    from .nominations.io_views import bp as nomination_io_bp
    from .nominations.views import bp as nominations_bp
    from .ops.health import bp as health_bp

    app.register_blueprint(ceremonies_bp)
    app.register_blueprint(staff_ceremonies_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(districts_bp)
    app.register_blueprint(nomination_io_bp)
    app.register_blueprint(nominations_bp)
    app.register_blueprint(medals_bp)
    app.register_blueprint(awards_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    extensions.csrf.exempt(api_bp)

    from . import mail

    mail.init_app(app)

    from .cli import register_cli

    register_cli(app)
    return app
