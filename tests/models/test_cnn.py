"""Convolutional family: every registered builder builds, trains, reloads and converts.

Plus the pieces around them: augmentation is training-only, transfer reuses a trained
base, QAT rewrites a model with its weights and still converts to builtin int8.
"""
import re

import numpy as np
import pytest

import tfmodels
from tfmodels import convert, train
from tfmodels._keras import keras
from tfmodels.errors import UnknownNameError

# A tiny configuration of each builder (CPU time); every registered "cnn" name needs one.
SMALL = {
    "seed_cnn": dict(input_shape=(28, 28, 1)),
    "lenet5": dict(input_shape=(20, 20, 1)),
    "alexnet_small": dict(input_shape=(16, 16, 1), width=8, dense_units=16),
    "vgg": dict(input_shape=(16, 16, 1), filters=(8, 8, 16), dense_units=(16,)),
    "inception": dict(input_shape=(16, 16, 1), stem_filters=8,
                      stages=(((4, 4, 8, 4, 4, 4),), ((8, 4, 8, 4, 4, 4),))),
    "resnet": dict(input_shape=(16, 16, 1), filters=4),
    "mobilenet_v2": dict(input_shape=(16, 16, 1), alpha=0.35, blocks=((1, 16, 1, 1), (6, 24, 2, 2))),
    "conv1d": dict(input_shape=(16, 16), filters=8),
    "unet": dict(input_shape=(16, 16, 1), filters=4, depth=2, num_classes=3),
    "localizer": dict(input_shape=(16, 16, 1), filters=(8, 8, 8), dense_units=16),
}
CNN = [s.name for s in tfmodels.list_models("cnn")]


