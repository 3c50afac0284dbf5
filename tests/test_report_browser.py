"""The ``cnnbp explain`` report in a real browser: headless Chromium opens the file offline,
logs no console errors, every image decodes, nothing is fetched, and a screenshot is saved.

Skips cleanly where selenium, Chromium or its driver is not installed (``.ci/run``
installs Debian's ``chromium`` and ``chromium-driver``, and selenium comes with the
``test`` extras).
"""

from __future__ import annotations

import os
import shutil

import pytest

from cnnbp.cli import main

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
except ImportError as exc:  # not installed, or unusable here
    pytest.skip(f"selenium is not available: {exc}", allow_module_level=True)


def _find(*names):
    for name in names:
        path = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
        if path:
            return path
    return None


BROWSER = _find("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
DRIVER = _find("/usr/bin/chromedriver", "chromedriver")
if BROWSER is None or DRIVER is None:
    pytest.skip("headless Chromium and chromedriver are not installed", allow_module_level=True)

WINDOW = (1100, 1400)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "report.html"
    assert main(["explain", "--digit", "0", "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    opts = webdriver.ChromeOptions()
    opts.binary_location = BROWSER
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except WebDriverException as exc:  # e.g. a driver that does not match the browser
        pytest.skip(f"headless Chromium could not be started: {exc.msg}")
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, report):
    browser.get(report.as_uri())
    browser.execute_script("return document.readyState")
    return browser


def test_page_opens_with_its_title(page):
    assert page.title.startswith("cnnbp explain")
    assert page.execute_script("return document.querySelectorAll('section h2').length") >= 9


def test_no_console_errors(page):
    severe = [entry for entry in page.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == []


def test_every_image_decodes(page, report):
    widths = page.execute_script(
        "return Array.from(document.images).map(img => img.complete ? img.naturalWidth : 0)")
    assert len(widths) == report.read_text(encoding="utf-8").count("<img ")
    assert len(widths) >= 30 and all(w > 0 for w in widths)


def test_nothing_is_fetched(page):
    # Data URIs are not network requests; a stylesheet, font or image URL would be listed here.
    assert page.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_screenshot(page, tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    top = folder / "report-top.png"
    assert page.save_screenshot(str(top))
    page.execute_script("document.getElementById('provenance').scrollIntoView()")
    assert page.save_screenshot(str(folder / "report-provenance.png"))
    assert top.stat().st_size > 10_000
