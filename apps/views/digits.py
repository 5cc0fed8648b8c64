"""Vision on digits: draw, upload or pick a digit and compare the float Keras model with
its int8 TFLite twin on the edge kit (latency, sizes); a localizer's box and a U-Net's
masks drawn over canvases made from the bundled digits."""
import io

import numpy as np
import pandas as pd
import streamlit as st

import vision_models as vm
from common import (MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, artifacts, build_defaults_button, demo_artifact,
                    edge_model, guarded, keras_model, load_rebuildable, test_split, timed, to_mnist_frame)


def digit_artifacts() -> list[dict]:
    """28x28 classifiers with an int8 export; those trained on real handwriting (MNIST)
    first, so the default model is the one that reads drawn digits best."""
    arts = [a for a in artifacts()
            if a["export"]["inputs"][0]["shape"][1:] == [28, 28, 1] and "int8" in a["export"]["modes"]]
    return sorted(arts, key=lambda a: not a["metrics"]["dataset"].startswith("mnist"))


def read_upload(upload) -> np.ndarray | None:
    """A validated uploaded image as 28x28x1, or None with a message shown.

    The file's size is checked, then the image's pixel count from its header (the edge
    kit's :func:`tfmodels_edge.open_image`) before anything is decoded: a small PNG can
    claim 144 Mpx."""
    from tfmodels_edge import InputError, open_image

    if upload.size > MAX_UPLOAD_BYTES:
        st.warning(f"That file is {upload.size / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
        return None
    try:
        with open_image(io.BytesIO(upload.getvalue()), MAX_UPLOAD_PIXELS) as img:
            image = img.convert("L")
    except (InputError, OSError, SyntaxError, ValueError) as e:
        st.warning(f"That file could not be used as an image (PNG or JPEG expected): {e}")
        return None
    gray = np.asarray(image, np.float32) / 255.0
    if gray.mean() > 0.5:  # dark digit on light paper -> MNIST's light on dark
        gray = 1.0 - gray
    return to_mnist_frame(gray)


def choose_input(dataset: str):
    source = st.radio("Input", ["Test image", "Draw", "Upload"], horizontal=True, key="vision_input")
    if source == "Test image":
        x, y = test_split(dataset)
        index = st.slider("Test image", 0, len(y) - 1, 0)
        return x[index], int(y[index])
    if source == "Draw":
        from streamlit_drawable_canvas import st_canvas

        canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000",
                           height=224, width=224, drawing_mode="freedraw", key="canvas")
        if canvas.image_data is None or canvas.image_data[..., :3].max() == 0:
            st.caption("Draw a digit above.")
            return None, None
        return to_mnist_frame(canvas.image_data[..., :3].mean(-1)), None
    upload = st.file_uploader("A digit image", type=["png", "jpg", "jpeg"])
    if upload is None:
        return None, None
    return read_upload(upload), None


def classify():
    arts = digit_artifacts()
    if not arts:
        build_defaults_button()
        return
    by_name = {a["name"]: a for a in arts}
    art = by_name[st.selectbox("Model", list(by_name))]
    image, label = choose_input(art["metrics"]["dataset"])
    if image is None:
        return
    float_model = keras_model(art["saved_model"])
    int8_model = edge_model(art["files"]["int8"])
    p_float, ms_float = timed(lambda x: float_model(x, training=False).numpy()[0], image[None])
    p_int8, ms_int8 = timed(lambda x: int8_model.predict(x)[0], image[None])

    left, mid, right = st.columns([1, 2, 2])
    left.image(np.repeat(np.repeat(image[..., 0], 6, 0), 6, 1), caption="model input (28x28)", clamp=True)
    if label is not None:
        left.write(f"true label: **{label}**")
    modes = art["export"]["modes"]
    for col, name, probs, ms, size in (
        (mid, "float (Keras)", p_float, ms_float, modes["float32"]["bytes"]),
        (right, "int8 TFLite (edge kit)", p_int8, ms_int8, modes["int8"]["bytes"]),
    ):
        col.subheader(name)
        col.metric("prediction", int(np.argmax(probs)), f"{probs.max():.1%} confident", delta_color="off")
        col.caption(f"{ms:.2f} ms this call · {size / 1024:.1f} KiB .tflite")
        col.bar_chart(pd.DataFrame({"probability": probs}, index=[str(i) for i in range(len(probs))]))
    st.caption(f"Parity on {modes['int8'].get('samples', 0)} held-out images: top-1 agreement "
               f"{modes['int8'].get('top1_agreement', float('nan')):.1%}, int8 accuracy "
               f"{modes['int8'].get('accuracy', float('nan')):.1%} vs float "
               f"{modes['int8'].get('keras_accuracy', float('nan')):.1%}.")


