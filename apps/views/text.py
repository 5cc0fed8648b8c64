"""Text: Shakespeare-like characters streamed from a small LSTM char LM and a small GPT,
and the sentiment of a sentence with the attention weight the classifier gave each word."""
import altair as alt
import pandas as pd
import streamlit as st

import text_models as tm
from common import guarded


@st.cache_resource
def generator(kind: str, path: str, built: str):
    """(model, vocab) of a built char model; ``built`` (its build time) keys the cache."""
    return tm.load_char_lm(path) if kind == "LSTM" else tm.load_gpt(path)


@st.cache_resource
def sentiment_model(path: str, built: str):
    return tm.load_sentiment(path)


MODELS = {"LSTM": (tm.CHAR_LM, tm.build_char_lm, "a small LSTM character model", tm.stream_char_lm),
          "GPT": (tm.GPT, tm.build_gpt, "a small GPT character model", tm.stream_gpt)}


def generation():
    kind = st.radio("Model", list(MODELS), horizontal=True, key="text_model")
    name, build, what, stream = MODELS[kind]
    run_dir = tm.demo_model(name, build, what=what, data=tm.SHAKESPEARE)
    if run_dir is None:
        return
    model, vocab = generator(kind, str(run_dir), tm.built(run_dir))
    left, mid, right = st.columns([3, 1, 1])
    prompt = left.text_area("Prompt", "ROMEO:\n", height=80, key="text_prompt")
    temperature = mid.slider("Temperature", 0.0, 1.5, 0.8, 0.1, help="0 always takes the likeliest character",
                             key="text_temperature")
    length = right.slider("Characters", 20, 500, 200, 20, key="text_length")
    seed = right.number_input("Seed", 0, 10_000, 0, key="text_seed")
    if not prompt:
        st.warning("Type a prompt: the model continues it.")
        return
    unknown = sorted(set(prompt) - set(vocab.chars))
    if unknown:
        st.warning(f"The model never saw {', '.join(map(repr, unknown))}; it knows only the "
                   f"{len(vocab.chars)} characters of Tiny Shakespeare.")
        return
    out = st.empty()
    text = prompt
    for ids in stream(model, vocab.encode(prompt), length, temperature=temperature, seed=seed):
        text += vocab.decode(ids)
        out.code(text, language=None, wrap_lines=True)
    trained = tm.metrics(run_dir)
    st.caption(f"{kind}: {trained['params']:,} parameters, held-out loss {trained['val_loss']:.2f} "
               "nats/char after a short training run.")


def attention_heat_map(words: list[tuple[str, float, bool]]):
    """One cell per word, coloured by its attention weight, the word written inside."""
    frame = pd.DataFrame([{"position": i, "word": w if known else f"{w}?", "weight": weight}
                          for i, (w, weight, known) in enumerate(words)])
    base = alt.Chart(frame).encode(x=alt.X("position:O", axis=None))
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("weight:Q", scale=alt.Scale(scheme="oranges", domainMin=0), title="attention"),
        tooltip=["word", alt.Tooltip("weight:Q", format=".3f")])
    labels = base.mark_text(fontSize=14).encode(text="word")
    return (cells + labels).properties(height=56)


def sentiment():
    run_dir = tm.demo_model(tm.SENTIMENT, tm.build_sentiment, what="a small attention sentiment classifier",
                            data=tm.SENTIMENT_SENTENCES)
    if run_dir is None:
        return
    explain, vocab, max_len = sentiment_model(str(run_dir), tm.built(run_dir))
    sentence = st.text_input("A review sentence", "The food was great but the service was painfully slow.",
                             key="text_sentence")
    probs, words = tm.explain_sentence(explain, vocab, max_len, sentence)
    if not words:
        st.warning("Type a sentence to classify.")
        return
    if not any(known for _, _, known in words):
        st.warning("None of these words is in the classifier's vocabulary "
                   f"({vocab.size - 2:,} words of the UCI reviews); try an English review sentence.")
        return
    label = int(probs.argmax())
    st.metric("Sentiment", ("negative", "positive")[label], f"{probs[label]:.1%} probability", delta_color="off")
    st.altair_chart(attention_heat_map(words), width="stretch")
    trained = tm.metrics(run_dir)
    st.caption(f"Attention weight of each word (the first {max_len} count; ? marks a word the model "
               f"never saw). {trained['model']}, "
               f"test accuracy {trained['test_accuracy']:.1%} on 600 held-out sentences.")


@guarded
def page():
    st.title("Text: Shakespeare generation and sentiment with attention")
    section = st.radio("Task", ["Generate", "Sentiment"], horizontal=True, label_visibility="collapsed",
                       key="text_task")
    if section == "Generate":
        generation()
    else:
        sentiment()


page()
