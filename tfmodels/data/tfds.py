"""TensorFlow Datasets as a source: ``tfmodels.data.load("tfds:mnist")``.

Images are scaled to float32 [0, 1]. ``train`` is the first 90% of TFDS's train split,
``val`` the last 10%, ``test`` its test split. Needs the network (or a prepared
``data_dir``) the first time, like ``tfds.load`` itself.
"""
import numpy as np

from tfmodels.data.core import make_splits


def load_tfds(name: str, data_dir=None):
    import tensorflow_datasets as tfds

    def arrays(split):
        ds = tfds.load(name, split=split, as_supervised=True, data_dir=data_dir)
        batches = list(tfds.as_numpy(ds.batch(4096)))
        x = np.concatenate([b[0] for b in batches])
        y = np.concatenate([b[1] for b in batches])
        x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        return x, y.astype(np.int32)

    builder = tfds.builder(name, data_dir=data_dir)
    label = builder.info.features[builder.info.supervised_keys[1]]
    names = tuple(getattr(label, "names", ()) or ())
    return make_splits(
        f"tfds:{name}", arrays("train[:90%]"), arrays("train[90%:]"), arrays("test"),
        num_classes=getattr(label, "num_classes", None), class_names=names,
        description=builder.info.description.strip().splitlines()[0] if builder.info.description else "",
    )
