"""gunicorn's logger with ``AWARD_LOG_FORMAT=json`` (deploy/gunicorn.conf.py
names it): its error log (and its access log, if one is configured) in the
app's JSON lines.

gunicorn writes no access log unless ``accesslog`` is set, and the production
profile sets none: the app writes one line a request itself
(:mod:`.observe`), with the route and not the path, where gunicorn's access
line has the raw path and query (ticket tokens, searched names).  (gunicorn's
``logconfig_dict`` could do the formatting too, but with it gunicorn builds an
access line for every request, even with nothing to write it.)
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .logs import JsonLines, RequestIdFilter


class GunicornLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonLines())
                if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                    handler.addFilter(RequestIdFilter())