def _batch(model, n=8, seed=0):
    """Random inputs and targets of the right kind for ``model``'s task."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, *model.input_shape[1:]), np.float32)
    out = model.output_shape
    if isinstance(out, dict):  # localizer
        y = {"class": rng.integers(0, out["class"][-1], n), "box": rng.random((n, 4), np.float32)}
        return x, y, {"class": "sparse_categorical_crossentropy", "box": "mse"}
    if len(out) == 4:  # segmentation: a learnable label map (brightness bands)
        return x, np.minimum((x[..., 0] * out[-1]).astype(int), out[-1] - 1), "sparse_categorical_crossentropy"
    return x, rng.integers(0, out[-1], n), "sparse_categorical_crossentropy"


def _outputs(out) -> list:
    """Outputs as a list ordered by shape, so Keras' and TFLite's (renamed) outputs line up."""
    arrays = list(out.values()) if isinstance(out, dict) else [out]
    return sorted((np.asarray(a) for a in arrays), key=lambda a: a.shape)


def test_every_cnn_builder_has_a_small_test_configuration():
    assert sorted(SMALL) == sorted(CNN)
    assert all(tfmodels.get_spec(n).edge_ready for n in CNN)


@pytest.mark.parametrize("name", ["seed_cnn", "lenet5", "alexnet_small", "vgg", "inception",
                                  "resnet", "mobilenet_v2", "conv1d", "localizer"])
def test_default_size_matches_the_documented_parameter_count(name):
    # unet's 31M-parameter default is checked in the same way at a quarter of the width
    doc = tfmodels.get_spec(name).builder.__doc__
    documented = int(re.search(r"(\d[\d,]+)\s+parameters", doc).group(1).replace(",", ""))
    assert tfmodels.build(name).count_params() == documented


def test_named_variants_have_the_published_sizes():
    assert tfmodels.build("mobilenet_v2", num_classes=1000).count_params() == 3_538_984  # keras.applications
    r50 = tfmodels.build("resnet", depth=50, input_shape=(64, 64, 3), num_classes=1000)
    assert r50.output_shape == (None, 1000) and r50.get_layer("stage4_block3_c_conv").filters == 2048
    assert r50.get_layer("stem_conv").kernel_size == (7, 7)  # ImageNet stem at >= 64x64
    unet = tfmodels.build("unet", filters=16)
    assert unet.output_shape == (None, 256, 256, 2) and unet.count_params() < 31_048_322 / 15
    vgg16 = tfmodels.build("vgg", convs_per_stage="vgg16", filters=(64, 128, 256, 512, 512))
    assert sum(isinstance(l, keras.layers.Conv2D) for l in vgg16.layers) == 13


def test_mobilenet_v2_for_small_inputs_keeps_a_2x2_map_on_usps():
    from tfmodels.models.cnn import MOBILENET_V2_SMALL_BLOCKS

    spec = tfmodels.get_spec("mobilenet_v2")
    assert spec.default_kwargs["blocks"] == MOBILENET_V2_SMALL_BLOCKS  # what `tfmodels train` builds
    small = tfmodels.build("mobilenet_v2", input_shape=(16, 16, 1), **spec.default_kwargs)
    paper = tfmodels.build("mobilenet_v2", input_shape=(16, 16, 1), stem_strides=1)
    assert small.get_layer("top_conv").output_shape[1:3] == (2, 2)
    assert paper.get_layer("top_conv").output_shape[1:3] == (1, 1)
    assert small.count_params() == paper.count_params()  # the same layers, only strides differ


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(UnknownNameError, match="ResNet depth '9'.*18"):
        tfmodels.build("resnet", depth=9)
    with pytest.raises(UnknownNameError, match="vgg16"):
        tfmodels.build("vgg", convs_per_stage="vgg17")
    with pytest.raises(ValueError, match="at least 20x20, given 16x16"):
        tfmodels.build("lenet5", input_shape=(16, 16, 1))
    with pytest.raises(ValueError, match="multiples of 16, given 20x20"):
        tfmodels.build("unet", input_shape=(20, 20, 1))
    with pytest.raises(ValueError, match=r"\(steps, features\)"):
        tfmodels.build("conv1d", input_shape=(16, 16, 3))
    with pytest.raises(UnknownNameError, match="augmentation preset"):
        tfmodels.build("vgg", augment="digitz")


@pytest.mark.parametrize("name", sorted(SMALL))
def test_trains_saves_reloads_and_converts_builtin_only(name, tmp_path):
    model = tfmodels.build(name, **SMALL[name])
    x, y, loss = _batch(model)
    model.compile(keras.optimizers.Adam(1e-2), loss)
    # training-mode losses (BatchNorm on batch statistics), each before its update
    losses = [float(np.ravel(model.train_on_batch(x, y))[0]) for _ in range(5)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses

    expected = _outputs(model.predict(x, verbose=0))
    reloaded = train.load(train.save(model, tmp_path / "saved"))
    for a, b in zip(_outputs(reloaded.predict(x, verbose=0)), expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)

    from tfmodels_edge import EdgeModel
    for mode in ("float32", "int8"):
        flatbuffer = convert.to_tflite(model, mode, representative=x)
        ops = convert.tflite_ops(flatbuffer)
        assert not [o for o in ops if o.startswith("CUSTOM")], (mode, ops)
        path = tmp_path / f"{mode}.tflite"
        path.write_bytes(flatbuffer)
        edge = EdgeModel(path)
        got = _outputs(edge.run(inputs=x))
        assert [a.shape for a in got] == [b.shape for b in expected]
        if mode == "float32":
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, atol=1e-4)
        else:
            assert edge.input_details[0]["dtype"] == np.int8
            assert np.abs(got[-1] - expected[-1]).max() < 0.5  # random weights: coarse check


def test_augmentation_is_training_only_and_switchable():
    plain = tfmodels.build("vgg", **SMALL["vgg"])
    aug = tfmodels.build("vgg", **SMALL["vgg"], augment="digits")
    names = [l.name for l in aug.layers]
    assert {"aug_shift", "aug_rotation", "aug_zoom", "aug_shear"} <= set(names)
    assert not any(n.startswith("aug_") for n in (l.name for l in plain.layers))
    assert aug.count_params() == plain.count_params()
    x = np.random.default_rng(0).random((4, 16, 16, 1), np.float32)
    np.testing.assert_allclose(aug.predict(x, verbose=0), aug(x, training=False).numpy(), atol=1e-6)
    sub = keras.Model(aug.input, aug.get_layer("aug_shift").output)
    assert np.array_equal(sub(x, training=False).numpy(), x)
    assert np.abs(sub(x, training=True).numpy() - x).mean() > 0.01


def test_random_shear_moves_rows_in_proportion_to_height():
    from tfmodels.layers import RandomShear
    layer = RandomShear(0.5, seed=1)
    img = np.zeros((32, 9, 9, 1), np.float32)
    img[:, :, 4, 0] = 1.0  # a vertical line in each of 32 images
    sheared = layer(img, training=True).numpy()[..., 0]
    assert np.array_equal(layer(img, training=False).numpy(), img)
    # rows 1 and 7 of the line move apart by |s| * 6 pixels, |s| <= 0.5
    moved = [abs(np.average(np.arange(9), weights=im[1]) - np.average(np.arange(9), weights=im[7]))
             for im in sheared]
    assert max(moved) > 1.0 and max(moved) <= 0.5 * 6 + 1e-3
    assert RandomShear.from_config(layer.get_config()).factor == 0.5
    with pytest.raises(ValueError, match="given 1.5"):
        RandomShear(1.5)


def test_transfer_reuses_the_base_and_freezes_it(tmp_path):
    from tfmodels.transfer import fine_tune
    backbone = tfmodels.build("vgg", **SMALL["vgg"], num_classes=10)
    path = train.save(backbone, tmp_path / "backbone")
    model = tfmodels.transfer(path, 3, input_shape=(24, 24, 1))
    base = model.get_layer("base")
    assert model.output_shape == (None, 3) and not base.trainable
    assert [l.name for l in base.layers][-1] == "block3_pool"
    np.testing.assert_array_equal(base.get_layer("block1_1_conv").get_weights()[0],
                                  backbone.get_layer("block1_1_conv").get_weights()[0])
    head_weights = sum(w.shape.num_elements() for w in model.trainable_weights)
    assert head_weights == 16 * 3 + 3  # only the new classifier (avg-pooled 16 channels)
    x = np.random.default_rng(0).random((8, 24, 24, 1), np.float32)
    model.compile("adam", "sparse_categorical_crossentropy")
    frozen = base.get_layer("block1_1_conv").get_weights()[0].copy()
    model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    np.testing.assert_array_equal(base.get_layer("block1_1_conv").get_weights()[0], frozen)
    assert fine_tune(model, 2) == 2  # block3_2 and block3_1 convs (BN stays frozen)
    assert {l.name for l in base.layers if l.trainable and l.weights} == {"block3_1_conv", "block3_2_conv"}
    with pytest.raises(ValueError, match="channel"):
        tfmodels.transfer(backbone, 3, input_shape=(16, 16, 3))


def test_qat_keeps_weights_and_converts_to_builtin_int8():
    from tfmodels.train.qat import quantize_model
    model = tfmodels.build("resnet", **SMALL["resnet"], augment="digits")
    x, y, loss = _batch(model, 16)
    qat = quantize_model(model)
    assert any("quant" in l.name for l in qat.layers)
    assert any(l.name == "aug_shift" for l in qat.layers)  # unsupported layers left as they are
    # fake quantization only perturbs the float model's answers
    assert np.abs(qat.predict(x, verbose=0) - model.predict(x, verbose=0)).max() < 0.05
    qat.compile("adam", loss)
    assert np.isfinite(qat.train_on_batch(x, y))
    ops = convert.tflite_ops(convert.to_tflite(qat, "int8", representative=x))
    assert "CONV_2D" in ops and not [o for o in ops if o.startswith("CUSTOM")]
