"""Class names, a text model's vocabulary and input standardization inside the .tflite, as
TFLite model metadata.

The format of the TFLite Support library's metadata writers, so its tools (and
``zipfile``) read it: a ``ModelMetadata`` flatbuffer (``metadata_schema.fbs``, file
identifier ``M001``) stored in one of the model's buffers and named ``TFLITE_METADATA``
in its ``metadata`` list, naming the associated files, which follow the flatbuffer as a
zip archive. ``labels.txt`` is the first output's ``TENSOR_AXIS_LABELS`` file, a
vocabulary the first input's. LiteRT ignores all of it; the edge kit reads the labels
back when no ``labels.txt`` lies beside the file (``EdgeModel.labels``), and applies an
input's ``NormalizationOptions`` to the raw values it is given (``EdgeModel.normalization``).

The writer's package (``tflite-support``) needs protobuf < 4, which TensorFlow 2.21
cannot take, so the few tables are written here with ``flatbuffers`` (a TensorFlow
dependency) and TensorFlow's own TFLite schema module.
"""
import io
import zipfile

import flatbuffers
import numpy as np

METADATA_NAME = "TFLITE_METADATA"
MIN_PARSER_VERSION = "1.0.0"  # associated files and tensor metadata are in 1.0.0
TENSOR_AXIS_LABELS, VOCABULARY = 2, 5  # metadata_schema.fbs AssociatedFileType
NORMALIZATION_OPTIONS = 1  # metadata_schema.fbs ProcessUnitOptions


def _metadata(model_name: str, inputs: list[str], outputs: list[str], labels: bool, vocabulary: str | None,
              normalization: dict) -> bytes:
    """The ``ModelMetadata`` flatbuffer: one tensor entry per input and output, the
    labels file on the first output, the vocabulary file on the first input, and an
    input's ``NormalizationOptions`` (``normalization``: input position -> mean, std)."""
    b = flatbuffers.Builder(1024)

    def table(slots: list[tuple[int, int]], size: int) -> int:  # (slot, offset) of strings/vectors
        b.StartObject(size)
        for slot, offset in slots:
            b.PrependUOffsetTRelativeSlot(slot, offset, 0)
        return b.EndObject()

    def vector(offsets: list[int]) -> int:
        b.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            b.PrependUOffsetTRelative(offset)
        return b.EndVector()

    def associated(name: str, description: str, kind: int) -> int:
        n, d = b.CreateString(name), b.CreateString(description)
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, n, 0)
        b.PrependUOffsetTRelativeSlot(1, d, 0)
        b.PrependInt8Slot(2, kind, 0)
        return b.EndObject()

    def floats(values) -> int:
        b.StartVector(4, len(values), 4)
        for value in reversed(values):
            b.PrependFloat32(float(value))
        return b.EndVector()

    def normalize(mean, std) -> int:  # ProcessUnit{options_type: NormalizationOptions, options}
        m, s = floats(mean), floats(std)
        options = table([(0, m), (1, s)], 2)
        b.StartObject(2)
        b.PrependUint8Slot(0, NORMALIZATION_OPTIONS, 0)
        b.PrependUOffsetTRelativeSlot(1, options, 0)
        return b.EndObject()

    def tensor(name: str, file: int | None, stats=None) -> int:
        files = vector([file]) if file is not None else None
        units = vector([normalize(*stats)]) if stats is not None else None
        n = b.CreateString(name)
        return table([(0, n)] + ([(4, units)] if units is not None else [])
                     + ([(6, files)] if files is not None else []), 7)

    label_file = associated("labels.txt", "class names, one per line, in output order",
                            TENSOR_AXIS_LABELS) if labels else None
    vocab_file = associated(vocabulary, "tfmodels vocabulary (JSON): token ids of the text input",
                            VOCABULARY) if vocabulary else None
    ins = vector([tensor(name, vocab_file if i == 0 else None, normalization.get(i))
                  for i, name in enumerate(inputs)])
    outs = vector([tensor(name, label_file if i == 0 else None) for i, name in enumerate(outputs)])
    subgraph = table([(2, ins), (3, outs)], 10)
    name, version = b.CreateString(model_name), b.CreateString(MIN_PARSER_VERSION)
    model = table([(0, name), (3, vector([subgraph])), (7, version)], 8)
    b.Finish(model, file_identifier=b"M001")
    return bytes(b.Output())


def embed(flatbuffer: bytes, files: dict[str, bytes], *, model_name: str = "",
          normalization: dict | None = None) -> bytes:
    """``flatbuffer`` with ``files`` (``labels.txt``, a vocabulary) as model metadata, and
    ``normalization`` (input position -> per-feature mean and std) as the inputs'
    ``NormalizationOptions``: a device feeds ``(x - mean) / std``."""
    from tensorflow.lite.python import schema_py_generated as schema

    normalization = normalization or {}
    if not files and not normalization:
        return flatbuffer
    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    subgraph = model.subgraphs[0]
    names = [t.name.decode() if isinstance(t.name, bytes) else (t.name or "") for t in subgraph.tensors]
    vocabulary = next((f for f in files if f != "labels.txt"), None)
    meta = _metadata(model_name, [names[i] for i in subgraph.inputs], [names[i] for i in subgraph.outputs],
                     "labels.txt" in files, vocabulary, normalization)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(meta, np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name not in (METADATA_NAME, METADATA_NAME.encode())]
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(flatbuffer) + len(meta) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out = io.BytesIO(bytes(builder.Output()))
    if files:
        out.seek(0, io.SEEK_END)
        with zipfile.ZipFile(out, "a") as archive:  # appended after the flatbuffer, as the writers do
            for file, data in files.items():
                archive.writestr(file, data)
    return out.getvalue()
