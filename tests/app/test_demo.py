"""A finished demo: ``apps/prebuild.py --quick`` into a fresh zoo, then every page and
every section of it rendered headless (AppTest) and in a real browser (headless
Chromium through Selenium, ``benchmarks/_browser.py``): none says "not built yet" or
offers a Build button, each shows its content, and digits drawn on the Vision page's
canvas as mouse strokes are read as the digits they are.

The browser tests need Debian's ``chromium`` and ``chromium-driver``; ``.ci/run``
installs them, so under ``CI`` their absence is a failure, elsewhere a skip that says so.
"""
import os
import re
import subprocess
import sys

import pytest

import helpers as app  # puts apps/ on sys.path
from benchmarks import _browser as browser

PAGE_MODELS = {"demo_localizer", "demo_unet", "demo_char_lm", "demo_gpt", "demo_sentiment", "demo_word_vectors",
               "demo_denoising_ae", "demo_vae", "demo_anomaly_ae", "demo_karate_gcn", "demo_karate_gat",
               "demo_cora_gcn", "demo_cora_gat", "demo_mutag_gin"}
DEFAULTS = {"seed_cnn_mnist-test", "mlp_digits"}  # offline: the full MNIST cannot download


def _prebuild(zoo) -> str:
    proc = subprocess.run([sys.executable, str(app.APPS / "prebuild.py"), "--zoo", str(zoo), "--quick"],
                          capture_output=True, text=True, timeout=1800, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory):
    zoo = tmp_path_factory.mktemp("prebuilt_zoo")
    return zoo, _prebuild(zoo)


@pytest.fixture
def zoo_env(prebuilt, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(prebuilt[0]))
    return prebuilt[0]


def _summary(stdout: str) -> dict:
    """{model: status} from the summary table that prebuild prints last
    (model, page, seconds, status)."""
    rows = re.findall(r"^(\S+) .*? (\d+\.\d)  (.+)$", stdout[stdout.rindex("\nmodel "):], re.M)
    return {name: status for name, _, status in rows}


def test_prebuild_builds_every_page_model_and_the_defaults_once(prebuilt):
    import tfmodels.zoo

    zoo, stdout = prebuilt
    statuses = _summary(stdout)
    assert set(statuses) == PAGE_MODELS | DEFAULTS, stdout
    assert all(s == "built" for s in statuses.values()), statuses
    assert {d.name for d in zoo.iterdir() if (d / "done.json").exists()} == PAGE_MODELS
    assert {a["name"] for a in tfmodels.zoo.list_artifacts(zoo)} == DEFAULTS
    assert not [p for p in zoo.iterdir() if p.name.startswith(".")]  # no temp folders left behind
    again = _summary(_prebuild(zoo))  # a second run keeps everything
    assert set(again) == PAGE_MODELS | DEFAULTS and set(again.values()) == {"already built"}


def _render(page: str, **choices):
    """``page`` opened, each radio ``key=value`` of ``choices`` set in turn; checks that
    nothing is missing: no exception, error, "not built yet" nor Build button."""
    at = app.page(page, timeout=240)
    for key, value in choices.items():
        at.radio(key=key).set_value(value).run()
    assert not at.exception and not at.error, (page, choices, at.exception, at.error)
    texts = [e.value for e in (*at.info, *at.warning)]
    assert not [t for t in texts if "not built yet" in t or "is not here" in t], (page, choices, texts)
    assert not [b.label for b in at.button if b.label.startswith("Build")], (page, choices)
    return at


def _charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def test_vision_page_classifies_with_the_mnist_cnn_localizes_and_segments(zoo_env):
    at = _render("views/digits.py")
    assert at.selectbox[0].value == "seed_cnn_mnist-test"  # real handwriting is the default model
    assert [m.label for m in at.metric] == ["prediction", "prediction"] and _charts(at) == 2
    at = _render("views/digits.py", vision_task="Localize")
    assert {"prediction", "box IoU"} <= set(app.metrics(at)) and len(app.images(at)) == 1
    at = _render("views/digits.py", vision_task="Segment")
    assert "mean IoU" in app.metrics(at) and len(app.images(at)) == 2


