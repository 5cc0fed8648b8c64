"""The app in a real browser: ``streamlit run apps/app.py`` on a free localhost port,
headless Chromium driven by Selenium, every page checked for content, digits drawn on
the Vision page's canvas as mouse strokes.

Shared by ``tests/app/test_demo.py`` and ``python -m benchmarks demo``. Needs Debian's
``chromium`` and ``chromium-driver`` (``.ci/run`` installs them with apt) and the
``selenium`` package (``tfmodels[dev]``).
"""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

APP = Path(__file__).resolve().parents[1] / "apps" / "app.py"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# Every page of the app by its URL path (st.navigation names them after the view files)
# and what shows that it has its content. The Vision page is the default one ("").
PAGES = {"": "Vision: digits", "zoo": "Model zoo", "text": "Text", "embeddings": "Embeddings",
         "autoencoders": "Autoencoders", "graphs": "Graphs", "train": "Train a model", "edge": "Edge"}
CONTENT = ('[data-testid="stVegaLiteChart"], [data-testid="stImage"], [data-testid="stMetric"], '
           '[data-testid="stDataFrame"], [data-testid="stCode"], [data-testid="stTable"], [data-testid="stButton"]')
MISSING = ("not built yet", "is not here", "Something went wrong", "No trained models")


def have_chromium() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(zoo, log: Path, *, timeout: float = 120):
    """The app serving ``zoo`` on a free port until the block ends: yields its URL and
    the seconds it took to answer its health check."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TFMODELS_ZOO": str(zoo)}
    start = time.perf_counter()
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer on {url} within {timeout} s:\n"
                                       f"{log.read_text()[-3000:]}") from None
                time.sleep(0.25)
        yield url, time.perf_counter() - start
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _settled(driver, timeout: float, ready) -> bool:
    """Wait until ``ready(driver)`` holds while the app is not running a script (for a
    second in a row); False after ``timeout``."""
    from selenium.webdriver.common.by import By

    deadline, since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        if not running and ready(driver):
            since = since or time.monotonic()
            if time.monotonic() - since >= 1.0:
                return True
        else:
            since = None
        time.sleep(0.25)
    return False


def check_page(driver, url: str, path: str, *, timeout: float = 180) -> dict:
    """Open one page and say what it shows: ``{"page", "title", "content", "missing",
    "exceptions", "ok"}``; ``ok`` when its title, some content (charts, images, metrics,
    tables, code) and no "not built yet", error or exception are there."""
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/{path}")

    def ready(d):
        return d.find_elements(By.CSS_SELECTOR, CONTENT) or d.find_elements(By.CSS_SELECTOR,
                                                                             '[data-testid="stException"]')

    _settled(driver, timeout, ready)
    text = driver.find_element(By.TAG_NAME, "body").text
    row = {"page": path or "/", "title": PAGES[path],
           "content": len(driver.find_elements(By.CSS_SELECTOR, CONTENT)),
           "missing": [m for m in MISSING if m in text],
           "exceptions": len(driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'))}
    row["ok"] = PAGES[path] in text and row["content"] > 0 and not row["missing"] and not row["exceptions"]
    return row


# Digits as pen strokes on the Vision page's 224x224 canvas: polylines in canvas pixels,
# drawn as a person would (one stroke per pen-down). Shapes of handwriting, not of a font.
def _arc(cx, cy, rx, ry, a0, a1, n=24):
    t = np.radians(np.linspace(a0, a1, n))
    return [(cx + rx * np.cos(a), cy - ry * np.sin(a)) for a in t]


DIGIT_STROKES = {
    0: [_arc(112, 112, 48, 78, 90, 450, 40)],
    1: [[(118, 28), (112, 110), (106, 196)]],
    2: [_arc(112, 78, 50, 46, 160, -40, 20) + [(70, 192), (175, 192)]],
    3: [_arc(108, 72, 46, 40, 150, -90, 20) + _arc(108, 152, 52, 42, 90, -150, 20)[1:]],
    4: [[(80, 30), (58, 130), (178, 130)], [(148, 60), (148, 200)]],
    5: [[(165, 32), (78, 32), (70, 100)] + _arc(108, 142, 55, 50, 140, -150, 24)],
    6: [[(140, 28), (100, 60), (74, 110), (66, 150)] + _arc(112, 158, 46, 40, 180, 540, 36)],
    7: [[(52, 36), (172, 36), (140, 100), (112, 200)]],
    8: [_arc(112, 70, 40, 38, -90, 270, 32) + _arc(112, 150, 48, 42, 90, 450, 32)],
    9: [_arc(112, 78, 46, 44, 0, 360, 32) + [(158, 80), (150, 200)]],
}


def draw(driver, canvas, strokes, steps_per_segment: int = 4):
    """Each stroke as mouse-down, moves through its points, mouse-up on ``canvas`` (a
    WebElement; points are pixels from its top-left corner)."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    half_w, half_h = canvas.size["width"] / 2, canvas.size["height"] / 2
    for stroke in strokes:
        actions = ActionBuilder(driver, duration=10)
        pointer = actions.pointer_action
        points = np.asarray(stroke, np.float64)
        path = [points[0]] + [a + (b - a) * k / steps_per_segment for a, b in zip(points[:-1], points[1:])
                              for k in range(1, steps_per_segment + 1)]
        pointer.move_to(canvas, int(path[0][0] - half_w), int(path[0][1] - half_h))
        pointer.pointer_down()
        for x, y in path[1:]:
            pointer.move_to(canvas, int(x - half_w), int(y - half_h))
        pointer.pointer_up()
        actions.perform()


def predict_drawn(driver, url: str, digit: int, *, timeout: float = 120) -> list[str]:
    """Open the Vision page, choose Draw, draw ``digit`` and return the predictions the
    page shows (float Keras, then int8 TFLite)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    wait = WebDriverWait(driver, timeout)
    draw_option = wait.until(ec.element_to_be_clickable(
        (By.XPATH, '//label[@data-testid="stRadioOption"][.//p[text()="Draw"]]')))
    draw_option.click()
    frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'iframe[title*="drawable_canvas"]')))
    driver.switch_to.frame(frame)
    canvas = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "canvas.upper-canvas")))
    draw(driver, canvas, DIGIT_STROKES[digit])
    driver.switch_to.default_content()
    values = (By.CSS_SELECTOR, '[data-testid="stMetricValue"]')
    _settled(driver, timeout, lambda d: sum(bool(e.text.strip()) for e in d.find_elements(*values)) >= 2)
    return [e.text.strip() for e in driver.find_elements(*values)]
