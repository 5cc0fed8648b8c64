"""Render BENCHMARKS.md from benchmarks/results/*.json (``python -m benchmarks.render``).

Every figure in BENCHMARKS.md comes from a results file written by
``python -m benchmarks NAME``; nothing is typed by hand.
"""
import json
import operator
import re
from pathlib import Path

import benchmarks

RESULTS = Path(__file__).parent / "results"
OUT = Path(__file__).parents[1] / "BENCHMARKS.md"

# The issues' targets: (benchmark, what, measured key path, comparison, target: a number
# or another key path in the same results file). A tuple of key paths is a target any one
# of several models may meet: the best of them counts.
TARGETS = [
    ("foundation", "seed CNN float accuracy on digits", "float_test_accuracy", ">=", 0.97),
    ("foundation", "int8 accuracy (within 0.5 pt of float)", "int8_test_accuracy", ">=", ("float_test_accuracy", -0.005)),
    ("foundation", "int8 / float32 file size", "int8_size_ratio", "<=", 0.30),
    ("foundation", "trainer / plain model.fit samples/s", "trainer_throughput_ratio", ">=", 0.95),
    ("cnn", "best USPS test error", "best_test_error", "<=", 0.025),
    ("cnn", "largest int8 accuracy drop", "max_int8_accuracy_drop", "<=", 0.005),
    ("cnn", "MobileNetV2-224 int8 / float32 latency (2 threads)", "mobilenet_v2_int8_latency_ratio", "<=", 1.0),
    ("cnn", "transfer vs scratch accuracy, few labels", "transfer_accuracy", ">", "scratch_accuracy"),
    ("cnn", "MobileNetV2 USPS test accuracy", "models.mobilenet_v2.test_accuracy", ">=", 0.97),
    ("cnn", "localization class accuracy (digit-boxes)", "localization_accuracy", ">=", 0.97),
    ("cnn", "localization mean box IoU", "localization_mean_iou", ">=", 0.80),
    ("cnn", "localization int8 drop (accuracy or IoU)", "localization_int8_drop", "<=", 0.01),
    ("cnn", "segmentation mean IoU (digit-masks)", "segmentation_mean_iou", ">=", 0.85),
    ("cnn", "segmentation int8 mean IoU drop", "segmentation_int8_drop", "<=", 0.01),
    ("rnn", "sentiment: recurrent vs TF-IDF+LR", "sentiment_accuracy", ">", "tfidf_lr_accuracy"),
    ("rnn", "forecast MAE vs last value", "forecast_mae", "<", "last_value_mae"),
    ("rnn", "forecast MAE vs seasonal naive", "forecast_mae", "<", "seasonal_naive_mae"),
    ("rnn", "char LM validation loss (nats/char)", "charlm_val_loss", "<=", 1.60),
    ("rnn", "seq2seq exact match, held-out formats", "seq2seq_exact_match", ">=", 0.95),
    ("rnn", "char LM training tokens/s / PyTorch's", "charlm_vs_torch_train_ratio", ">=", 1.0),
    ("rnn", "char LM generation tokens/s vs PyTorch's", "charlm_generate_tokens_per_s", ">=",
     "torch_charlm_generate_tokens_per_s"),
    ("rnn", "LSTM seq2seq training examples/s / PyTorch's", "seq2seq_vs_torch_train_ratio", ">=", 1.0),
    ("rnn", "LSTM seq2seq beam search (3 beams) sources/s vs PyTorch's", "seq2seq_beam3_sources_per_s", ">=",
     "torch_seq2seq_beam3_sources_per_s"),
    ("transformer", "GPT char LM validation loss", "gpt_val_loss", "<=", 1.88),
    ("transformer", "GPT training tokens/s / PyTorch's", "gpt_vs_torch_train_ratio", ">=", 1.0),
    ("transformer", "GPT generation tokens/s, KV cache / none", "gpt_kv_cache_speedup", ">=", 3.0),
    ("transformer", "GPT generation tokens/s vs PyTorch's", "gpt_generate_tokens_per_s_kv_cache", ">=",
     "torch_gpt_generate_tokens_per_s"),
    ("transformer", "encoder sentiment vs TF-IDF+LR", "encoder_sentiment_accuracy", ">", "tfidf_lr_accuracy"),
    ("transformer", "seq2seq exact match, held-out formats", "seq2seq_exact_match", ">=", 0.95),
    ("transformer", "seq2seq training examples/s / PyTorch's", "seq2seq_vs_torch_train_ratio", ">=", 1.0),
    ("transformer", "ViT or MLP-Mixer on USPS (the better)", ("vit_usps_accuracy", "mixer_usps_accuracy"), ">=", 0.95),
    ("autoencoder", "mean anomaly AUC, ten one-class splits", "anomaly_mean_auc", ">=", 0.85),
    ("autoencoder", "denoising PSNR gain (dB), sigma 0.3", "denoise_psnr_gain_db", ">=", 5.0),
    ("autoencoder", "one-shot accuracy vs pixels + 10 pt", "oneshot_accuracy", ">=", ("oneshot_pixel_baseline_accuracy", 0.10)),
    ("gnn", "Cora GCN mean test accuracy", "cora.gcn.test_accuracy_mean", ">=", 0.815),
    ("gnn", "Cora GAT mean test accuracy", "cora.gat.test_accuracy_mean", ">=", 0.830),
    ("gnn", "MUTAG GIN 10-fold CV accuracy (Xu et al.'s protocol)", "mutag.gin.cv_accuracy_mean", ">=", 0.894),
    ("gnn", "PROTEINS GIN 10-fold CV accuracy (Xu et al.'s protocol)", "proteins.gin.cv_accuracy_mean", ">=", 0.762),
    ("gnn", "Cora link prediction AUC", "link_prediction_auc", ">=", 0.91),
    ("gnn", "GCN epoch time / PyG's", "gcn_epoch_ratio_vs_pyg", "<=", 1.0),
    ("distributed", "trainer / plain model.fit samples/s", "trainer_throughput_ratio", ">=", 0.95),
    ("reliability", "kill trials (train + export) that failed", "kill_trials_failed", "<=", 0),
    ("reliability", "folders left with a mixed export generation", "mixed_generations", "<=", 0),
    ("reliability", "corruptions answered with a traceback", "corruption_tracebacks", "<=", 0),
    ("reliability", "corruptions answered wrong without a word", "corruption_silent_wrong", "<=", 0),
    ("reliability", "misuses answered with a traceback", "misuse_tracebacks", "<=", 0),
    ("reliability", "misuses with an exit status other than 2", "misuse_wrong_exit", "<=", 0),
    ("reliability", "fuzzed .tflite files that crashed predict", "fuzz_crashes", "<=", 0),
    ("reliability", "fuzzed predict peak memory (MB) under the cap", "fuzz_peak_rss_mb", "<=", "fuzz_memory_cap_mb"),
    ("demo", "first make demo: seconds until every page's model exists", "first_demo_seconds", "<=", 900),
    ("demo", "pages with their content in Chromium", "pages_with_content", ">=", "pages"),
    ("demo", "digit CNN accuracy on MNIST digits it never saw", "digit_model_test_accuracy", ">=", 0.98),
    ("demo", "digit CNN int8 accuracy (within 0.5 pt of float)", "digit_model_int8_test_accuracy", ">=",
     ("digit_model_test_accuracy", -0.005)),
]
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def _get(data: dict, path: str):
    for part in path.split("."):
        data = data[part]
    return data


