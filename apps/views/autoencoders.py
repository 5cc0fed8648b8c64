"""Autoencoders on the bundled digits: reconstruction and denoising, VAE samples and
latent interpolation, anomaly scores (reconstruction error) with their ROC curve."""
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import ae_models as am
from common import demo_artifact, guarded, load_rebuildable, test_split

ZOOM = 4


def strip(images) -> np.ndarray:
    """Images ``[n, 28, 28, 1]`` side by side, enlarged, for one ``st.image``."""
    row = np.concatenate([np.clip(im[..., 0], 0, 1) for im in images], axis=1)
    return np.kron(row, np.ones((ZOOM, ZOOM), np.float32))


def pick_image(label: str, key: str, default: int = 0):
    x, y = test_split("digits")
    index = st.number_input(label, 0, len(y) - 1, default, key=key,
                            help=f"one of the {len(y)} test digits")
    return index, x[index], int(y[index])


def reconstruct_and_denoise():
    run_dir = demo_artifact(am.DENOISER, am.build_denoiser, what="a small denoising autoencoder")
    if run_dir is None:
        return
    model, info = load_rebuildable(run_dir)
    left, right = st.columns(2)
    with left:
        _, image, label = pick_image("Test image", "ae_image")
    sigma = right.slider("Noise level (sigma)", 0.0, 1.0, 0.4, 0.05, key="ae_noise")
    noisy = am.add_noise(image, sigma)
    recon, denoised = model.predict(np.stack([image, noisy]), verbose=0)
    st.image(strip([image, recon, noisy, denoised]), clamp=True,
             caption=f"original ({label}) · reconstruction · noisy input · denoised output")
    cols = st.columns(3)
    cols[0].metric("Reconstruction PSNR", f"{am.psnr(recon, image):.1f} dB")
    cols[1].metric("Noisy PSNR", f"{am.psnr(noisy, image):.1f} dB")
    gain = am.psnr(denoised, image) - am.psnr(noisy, image)
    cols[2].metric("Denoised PSNR", f"{am.psnr(denoised, image):.1f} dB", f"{gain:+.1f} dB")
    st.caption(f"{info['title']}. PSNR against the clean image; higher is closer.")


def vae_samples_and_interpolation():
    run_dir = demo_artifact(am.VAE, am.build_vae, what="a small variational autoencoder")
    if run_dir is None:
        return
    model, info = load_rebuildable(run_dir)
    st.subheader("Random samples: z ~ N(0, I), decoded")
    seed = st.number_input("Seed", 0, 100_000, 0, key="vae_seed")
    st.image(strip(model.sample(10, seed=seed)), clamp=True, caption=f"seed {seed}")
    st.subheader("Interpolation between two test digits in latent space")
    left, mid, right = st.columns(3)
    with left:
        first, x1, y1 = pick_image("From test image", "vae_from", 0)
    _, labels = test_split("digits")
    with mid:  # by default the first test image of another digit
        second, x2, y2 = pick_image("To test image", "vae_to", int(np.flatnonzero(labels != labels[0])[0]))
    steps = right.slider("Steps", 3, 12, 8, key="vae_steps")
    if first == second:
        st.warning("Pick two different test images to interpolate between.")
        return
    st.image(strip(model.interpolate(x1, x2, steps)), clamp=True, caption=f"{y1} → {y2} in {steps} steps")
    st.caption(f"{info['title']}.")


def roc_chart(fpr, tpr):
    curve = alt.Chart(pd.DataFrame({"false positive rate": fpr, "true positive rate": tpr})).mark_line().encode(
        x="false positive rate:Q", y="true positive rate:Q")
    chance = alt.Chart(pd.DataFrame({"false positive rate": [0, 1], "true positive rate": [0, 1]})).mark_line(
        strokeDash=[4, 4], color="gray").encode(x="false positive rate:Q", y="true positive rate:Q")
    return (curve + chance).properties(height=320)


def anomalies():
    run_dir = demo_artifact(am.ANOMALY, am.build_anomaly, what="a small autoencoder trained without one digit")
    if run_dir is None:
        return
    model, info = load_rebuildable(run_dir)
    held_out = info["held_out"]
    x, y = test_split("digits")
    scores = model.score(x)
    fpr, tpr, auc = am.roc(scores, y == held_out)
    left, right = st.columns([1, 2])
    left.metric("ROC AUC", f"{auc:.3f}",
                help="probability that a random held-out digit scores above a random other one")
    left.write(f"Anomaly score = reconstruction error (MSE). The autoencoder never saw a **{held_out}**; "
               f"the {int(np.sum(y == held_out))} test {held_out}s are the anomalies among {len(y)} digits.")
    right.altair_chart(roc_chart(fpr, tpr), width="stretch")
    count = st.slider("Highest-scoring test digits", 4, 20, 10, key="anomaly_count")
    top = np.argsort(-scores)[:count]
    st.image(strip(x[top]), clamp=True, caption=" · ".join(f"{y[i]} ({scores[i]:.3f})" for i in top))
    st.caption(f"{info['title']}.")


SECTIONS = {"Reconstruct and denoise": reconstruct_and_denoise, "VAE": vae_samples_and_interpolation,
            "Anomaly detection": anomalies}


@guarded
def page():
    st.title("Autoencoders: reconstruction, denoising, VAE, anomalies")
    section = st.radio("Task", list(SECTIONS), horizontal=True, label_visibility="collapsed", key="ae_task")
    SECTIONS[section]()


page()
