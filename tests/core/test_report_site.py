"""``ferbench report`` end to end: a real tiny run (synthetic-tiny, 1 epoch, fold 0), a few fold records
written beside it, the CLI builds the site, and Debian's chromium (driven by selenium) sorts, filters,
opens a row page, checks the console and takes screenshots.

The browser test skips only when chromium, chromium-driver or selenium are missing; ``.ci/run``
installs them (``apt-get install chromium chromium-driver``, ``pip install -e '.[test]'``).
"""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from ferbench.cli import main
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.plugins import Registry
from ferbench.results import ResultsStore

EVIL = "<script>window.pwned=1</script>"
PAPERS = ("ifercv", "ceflnet", "sna", "relgan", "recentral3d")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(site folder, output folder, combination of the real run) of a report on a tiny real run plus
    three records written directly: a better and a worse combination, and a dataset named with markup."""
    root = tmp_path_factory.mktemp("report-site")
    out = root / "out"
    config = make_config({"dataset": "synthetic-tiny"}, train={"epochs": 1}, seed=0, folds=(0,),
                         cache_dir=str(root / "cache"), output_dir=str(out))
    result = Runner(config, Registry(), progress=False, log=lambda s: None).run()
    real = result.folds[0].record
    store = ResultsStore(out / "results.sqlite")
    for name, war, dataset in (("lstm", 90.0, real.dataset), ("eian", 2.0, real.dataset), ("mean", 50.0, EVIL)):
        store.add(dataclasses.replace(
            real, config_hash=f"extra-{name}-{war}", combination=real.combination.replace("+mean+", f"+{name}+"),
            dataset=dataset, metrics={**real.metrics, "war": war, "uar": war, "macro_f1": war},
        ))
    site = root / "site"
    assert main(["report", "--output-dir", str(out), "--out", str(site)]) == 0
    return site, out, real.combination


def test_index_shows_the_measured_row_beside_all_five_papers(site):
    site_dir, _, combination = site
    index = (site_dir / "index.html").read_text()
    rows = re.findall(r'<tr class="(measured|reported)"[^>]*data-plugins="([^"]*)"', index)
    assert ("measured", "core") in rows
    reported_plugins = {p for kind, plugins in rows if kind == "reported" for p in plugins.split()}
    assert set(PAPERS) <= reported_plugins
    sections = re.findall(r'<section id="ds-\d+" data-dataset="([^"]+)"', index)
    # datasets with measured rows come first
    assert "synthetic-tiny" in sections[:2] and {"afew", "ckplus", "bu3dfe"} <= set(sections[2:])
    assert combination.replace("+", "+<wbr>") in index


# --------------------------------------------------------------------------- the browser


def _driver():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -e '.[test]'")
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if Path(p).is_file()), None)
    if not browser or not driver:
        pytest.skip("chromium and chromium-driver are not installed: apt-get install chromium chromium-driver "
                    "(.ci/run does this)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _screenshot(driver, path: Path, width: int) -> None:
    """A full-page PNG at ``width`` CSS pixels (phone widths emulate a mobile viewport)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "captureBeyondViewport": True,
                                   "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 8000), "scale": 1}})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _values(section, column: int) -> list[str]:
    return [td.get_attribute("data-value") for td in section.find_elements(
        "css selector", f"tbody tr:not([hidden]) td:nth-child({column})")]


def _visible(section):
    return [tr for tr in section.find_elements("css selector", "tbody tr") if tr.is_displayed()]


