"""Images as token sequences: non-overlapping patches, linearly embedded (ViT)."""
from tfmodels._keras import keras, tf

layers = keras.layers


@keras.utils.register_keras_serializable(package="tfmodels")
class PatchEmbedding(layers.Layer):
    """``[B, H, W, C]`` -> ``[B, (H/p)(W/p), dim]``: a p x p convolution with stride p.

    The strided convolution is exactly "cut into p x p patches, flatten, Dense(dim)".
    """

    def __init__(self, patch_size, dim, **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.dim = patch_size, dim
        self.proj = layers.Conv2D(dim, patch_size, strides=patch_size, name="proj")

    def build(self, input_shape):
        h, w = input_shape[1], input_shape[2]
        if h % self.patch_size or w % self.patch_size:
            raise ValueError(f"image size {h}x{w} is not divisible by patch_size={self.patch_size}")
        self.num_patches = (h // self.patch_size) * (w // self.patch_size)
        super().build(input_shape)

    def call(self, images):
        return tf.reshape(self.proj(images), [-1, self.num_patches, self.dim])

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "dim": self.dim}


@keras.utils.register_keras_serializable(package="tfmodels")
class ClassToken(layers.Layer):
    """Prepend one learned token (BERT's [CLS], ViT's class token) to a sequence."""

    def build(self, input_shape):
        self.token = self.add_weight(name="token", shape=(1, 1, input_shape[-1]), initializer="zeros")
        super().build(input_shape)

    def call(self, x):
        token = tf.tile(tf.cast(self.token, x.dtype), [tf.shape(x)[0], 1, 1])
        return tf.concat([token, x], axis=1)
