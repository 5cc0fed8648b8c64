"""Embeddings: skip-gram word vectors of Tiny Shakespeare; nearest neighbours of a word,
analogies a - b + c, and the most frequent words projected to two dimensions."""
import difflib

import altair as alt
import pandas as pd
import streamlit as st

import text_models as tm
from common import guarded


@st.cache_resource
def word_vectors(path: str, built: str):
    """The saved vectors; ``built`` (the build time) keys the cache."""
    return tm.load_word_vectors(path)


def known(vectors, word: str) -> bool:
    """True for a word with a vector; otherwise says so, with close spellings."""
    if vectors.vocab.index.get(word, 0) >= 2:
        return True
    if not word:
        st.warning("Type a word.")
        return False
    close = difflib.get_close_matches(word, vectors.vocab.tokens[2:], n=5, cutoff=0.6)
    hint = f" Close spellings: {', '.join(close)}." if close else ""
    st.warning(f"'{word}' is not in the vocabulary ({vectors.vocab.size - 2:,} words, lower case).{hint}")
    return False


def table(pairs) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["word", "cosine"])


def first_word(vectors, preferred: str = "king") -> str:
    """``preferred`` when it has a vector, else the most frequent word (small vocabularies)."""
    if vectors.vocab.index.get(preferred, 0) >= 2:
        return preferred
    return next((w for w in vectors.vocab.tokens[2:] if w[0].isalpha()), vectors.vocab.tokens[-1])


def neighbours(vectors):
    word = st.text_input("Word", first_word(vectors), key="emb_word").strip().lower()
    k = st.slider("Neighbours", 3, 30, 10, key="emb_k")
    if known(vectors, word):
        st.dataframe(table(vectors.neighbours(word, k)), hide_index=True)


def analogy(vectors):
    fields = (("a", "king"), ("minus b", "man"), ("plus c", "woman"))
    a, b, c = (col.text_input(label, default, key=f"emb_{label[-1]}").strip().lower()
               for col, (label, default) in zip(st.columns(3), fields))
    if all(known(vectors, w) for w in (a, b, c)):  # all() stops at the first unknown word
        st.write(f"**{a}** - **{b}** + **{c}** is nearest to:")
        st.dataframe(table(vectors.analogy(a, b, c, 10)), hide_index=True)


def projection(vectors):
    n = st.slider("Most frequent words", 20, 500, 60, 10, key="emb_n")
    words, xy = tm.projection(vectors, n)
    frame = pd.DataFrame({"word": words, "x": xy[:, 0], "y": xy[:, 1], "rank": range(1, len(words) + 1)})
    chart = alt.Chart(frame).mark_circle(size=60).encode(
        x=alt.X("x:Q", title="first principal axis"), y=alt.Y("y:Q", title="second principal axis"),
        color=alt.Color("rank:Q", scale=alt.Scale(scheme="viridis"), title="frequency rank"),
        tooltip=["word", "rank"])
    labels = chart.mark_text(align="left", dx=5, fontSize=10).encode(text="word")
    st.altair_chart((chart + labels if n <= 80 else chart).interactive(), width="stretch")
    st.caption("The unit word vectors on their first two principal axes (PCA); hover a point for its word.")


SECTIONS = {"Nearest neighbours": neighbours, "Analogy": analogy, "2-D projection": projection}


@guarded
def page():
    st.title("Embeddings: skip-gram word vectors of Shakespeare")
    run_dir = tm.demo_model(tm.WORD_VECTORS, tm.build_word_vectors, what="skip-gram word vectors",
                            data=tm.SHAKESPEARE)
    if run_dir is None:
        return
    vectors = word_vectors(str(run_dir), tm.built(run_dir))
    trained = tm.metrics(run_dir)
    st.caption(f"{trained['words']:,} words, {trained['dim']} dimensions, trained briefly on "
               f"{trained['lines']:,} lines: neighbours reflect how the words are used in these plays.")
    section = st.radio("Show", list(SECTIONS), horizontal=True, label_visibility="collapsed",
                       key="emb_section")
    SECTIONS[section](vectors)


page()
