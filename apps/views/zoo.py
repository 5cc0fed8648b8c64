"""Every trained artifact with its size, accuracy, latency and parity, from the reports;
one artifact's training curves and the confusion matrix of each of its .tflite files."""
import json

import pandas as pd
import streamlit as st

from charts import confusion_chart, curve_chart, curves
from common import artifacts, build_defaults_button, guarded, zoo_dir


def rows() -> pd.DataFrame:
    import tfmodels

    out = []
    for a in artifacts():
        modes = a["export"]["modes"]
        try:
            family = tfmodels.get_spec(a["metrics"]["model"]).family
        except tfmodels.UnknownNameError:
            family = "?"
        f32, i8 = modes.get("float32", {}), modes.get("int8", {})
        out.append({
            "artifact": a["name"], "family": family, "dataset": a["metrics"]["dataset"],
            "params": a["export"]["params"],
            "float32 KiB": f32.get("bytes", 0) / 1024, "int8 KiB": i8.get("bytes", 0) / 1024,
            "test accuracy": a["metrics"].get("test_accuracy"),
            "int8 accuracy": i8.get("accuracy"),
            "float32 ms": f32.get("p50_ms_1t"), "int8 ms": i8.get("p50_ms_1t"),
            "parity": "ok" if all(m.get("parity_ok", False) for m in modes.values()) else "CHECK",
            "builtin only": all(m["builtin_only"] for m in modes.values()),
        })
    return pd.DataFrame(out)


def class_names(artifact: dict) -> list[str]:
    """The names a device shows for each class (the export's labels.txt), else the run's."""
    labels = artifact["run"].export_file("labels.txt", verify=False)
    if labels is not None:
        return labels.read_text().splitlines()
    return list((artifact["run"].config() or {}).get("class_names", ()))


def details(artifact: dict):
    """Training curves from metrics.json, the confusion matrix from export_report.json."""
    st.subheader(f"{artifact['name']}: training and test")
    left, right = st.columns(2)
    plots = curves(artifact["metrics"].get("history", {}))
    for col, (quantity, frame) in zip((left, right) * len(plots), plots.items()):
        col.altair_chart(curve_chart(frame, quantity), width="stretch")
    modes = {m: e for m, e in artifact["export"]["modes"].items() if "confusion_matrix" in e}
    if not modes:
        st.caption("No confusion matrix: this export has no labelled held-out split, or predates them "
                   f"(`tfmodels export {artifact['path']}` adds it).")
        return
    mode = st.radio("Confusion matrix of", list(modes), horizontal=True, key="zoo_mode",
                    index=list(modes).index("int8") if "int8" in modes else 0)
    entry = modes[mode]
    st.altair_chart(confusion_chart(entry["confusion_matrix"], class_names(artifact),
                                    title=f"model_{mode}.tflite on {entry['samples']} held-out examples: "
                                          f"accuracy {entry['accuracy']:.1%}"), width="stretch")


def demo_rows() -> pd.DataFrame:
    """The pages' own small models (directories holding done.json) with their size on disk."""
    out = []
    for done in sorted(zoo_dir().glob("*/done.json")):
        files = [f for f in done.parent.rglob("*") if f.is_file()]
        out.append({"demo model": done.parent.name, "KiB on disk": sum(f.stat().st_size for f in files) / 1024,
                    "built": json.loads(done.read_text()).get("built")})
    return pd.DataFrame(out)


@guarded
def page():
    st.title("Model zoo")
    table = rows()
    if table.empty:
        build_defaults_button()
    else:
        st.dataframe(table, hide_index=True, width="stretch")
        left, right = st.columns(2)
        left.subheader("Size vs accuracy")
        left.scatter_chart(table, x="int8 KiB", y="int8 accuracy", color="artifact")
        right.subheader("Latency: float32 vs int8 (LiteRT, 1 thread, ms)")
        right.bar_chart(table.set_index("artifact")[["float32 ms", "int8 ms"]], stack=False)
        st.caption("All figures are read from each artifact's metrics.json and export_report.json.")
        by_name = {a["name"]: a for a in artifacts()}
        details(by_name[st.selectbox("Artifact", list(by_name), key="zoo_artifact")])
    demos = demo_rows()
    if not demos.empty:
        st.subheader("The pages' demo models")
        st.dataframe(demos, hide_index=True)


page()
