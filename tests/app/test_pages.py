"""Each page rendered headless with Streamlit's AppTest."""
import io
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "apps" / "app.py")


def _app(page=None):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def _predictions(at):
    return [m.value for m in at.metric]


def test_digits_page_predicts_and_changes_with_the_image(app_env):
    at = _app()
    assert not at.exception and not at.error
    assert at.title[0].value.startswith("Digits")
    first = _predictions(at)
    assert len(first) == 2  # float and int8
    from tfmodels.data import load_arrays
    _, y = load_arrays("digits", "test")
    target = int(np.flatnonzero(y != y[0])[0])  # an image of another digit
    at.slider[0].set_value(target).run()
    assert not at.exception
    second = _predictions(at)
    assert second != first
    assert any("true label" in m.value for m in at.markdown)


def test_upload_mode_shows_an_uploader_without_error(app_env):
    at = _app()
    at.radio[0].set_value("Upload").run()
    assert not at.exception
    assert len(at.get("file_uploader")) == 1


def test_read_upload_validates_type_and_size(app_env):
    import sys
    sys.path.insert(0, str(Path(APP).parent))
    sys.path.insert(0, str(Path(APP).parent / "pages"))
    from PIL import Image

    import digits

    class Upload:
        def __init__(self, data):
            self.data, self.size = data, len(data)

        def getvalue(self):
            return self.data

    assert digits.read_upload(Upload(b"definitely not a png")) is None
    assert digits.read_upload(Upload(b"0" * (3 * 1024 * 1024))) is None
    buf = io.BytesIO()
    img = np.full((60, 40), 255, np.uint8)
    img[10:50, 15:25] = 0  # a dark vertical stroke on white paper
    Image.fromarray(img).save(buf, format="PNG")
    frame = digits.read_upload(Upload(buf.getvalue()))
    assert frame.shape == (28, 28, 1) and frame.max() > 0.9 and frame[0, 0, 0] == 0


def test_zoo_page_reads_the_reports(app_env):
    at = _app("pages/zoo.py")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["artifact"]) == ["seed_cnn_digits"]
    assert table["int8 KiB"][0] < table["float32 KiB"][0]
    assert table["family"][0] == "cnn"


def test_empty_zoo_offers_to_build_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _app()
    assert not at.exception
    assert any("Build default models" == b.label for b in at.button)
    assert "No trained models" in at.info[0].value
