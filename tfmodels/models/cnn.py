"""Convolutional networks for images."""
from tfmodels._keras import keras
from tfmodels.errors import UnknownNameError
from tfmodels.models._conv import (
    basic_block, bottleneck_block, conv_bn, image_inputs, inception_module, inverted_residual,
    make_divisible, vgg_stages,
)
from tfmodels.models._heads import classifier_head
from tfmodels.registry import register

layers = keras.layers


def usps_setup(epochs: int) -> dict:
    """The training setup that meets USPS's published error (BENCHMARKS.md: VGG 2.29%
    against 2.5% for humans): Adam at 2e-3 decayed by cosine, batches of 64."""
    return {"epochs": epochs, "batch_size": 64, "learning_rate": 2e-3, "schedule": "cosine"}


@register(family="cnn", default_data="digits", edge_ready=True, training=usps_setup(40))
def seed_cnn(
    *,
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float = 0.0,
    classifier_activation: str | None = "softmax",
    name: str = "seed_cnn",
):
    """The MNIST CNN the source material specifies, layer for layer.

    28x28x1 -> Conv 6@5x5 valid ReLU (24x24x6) -> Conv 12@5x5 valid ReLU (20x20x12)
    -> MaxPool 2x2 (10x10x12) -> Conv 12@5x5 valid ReLU (6x6x12) -> MaxPool 2x2
    (3x3x12) -> Flatten (108) -> Dense 256 ReLU -> Dense 10 softmax.
    36,054 parameters at the default size.
    """
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = layers.Conv2D(6, 5, activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(12, 5, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(12, 5, activation="relu", name="conv3")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    outputs = classifier_head(
        x, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, classifier_activation=classifier_activation, hidden_units=(256,),
    )
    return keras.Model(inputs, outputs, name=name)


# -- classic networks ------------------------------------------------------------------
# Every builder below takes ``augment=`` (None, a preset name or a dict; see
# tfmodels.layers.augment): training-only augmentation in front of the network.

HEAD_ARGS = ("num_classes", "include_top", "pooling", "dropout", "classifier_activation")


def _head(x, kw, **extra):
    return classifier_head(x, **{k: kw[k] for k in HEAD_ARGS}, **extra)


# 28x28: USPS is under its 20x20
@register(family="cnn", default_data="digits", edge_ready=True, training=usps_setup(40))
def lenet5(*, input_shape=(32, 32, 1), num_classes=10, include_top=True, pooling=None,
           dropout=0.0, classifier_activation="softmax", activation="tanh", augment=None,
           name="lenet5"):
    """LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to
    document recognition").

    32x32 -> C1 6@5x5 -> S2 avg pool -> C3 16@5x5 -> S4 avg pool -> C5 120@5x5 -> F6 84
    -> classes, ``activation`` (tanh as in the paper) after each. C3 is fully connected
    to S2 (the paper's sparse connection table is a 1998 compute saving) and the output
    is softmax instead of RBF units. 61,706 parameters at the default size; needs
    inputs of at least 20x20 (the paper pads 28x28 MNIST to 32x32).
    """
    kw = locals()
    inputs, x = image_inputs(input_shape, augment, min_size=20)
    x = layers.Conv2D(6, 5, activation=activation, name="c1")(x)
    x = layers.AveragePooling2D(2, name="s2")(x)
    x = layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = layers.AveragePooling2D(2, name="s4")(x)
    x = layers.Conv2D(120, x.shape[1:3], activation=activation, name="c5")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(84, activation=activation, name="f6")(x)
    return keras.Model(inputs, _head(x, kw), name=name)


@register(family="cnn", default_data="usps", edge_ready=True, training=usps_setup(40))
def alexnet_small(*, input_shape=(32, 32, 3), num_classes=10, include_top=True, pooling=None,
                  dropout=0.5, classifier_activation="softmax", width=64, dense_units=512,
                  augment=None, name="alexnet_small"):
    """AlexNet's pattern (Krizhevsky, Sutskever & Hinton 2012) scaled to small images.

    Five convolutions (5x5, 5x5, 3x3, 3x3, 3x3 at width x (1, 2, 3, 3, 2)) with
    overlapping 3x3/2 max pooling after the 1st, 2nd and 5th, then two ReLU dense
    layers with dropout. BatchNorm stands in for local response normalization and the
    11x11/4 stem becomes 5x5/1 for 32x32 inputs. 2,303,434 parameters at the default
    size.
    """
    kw = locals()
    inputs, x = image_inputs(input_shape, augment, min_size=8)
    for i, (mult, k, pool) in enumerate(((1, 5, True), (2, 5, True), (3, 3, False),
                                         (3, 3, False), (2, 3, True)), start=1):
        x = conv_bn(x, width * mult, k, name=f"conv{i}")
        if pool:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{i}")(x)
    return keras.Model(inputs, _head(x, kw, hidden_units=(dense_units, dense_units)), name=name)


VGG_CONFIGS = {  # convolutions per stage (Simonyan & Zisserman 2015, table 1)
    "vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2),
    "vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4),
}


@register(family="cnn", default_data="usps", edge_ready=True, training=usps_setup(80))
def vgg(*, input_shape=(32, 32, 3), num_classes=10, include_top=True, pooling=None,
        dropout=0.5, classifier_activation="softmax", convs_per_stage=(2, 2, 2),
        filters=(32, 64, 128), dense_units=(256,), augment=None, name="vgg"):
    """VGG (Simonyan & Zisserman 2015): stages of 3x3 Conv-BN-ReLU, each ending in 2x2 max
    pooling, then dense layers.

    ``convs_per_stage`` may be a name from ``VGG_CONFIGS`` ("vgg16" with
    ``filters=(64, 128, 256, 512, 512)`` and ``dense_units=(4096, 4096)`` is the paper's
    network at 224x224). The default is a 6-conv VGG for 32x32x3 inputs: 815,466
    parameters.
    """
    kw = locals()
    if isinstance(convs_per_stage, str):
        if convs_per_stage not in VGG_CONFIGS:
            raise UnknownNameError("VGG configuration", convs_per_stage, VGG_CONFIGS)
        convs_per_stage = VGG_CONFIGS[convs_per_stage]
    inputs, x = image_inputs(input_shape, augment, min_size=2 ** len(convs_per_stage))
    x = vgg_stages(x, convs_per_stage, filters)
    return keras.Model(inputs, _head(x, kw, hidden_units=tuple(dense_units)), name=name)


# (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection) per module, GoogLeNet's table 1
# order; the default halves GoogLeNet's inception (3a, 3b) and (4a, 4b) widths.
INCEPTION_SMALL = (((32, 48, 64, 8, 16, 16), (64, 64, 96, 16, 48, 32)),
                   ((96, 48, 104, 8, 24, 32), (80, 56, 112, 12, 32, 32)))


@register(family="cnn", default_data="usps", edge_ready=True, training=usps_setup(30))
def inception(*, input_shape=(32, 32, 3), num_classes=10, include_top=True, pooling="avg",
              dropout=0.2, classifier_activation="softmax", stem_filters=64,
              stages=INCEPTION_SMALL, augment=None, name="inception"):
    """GoogLeNet-style network of Inception modules (Szegedy et al. 2015, "Going deeper
    with convolutions").

    Each module runs 1x1, 1x1->3x3, 1x1->5x5 and 3x3-max-pool->1x1 branches in parallel
    and concatenates them (1x1 reductions keep it cheap); ``stages`` lists modules per
    stage, with 3x3/2 max pooling between stages, and global average pooling at the
    end as in the paper. A 3x3 stem replaces the 7x7/2 one for small inputs.
    349,658 parameters at the default size.
    """
    kw = locals()
    inputs, x = image_inputs(input_shape, augment, min_size=2 ** len(stages))
    x = conv_bn(x, stem_filters, 3, name="stem")
    for s, modules in enumerate(stages, start=1):
        if s > 1:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{s}")(x)
        for m, spec in enumerate(modules):
            x = inception_module(x, *spec, name=f"inception{s}{'abcdefgh'[m]}")
    return keras.Model(inputs, _head(x, kw), name=name)


# depth -> (block, blocks per stage, filters of the first stage)
RESNET_DEPTHS = {
    8: ("basic", (1, 1, 1), 16),  # MLPerf Tiny image classification (CIFAR-10, 32x32)
    18: ("basic", (2, 2, 2, 2), 64), 34: ("basic", (3, 4, 6, 3), 64),
    50: ("bottleneck", (3, 4, 6, 3), 64), 101: ("bottleneck", (3, 4, 23, 3), 64),
    152: ("bottleneck", (3, 8, 36, 3), 64),
}


@register(family="cnn", default_data="usps", edge_ready=True, training=usps_setup(40))
def resnet(*, input_shape=(32, 32, 3), num_classes=10, include_top=True, pooling="avg",
           dropout=0.0, classifier_activation="softmax", depth=8, block=None, blocks=None,
           filters=None, stem="auto", augment=None, name=None):
    """Residual network (He, Zhang, Ren & Sun 2016, "Deep residual learning").

    ``depth`` picks a named net from ``RESNET_DEPTHS``: 8 is the MLPerf Tiny ResNet-8
    for 32x32 images (16-32-64 filters, one basic block per stage), 18/34 use basic
    blocks (3x3-3x3), 50/101/152 bottleneck blocks (1x1-3x3-1x1, x4 expansion).
    ``block``, ``blocks`` and ``filters`` override the named layout. Shortcuts are
    identities, or 1x1 projections where the shape changes; filters double and the
    map halves at each new stage. ``stem``: "imagenet" (7x7/2 conv + 3x3/2 max pool),
    "small" (one 3x3 conv) or "auto" (small below 64x64 inputs). 78,714 parameters at
    the default size (ResNet-8, 32x32x3, 10 classes).
    """
    kw = locals()
    if depth not in RESNET_DEPTHS and not (block and blocks and filters):
        raise UnknownNameError("ResNet depth", str(depth), map(str, RESNET_DEPTHS))
    named = RESNET_DEPTHS.get(depth, (None, None, None))
    block, blocks, filters = block or named[0], blocks or named[1], filters or named[2]
    blocks_fn = {"basic": basic_block, "bottleneck": bottleneck_block}
    if block not in blocks_fn:
        raise UnknownNameError("ResNet block", block, blocks_fn)
    inputs, x = image_inputs(input_shape, augment, min_size=2 ** (len(blocks) - 1))
    if stem == "auto":
        stem = "small" if min(d or 224 for d in input_shape[:2]) < 64 else "imagenet"
    if stem == "imagenet":
        x = conv_bn(x, filters, 7, strides=2, name="stem")
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    elif stem == "small":
        x = conv_bn(x, filters, 3, name="stem")
    else:
        raise UnknownNameError("ResNet stem", stem, ("auto", "imagenet", "small"))
    for s, n in enumerate(blocks):
        for b in range(n):
            x = blocks_fn[block](x, filters * 2 ** s, strides=2 if s and not b else 1,
                                 name=f"stage{s + 1}_block{b + 1}")
    return keras.Model(inputs, _head(x, kw), name=name or f"resnet{depth}")


# (expansion t, output channels c, repeats n, first stride s): Sandler et al. 2018, table 2
MOBILENET_V2_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
# For inputs of 32x32 and less (CIFAR, USPS): the second stage keeps its resolution too,
# as the CIFAR adaptations of MobileNetV2 do; with stem_strides=1 the network downsamples
# 8x in all (USPS' 16x16 ends at 2x2, not 1x1).
MOBILENET_V2_SMALL_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 1), *MOBILENET_V2_BLOCKS[2:])


