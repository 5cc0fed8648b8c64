"""What the app tests share: the app's pages opened headless with AppTest, their metrics
and images, and demo zoos built by the same functions the pages' Build buttons call."""
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

APPS = Path(__file__).resolve().parents[2] / "apps"
APP = str(APPS / "app.py")
sys.path.insert(0, str(APPS))  # the pages' model modules: vision_models, text_models, ...


def page(page: str | None = None, *, timeout: float = 120) -> AppTest:
    """The app run headless, switched to `page` (e.g. "views/text.py"); no exception raised."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def ok(at: AppTest) -> AppTest:
    """`at`, after checking it shows neither an exception nor an st.error."""
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def images(at: AppTest) -> list:
    """The pixels of every st.image on the page (AppTest keeps them as media URLs)."""
    return [el.proto.imgs[0].url for el in at.get("image")]


def build_zoo(zoo: Path, builders: dict) -> Path:
    """Build each missing demo model into `zoo` as common.demo_artifact does (done.json last)."""
    from tfmodels.files import write_json

    for name, build in builders.items():
        run_dir = zoo / name
        if not (run_dir / "done.json").exists():
            run_dir.mkdir(parents=True, exist_ok=True)
            build(run_dir, lambda fraction, text="": None)
            write_json(run_dir / "done.json", {"name": name, "built": "test"})
    return zoo


def charts(at: AppTest) -> list[tuple[dict, list]]:
    """Every Altair/Vega-Lite chart on the page: ``(spec, [data frames])``, the frames
    decoded from the Arrow datasets Streamlit sends beside the spec."""
    import json

    import pyarrow as pa

    return [(json.loads(c.proto.spec), [pa.ipc.open_stream(d.data.data).read_pandas() for d in c.proto.datasets])
            for c in at.get("vega_lite_chart")]
