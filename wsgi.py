"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``.

The app factory opens no database connection, so workers forked by gunicorn
(with or without --preload) each open their own.
"""

from award_service import create_app

app = create_app()