# USPS' 16x16: the stem's stride 2 and the paper's table would leave too little resolution
@register(family="cnn", default_data="usps", edge_ready=True,
          default_kwargs={"stem_strides": 1, "blocks": MOBILENET_V2_SMALL_BLOCKS}, training=usps_setup(30))
def mobilenet_v2(*, input_shape=(224, 224, 3), num_classes=10, include_top=True,
                 pooling="avg", dropout=0.0, classifier_activation="softmax", alpha=1.0,
                 stem_strides=2, blocks=MOBILENET_V2_BLOCKS, augment=None, name=None):
    """MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov & Chen 2018): the edge model.

    Inverted residual blocks (1x1 expand, 3x3 depthwise, linear 1x1 projection) with
    ReLU6, width multiplier ``alpha`` on every layer but the final 1280-channel conv
    (scaled only when alpha > 1), global average pooling. For small inputs (32x32 and
    less) use ``stem_strides=1`` and ``blocks=MOBILENET_V2_SMALL_BLOCKS`` (what
    ``tfmodels train`` builds); ``blocks`` replaces the paper's (t, c, n, s) table.
    2,270,794 parameters at the default size
    (224x224x3, alpha 1.0, 10 classes; 3,538,984 with 1000 classes like
    keras.applications).
    """
    kw = locals()
    inputs, x = image_inputs(input_shape, augment,
                             min_size=stem_strides * 2 ** sum(b[3] == 2 for b in blocks))
    x = conv_bn(x, make_divisible(32 * alpha), 3, strides=stem_strides, activation="relu6",
                name="stem")
    i = 0
    for t, c, n, s in blocks:
        for r in range(n):
            x = inverted_residual(x, make_divisible(c * alpha), expansion=t,
                                  strides=s if r == 0 else 1, name=f"block{i}")
            i += 1
    x = conv_bn(x, make_divisible(1280 * alpha) if alpha > 1 else 1280, 1,
                activation="relu6", name="top")
    return keras.Model(inputs, _head(x, kw), name=name or f"mobilenet_v2_{alpha:g}")


