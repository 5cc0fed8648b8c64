"""Building blocks the convolutional builders share (Conv-BN-ReLU patterns only).

Every convolution that is followed by BatchNormalization has no bias and a plain
ReLU/ReLU6 after it, so the TFLite converter folds BN into the convolution and fuses
the activation: float32 and full-int8 models stay builtin-only.
"""
from tfmodels._keras import keras
from tfmodels.layers.augment import augmentation

layers = keras.layers

# Moving-average momentum of every BatchNorm here: 0.9 (PyTorch's default) rather than
# Keras' 0.99, so inference statistics settle within the first few hundred steps; with
# 0.99 a VGG trained 2 epochs on USPS scored 94% on its training batches but 13% in
# inference mode (the moving averages still remembered their initial values).
BN_MOMENTUM = 0.9


def image_inputs(input_shape, augment=None, *, min_size: int = 1, multiple: int = 1):
    """``keras.Input`` named "inputs" plus optional training-only augmentation.

    Checks the spatial size against what the architecture can take, so a too-small
    input fails here with both numbers rather than deep inside a layer.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"expected input_shape (height, width, channels), given {input_shape}")
    h, w = input_shape[:2]
    if h is not None and w is not None:
        if min(h, w) < min_size:
            raise ValueError(f"this model needs inputs of at least {min_size}x{min_size}, given {h}x{w}")
        if h % multiple or w % multiple:
            raise ValueError(f"height and width must be multiples of {multiple}, given {h}x{w}")
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    for layer in augmentation(augment):
        x = layer(x)
    return inputs, x


def conv_bn(x, filters, kernel=3, *, strides=1, activation="relu", name):
    """Conv (no bias) -> BatchNorm -> ReLU ("relu"), ReLU6 ("relu6") or nothing (None)."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    if activation == "relu":
        x = layers.ReLU(name=f"{name}_relu")(x)
    elif activation == "relu6":
        x = layers.ReLU(6.0, name=f"{name}_relu6")(x)
    return x


def vgg_stages(x, convs_per_stage, filters, *, name="block"):
    """VGG stages: ``n`` 3x3 Conv-BN-ReLU then a 2x2 max pool, per stage."""
    if len(convs_per_stage) != len(filters):
        raise ValueError(f"one filter count per stage: {len(convs_per_stage)} stages, "
                         f"given {len(filters)} filter counts")
    for s, (n, f) in enumerate(zip(convs_per_stage, filters), start=1):
        for c in range(1, n + 1):
            x = conv_bn(x, f, 3, name=f"{name}{s}_{c}")
        x = layers.MaxPooling2D(2, name=f"{name}{s}_pool")(x)
    return x


def inception_module(x, f1, f3r, f3, f5r, f5, fp, *, name):
    """GoogLeNet module: 1x1 | 1x1->3x3 | 1x1->5x5 | 3x3 max pool->1x1, concatenated."""
    b1 = conv_bn(x, f1, 1, name=f"{name}_1x1")
    b3 = conv_bn(conv_bn(x, f3r, 1, name=f"{name}_3x3r"), f3, 3, name=f"{name}_3x3")
    b5 = conv_bn(conv_bn(x, f5r, 1, name=f"{name}_5x5r"), f5, 5, name=f"{name}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = conv_bn(bp, fp, 1, name=f"{name}_poolproj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def _shortcut(x, filters, strides, name):
    """Identity when shapes match, else a strided 1x1 projection (He et al., option B)."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return conv_bn(x, filters, 1, strides=strides, activation=None, name=f"{name}_proj")


def basic_block(x, filters, *, strides=1, name):
    """ResNet basic block: 3x3 -> 3x3, added to the shortcut, then ReLU."""
    shortcut = _shortcut(x, filters, strides, name)
    y = conv_bn(x, filters, 3, strides=strides, name=f"{name}_a")
    y = conv_bn(y, filters, 3, activation=None, name=f"{name}_b")
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([shortcut, y]))


def bottleneck_block(x, filters, *, strides=1, expansion=4, name):
    """ResNet bottleneck: 1x1 reduce -> 3x3 (strided) -> 1x1 expand (x4), plus shortcut."""
    shortcut = _shortcut(x, filters * expansion, strides, name)
    y = conv_bn(x, filters, 1, name=f"{name}_a")
    y = conv_bn(y, filters, 3, strides=strides, name=f"{name}_b")
    y = conv_bn(y, filters * expansion, 1, activation=None, name=f"{name}_c")
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([shortcut, y]))


def inverted_residual(x, filters, *, expansion, strides, name):
    """MobileNetV2 block: 1x1 expand ReLU6 -> 3x3 depthwise ReLU6 -> 1x1 linear project.

    The residual connection is used when stride is 1 and channels match.
    """
    y = x
    if expansion != 1:
        y = conv_bn(y, x.shape[-1] * expansion, 1, activation="relu6", name=f"{name}_expand")
    y = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False,
                               name=f"{name}_dw")(y)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(y)
    y = layers.ReLU(6.0, name=f"{name}_dw_relu6")(y)
    y = conv_bn(y, filters, 1, activation=None, name=f"{name}_project")
    if strides == 1 and x.shape[-1] == filters:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10%."""
    out = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * value else out