def test_report_in_a_real_browser(site, tmp_path):
    from selenium.webdriver.common.by import By

    site_dir, _, combination = site
    driver = _driver()
    try:
        driver.get((site_dir / "index.html").as_uri())
        assert driver.title.startswith("Leaderboards")
        tiny = driver.find_element(By.CSS_SELECTOR, 'section[data-dataset="synthetic-tiny"]')

        # sort by WAR: descending, then ascending (column 4)
        war = tiny.find_element(By.XPATH, ".//th[normalize-space()='WAR %']")
        war.find_element(By.TAG_NAME, "button").click()
        assert war.get_attribute("aria-sort") == "descending"
        values = [float(v) for v in _values(tiny, 4)]
        assert len(values) == 3 and values == sorted(values, reverse=True) and values[0] == 90.0
        war.find_element(By.TAG_NAME, "button").click()
        values = [float(v) for v in _values(tiny, 4)]
        assert war.get_attribute("aria-sort") == "ascending" and values == sorted(values) and values[0] == 2.0

        # rows without a value stay last in both directions (ckplus: some reported rows have no UAR)
        ckplus = driver.find_element(By.CSS_SELECTOR, 'section[data-dataset="ckplus"]')
        uar = ckplus.find_element(By.XPATH, ".//th[normalize-space()='UAR %']/button")
        for _ in range(2):
            uar.click()
            cells = _values(ckplus, 5)
            filled = [float(v) for v in cells if v]
            assert cells[: len(filled)] == [v for v in cells if v] and 0 < len(filled) < len(cells)

        # filter by a component name: only rows that name it stay visible
        box = driver.find_element(By.ID, "filter")
        box.send_keys("lstm")
        shown = _visible(tiny)
        assert len(shown) == 1 and "lstm" in shown[0].text
        assert tiny.find_element(By.CSS_SELECTOR, ".count").text == "1 of 3 rows"
        for tr in driver.find_elements(By.CSS_SELECTOR, "table.board tbody tr"):
            if tr.is_displayed():
                assert "lstm" in tr.get_attribute("data-search")
        box.clear()
        box.send_keys(" ")   # an input event after clear()
        assert len(_visible(tiny)) == 3

        # kind and plugin toggles
        driver.find_element(By.CSS_SELECTOR, 'input[data-kind="reported"]').click()
        kinds = {tr.get_attribute("data-kind") for tr in driver.find_elements(By.CSS_SELECTOR, "table.board tbody tr")
                 if tr.is_displayed()}
        assert kinds == {"measured"}
        driver.find_element(By.CSS_SELECTOR, 'input[data-kind="reported"]').click()
        for plugin in driver.find_elements(By.CSS_SELECTOR, "input[data-plugin]"):
            if plugin.get_attribute("data-plugin") != "relgan":
                plugin.click()
        shown = [tr for tr in driver.find_elements(By.CSS_SELECTOR, "table.board tbody tr") if tr.is_displayed()]
        assert shown and all("relgan" in tr.get_attribute("data-plugins").split() for tr in shown)
        assert not _visible(tiny)

        # the planted dataset name is text, its script never ran
        assert driver.execute_script("return window.pwned") is None
        evil = driver.find_element(By.XPATH, "//section[.//h2[contains(., 'window.pwned')]]")
        assert EVIL in evil.find_element(By.TAG_NAME, "h2").text
        assert not _severe(driver)
        driver.get((site_dir / "index.html").as_uri())
        _screenshot(driver, tmp_path / "index-1280.png", 1280)
        _screenshot(driver, tmp_path / "index-390.png", 390)

        # the real run's row page: confusion matrix, recall and curves
        link = driver.find_element(By.XPATH, f"//section[@data-dataset='synthetic-tiny']//tr[contains(@data-search, "
                                             f"'{combination.lower()}')]//td[1]/a")
        link.click()
        assert "/rows/" in driver.current_url
        confusion = driver.find_element(By.CSS_SELECTOR, "#confusion svg")
        assert confusion.is_displayed() and "anger" in confusion.get_attribute("innerHTML")
        assert driver.find_element(By.CSS_SELECTOR, "#recall svg").is_displayed()
        curves = driver.find_element(By.CSS_SELECTOR, "#curves svg")
        assert curves.is_displayed() and "training loss" in curves.get_attribute("innerHTML")
        assert "ferbench run --config reproduce.toml" in driver.find_element(By.ID, "command").text
        assert not _severe(driver)
        _screenshot(driver, tmp_path / "row-1280.png", 1280)
        _screenshot(driver, tmp_path / "row-390.png", 390)

        # the cost and claims pages load without errors; the metric switch swaps the plots
        driver.get((site_dir / "cost.html").as_uri())
        war_plots = driver.find_elements(By.CSS_SELECTOR, '[data-metric="war"] svg')
        assert war_plots and war_plots[0].is_displayed()
        driver.find_element(By.CSS_SELECTOR, 'input[name=metric][value="uar"]').click()
        assert not war_plots[0].is_displayed()
        assert driver.find_elements(By.CSS_SELECTOR, '[data-metric="uar"] svg')[0].is_displayed()
        _screenshot(driver, tmp_path / "cost-1280.png", 1280)
        driver.get((site_dir / "claims.html").as_uri())
        assert "ferbench claims" in driver.find_element(By.TAG_NAME, "main").text
        assert not _severe(driver)
    finally:
        driver.quit()
