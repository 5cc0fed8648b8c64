"""Training-only data augmentation: shift, rotation, zoom, shear and flip as Keras layers.

    x = inputs
    for layer in augmentation("digits"):
        x = layer(x)

Every builder of the convolutional family takes ``augment=`` (a preset name or a dict
of the keywords below), so augmentation is switched per run, e.g.
``tfmodels.train.fit("resnet", "usps", model_kwargs={"augment": "digits"})``. The
layers transform images only when called with ``training=True`` (``fit``); in
``predict``, ``evaluate``, SavedModel serving and TFLite conversion they pass images
through unchanged, so exported models carry no random ops.
"""
from tfmodels._keras import keras, tf
from tfmodels.errors import UnknownNameError

layers = keras.layers

# Digits: no flips (a mirrored 2 is not a 2); natural images: horizontal flips.
PRESETS = {
    "digits": {"shift": 0.1, "rotation": 10.0, "zoom": 0.1, "shear": 0.1},
    "natural": {"shift": 0.1, "rotation": 15.0, "zoom": 0.1, "flip": "horizontal"},
}
FLIPS = (None, "horizontal", "vertical", "horizontal_and_vertical")


@keras.utils.register_keras_serializable(package="tfmodels")
class RandomShear(layers.Layer):
    """Shear images horizontally by a random factor in [-factor, factor] (training only).

    x' = x + s * (y - h / 2): rows slide sideways in proportion to their distance
    from the centre row; pixels shifted in from outside are zero.
    """

    def __init__(self, factor: float, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= factor < 1:
            raise ValueError(f"shear factor must be in [0, 1), given {factor}")
        self.factor, self.seed = float(factor), seed

    def call(self, images, training=None):
        if not training:
            return images
        shape = tf.shape(images)
        batch, h = shape[0], tf.cast(shape[1], tf.float32)
        s = tf.random.uniform([batch], -self.factor, self.factor, seed=self.seed)
        one, zero = tf.ones_like(s), tf.zeros_like(s)
        # Projective transform mapping output (x, y) to input (x + s*y - s*h/2, y).
        transforms = tf.stack([one, s, -s * h / 2, zero, one, zero, zero, zero], axis=1)
        out = tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=shape[1:3],
            fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")
        return tf.ensure_shape(out, images.shape)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


def augmentation(spec=None, *, seed=None) -> list:
    """The augmentation layers for ``spec``: None (no layers), a preset name or a dict.

    Dict keys: ``shift`` (fraction of height/width), ``rotation`` (degrees), ``zoom``
    (fraction), ``shear`` (factor), ``flip`` (one of ``FLIPS``).
    """
    if spec is None or spec is False:
        return []
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise UnknownNameError("augmentation preset", spec, PRESETS)
        spec = PRESETS[spec]
    allowed = {"shift", "rotation", "zoom", "shear", "flip"}
    if not isinstance(spec, dict) or set(spec) - allowed:
        raise ValueError(f"augment must be None, one of {sorted(PRESETS)} or a dict with keys "
                         f"{sorted(allowed)}, given {spec!r}")
    if spec.get("flip") not in FLIPS:
        raise UnknownNameError("flip", spec.get("flip"), [f for f in FLIPS if f])
    out = []
    if spec.get("flip"):
        out.append(layers.RandomFlip(spec["flip"], seed=seed, name="aug_flip"))
    if spec.get("rotation"):
        out.append(layers.RandomRotation(spec["rotation"] / 360.0, fill_mode="constant",
                                         seed=seed, name="aug_rotation"))
    if spec.get("shear"):
        out.append(RandomShear(spec["shear"], seed=seed, name="aug_shear"))
    if spec.get("zoom"):
        out.append(layers.RandomZoom(spec["zoom"], fill_mode="constant", seed=seed, name="aug_zoom"))
    if spec.get("shift"):
        out.append(layers.RandomTranslation(spec["shift"], spec["shift"], fill_mode="constant",
                                            seed=seed, name="aug_shift"))
    return out


__all__ = ["augmentation", "RandomShear", "PRESETS", "FLIPS"]