def _measure(data: dict, key, op: str):
    if isinstance(key, tuple):
        values = [_get(data, k) for k in key]
        return max(values) if op in (">", ">=") else min(values)
    return _get(data, key)


def _targets(results: dict[str, dict]) -> list[str]:
    rows = ["## Targets", "", "Each issue's target beside the measured figure (details below).", "",
            "| benchmark | figure | measured | target | met |", "|---|---|---|---|---|"]
    for bench, what, key, op, target in TARGETS:
        data = results.get(bench)
        try:
            measured = _measure(data, key, op)
            if isinstance(target, tuple):
                goal, shown = _get(data, target[0]) + target[1], f"{op} {target[0]} {target[1]:+g}"
            elif isinstance(target, str):
                goal, shown = _get(data, target), f"{op} {target} ({_fmt(_get(data, target))})"
            else:
                goal, shown = target, f"{op} {target:g}"
            met = "yes" if _OPS[op](measured, goal) else "**no**"
            if isinstance(key, str) and data.get(key.replace("_train_ratio", "_contended")) is True:
                met += " (on a busy machine: see its *_vs_torch details)"  # benchmarks/_vs_torch.py
            rows.append(f"| {bench} | {what} | {_fmt(measured)} | {shown} | {met} |")
        except (KeyError, TypeError):
            rows.append(f"| {bench} | {what} | not measured | {op} {target} | **no** |")
    return rows + [""]


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
        return text if len(text) <= 120 else text[:117] + "..."
    return str(value)