@register(family="cnn", default_data="usps", edge_ready=True, inputs=(
    "images", "series of feature vectors", "token-id sequences"), training=usps_setup(40))
def conv1d(*, input_shape=(16, 16), num_classes=10, include_top=True, pooling=None,
           dropout=0.5, classifier_activation="softmax", vocab_size=None, embed_dim=64,
           kernel_sizes=(3, 4, 5), filters=64, name="conv1d"):
    """1-D CNN for sequences and text (Kim 2014, "Convolutional neural networks for
    sentence classification").

    Parallel Conv1D branches of several widths, each max-pooled over time, concatenated,
    dropout, softmax. ``input_shape`` is (steps, features) for float sequences, or
    (steps,) of token ids with ``vocab_size`` (an Embedding of ``embed_dim`` first); a
    grayscale image (rows, columns, 1) is read as a sequence of its rows.
    ``pooling`` is unused (max over time is the architecture). 14,410 parameters at the
    default size (16 steps x 16 features, e.g. USPS rows).
    """
    kw = {**locals(), "pooling": None}
    if vocab_size:
        if len(input_shape) != 1:
            raise ValueError(f"with vocab_size, input_shape is (steps,), given {input_shape}")
        inputs = keras.Input(shape=input_shape, dtype="int32", name="inputs")
        x = layers.Embedding(vocab_size, embed_dim, name="embedding")(inputs)
    elif len(input_shape) == 3 and input_shape[-1] == 1:  # a grayscale image, read row by row
        inputs = keras.Input(shape=input_shape, name="inputs")
        x = layers.Reshape(input_shape[:2], name="rows")(inputs)
    else:
        if len(input_shape) != 2:
            raise ValueError(f"input_shape is (steps, features) or (rows, columns, 1), given {input_shape}")
        inputs = x = keras.Input(shape=input_shape, name="inputs")
    if input_shape[0] is not None and input_shape[0] < max(kernel_sizes):
        raise ValueError(f"sequences need at least {max(kernel_sizes)} steps, given {input_shape[0]}")
    branches = [layers.GlobalMaxPooling1D(name=f"maxtime{k}")(
        layers.Conv1D(filters, k, activation="relu", name=f"conv{k}")(x)) for k in kernel_sizes]
    x = layers.Concatenate(name="features")(branches) if len(branches) > 1 else branches[0]
    return keras.Model(inputs, _head(x, kw), name=name)
