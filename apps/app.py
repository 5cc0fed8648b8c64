"""tfmodels in the browser: ``streamlit run apps/app.py`` (or ``make demo``).

One page per family; every page reads trained artifacts from ``saved_models/``
(``TFMODELS_ZOO`` overrides) through the public APIs only. The page scripts live in
``views/``, not ``pages/``: Streamlit would treat a ``pages/`` directory beside this
script as its older automatic multipage navigation.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="tfmodels", page_icon="🧠", layout="wide")

PAGES = [
    st.Page("views/digits.py", title="Vision: digits", icon="✍️", default=True),
    st.Page("views/zoo.py", title="Model zoo", icon="📦"),
    st.Page("views/text.py", title="Text", icon="📜"),
    st.Page("views/embeddings.py", title="Embeddings", icon="🔤"),
    st.Page("views/autoencoders.py", title="Autoencoders", icon="🌀"),
    st.Page("views/graphs.py", title="Graphs", icon="🕸️"),
    st.Page("views/train.py", title="Train", icon="🏋️"),
    st.Page("views/edge.py", title="Edge", icon="📟"),
]

st.navigation(PAGES).run()
