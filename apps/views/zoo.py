"""Every trained artifact with its size, accuracy, latency and parity, from the reports."""
import json

import pandas as pd
import streamlit as st

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
    demos = demo_rows()
    if not demos.empty:
        st.subheader("The pages' demo models")
        st.dataframe(demos, hide_index=True)


page()
