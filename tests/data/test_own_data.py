"""Your own data through the real CLI: image folders, CSV tables, series and text, trained,
exported and run on the device with its class names and vocabulary."""
import csv
import json

import numpy as np
import pytest
from PIL import Image

import tfmodels
import tfmodels.train
from benchmarks.reliability import in_process, one_error_line, own_data_mistakes
from tfmodels.data import from_arrays, from_csv, from_directory, load_splits
from tfmodels.errors import DataError
from tfmodels.registry import check_compatible, input_kind
from tfmodels.rundir import RunDir

CLASSES = {0: "zero", 1: "one", 2: "two"}


def _edge(capsys, *args) -> dict:
    from tfmodels_edge.cli import main

    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    """Real handwritten digits (scikit-learn's 8x8, three classes) as a user's folder:
    PNG and JPEG, grayscale and colour, each image a different size."""
    from sklearn.datasets import load_digits

    root = tmp_path_factory.mktemp("own") / "digits"
    d, rng = load_digits(), np.random.default_rng(0)
    for i, (img, label) in enumerate(zip(d.images[:450], d.target[:450])):
        if label in CLASSES:
            (root / CLASSES[label]).mkdir(parents=True, exist_ok=True)
            side = int(rng.integers(12, 40))
            pil = Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((side, side))
            if i % 3 == 0:
                pil.convert("RGB").save(root / CLASSES[label] / f"{i}.jpg", quality=95)
            else:
                pil.save(root / CLASSES[label] / f"{i}.png")
    (root / "one" / "README.txt").write_text("not an image: skipped\n")
    return root


