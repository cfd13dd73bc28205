"""Debian's Chromium driven by Playwright: the browser the page tests look through.

Playwright's own browser downloads cannot work here, so it launches the system's `chromium`
with a fresh profile and no background traffic. Without Chromium the browser tests are
skipped, unless DOCTOWN_REQUIRE_BROWSER is set (CI sets it, and installs Chromium).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    """The system Chromium, or a skip (a failure under DOCTOWN_REQUIRE_BROWSER)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("DOCTOWN_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed; `apt-get install -y chromium`")
        pytest.skip("chromium is not installed")
    return found


@contextmanager
def chromium() -> Iterator[object]:
    """The system Chromium launched through Playwright: a Browser, whose contexts are separate
    sessions (cookies, storage) with no profile on disk."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield browser
        browser.close()


@dataclass
class Watch:
    """What a page said and asked for while it was open."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def watch(page) -> Watch:  # type: ignore[no-untyped-def]
    """Record console errors and warnings, uncaught exceptions and every request of `page`."""
    seen = Watch()
    page.on(
        "console",
        lambda message: (
            seen.errors.append(f"{message.type}: {message.text} ({page.url})")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.errors.append(f"exception: {error} ({page.url})"))
    page.on("request", lambda request: seen.requests.append(request.url))
    return seen


LINKS_SCRIPT = """() => Array.from(document.querySelectorAll('a[href], link[href], script[src]'))
  .map(e => new URL(e.getAttribute('href') || e.getAttribute('src'), location.href).href)"""


def crawl(  # type: ignore[no-untyped-def]
    page, start: str, *, inside: Callable[[str], bool], fetch: Callable[[str], bool] | None = None
) -> dict[str, int]:
    """Open every page reachable from `start` by links that stay `inside`; status by URL.

    Stylesheets, scripts and icons the pages name are fetched rather than opened, so a
    missing asset shows as a status too; so is every URL `fetch` picks (downloads).
    """
    statuses: dict[str, int] = {}
    queue = [start]
    while queue:
        url = queue.pop()
        if url in statuses:
            continue
        if "/static/" in url or (fetch is not None and fetch(url)):
            statuses[url] = _fetch(page, url)
            continue
        try:
            response = page.goto(url, wait_until="domcontentloaded")
        except PlaywrightError:  # a file:// page that is not there
            statuses[url] = 404
            continue
        # file:// pages have no HTTP response: opening them is what counts.
        statuses[url] = response.status if response is not None else 200
        for found in page.evaluate(LINKS_SCRIPT):
            target = urldefrag(found).url
            if inside(target) and target not in statuses:
                queue.append(target)
    return statuses


def _fetch(page, url: str) -> int:  # type: ignore[no-untyped-def]
    if url.startswith("file:"):
        return 200 if Path(unquote(urlsplit(url).path)).is_file() else 404
    return int(page.request.get(url).status)