def pick_canvas(splits):
    x, y = splits.test
    index = st.slider("Test canvas", 0, len(x) - 1, 0, key=f"{splits.info.name}_index",
                      help=f"one of the {len(x)} test canvases, made from bundled test digits")
    return x[index], {k: v[index] for k, v in y.items()} if isinstance(y, dict) else y[index]


MIN_DIGIT_PIXELS = 6  # fewer pixels of a label are stray, not a digit


def localize():
    from tfmodels.data.vision_tasks import box_iou

    run_dir = demo_artifact(vm.LOCALIZER, vm.build_localizer, what="a small localizer (class + box)")
    if run_dir is None:
        return
    model, info = load_rebuildable(run_dir)
    image, truth = pick_canvas(vm.box_splits())
    pred = model.predict(image[None], verbose=0)
    box, probs = pred["box"][0], pred["class"][0]
    left, right = st.columns([2, 1])
    left.image(vm.draw_boxes(image, {"lime": truth["box"], "red": box}),
               caption="green: true box · red: predicted box")
    right.metric("prediction", int(probs.argmax()), f"{probs.max():.1%} confident", delta_color="off")
    right.metric("box IoU", f"{box_iou(truth['box'][None], box[None])[0]:.2f}")
    right.write(f"true label: **{int(truth['class'])}**")
    st.caption(f"{info['title']}: test accuracy {info['test_accuracy']:.1%}, "
               f"mean box IoU {info['test_mean_iou']:.2f}.")


def segment():
    from tfmodels.data.vision_tasks import segmentation_metrics

    run_dir = demo_artifact(vm.SEGMENTER, vm.build_segmenter, what="a small U-Net (per-pixel digit labels)")
    if run_dir is None:
        return
    model, info = load_rebuildable(run_dir)
    image, truth = pick_canvas(vm.mask_splits())
    labels = model.predict(image[None], verbose=0)[0].argmax(-1)
    left, right = st.columns(2)
    left.image(vm.overlay(image, labels), caption="predicted mask")
    right.image(vm.overlay(image, truth), caption="true mask")
    m = segmentation_metrics(truth[None], labels[None], len(vm.CLASS_NAMES))
    cols = st.columns(3)
    cols[0].metric("mean IoU", f"{m['mean_iou']:.2f}")
    cols[1].metric("pixel accuracy", f"{m['pixel_accuracy']:.1%}")
    pixels = np.bincount(labels.ravel(), minlength=len(vm.CLASS_NAMES))
    found = [vm.CLASS_NAMES[c] for c in range(1, len(pixels)) if pixels[c] >= MIN_DIGIT_PIXELS]
    cols[2].metric("digits found", " ".join(found) or "none", help=f"labels covering {MIN_DIGIT_PIXELS}+ pixels")
    st.caption(f"Each digit class has its own colour. {info['title']}: test mean IoU {info['test_mean_iou']:.2f}.")


TASKS = {"Classify": classify, "Localize": localize, "Segment": segment}


@guarded
def page():
    st.title("Vision: digits")
    task = st.radio("Task", list(TASKS), horizontal=True, label_visibility="collapsed", key="vision_task")
    TASKS[task]()


page()