def test_image_folder_trains_exports_and_the_device_names_the_class(digit_folder, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = in_process(["train", "seed_cnn", "--data", str(digit_folder), "--epochs", "6",
                               "--batch-size", "16", "--out", str(out)])
    assert code == 0, err
    run = RunDir(out)
    config = run.config()
    assert config["class_names"] == ["one", "two", "zero"]  # subfolders, sorted
    assert config["data"]["options"]["image_size"] == [28, 28]  # seed_cnn's own input size
    assert config["data"]["options"]["color_mode"] == "rgb"  # some images are colour
    assert run.metrics()["test_accuracy"] >= 0.8
    code, _, err = in_process(["export", str(out), "--quant", "float32,int8"])
    assert code == 0, err
    assert (run.export_dir / "labels.txt").read_text().split() == ["one", "two", "zero"]
    hits = 0
    for label in CLASSES.values():
        for image in sorted((digit_folder / label).glob("*.*g"))[-3:]:
            answer = _edge(capsys, "predict", str(run.export_dir / "model_int8.tflite"), "--input", str(image))
            hits += answer["top1_label"] == [label]
    assert hits >= 7, hits  # of 9
    # the class names also travel inside each .tflite (TFLite metadata): a lone copy still names them
    from tensorflow.lite.python import schema_py_generated as schema
    from tfmodels_edge import EdgeModel

    lone = tmp_path / "lone" / "model_int8.tflite"
    lone.parent.mkdir()
    lone.write_bytes((run.export_dir / "model_int8.tflite").read_bytes())
    model = schema.ModelT.InitFromPackedBuf(lone.read_bytes(), 0)
    assert b"TFLITE_METADATA" in [m.name for m in model.metadata]
    assert EdgeModel(lone).embedded_files == {"labels.txt": len("one\ntwo\nzero\n")}
    assert EdgeModel(lone).labels == ["one", "two", "zero"]
    image = sorted((digit_folder / "two").glob("*.png"))[-1]
    assert _edge(capsys, "predict", str(lone), "--input", str(image))["top1_label"][0] in CLASSES.values()
    assert _edge(capsys, "inspect", str(lone), "--runs", "0")["labels"] == ["one", "two", "zero"]
    # files changed since training are refused, not silently evaluated
    extra = digit_folder / "two" / "extra.png"
    extra.write_bytes(next((digit_folder / "two").glob("*.png")).read_bytes())
    code, _, err = in_process(["eval", str(out)])
    assert one_error_line(code, err) and "changed since" in err, err
    extra.unlink()


def test_a_presplit_folder_keeps_its_split_and_every_image_model_accepts_a_folder(digit_folder, tmp_path):
    for split in ("train", "test"):
        for label in ("zero", "one"):
            (tmp_path / split / label).mkdir(parents=True)
            for f in sorted((digit_folder / label).glob("*.png"))[: 20 if split == "train" else 5]:
                (tmp_path / split / label / f.name).write_bytes(f.read_bytes())
    splits = from_directory(tmp_path, image_size=(16, 16), color_mode="grayscale")
    assert splits.info.splits == {"train": 36, "val": 4, "test": 10}
    assert splits.info.input_shape == (16, 16, 1) and splits.info.class_names == ("one", "zero")
    assert splits.train[0].dtype == np.float32 and 0 <= splits.train[0].min() and splits.train[0].max() <= 1
    image_models = [s.name for s in tfmodels.list_models() if s.default_data in ("digits", "usps", "mnist")
                    and s.family in ("cnn", "mlp", "transformer")]
    assert len(image_models) >= 8, image_models
    for name in image_models:
        check_compatible(name, splits)  # raises for a model that cannot take images


def test_csv_tables_train_the_mlp_for_classes_and_for_numbers(tmp_path, capsys):
    from sklearn.datasets import load_diabetes, load_wine
    from tfmodels_edge import EdgeModel

    load_wine(as_frame=True).frame.to_csv(tmp_path / "wine.csv", index=False)
    load_diabetes(as_frame=True, scaled=False).frame.to_csv(tmp_path / "diabetes.csv", index=False)
    out = tmp_path / "wine"
    code, _, err = in_process(["train", "mlp", "--data", str(tmp_path / "wine.csv"), "--target", "target",
                               "--epochs", "30", "--out", str(out)])
    assert code == 0, err
    assert RunDir(out).metrics()["test_accuracy"] >= 0.9  # raw features: standardised in the model
    # int8 quantizes an input with one scale: wine's columns (0.1 to 1,680) need standardizing
    # first, so the int8 file takes standardized values and carries the statistics in its
    # metadata; the edge kit applies them to the raw values a user gives
    code, _, err = in_process(["export", str(out), "--quant", "float32,int8"])
    assert code == 0, err
    x_test, y_test = RunDir(out).load_data().test
    keras_classes = tfmodels.train.load(out).predict(x_test, verbose=0).argmax(1)
    int8, float32 = EdgeModel(out / "tflite" / "model_int8.tflite"), EdgeModel(out / "tflite" / "model_float32.tflite")
    mean, std = int8.normalization[int8.input_details[0]["index"]]
    np.testing.assert_allclose(mean, x_test.mean(0), rtol=0.3)  # the training split's statistics
    assert float32.normalization == {} and std.shape == (x_test.shape[1],)
    assert np.mean(int8.predict(x_test).argmax(1) == keras_classes) >= 0.94
    assert np.mean(int8.predict(x_test).argmax(1) == y_test) >= 0.9
    np.save(tmp_path / "row.npy", x_test[:1])
    answer = _edge(capsys, "predict", str(out / "tflite" / "model_int8.tflite"), "--input", str(tmp_path / "row.npy"))
    assert answer["top1"] == [int(keras_classes[0])]
    shown = _edge(capsys, "inspect", str(out / "tflite" / "model_int8.tflite"), "--runs", "0")["input_normalization"]
    np.testing.assert_allclose(next(iter(shown.values()))["std"], std, rtol=1e-6)
    splits = load_splits(str(tmp_path / "diabetes.csv"), target="target")  # 442 rows: a small MLP
    assert splits.info.task == "regression" and splits.train[1].shape[1] == 1
    result = tfmodels.train.fit("mlp", splits, epochs=100, model_kwargs={"hidden_units": (32,)}, verbose=0)
    baseline = float(np.abs(splits.test[1] - splits.train[1].mean()).mean())  # predict the mean
    assert result.metrics["test_mae"] < 0.9 * baseline  # linear regression: 0.87


def test_a_csv_series_trains_the_forecaster_in_time_order(tmp_path):
    from tfmodels.data.series import raw_series

    values = raw_series("co2")  # real monthly CO2, as a user's CSV column
    with (tmp_path / "co2.csv").open("w") as f:
        f.write("month,ppm\n" + "".join(f"{i},{v:.3f}\n" for i, v in enumerate(values)))
    splits = from_csv(tmp_path / "co2.csv", column="ppm", window=24)
    assert splits.info.input_shape == (24, 1) and splits.info.model_kwargs["scale"] > 0
    np.testing.assert_allclose(splits.test[1][-1, 0], values[-1], rtol=1e-6)  # the tail is the test split
    out = tmp_path / "run"
    code, _, err = in_process(["train", "rnn_forecaster", "--data", str(tmp_path / "co2.csv"), "--column", "ppm",
                               "--window", "24", "--epochs", "15", "--out", str(out)])
    assert code == 0, err
    naive = float(np.abs(splits.test[1][:, 0] - splits.test[0][:, -1, 0]).mean())  # last value
    assert RunDir(out).metrics()["test_mae"] < naive
    # the test years lie above every training level: int8 keeps the level path in float
    # (an int8 input would saturate at the training maximum), the recurrent part in int8
    code, report, err = in_process(["export", str(out), "--quant", "int8"])
    assert code == 0, err
    entry = json.loads((out / "tflite" / "export_report.json").read_text())["modes"]["int8"]
    assert set(entry["float_layers"]) == {"last", "minus_last", "last_level", "forecast"}
    assert "FULLY_CONNECTED" in [o["op"] for o in entry["ops"]] and entry["inputs"][0]["dtype"] == "float32"
    code, text, err = in_process(["eval", str(out)])
    assert code == 0, err
    result = json.loads(text)
    assert result["tflite"]["int8"]["mae"] <= 1.1 * result["keras"]["mae"] < naive


def test_text_from_a_tsv_trains_and_the_device_reads_text(data_dir, tmp_path, capsys):
    lines = (data_dir / "text/sentiment_labelled_sentences/amazon_cells_labelled.txt").read_text().split("\n")
    with (tmp_path / "reviews.tsv").open("w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["review", "stars"])
        for line in filter(str.strip, lines):
            text, _, label = line.rpartition("\t")
            writer.writerow([text.strip(), "good" if label.strip() == "1" else "bad"])
    splits = from_csv(tmp_path / "reviews.tsv", text="review", target="stars")
    vocab = set(splits.info.vocabulary["tokens"])
    train_words = {w for ids in splits.train[0] for w in ids}
    assert max(train_words) < len(vocab) and splits.info.model_kwargs["vocab_size"] == len(vocab)
    out = tmp_path / "run"
    code, _, err = in_process(["train", "lstm", "--data", str(tmp_path / "reviews.tsv"), "--text-column", "review",
                               "--target", "stars", "--epochs", "4", "--out", str(out)])
    assert code == 0, err
    assert RunDir(out).metrics()["test_accuracy"] >= 0.6
    code, _, err = in_process(["export", str(out), "--quant", "float32"])
    assert code == 0, err
    run = RunDir(out)
    assert json.loads((run.export_dir / "vocab.json").read_text())["tokens"] == splits.info.vocabulary["tokens"]
    model = tfmodels.train.load(out)
    lone = tmp_path / "lone" / "model_float32.tflite"  # without vocab.json and labels.txt beside it
    lone.parent.mkdir()
    lone.write_bytes((run.export_dir / "model_float32.tflite").read_bytes())
    for sentence in ("this phone is great and works well", "terrible battery, it broke"):
        answer = _edge(capsys, "predict", str(run.export_dir / "model_float32.tflite"), "--text", sentence)
        assert _edge(capsys, "predict", str(lone), "--text", sentence) == answer  # what is embedded
        from tfmodels.data.text import WordVocab

        ids = WordVocab(splits.info.vocabulary["tokens"]).encode_batch([sentence], splits.info.input_shape[0])
        expected = ["bad", "good"][int(np.argmax(model.predict(ids, verbose=0)))]
        assert answer["top1_label"] == [expected]


def test_vocabulary_comes_from_the_training_split_only(tmp_path):
    rows = [("alpha beta", "a"), ("gamma delta", "b")] * 20 + [("zeta omega", "a"), ("zeta omega", "b")] * 5
    with (tmp_path / "t.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("text", "label"), *rows])
    splits = from_csv(tmp_path / "t.csv", text="text", target="label", seed=1)
    train_rows = {tuple(r) for r in splits.train[0].tolist()}
    tokens = splits.info.vocabulary["tokens"]
    seen = {tokens[i] for row in train_rows for i in row if i > 1}
    assert set(tokens[2:]) == seen  # nothing but words of the training sentences


def test_from_arrays_splits_by_class_or_by_shuffle():
    x = np.arange(200, dtype=np.float32).reshape(100, 2)
    splits = from_arrays(x, np.repeat([0, 1], 50), class_names=("cat", "dog"))
    assert splits.info.splits == {"train": 80, "val": 10, "test": 10}
    assert np.bincount(splits.test[1]).tolist() == [5, 5] and splits.info.class_names == ("cat", "dog")
    regression = from_arrays(x, np.linspace(0, 1, 100))
    assert regression.info.task == "regression" and regression.train[1].shape == (80, 1)
    with pytest.raises(DataError, match="100 examples but y has 3"):
        from_arrays(x, [1, 2, 3])


def test_every_own_data_mistake_gets_one_line(tmp_path):
    """The misuse matrix of benchmarks/reliability.py for own files, here in full."""
    out = tmp_path / "out"
    failures = [cmd for cmd in own_data_mistakes(tmp_path, str(out)) if not one_error_line(*in_process(cmd)[::2])]
    assert failures == [] and not out.exists()


def test_the_misuse_kinds_follow_the_registry():
    splits = load_splits("co2")
    check_compatible("mlp", splits)  # the MLP forecasts from windows too
    with pytest.raises(tfmodels.TfmodelsError, match="trains on images"):
        check_compatible("vgg", splits)
    assert input_kind(splits) == "series of feature vectors"
