"""Browser fixtures: the real app served on a free localhost port, and Chromium.

Chromium is Debian's (``/usr/bin/chromium``): Playwright cannot download its own
browser here.  Without Chromium or the ``playwright`` package the browser tests
skip, unless ``AWARD_REQUIRE_E2E=1`` (CI) turns that into an error, so that the
browser tests can never silently disappear from a CI run.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("AWARD_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_E2E = os.environ.get("AWARD_REQUIRE_E2E", "").strip() == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root here
    "--disable-gpu",
    "--disable-background-networking",  # the machine has no internet
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("AWARD_E2E_SCREENSHOTS", "/tmp"))


def _unavailable(reason: str):
    if REQUIRE_E2E:
        pytest.fail(f"{reason}; AWARD_REQUIRE_E2E=1 requires the browser tests to run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not importable ({exc}); install the test extras: pip install -e '.[test]'")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"{CHROMIUM} is missing; install Debian's chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """The app served by werkzeug in a background thread."""

    def __init__(self, make_app, **config):
        self._app = None
        # Bind first (port 0: the kernel picks a free port, no race), then build
        # the app with a base URL that names that port.
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = make_app(AWARD_BASE_URL=self.url, **config)
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)
        self.thread.start()

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture
def live_server(make_app):
    # CSRF on: the browser must carry the real token and session cookie.
    server = LiveServer(make_app, WTF_CSRF_ENABLED=True)
    yield server
    server.stop()


class PageWatch:
    """What a page did that no user should see: server errors, console errors,
    requests that leave the site (the service must work on an offline intranet)."""

    def __init__(self, page, base_url: str):
        self.problems: list[str] = []
        page.on("response", lambda r: r.status >= 500 and self.problems.append(f"HTTP {r.status} {r.url}"))
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "request",
            lambda r: (
                (not r.url.startswith(base_url + "/") and not r.url.startswith("data:"))
                and self.problems.append(f"request outside the site: {r.url}")
            ),
        )

    def _console(self, message):
        # HTTP statuses are judged above (a 422 form page, a missing favicon are fine);
        # anything else the console reports as an error (CSP, scripts) is not.
        if message.type == "error" and not message.text.startswith("Failed to load resource: the server responded"):
            self.problems.append(f"console error: {message.text}")

    def check(self):
        assert self.problems == []


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(**context_options)`` -> (page, watch): a fresh browser context each time."""
    contexts = []

    def factory(**options):
        # A Kazakh browser (its Accept-Language), unless a test says otherwise: the
        # site follows the browser's language on a first visit.
        options.setdefault("locale", "kk-KZ")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        return page, PageWatch(page, live_server.url)

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
