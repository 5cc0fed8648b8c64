"""Charts the pages share: a run's training curves, a confusion matrix, points on their
first two principal axes. Plain functions from numbers to Altair charts (no widgets),
so the tests check them without a browser."""
import altair as alt
import numpy as np
import pandas as pd


def principal_axes(x, k: int = 2) -> np.ndarray:
    """The rows of ``x`` centred and projected on their first ``k`` principal axes (PCA)."""
    centred = np.asarray(x, np.float64) - np.asarray(x, np.float64).mean(0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    return centred @ axes[:k].T


def curves(history: dict) -> dict[str, pd.DataFrame]:
    """A run's per-epoch ``history`` (metrics.json: ``loss``, ``val_loss``, ``accuracy``,
    ...) as one long frame per quantity: ``{"loss": frame(epoch, split, value), ...}``,
    train and validation side by side; quantities without a value are left out."""
    out = {}
    for key in sorted(k for k in history if not k.startswith("val_")):
        rows = [{"epoch": e + 1, "split": split, "value": v}
                for split, name in (("train", key), ("validation", f"val_{key}"))
                for e, v in enumerate(history.get(name, ())) if v is not None and np.isfinite(v)]
        if rows:
            out[key] = pd.DataFrame(rows)
    return out


def curve_chart(frame: pd.DataFrame, quantity: str) -> alt.Chart:
    return alt.Chart(frame).mark_line(point=len(frame) <= 60).encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("value:Q", title=quantity, scale=alt.Scale(zero=False)),
        color=alt.Color("split:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["epoch", "split", alt.Tooltip("value:Q", format=".4f")],
    ).properties(title=quantity, height=260)


def confusion_chart(matrix, class_names=(), title: str = "confusion matrix") -> alt.Chart:
    """Counts ``matrix[true][predicted]`` as a heat map with the count in each cell."""
    matrix = np.asarray(matrix, np.int64)
    names = list(class_names) or [str(i) for i in range(len(matrix))]
    frame = pd.DataFrame([{"true": names[t], "predicted": names[p], "count": int(matrix[t, p]),
                           "share of true": matrix[t, p] / max(int(matrix[t].sum()), 1)}
                          for t in range(len(matrix)) for p in range(len(matrix))])
    order = alt.Scale(domain=names)
    base = alt.Chart(frame).encode(x=alt.X("predicted:N", scale=order, title="predicted"),
                                   y=alt.Y("true:N", scale=order, title="true"))
    cells = base.mark_rect().encode(
        color=alt.Color("share of true:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), legend=None),
        tooltip=["true", "predicted", "count", alt.Tooltip("share of true:Q", format=".1%")])
    counts = base.mark_text(fontSize=11).encode(
        text=alt.condition(alt.datum.count > 0, "count:Q", alt.value("")),
        color=alt.condition(alt.datum["share of true"] > 0.5, alt.value("white"), alt.value("black")))
    return (cells + counts).properties(title=title, height=max(200, 28 * len(names)))


def scatter_chart(xy, frame: pd.DataFrame, colour: str, *, domain=None, title: str = "") -> alt.Chart:
    """Points ``xy [n, 2]`` coloured by column ``colour`` of ``frame`` (one row per point;
    every column a tooltip), on their principal axes."""
    points = frame.assign(x=np.asarray(xy)[:, 0], y=np.asarray(xy)[:, 1])
    scale = alt.Scale(domain=list(domain), scheme="category10") if domain is not None else alt.Scale()
    return alt.Chart(points).mark_circle(size=40, opacity=0.8).encode(
        x=alt.X("x:Q", title="first principal axis"), y=alt.Y("y:Q", title="second principal axis"),
        color=alt.Color(f"{colour}:N", title=colour, scale=scale, legend=alt.Legend(orient="bottom", columns=2)),
        tooltip=list(frame.columns)).properties(title=title, height=360).interactive()
