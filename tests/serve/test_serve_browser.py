"""The served lab in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which ``.ci/run`` installs) driven by Selenium loads the
page, ``r`` is pressed through the browser, screenshots of the terminal show
the lab (not blank, and changed by the run), and ``e`` downloads the export.

Without the two programs the test is skipped locally and fails in CI
(``CI`` set), where their absence is a broken set-up, not a pass.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from regtui.ui.export import FILES
from serving import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install chromium and chromium-driver (see .ci/run)")
    pytest.skip("needs chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)
pytest.importorskip("textual_serve", reason="regtui serve needs the extra regtui[web]")
webdriver = pytest.importorskip("selenium.webdriver")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def browser(tmp_path: Path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox",  # CI runs as root, where the sandbox refuses
                "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,800",
                f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(90)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _terminal_shot(driver) -> "Image.Image":
    from selenium.webdriver.common.by import By

    png = driver.find_element(By.ID, "terminal").screenshot_as_png
    return Image.open(io.BytesIO(png)).convert("RGB")


def _lit_fraction(image: "Image.Image") -> float:
    """Share of pixels brighter than the lab's dark background (text, lines, curves)."""
    grey = image.convert("L")
    histogram = grey.histogram()
    return sum(histogram[90:]) / (image.width * image.height)


def _changed_fraction(a: "Image.Image", b: "Image.Image") -> float:
    from PIL import ImageChops

    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 40 else 0)
    return diff.histogram()[255] / (a.width * a.height)


def _finished_runs(home: Path) -> list[object]:
    from regtui.core.store import RunStore

    if not (home / "history.sqlite3").exists():
        return []
    with RunStore.open(home / "history.sqlite3") as store:
        return [run for run in store.list_runs() if run.status == "finished"]


def test_the_lab_in_chromium_runs_on_r(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(served.url + "/")
    # textual.js marks the page once the terminal has received the lab's first screen
    wait_until(lambda: "-first-byte" in browser.execute_script("return document.body.className"),
               "the terminal's first bytes")
    wait_until(lambda: _lit_fraction(_terminal_shot(browser)) > 0.02, "the lab drawn on the canvas")
    before = _terminal_shot(browser)
    before.save(tmp_path / "before.png")

    keys = browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")  # xterm.js's keyboard input
    keys.send_keys("r")
    wait_until(lambda: _finished_runs(served.home), "the run started by r to finish")
    # the curves and the table follow the run within a few redraws
    wait_until(lambda: _changed_fraction(before, _terminal_shot(browser)) > 0.01, "the screen to show the run")
    after = _terminal_shot(browser)
    after.save(tmp_path / "after.png")

    assert before.size == after.size
    assert _lit_fraction(after) > 0.02, "the canvas is blank"
    assert len(after.getcolors(maxcolors=1 << 16) or ()) > 8, "the canvas shows more than a flat fill"
    assert _changed_fraction(before, after) > 0.01, "r changed nothing on screen"

    keys.send_keys("e")  # export: the browser downloads the files as one zip
    (zipped,) = wait_until(lambda: list(browser.downloads.glob("run-*.zip")), "the export's zip in the downloads")
    with zipfile.ZipFile(zipped) as archive:
        assert sorted(Path(name).name for name in archive.namelist()) == sorted(FILES)
    if os.environ.get("REGTUI_KEEP_SCREENSHOTS"):
        for name in ("before.png", "after.png"):
            shutil.copy(tmp_path / name, Path(os.environ["REGTUI_KEEP_SCREENSHOTS"]) / name)
