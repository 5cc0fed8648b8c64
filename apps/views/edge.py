"""Run an exported model on a device with the edge kit: copyable commands, its deployment
report (ops, tensor arena, sizes), the class names it carries and a latency benchmark on
this machine."""
from pathlib import Path

import pandas as pd
import streamlit as st

from common import artifacts, build_defaults_button, edge_model, guarded

REPO = Path(__file__).resolve().parents[2]


def commands(tflite: Path) -> str:
    from tfmodels_edge import __version__

    wheel = f"tfmodels_edge-{__version__}-py3-none-any.whl"
    return f"""# on the device: the edge kit needs numpy and LiteRT only (no TensorFlow)
pip install "./export[litert]"                  # from a checkout of this repository
# or build a wheel here, copy it over, install it there:
pip wheel --no-deps ./export -w dist/ && pip install "dist/{wheel}[litert]"

tfmodels-edge inspect   {tflite} --table      # ops, arena, sizes, latency
tfmodels-edge predict   {tflite} --input digit.png
tfmodels-edge benchmark {tflite} --runs 200 --threads 2"""


def device_report(entry: dict) -> dict:
    """The export report's entry for one mode in the edge kit's device-report form."""
    return {"file": entry["file"], "size_bytes": entry["bytes"], "ops": entry["ops"],
            "builtin_only": entry["builtin_only"], "inputs": entry["inputs"], "outputs": entry["outputs"],
            "memory": entry["memory"], "latency_ms": entry.get("latency_ms", {})}


def summary(modes: dict) -> pd.DataFrame:
    return pd.DataFrame([{
        "mode": mode, "file KiB": e["bytes"] / 1024, "weights KiB": e["memory"]["weights_bytes"] / 1024,
        "arena KiB": e["memory"]["arena_peak_bytes"] / 1024, "ops": sum(o["count"] for o in e["ops"]),
        "builtin only": e["builtin_only"], "parity": "ok" if e.get("parity_ok") else "CHECK",
        "p50 ms (1 thread)": e.get("p50_ms_1t"), "p50 ms (2 threads)": e.get("p50_ms_2t"),
    } for mode, e in modes.items()])


def benchmark(paths: dict, *, runs: int, threads: int) -> pd.DataFrame | None:
    """p50/p90/p99 of each .tflite on this machine, or None with the edge kit's message."""
    from tfmodels_edge import EdgeError

    rows = []
    for mode, path in paths.items():
        try:
            b = edge_model(str(path)).benchmark(runs=runs, num_threads=threads)
        except (EdgeError, OSError) as e:
            st.error(f"The edge kit cannot run `{path.name}`: {e}")
            return None
        rows.append({"mode": mode, **{k: b[k] for k in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "runs", "threads")}})
    return pd.DataFrame(rows)


@guarded
def page():
    st.title("Edge: run a model on a device")
    arts = {a["name"]: a for a in artifacts()}
    if not arts:
        build_defaults_button()
        return
    art = arts[st.selectbox("Artifact", list(arts), key="edge_artifact")]
    modes = art["export"]["modes"]
    paths = {mode: Path(f) for mode, f in art["files"].items()}
    mode = st.radio("File", list(modes), index=list(modes).index("int8") if "int8" in modes else 0,
                    horizontal=True, key="edge_mode")
    path = paths[mode]
    st.subheader("On the device")
    st.code(commands(path.relative_to(REPO) if path.is_relative_to(REPO) else path), language="bash")

    st.subheader("Deployment report")
    st.dataframe(summary(modes), hide_index=True, width="stretch")
    from tfmodels_edge import format_device_report

    st.code(format_device_report(device_report(modes[mode])), language="text")
    from tfmodels_edge import EdgeError

    try:
        model = edge_model(str(path))
        labels, embedded = model.labels, model.embedded_files
    except (EdgeError, OSError):  # a damaged file: the benchmark below says so
        labels, embedded = None, {}
    if labels:
        st.markdown(f"**Class names on the device** ({len(labels)}, in `labels.txt` beside the file and "
                    f"embedded in it as TFLite metadata: {', '.join(sorted(embedded)) or 'none'}): "
                    + ", ".join(f"`{name}`" for name in labels[:30]) + (" ..." if len(labels) > 30 else ""))
    st.caption(f"From `{art['run'].report_file}` (written by tfmodels.convert.export on "
               f"{art['export']['created']}, {art['export']['machine']}).")

    st.subheader("Latency on this machine (LiteRT, batch 1)")
    left, right = st.columns(2)
    threads = left.selectbox("Threads", [1, 2, 4], key="edge_threads")
    runs = right.number_input("Timed runs", 10, 2000, 100, step=10, key="edge_runs")
    if st.button("Benchmark every file", type="primary"):
        table = benchmark(paths, runs=int(runs), threads=threads)
        if table is not None:
            st.dataframe(table, hide_index=True, width="stretch")
            st.bar_chart(table.set_index("mode")[["p50_ms", "p90_ms", "p99_ms"]], stack=False)


page()
