"""tfmodels in the browser: ``streamlit run apps/app.py`` (or ``make demo``).

One page per family that has landed; every page reads trained artifacts from
``saved_models/`` (``TFMODELS_ZOO`` overrides) through the public APIs only.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="tfmodels", page_icon="🧠", layout="wide")

PAGES = [
    st.Page("pages/digits.py", title="Vision: digits", icon="✍️", default=True),
    st.Page("pages/zoo.py", title="Model zoo", icon="📦"),
    st.Page("pages/text.py", title="Text", icon="📜"),
    st.Page("pages/embeddings.py", title="Embeddings", icon="🔤"),
    st.Page("pages/autoencoders.py", title="Autoencoders", icon="🌀"),
    st.Page("pages/graphs.py", title="Graphs", icon="🕸️"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/edge.py", title="Edge", icon="📟"),
]

st.navigation(PAGES).run()