def _flatten(prefix: str, value, rows: list):
    if isinstance(value, dict) and len(json.dumps(value, default=str)) > 120:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, rows)
    else:
        rows.append((prefix, _fmt(value)))


def _provenance(results: dict[str, dict]) -> list[str]:
    """Which commit each part's figures come from, grouped by commit, newest run first."""
    groups: dict[str, list] = {}
    for name, data in results.items():
        meta = data.get("_meta", {})
        parts = data.get("sections") or {name: f"{meta.get('date', '?')} (commit {meta.get('commit', '?')})"}
        for part, stamp in parts.items():
            stamp = benchmarks.with_commit(str(stamp), meta)  # measured in the file's last run: its commit
            found = re.search(r"commit ([^,)]+)", stamp)
            date = stamp[:20].strip()
            if found:
                groups.setdefault(found.group(1), []).append((date, f"{name}: {part}"))
            else:
                groups.setdefault("not recorded", []).append((date, f"{name}: {part} ({date[:10]})"))
    rows = ["## Provenance", "",
            "The commit each part was last measured at (parts measured before 2026-12-05 recorded only "
            "their date). A results file's whole-run time is in its section's heading.", "",
            "| commit | last measured | parts |", "|---|---|---|"]
    for sha, items in sorted(groups.items(), key=lambda kv: max(kv[1])[0], reverse=True):
        rows.append(f"| {sha} | {max(items)[0]} | {', '.join(p for _, p in sorted(items))} |")
    return rows + [""]


def _times(results: dict[str, dict]) -> list[str]:
    """How long each part took when last measured (a benchmark without parts: its whole
    run, where that run was complete), and their sum: what a full ``make bench`` costs."""
    rows = ["## Time", "",
            "How long each part took when it was last measured, on its section's machine (parts measured "
            "before 2026-12-08 did not record it). Some parts share the machine: cnn's localization, "
            "segmentation and MobileNetV2-224 run in processes beside its classifiers, and gnn's TU parts "
            "are single-threaded jobs, one per core (a part's time: the sum of its jobs'). The total adds "
            "them up, so a full run's wall time is at most that.", "",
            "| benchmark | part | seconds | measured |", "|---|---|---|---|"]
    total, unknown = 0.0, 0
    for name, data in results.items():
        meta = data.get("_meta", {})
        if data.get("sections"):
            parts = {p: (benchmarks.part_seconds(stamp), stamp[:20].strip()) for p, stamp in data["sections"].items()}
        else:
            whole = "TFMODELS_BENCH_ONLY" not in meta.get("command", "")  # a partial run's time is not the whole's
            parts = {"(whole run)": (meta.get("wall_seconds") if whole else None, meta.get("date", "?"))}
        for part, (seconds, date) in parts.items():
            total += seconds or 0.0
            unknown += seconds is None
            rows.append(f"| {name} | {part} | {'not recorded' if seconds is None else f'{seconds:.0f}'} | {date} |")
    rows.append(f"| **all** | {unknown} parts not recorded | **{total:.0f}** ({total / 60:.0f} min) | |")
    return rows + [""]


def render() -> str:
    parts = ["# Benchmarks", "",
             "Generated by `make bench` (`python -m benchmarks all && python -m benchmarks.render`)",
             "from the JSON files in `benchmarks/results/`. Each section states when and where it ran.", ""]
    results = {path.stem: json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))}
    parts += _targets(results) + _provenance(results) + _times(results)
    for name, data in results.items():
        meta = data.pop("_meta", {})
        parts += [f"## {name}", "",
                  f"`{meta.get('command', '')}` — {meta.get('date', '?')}, commit {meta.get('commit', '?')}, "
                  f"{meta.get('machine', '?')}, {meta.get('wall_seconds', '?')} s", "", "| figure | value |",
                  "|---|---|"]
        rows: list = []
        for key, value in data.items():
            _flatten(key, value, rows)
        parts += [f"| {k} | {v} |" for k, v in rows] + [""]
    return "\n".join(parts)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
