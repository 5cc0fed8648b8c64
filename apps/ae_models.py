"""The Autoencoders page's own small models on the bundled digits (28x28, 1,257 train
and 270 test images): how each is trained and what it computes. Plain functions
over the public ``tfmodels`` API (no widgets), so the tests build tiny versions the
same way the page's "Build" buttons do.

Every ``build_*(directory, progress, **settings)`` trains in well under a minute on
two cores and saves with :func:`common.save_rebuildable`; the page loads it back
with :func:`common.load_rebuildable`.
"""
import numpy as np

import tfmodels
from common import epoch_progress, save_rebuildable
from tfmodels.data import load_splits
from tfmodels.data.core import make_splits
from tfmodels.train import fit

DENOISER, VAE, ANOMALY = "demo_denoising_ae", "demo_vae", "demo_anomaly_ae"


def _train(builder, kwargs, splits, progress, *, epochs, batch_size, learning_rate, label):
    model = tfmodels.build(builder, input_shape=(28, 28, 1), **kwargs)
    fit(model, splits, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, verbose=0,
        callbacks=[epoch_progress(progress, epochs, share=0.95, label=label)])
    return model


def build_denoiser(directory, progress, *, latent_dim=32, filters=(16, 32), noise_stddev=0.4, epochs=20,
                   batch_size=32, learning_rate=2e-3):
    """A conv denoising autoencoder (Gaussian noise at training time, clean target): it
    reconstructs clean digits and cleans noisy ones."""
    kwargs = {"latent_dim": latent_dim, "filters": list(filters), "noise_stddev": noise_stddev}
    model = _train("denoising_autoencoder", kwargs, load_splits("digits"), progress, epochs=epochs,
                   batch_size=batch_size, learning_rate=learning_rate, label="denoising AE")
    save_rebuildable(directory, model, "denoising_autoencoder", {"input_shape": [28, 28, 1], **kwargs},
                     title=f"conv denoising autoencoder, {model.count_params():,} parameters, "
                           f"trained with noise sigma {noise_stddev}")


def build_vae(directory, progress, *, latent_dim=8, hidden_units=(256, 128), epochs=40, batch_size=64,
              learning_rate=2e-3):
    """An MLP VAE (Bernoulli decoder, KL to N(0, I))."""
    kwargs = {"latent_dim": latent_dim, "hidden_units": list(hidden_units)}
    model = _train("vae", kwargs, load_splits("digits"), progress, epochs=epochs, batch_size=batch_size,
                   learning_rate=learning_rate, label="VAE")
    save_rebuildable(directory, model, "vae", {"input_shape": [28, 28, 1], **kwargs},
                     title=f"MLP VAE, {latent_dim}-d latent, {model.count_params():,} parameters")


def build_anomaly(directory, progress, *, held_out=7, latent_dim=16, filters=(16, 32), epochs=20, batch_size=32,
                  learning_rate=2e-3):
    """A conv autoencoder trained on every digit except ``held_out``: the held-out digit
    is the "anomaly" it never learned to reconstruct."""
    splits = load_splits("digits")
    normal = [(x[y != held_out], y[y != held_out]) for x, y in (splits.train, splits.val)]
    kwargs = {"latent_dim": latent_dim, "filters": list(filters)}
    model = _train("conv_autoencoder", kwargs, make_splits(f"digits-without-{held_out}", *normal, splits.test,
                                                           task="reconstruction"),
                   progress, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, label="anomaly AE")
    save_rebuildable(directory, model, "conv_autoencoder", {"input_shape": [28, 28, 1], **kwargs},
                     held_out=held_out, title=f"conv autoencoder, {model.count_params():,} parameters, "
                                           f"trained without the digit {held_out}")


def add_noise(x, sigma: float, seed: int = 0):
    """``x`` plus Gaussian noise of standard deviation ``sigma``, clipped to [0, 1]."""
    noise = np.random.default_rng(seed).normal(0.0, sigma, np.shape(x))
    return np.clip(x + noise, 0.0, 1.0).astype(np.float32)


def psnr(image, clean) -> float:
    """Peak signal-to-noise ratio of ``image`` against ``clean`` (both in [0, 1]), in dB."""
    mse = float(np.mean(np.square(np.asarray(image, np.float32) - clean)))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def roc(scores, anomalous):
    """``(false positive rates, true positive rates, AUC)`` of ``scores`` ranking the
    ``anomalous`` examples first."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(anomalous, scores)
    return fpr, tpr, float(roc_auc_score(anomalous, scores))
