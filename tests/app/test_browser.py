"""End to end in a real browser: ``streamlit run apps/app.py`` on a free localhost port,
headless Chromium driven by Selenium opens the Vision page and waits for a prediction.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them with apt);
where they are not installed the test says so and skips.
"""
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from helpers import APP
CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not answer on {url} within {timeout} s:\n{log.read_text()[-3000:]}")


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def test_vision_page_predicts_in_a_real_browser(zoo, tmp_path):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI"):  # .ci/run installs them: missing there is a failure, not a skip
            pytest.fail(f"CI without Chromium ({CHROMIUM}, {CHROMEDRIVER} missing)")
        pytest.skip(f"no Chromium here ({CHROMIUM}, {CHROMEDRIVER} missing): "
                    "`apt-get install -y chromium chromium-driver` (.ci/run does) to run this test")
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "streamlit.log"
    env = {**os.environ, "TFMODELS_ZOO": str(zoo)}
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    driver = None
    try:
        _wait_healthy(url, server, log)
        driver = _browser()
        driver.get(url)  # the Vision page is the default one
        values = (By.CSS_SELECTOR, '[data-testid="stMetricValue"]')
        WebDriverWait(driver, 120).until(lambda d: sum(bool(e.text.strip()) for e in d.find_elements(*values)) >= 2)
        predictions = [e.text.strip() for e in driver.find_elements(*values)]
        assert len(predictions) == 2, predictions  # float Keras and int8 TFLite
        assert all(p in [str(d) for d in range(10)] for p in predictions), predictions
        assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
        WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="stImage"]')))
        shot = tmp_path / "vision.png"
        assert driver.save_screenshot(str(shot))
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.float32)
        assert pixels.shape[0] >= 800 and pixels.shape[1] >= 1200 and pixels.std() > 10  # not a blank page
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