def test_zoo_page_lists_the_defaults_and_every_page_model(zoo_env):
    at = _render("views/zoo.py")
    assert set(at.dataframe[0].value["artifact"]) == DEFAULTS
    assert _charts(at) == 5  # size vs accuracy, latency; the first artifact's two curves, its confusion matrix
    assert set(at.dataframe[1].value["demo model"]) == PAGE_MODELS


def test_text_page_generates_with_both_models_and_classifies_sentiment(zoo_env):
    for model in ("LSTM", "GPT"):
        at = _render("views/text.py", text_task="Generate", text_model=model)
        assert len(at.code) == 1 and at.code[0].value.startswith("ROMEO:\n")
    at = _render("views/text.py", text_task="Sentiment")
    assert "Sentiment" in app.metrics(at) and _charts(at) == 1


def test_embeddings_page_shows_every_section(zoo_env):
    at = _render("views/embeddings.py")
    # the neighbours of "king", or (tiny --quick vectors from 4,000 lines) of the most frequent word
    assert len(at.dataframe) == 1 and not at.warning
    at = _render("views/embeddings.py", emb_section="Analogy")
    assert len(at.dataframe) == 1 or "not in the vocabulary" in at.warning[0].value  # tiny vectors
    at = _render("views/embeddings.py", emb_section="2-D projection")
    assert _charts(at) == 1


def test_autoencoders_page_shows_every_section(zoo_env):
    at = _render("views/autoencoders.py")
    assert "Denoised PSNR" in app.metrics(at) and len(app.images(at)) == 1
    at = _render("views/autoencoders.py", ae_task="VAE")
    assert len(app.images(at)) == 2
    at = _render("views/autoencoders.py", ae_task="Anomaly detection")
    assert "ROC AUC" in app.metrics(at) and _charts(at) == 1


@pytest.mark.parametrize("graph", ["Karate club", "Cora"])
@pytest.mark.parametrize("model", ["GCN", "GAT"])
def test_graphs_page_classifies_nodes(zoo_env, graph, model):
    at = _render("views/graphs.py", graph_data=graph, graph_model=model)
    assert "Test accuracy" in app.metrics(at) and _charts(at) == 3  # predicted, true, embedding


def test_graphs_page_classifies_molecules(zoo_env):
    at = _render("views/graphs.py", graph_data="MUTAG molecules")
    assert {"Predicted", "True"} <= set(app.metrics(at)) and _charts(at) == 1


def test_train_and_edge_pages_show_their_content(zoo_env):
    at = _render("views/train.py")
    assert "Train and export" in [b.label for b in at.button]
    at = _render("views/edge.py")
    assert at.selectbox(key="edge_artifact").options == sorted(DEFAULTS)
    assert "tfmodels-edge benchmark" in at.code[0].value and len(at.dataframe) == 1


# -- In a real browser --------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(prebuilt, tmp_path_factory):
    """The finished demo served by ``streamlit run`` and a headless Chromium on it."""
    if not browser.have_chromium():
        missing = f"no Chromium here ({browser.CHROMIUM}, {browser.CHROMEDRIVER} missing)"
        if os.environ.get("CI"):  # .ci/run installs them: missing there is a failure, not a skip
            pytest.fail(f"CI without Chromium: {missing}")
        pytest.skip(f"{missing}: `apt-get install -y chromium chromium-driver` (.ci/run does) to run it")
    log = tmp_path_factory.mktemp("browser") / "streamlit.log"
    with browser.app_server(prebuilt[0], log) as (url, _), browser.chromium() as driver:
        yield url, driver


def test_every_page_of_the_finished_demo_has_its_content_in_chromium(served):
    url, driver = served
    rows = [browser.check_page(driver, url, path) for path in browser.PAGES]
    assert [r["page"] for r in rows] == ["/", *list(browser.PAGES)[1:]] and len(rows) == 8
    assert all(r["ok"] for r in rows), [r for r in rows if not r["ok"]]
    assert all(r["content"] >= 1 for r in rows)


@pytest.mark.parametrize("digit", [0, 1, 3, 4, 7])
def test_a_digit_drawn_with_the_mouse_is_read_by_both_models(served, digit):
    """Mouse strokes on the canvas, through the page's framing, into the MNIST CNN and
    its int8 twin: both name the digit drawn."""
    url, driver = served
    assert browser.predict_drawn(driver, url, digit) == [str(digit), str(digit)]
