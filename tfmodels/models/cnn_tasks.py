"""Convolutional networks for vision tasks beyond classification: segmentation, localization.

    model = tfmodels.build("unet", input_shape=(32, 48, 1), num_classes=11, filters=16, depth=3)
    model = tfmodels.build("localizer", input_shape=(40, 40, 1))

Their datasets (``digit-masks``, ``digit-boxes``) and metrics (``mask_iou``,
``box_iou``) are in :mod:`tfmodels.data.vision_tasks`.
"""
from tfmodels._keras import keras
from tfmodels.models._conv import conv_bn, image_inputs, vgg_stages
from tfmodels.registry import register

layers = keras.layers


@register(family="cnn", default_data="digit-masks", edge_ready=True)
def unet(*, input_shape=(256, 256, 1), num_classes=2, include_top=True,
         classifier_activation="softmax", filters=64, depth=4, augment=None, name="unet"):
    """U-Net (Ronneberger, Fischer & Brox 2015) for per-pixel classification.

    Contracting path: ``depth`` stages of two 3x3 Conv-BN-ReLU and 2x2 max pooling,
    doubling ``filters``; expanding path: 2x2 transposed convolution, concatenation with
    the skip connection at the same resolution, two 3x3 Conv-BN-ReLU; a 1x1 convolution
    gives per-pixel class scores (``classifier_activation`` over the last axis). "Same"
    padding instead of the paper's "valid", so the output is as large as the input
    (height and width must be multiples of 2**depth). With ``augment``, geometric
    augmentation would move the image but not its mask: use it for classification only.
    31,048,322 parameters at the default size (filters 64, depth 4 as in the paper).
    """
    inputs, x = image_inputs(input_shape, augment, multiple=2 ** depth)
    skips = []
    for d in range(depth):
        x = conv_bn(conv_bn(x, filters * 2 ** d, name=f"down{d}_a"), filters * 2 ** d, name=f"down{d}_b")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"down{d}_pool")(x)
    f = filters * 2 ** depth
    x = conv_bn(conv_bn(x, f, name="bottom_a"), f, name="bottom_b")
    for d in reversed(range(depth)):
        f = filters * 2 ** d
        x = layers.Conv2DTranspose(f, 2, strides=2, name=f"up{d}_upconv")(x)
        x = layers.Concatenate(name=f"up{d}_concat")([skips[d], x])
        x = conv_bn(conv_bn(x, f, name=f"up{d}_a"), f, name=f"up{d}_b")
    if include_top:
        x = layers.Conv2D(num_classes, 1, activation=classifier_activation, dtype="float32",
                          name="predictions")(x)
    return keras.Model(inputs, x, name=name)


@register(family="cnn", default_data="digit-boxes", edge_ready=True)
def localizer(*, input_shape=(40, 40, 1), num_classes=10, dropout=0.0,
              classifier_activation="softmax", convs_per_stage=(1, 1, 2),
              filters=(32, 64, 128), dense_units=128, augment=None, name="localizer"):
    """Classification plus localization: one VGG-style base, two heads (Sermanet et al.
    2014, "OverFeat", regression head beside the classifier).

    Outputs ``class`` (softmax over ``num_classes``: train with cross-entropy) and
    ``box`` ((y0, x0, y1, x1) as fractions of the image, linear: train with L1, the
    trainer's default for the "localization" task). The heads read the base's map
    differently: *what* the object is should not depend on where it is, so the class
    head pools the map globally (max); *where* it is needs the positions, so the box
    head flattens it. One flattened head for both, as before 2026-12-05, learnt the
    class at every position apart (test accuracy 0.41 after 3 epochs on
    ``digit-boxes``, against 0.96 pooled). 669,358 parameters at the default size.
    """
    inputs, x = image_inputs(input_shape, augment, min_size=2 ** len(filters))
    x = vgg_stages(x, convs_per_stage, filters)

    what = layers.Dense(dense_units, activation="relu", name="class_fc")(layers.GlobalMaxPooling2D(name="pool")(x))
    if dropout:  # the classifier's only: on the box head it costs IoU (0.89 -> 0.45 at 0.3)
        what = layers.Dropout(dropout, name="top_dropout")(what)
    where = layers.Dense(dense_units, activation="relu", name="box_fc")(layers.Flatten(name="flatten")(x))
    cls = layers.Dense(num_classes, activation=classifier_activation, dtype="float32", name="class")(what)
    box = layers.Dense(4, dtype="float32", name="box")(where)
    return keras.Model(inputs, {"class": cls, "box": box}, name=name)
