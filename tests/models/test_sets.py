"""DeepSets: masked pooling numbers, permutation and padding invariance, the digit-set
data, training, save/reload and TFLite (float32 + int8) with edge parity."""
import numpy as np
import pytest

import tfmodels
from tfmodels import convert, train
from tfmodels._keras import keras
from tfmodels.data import load_splits
from tfmodels.data.digit_sets import make_digit_sets
from tfmodels.errors import UnknownNameError
from tfmodels.models.sets import MaskedPooling

TINY = dict(input_shape=(5, 16, 16, 1), phi_filters=(4,), phi_dim=8, rho_units=(8,))


@pytest.fixture(scope="module")
def sets(data_dir):
    """64 training sets of 1-5 USPS digits with their sums."""
    x, y = load_splits("usps", data_dir).train
    return make_digit_sets(x[:500], y[:500], n_sets=64, max_size=5, seed=0)


def test_masked_pooling_numbers():
    h = np.array([[[1.0, -2.0], [3.0, 5.0], [100.0, 100.0]]], np.float32)
    mask = np.array([[1.0, 1.0, 0.0]], np.float32)
    np.testing.assert_allclose(MaskedPooling("sum")([h, mask]), [[4.0, 3.0]])
    np.testing.assert_allclose(MaskedPooling("mean")([h, mask]), [[2.0, 1.5]])
    np.testing.assert_allclose(MaskedPooling("max")([h, mask]), [[3.0, 5.0]])
    with pytest.raises(UnknownNameError, match="mean"):
        MaskedPooling("median")


def test_default_size_param_count():
    model = tfmodels.build("deepsets")
    assert model.count_params() == 41_857 and "41,857" in tfmodels.get_spec("deepsets").builder.__doc__
    assert [t.shape.as_list() for t in model.inputs] == [[None, 5, 16, 16, 1], [None, 5]]


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_permutation_and_padding_never_change_the_output(pooling, sets):
    (elements, mask), _ = sets
    model = tfmodels.build("deepsets", pooling=pooling, **TINY)
    out = model.predict([elements, mask], verbose=0)
    rng = np.random.default_rng(0)
    perm_e, perm_m = elements.copy(), mask.copy()
    for i in range(len(mask)):  # shuffle all five slots: real elements and padding move together
        order = rng.permutation(5)
        perm_e[i], perm_m[i] = elements[i][order], mask[i][order]
    np.testing.assert_allclose(model.predict([perm_e, perm_m], verbose=0), out, rtol=1e-5, atol=1e-5)
    junk = np.where(mask[:, :, None, None, None] > 0, elements, rng.random(elements.shape, np.float32))
    assert not np.array_equal(junk, elements)
    np.testing.assert_allclose(model.predict([junk, mask], verbose=0), out, rtol=1e-5, atol=1e-5)
    assert model.predict([elements[:1], np.ones_like(mask[:1])], verbose=0)[0] != pytest.approx(
        model.predict([elements[:1], np.eye(5, dtype=np.float32)[:1]], verbose=0)[0])  # the mask matters


def test_digit_sets_are_labelled_with_the_sum(data_dir):
    x, y = load_splits("usps", data_dir).train
    (elements, mask), labels = make_digit_sets(x[:50], y[:50], n_sets=200, max_size=4, min_size=2, seed=3)
    sizes = mask.sum(1)
    assert elements.shape == (200, 4, 16, 16, 1) and sizes.min() == 2 and sizes.max() == 4
    assert np.all(elements[mask == 0] == 0)
    # Recover each element's digit by exact image match and re-add them.
    lookup = {x[i].tobytes(): y[i] for i in range(50)}
    sums = [sum(lookup[e.tobytes()] for e, m in zip(es, ms) if m) for es, ms in zip(elements, mask)]
    np.testing.assert_array_equal(labels, sums)
    (_, _), maxima = make_digit_sets(x[:50], y[:50], n_sets=200, max_size=4, seed=3, target="max")
    assert maxima.max() <= 9 and maxima.min() >= 0
    info = load_splits("usps-digit-sums", data_dir).info
    assert info.task == "regression" and info.input_shape == (5, 16, 16, 1)
    assert info.splits == {"train": 12000, "val": 1500, "test": 3000}
    bundled = load_splits("digit-sums")  # the default data: scikit-learn digits, no files needed
    assert bundled.info.input_shape == (5, 28, 28, 1) and bundled.test[1].max() <= 45
    assert tfmodels.get_spec("deepsets").default_data == "digit-sums"


def test_trains_saves_reloads_and_converts(sets, tmp_path):
    (elements, mask), labels = sets
    splits = load_splits("usps-digit-sums")

    def head(part, n):
        (e, m), y = part
        return (e[:n], m[:n]), y[:n]

    small = type(splits)(head(splits.train, 128), head(splits.val, 32), head(splits.test, 32), splits.info)
    result = train.fit("deepsets", small, epochs=2, batch_size=32, learning_rate=3e-3, verbose=0,
                       model_kwargs={k: v for k, v in TINY.items() if k != "input_shape"})
    hist = result.metrics["history"]["loss"]
    assert np.all(np.isfinite(hist)) and hist[1] < hist[0]
    model = result.model
    out = model.predict([elements, mask], verbose=0)
    model.save(tmp_path / "sm", save_format="tf")
    loaded = keras.models.load_model(tmp_path / "sm")
    np.testing.assert_allclose(loaded.predict([elements, mask], verbose=0), out, atol=1e-5)

    from tfmodels_edge import EdgeModel

    for mode, tol in (("float32", 1e-4), ("int8", 0.1 * np.ptp(out) + 0.05)):
        flat = convert.to_tflite(model, mode, representative=[elements, mask])  # in model.inputs order
        assert not any(op.startswith("CUSTOM") for op in convert.tflite_ops(flat))
        (tmp_path / f"{mode}.tflite").write_bytes(flat)
        edge = EdgeModel(tmp_path / f"{mode}.tflite").run(elements=elements[:8], element_mask=mask[:8])
        np.testing.assert_allclose(next(iter(edge.values())), out[:8], atol=tol)
