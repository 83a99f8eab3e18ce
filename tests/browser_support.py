"""Headless Chromium for the tests that check rendered HTML.

Import the fixtures into a test module (``from browser_support import browser,
artifact_dir``) and open pages with :func:`open_file`. The browser is
Debian's ``chromium`` (or ``$MLKIT_CHROMIUM``) driven by Playwright, started
once per test module. Without it the tests skip, except under CI (``$CI`` set),
where they fail: CI installs it.

Each opened page records console errors, page errors and every request that
is not a ``file:`` URL (those are aborted, so a report that tried to load
anything from the network fails its test), and leaves a screenshot in
``tests/artifacts/`` (or ``$MLKIT_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def chromium_path() -> str | None:
    """The Chromium executable: ``$MLKIT_CHROMIUM``, else ``chromium`` on the PATH."""
    found = os.environ.get("MLKIT_CHROMIUM") or shutil.which("chromium")
    return found if found and Path(found).exists() else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an asyncio event loop running
    in the main thread while it is open, and ``asyncio.run`` in any later test
    would then fail.
    """
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium: install Debian's chromium or set MLKIT_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (it is in the test extra)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """Where screenshots go: ``$MLKIT_TEST_ARTIFACTS`` or ``tests/artifacts``."""
    folder = Path(os.environ.get("MLKIT_TEST_ARTIFACTS") or ARTIFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class LoadedPage:
    """A page opened from a file, with what went wrong while it loaded."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    blocked: list[str] = field(default_factory=list)  # the non-file ones, aborted
    screenshot: Path | None = None

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and network requests: all should be empty."""
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"network request: {u}" for u in self.blocked]
        )


@contextmanager
def open_file(
    browser: Any,
    path: Path,
    *,
    screenshot: Path | None = None,
    width: int = 1280,
    height: int = 900,
) -> Iterator[LoadedPage]:
    """Open ``path`` as a ``file://`` URL in a fresh page; screenshot it on the way out."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    loaded = LoadedPage(page)

    def on_console(message: Any) -> None:
        if message.type == "error":
            loaded.console_errors.append(message.text)

    def on_route(route: Any) -> None:
        url = route.request.url
        loaded.requests.append(url)
        if url.startswith("file:"):
            route.continue_()
        else:
            loaded.blocked.append(url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda error: loaded.page_errors.append(str(error)))
    page.route("**/*", on_route)
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        yield loaded
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
            loaded.screenshot = screenshot
    finally:
        context.close()
