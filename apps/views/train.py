"""Train a registered classifier on a dataset with live progress and loss curves, export
it (float32 + int8 TFLite) into the zoo, where the Model zoo page lists it."""
import re
import time

import pandas as pd
import streamlit as st

from charts import confusion_chart
from common import _artifacts, data_dir, guarded, missing_data, zoo_dir

# name -> (description, folder under the data directory; None: bundled with the package)
DATASETS = {"digits": ("bundled scikit-learn digits, 28x28", None), "usps": ("USPS digits, 16x16", "usps"),
            "mnist-test": ("MNIST test digits, 28x28", "mnist")}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def classifiers() -> list[str]:
    """Registered image classifiers (their default data is one of DATASETS)."""
    import tfmodels

    return [s.name for s in tfmodels.list_models()
            if s.family in ("cnn", "mlp", "transformer") and s.default_data in DATASETS]


def check_fits(model: str, info):
    """The model built for the dataset's input, or None with a message saying why it cannot."""
    import tfmodels

    try:
        return tfmodels.build(model, input_shape=info.input_shape, num_classes=info.num_classes)
    except ValueError as e:
        st.warning(f"`{model}` cannot take the {'x'.join(map(str, info.input_shape))} images of {info.name}: "
                   f"{str(e).splitlines()[0]}. Pick another model or dataset.")
        return None


def live_curve(epochs: int):
    """A Keras callback that moves a progress bar and redraws the loss curves every epoch."""
    from tfmodels import keras

    bar, chart = st.progress(0.0, text="training"), st.empty()

    class LiveCurve(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.rows = []

        def on_epoch_end(self, epoch, logs=None):
            self.rows.append({k: float(v) for k, v in (logs or {}).items() if k.endswith("loss")})
            bar.progress((epoch + 1) / epochs, text=f"epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f}")
            chart.line_chart(pd.DataFrame(self.rows, index=range(1, len(self.rows) + 1)), x_label="epoch")

    return LiveCurve()


def train_and_export(model: str, data: str, name: str, *, epochs: int, batch_size: int, learning_rate: float):
    from tfmodels import convert, train
    from tfmodels.data import load_splits

    run_dir = zoo_dir() / name
    result = train.fit(model, data, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                       out_dir=run_dir, data_dir=data_dir(), verbose=0, callbacks=[live_curve(epochs)])
    with st.spinner("Exporting float32 and int8 TFLite (with parity and latency report)"):
        splits = load_splits(data, data_dir())  # given, so that export needs no TFMODELS_DATA_DIR
        report = convert.export(run_dir, modes=("float32", "int8"), representative=splits.train[0],
                                eval_data=splits.test, latency_runs=20)
    _artifacts.clear()
    modes = report["modes"]
    cols = st.columns(4)
    cols[0].metric("test accuracy", f"{result.metrics['test_accuracy']:.1%}")
    cols[1].metric("int8 accuracy", f"{modes['int8']['accuracy']:.1%}")
    cols[2].metric("float32 size", f"{modes['float32']['bytes'] / 1024:.1f} KiB")
    cols[3].metric("int8 size", f"{modes['int8']['bytes'] / 1024:.1f} KiB")
    st.altair_chart(confusion_chart(modes["int8"]["confusion_matrix"], splits.info.class_names,
                                    title=f"int8 .tflite on {modes['int8']['samples']} test examples"),
                    width="stretch")
    st.success(f"Saved `{name}` in `{zoo_dir()}`; it is now on the Model zoo page.")
    st.page_link("views/zoo.py", label="Open the Model zoo", icon="📦")
    st.session_state.pop("train_stamp", None)  # the next run gets a fresh default name


@guarded
def page():
    import tfmodels.data

    st.title("Train a model")
    left, right = st.columns(2)
    models = classifiers()
    model = left.selectbox("Model", models, index=models.index("mlp"), key="train_model")
    data = right.selectbox("Dataset", list(DATASETS), format_func=lambda d: f"{d}: {DATASETS[d][0]}",
                           key="train_data")
    folder = DATASETS[data][1]
    if folder and missing_data(folder, f"The {data} dataset"):
        return
    info = tfmodels.data.info(data, data_dir())
    built = check_fits(model, info)
    if built is None:
        return
    st.caption(f"`{model}` ({tfmodels.get_spec(model).family}): {built.count_params():,} parameters for "
               f"{info.name}: {'x'.join(map(str, info.input_shape))} images, {info.num_classes} classes, "
               f"{info.splits['train']:,} training examples.")
    cols = st.columns(3)
    epochs = cols[0].number_input("Epochs", 1, 100, 5, key="train_epochs")
    batch_size = cols[1].number_input("Batch size", 8, 512, 32, step=8, key="train_batch")
    learning_rate = cols[2].number_input("Learning rate", 1e-5, 1.0, 2e-3, format="%.4f", key="train_lr")
    stamp = st.session_state.setdefault("train_stamp", time.strftime("%Y%m%d-%H%M%S"))
    name = st.text_input("Artifact name", f"{model}_{data}_{stamp}", key=f"train_name_{model}_{data}_{stamp}")
    if not st.button("Train and export", type="primary"):
        return
    if not NAME.match(name):
        st.warning("Name the artifact with letters, digits, `_`, `.` or `-` (at most 64, no leading dot).")
    elif (zoo_dir() / name).exists():
        st.warning(f"`{name}` already exists in `{zoo_dir()}`; choose another name.")
    else:
        train_and_export(model, data, name, epochs=int(epochs), batch_size=int(batch_size),
                         learning_rate=float(learning_rate))


page()
