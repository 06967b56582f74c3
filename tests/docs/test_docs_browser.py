"""The docs pages in a real headless Chromium, served by a real `example-service serve`.

Proves what no HTTP-level test can: the pages render their operations with every asset served
from this origin and no Content-Security-Policy violation.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.servers import served_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

# Records CSP violations from the first script on, before any page script can run.
_RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("serve")
    env = {
        "APP_ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/docs.db",
    }
    with served_app(workdir, env) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        message = (
            "chromium and chromedriver not found; "
            "install them (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message + " [REQUIRE_SERVICES=1]")
        pytest.skip(message)
    # Both binaries named explicitly: Selenium Manager never looks for (or downloads) either.
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS})
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for(driver: Any, script: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {script}\n{driver.get_log('browser')}")


def _problems(driver: Any) -> tuple[list[str], list[dict[str, Any]]]:
    violations: list[str] = driver.execute_script("return window.__csp")
    console = [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] in ("SEVERE", "WARNING") or "Content Security Policy" in entry["message"]
    ]
    return violations, console


def test_swagger_ui_renders_operations_under_its_csp(server: str, browser: Any) -> None:
    browser.get(server + "/docs")
    count = _wait_for(browser, "return document.querySelectorAll('.opblock').length")
    assert count >= 3
    text = browser.execute_script("return document.body.innerText")
    assert "/health" in text and "/api/v1/health/ready" in text
    assert _problems(browser) == ([], [])


def test_redoc_renders_operations_under_its_csp(server: str, browser: Any) -> None:
    browser.get(server + "/redoc")
    count = _wait_for(
        browser, "return document.querySelectorAll('[data-section-id^=\"operation/\"]').length"
    )
    assert count >= 3
    assert _problems(browser) == ([], [])


def test_a_violation_would_be_seen(server: str, browser: Any) -> None:
    # The detector itself works: an inline script on the docs page is refused and recorded.
    browser.get(server + "/docs")
    _wait_for(browser, "return document.querySelectorAll('.opblock').length")
    browser.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        "document.body.appendChild(s);"
    )
    violations = _wait_for(browser, "return window.__csp.length && window.__csp")
    assert any(v.startswith("script-src") for v in violations)
    assert browser.execute_script("return window.__ran") is None
