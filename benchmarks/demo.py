"""The demo as a newcomer meets it: ``make demo``'s prebuild into a fresh zoo (full-size
models, timed until every page's model exists), a second start on the built zoo (timed
until the app answers), every page opened in headless Chromium, the ten digits drawn on
the Vision canvas as mouse strokes, and the digit CNN scored on its whole test split.

    python -m benchmarks demo      # about 10 minutes on 2 cores; needs chromium + chromium-driver

Writes ``results/demo.json`` and ``results/demo_app.png`` (the Vision page after a drawn
digit: the picture in the README).
"""
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import RESULTS, _browser

PREBUILD = Path(__file__).resolve().parents[1] / "apps" / "prebuild.py"
DIGIT_MODEL = "seed_cnn"  # the Vision page's default: the seed CNN of the source material


def prebuild(zoo: Path, data_dir) -> tuple[float, str]:
    """``apps/prebuild.py --zoo zoo`` as ``make demo`` runs it: (seconds, its output)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(PREBUILD), "--zoo", str(zoo), "--data-dir", str(data_dir)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"prebuild failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout


def build_seconds(stdout: str) -> dict:
    """{model: seconds} from the summary table prebuild prints last."""
    table = stdout[stdout.rindex("\nmodel "):].splitlines()[2:]
    rows = [line.split() for line in table if line and not line.startswith(("total", " "))]
    return {r[0]: float(r[-2]) for r in rows if len(r) >= 4 and r[-1] == "built"}


def digit_model(zoo: Path, data_dir) -> dict:
    import tfmodels.evaluate
    import tfmodels.zoo

    [art] = [a for a in tfmodels.zoo.list_artifacts(zoo) if a["metrics"]["model"] == DIGIT_MODEL]
    scores = tfmodels.evaluate.evaluate_run(art["path"], data_dir)  # the whole test split, Keras and each file
    return {"digit_model": art["name"], "digit_model_dataset": art["metrics"]["dataset"],
            "digit_model_epochs": art["metrics"]["epochs"], "digit_model_test_examples": scores["test_examples"],
            "digit_model_test_accuracy": round(scores["keras"]["accuracy"], 4),
            "digit_model_int8_test_accuracy": round(scores["tflite"]["int8"]["accuracy"], 4)}


def in_browser(zoo: Path, workdir: Path) -> dict:
    with _browser.app_server(zoo, workdir / "streamlit.log") as (url, answered), _browser.chromium() as driver:
        pages = [_browser.check_page(driver, url, path) for path in _browser.PAGES]
        drawn = {}
        for digit in _browser.DIGIT_STROKES:
            drawn[str(digit)] = _browser.predict_drawn(driver, url, digit)
            if digit == 3:  # the README's picture: a drawn digit read by both models
                driver.save_screenshot(str(workdir / "demo_app.png"))
    correct = [d for d, p in drawn.items() if p == [d, d]]
    return {"second_demo_app_answer_seconds": round(answered, 2),
            "pages": len(pages), "pages_with_content": sum(r["ok"] for r in pages),
            "page_checks": pages, "drawn_digits_tried": len(drawn), "drawn_digits_correct": len(correct),
            "drawn_digit_predictions": drawn}


def run(data_dir) -> dict:
    if not _browser.have_chromium():
        raise RuntimeError(f"the demo benchmark needs Chromium ({_browser.CHROMIUM}) and chromedriver "
                           f"({_browser.CHROMEDRIVER}): apt-get install -y chromium chromium-driver")
    with tempfile.TemporaryDirectory() as tmp:
        zoo, workdir = Path(tmp) / "saved_models", Path(tmp)
        first, stdout = prebuild(zoo, data_dir)
        again, _ = prebuild(zoo, data_dir)  # a later `make demo`: everything is there
        out = {"first_demo_seconds": round(first, 1), "first_demo_build_seconds": build_seconds(stdout),
               **digit_model(zoo, data_dir)}
        browser = in_browser(zoo, workdir)
        out["second_demo_seconds"] = round(again + browser.pop("second_demo_app_answer_seconds"), 1)
        out |= browser
        shutil.copy(workdir / "demo_app.png", RESULTS / "demo_app.png")
    return out
