"""The Vision and Model zoo pages rendered headless with Streamlit's AppTest."""
import functools
import io
import sys

import numpy as np
import pytest

import helpers as app  # puts apps/ on sys.path
import vision_models as vm

TINY_VISION = {
    vm.LOCALIZER: functools.partial(vm.build_localizer, filters=(4, 8, 8), dense_units=8, epochs=1),
    vm.SEGMENTER: functools.partial(vm.build_segmenter, filters=4, depth=2, epochs=1),
}


@pytest.fixture(scope="module")
def vision_env(zoo):
    """The shared zoo plus the Vision page's demo models, tiny, built as its Build buttons do."""
    return app.build_zoo(zoo, TINY_VISION)


def _predictions(at):
    return [m.value for m in at.metric]


def test_digits_page_predicts_and_changes_with_the_image(app_env):
    at = app.page()
    assert not at.exception and not at.error
    assert at.title[0].value == "Vision: digits"
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
    at = app.page()
    at.radio(key="vision_input").set_value("Upload").run()
    assert not at.exception
    assert len(at.get("file_uploader")) == 1


def test_read_upload_validates_type_and_size(app_env):
    sys.path.insert(0, str(app.APPS / "views"))
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


def test_a_small_png_claiming_144_megapixels_is_refused_before_decoding(app_env, monkeypatch):
    sys.path.insert(0, str(app.APPS / "views"))
    from PIL import Image, ImageFile

    import digits

    buf = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buf, format="PNG")  # 144 Mpx of black, a few KB compressed
    assert len(buf.getvalue()) < digits.MAX_UPLOAD_BYTES
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size))
    upload = type("Upload", (), {"size": len(buf.getvalue()), "getvalue": lambda self: buf.getvalue()})()
    warnings = []
    monkeypatch.setattr(digits.st, "warning", warnings.append)
    assert digits.read_upload(upload) is None
    assert decoded == [] and "144,000,000 pixels" in warnings[0]


def _vision_task(task, monkeypatch, zoo):
    monkeypatch.setenv("TFMODELS_ZOO", str(zoo))
    at = app.page()
    at.radio(key="vision_task").set_value(task).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def test_localize_draws_boxes_and_follows_the_canvas(vision_env, monkeypatch):
    at = _vision_task("Localize", monkeypatch, vision_env)
    first, images = app.metrics(at), app.images(at)
    assert len(images) == 1 and "predicted box" in at.get("image")[0].proto.imgs[0].caption
    assert first["prediction"] in [str(d) for d in range(10)]
    assert 0.0 <= float(first["box IoU"]) <= 1.0
    at.slider(key="digits-boxes_index").set_value(5).run()
    assert not at.exception
    assert app.images(at) != images


def test_segment_overlays_masks_with_iou(vision_env, monkeypatch):
    at = _vision_task("Segment", monkeypatch, vision_env)
    images = app.images(at)
    assert len(images) == 2  # predicted and true mask
    assert 0.0 <= float(app.metrics(at)["mean IoU"]) <= 1.0
    at.slider(key="digits-masks_index").set_value(7).run()
    assert not at.exception
    assert app.images(at)[1] != images[1]  # another true mask


def test_vision_tasks_without_models_offer_to_build(tmp_path, monkeypatch):
    for task, name in (("Localize", vm.LOCALIZER), ("Segment", vm.SEGMENTER)):
        at = _vision_task(task, monkeypatch, tmp_path)
        assert [b.label for b in at.button] == [f"Build {name}"]


