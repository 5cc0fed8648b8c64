"""The export report as text: one row per mode, then what a device needs per mode.

``format_report(report)`` renders what :func:`tfmodels.convert.export` returns (and
writes to ``export_report.json``); ``tfmodels export`` prints it.
"""

COLUMNS = ("bytes", "size_ratio_vs_float32", "builtin_only", "max_abs_diff", "top1_agreement",
           "accuracy", "p50_ms_1t", "p50_ms_2t", "parity_ok")


def _cell(v) -> str:
    return f"{v:>15.4g}" if isinstance(v, float) else f"{str(v):>15}"


def _io(tensors: list[dict]) -> str:
    parts = []
    for t in tensors:
        q = t.get("quantization")
        quant = ""
        if q and not isinstance(q["scale"], list):
            quant = f" (scale {q['scale']:.4g}, zero point {q['zero_point']})"
        parts.append(f"{t['dtype']}{t['shape']}{quant}")
    return ", ".join(parts)


def format_report(report: dict) -> str:
    """The export report as a fixed-width table for terminals, then per-mode details."""
    lines = [f"{report['model']}: {report['params']:,} parameters",
             f"{'mode':<10}" + "".join(f"{c[:14]:>15}" for c in COLUMNS)]
    for mode, e in report["modes"].items():
        lines.append(f"{mode:<10}" + "".join(_cell(e.get(c, "")) for c in COLUMNS))
    for mode, e in report["modes"].items():
        if "memory" not in e:
            continue
        m, lat = e["memory"], e.get("latency_ms", {})
        lines.append(f"\n[{mode}] {e['file']}: flash {e['bytes']:,} B, tensor arena ~{m['arena_peak_bytes']:,} B "
                     f"(liveness peak; {m['activations_total_bytes']:,} B without reuse)")
        lines.append(f"  in: {_io(e['inputs'])}   out: {_io(e['outputs'])}")
        lines.append("  ops: " + ", ".join(
            o["op"] + ("" if o["kind"] == "builtin" else f" [{o['kind']}: not builtin]") for o in e["ops"]))
        for t, b in lat.items():
            lines.append(f"  LiteRT {t}: p50 {b['p50_ms']:.3f} / p90 {b['p90_ms']:.3f} / p99 {b['p99_ms']:.3f} ms")
        if "accuracy_delta" in e:
            lines.append(f"  accuracy {e['accuracy']:.4f} (Keras {e['keras_accuracy']:.4f}, "
                         f"delta {e['accuracy_delta']:+.4f})")
        if e.get("inputs_outside_range"):
            lines.append(f"  {e['inputs_outside_range']:.0%} of the held-out inputs lie outside the input range "
                         "calibrated on the training split and saturate there: prefer float16 or dynamic")
        if e.get("float_layers") is not None:
            why = f"rmse/scale > {e['threshold']}" if "threshold" in e else "the model's level path"
            lines.append(f"  kept in float ({why}): {e['float_layers'] or 'none'}")
    q = report.get("quantization_error")
    if q and q.get("worst"):
        lines.append(f"\nint8 error per layer ({q['metric']}); worst: {q['worst_layer']} "
                     f"({q['worst_rmse_over_scale']:.3g})")
        for r in q["worst"]:
            lines.append(f"  {r['layer']:<24} {r['op']:<20} rmse/scale {r['rmse_over_scale']:.3g}  "
                         f"max abs err {r['max_abs_error']:.3g}")
    return "\n".join(lines)