def test_box_drawing_and_mask_overlay_colour_the_right_pixels():
    image = np.zeros((10, 10, 1), np.float32)
    drawn = np.asarray(vm.draw_boxes(image, {"red": (0.0, 0.0, 0.5, 0.5)}))
    z = vm.ZOOM
    assert drawn.shape == (10 * z, 10 * z, 3)
    assert tuple(drawn[0, 0]) == (255, 0, 0) and drawn[7 * z, 7 * z].max() == 0
    # a regressed box can come out inverted and past the edge: drawn as the box it spans
    inverted = np.asarray(vm.draw_boxes(image, {"red": np.array([0.5, 0.5, -0.2, 0.0])}))
    np.testing.assert_array_equal(inverted, drawn)
    labels = np.zeros((10, 10), int)
    labels[2, 3] = 4  # digit 3
    painted = vm.overlay(image, labels)
    assert painted[2 * z, 3 * z].max() > 0 and painted[0, 0].max() == 0


def test_canvases_come_from_the_bundled_digits():
    boxes, masks = vm.box_splits(), vm.mask_splits()
    assert boxes.info.input_shape == (40, 40, 1) and masks.info.input_shape == (*vm.MASK_CANVAS, 1)
    assert boxes.info.splits["test"] == masks.info.splits["test"] == 270  # the digits test split
    y0, x0, y1, x1 = boxes.test[1]["box"].T
    assert np.all((0 <= y0) & (y0 < y1) & (y1 <= 1) & (0 <= x0) & (x0 < x1) & (x1 <= 1))
    assert set(np.unique(masks.test[1])) <= set(range(11)) and masks.test[1].max() > 0


def test_zoo_page_reads_the_reports(app_env):
    at = app.page("views/zoo.py")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["artifact"]) == ["seed_cnn_digits"]
    assert table["int8 KiB"][0] < table["float32 KiB"][0]
    assert table["family"][0] == "cnn"
    assert table["parity"][0] in ("ok", "CHECK") and table["int8 ms"][0] > 0
    # size vs accuracy, float vs int8 latency; the artifact's two curves and a confusion matrix
    assert len(at.get("vega_lite_chart")) == 5


def test_zoo_page_draws_the_curves_and_the_confusion_matrix_of_the_chosen_file(app_env):
    import tfmodels.zoo

    [art] = tfmodels.zoo.list_artifacts(app_env)
    history, modes = art["metrics"]["history"], art["export"]["modes"]
    at = app.page("views/zoo.py")
    charts = {spec.get("title"): frames for spec, frames in app.charts(at)[2:]}
    for quantity in ("loss", "accuracy"):
        [curve] = charts[quantity]
        for split, key in (("train", quantity), ("validation", f"val_{quantity}")):
            rows = curve[curve["split"] == split].sort_values("epoch")
            assert list(rows["epoch"]) == [1, 2, 3] and np.allclose(rows["value"], history[key])
    for mode in ("int8", "float32"):
        if mode != "int8":  # int8 first: what the device runs
            at.radio(key="zoo_mode").set_value(mode).run()
        [(spec, frames)] = [(s, f) for s, f in app.charts(at) if str(s.get("title", "")).startswith("model_")]
        cells = frames[0]
        assert spec["title"].startswith(f"model_{mode}.tflite on {modes[mode]['samples']} held-out")
        assert cells["count"].sum() == modes[mode]["samples"] > 0 and len(cells) == 100
        diagonal = cells[cells["true"] == cells["predicted"]]["count"].sum()
        assert diagonal / modes[mode]["samples"] == pytest.approx(modes[mode]["accuracy"])
        assert sorted(set(cells["true"])) == [str(d) for d in range(10)]  # the export's labels.txt


def test_zoo_page_lists_the_demo_models(vision_env, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(vision_env))
    at = app.page("views/zoo.py")
    assert not at.exception and not at.error
    demos = at.dataframe[1].value.set_index("demo model")
    assert set(TINY_VISION) <= set(demos.index)
    assert (demos.loc[list(TINY_VISION), "KiB on disk"] > 10).all()


def test_empty_zoo_offers_to_build_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = app.page()
    assert not at.exception
    assert any("Build default models" == b.label for b in at.button)
    assert "No trained models" in at.info[0].value
