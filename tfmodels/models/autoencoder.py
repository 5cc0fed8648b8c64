"""Autoencoders: encoder f, decoder g, g(f(x)) ~ x through a bottleneck.

Every builder returns an :class:`Autoencoder` (a ``VAE`` for :func:`vae`): a Keras
model whose ``encoder`` and ``decoder`` are separate functional models, and whose
``train_step`` computes its own loss (reconstruction, plus the L1 code penalty of the
sparse variant or the KL term of the VAE), so ``tfmodels.train.fit`` trains it with
any labelled or unlabelled image dataset; labels and a compiled loss are ignored.

    ae = tfmodels.build("conv_autoencoder", input_shape=(16, 16, 1))
    ae.compile("adam"); ae.fit(x_train, epochs=10)
    scores = ae.score(x_test)             # anomaly score: reconstruction error
    keras_model = ae.inference_model()    # functional x -> g(f(x)), for export

On a device (numpy + the edge kit only, no TensorFlow), with ``inference_model()``
exported by ``tfmodels.convert``, the anomaly score is the same reconstruction error::

    import numpy as np
    from tfmodels_edge import EdgeModel

    def edge_anomaly_score(model: EdgeModel, x: np.ndarray) -> np.ndarray:
        recon = model.predict(x)
        return ((recon - x) ** 2).reshape(len(x), -1).mean(axis=1)
"""
import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.errors import TfmodelsError, UnknownNameError
from tfmodels.registry import register

layers = keras.layers
RECONSTRUCTIONS = ("mse", "bce")


# -- the shared encoder / decoder stacks ---------------------------------------------------

def encoder_network(*, input_shape, latent_dim: int, architecture: str = "mlp",
                    hidden_units=(256, 128), filters=(32, 64), activation: str = "relu",
                    code_l1: float = 0.0, gaussian: bool = False, name: str = "encoder"):
    """x -> code. "mlp": flatten + dense layers; "conv": stride-2 3x3 convolutions.

    ``code_l1`` puts an L1 activity penalty on the code (sparse autoencoder);
    ``gaussian`` gives two outputs, the mean and log-variance of q(z|x) (VAE).
    Also the backbone of the metric-learning embedders.
    """
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    if architecture == "conv":
        if len(input_shape) != 3:
            raise TfmodelsError(f"a conv encoder needs (height, width, channels) input, given {tuple(input_shape)}")
        for i, f in enumerate(filters):
            x = layers.Conv2D(f, 3, strides=2, padding="same", activation=activation, name=f"conv{i + 1}")(x)
        x = layers.Flatten(name="flatten")(x)
    elif architecture == "mlp":
        x = layers.Flatten(name="flatten")(x) if len(input_shape) > 1 else x
        for i, units in enumerate(hidden_units):
            x = layers.Dense(units, activation=activation, name=f"dense{i + 1}")(x)
    else:
        raise UnknownNameError("architecture", architecture, ("mlp", "conv"))
    if gaussian:
        outputs = [layers.Dense(latent_dim, name="z_mean")(x), layers.Dense(latent_dim, name="z_log_var")(x)]
    else:
        reg = keras.regularizers.L1(code_l1) if code_l1 else None
        outputs = layers.Dense(latent_dim, activation=activation if code_l1 else None,
                               activity_regularizer=reg, name="code")(x)
    return keras.Model(inputs, outputs, name=name)


def decoder_network(*, output_shape, latent_dim: int, architecture: str = "mlp",
                    hidden_units=(128, 256), filters=(64, 32), activation: str = "relu",
                    output_activation: str | None = "sigmoid", name: str = "decoder"):
    """code -> x, the mirror of :func:`encoder_network` (its units/filters reversed)."""
    inputs = keras.Input(shape=(latent_dim,), name="code")
    x = inputs
    if architecture == "conv":
        h, w, c = output_shape
        stride = 2 ** len(filters)
        if h % stride or w % stride:
            raise TfmodelsError(f"a conv autoencoder with {len(filters)} stride-2 stages needs height "
                                f"and width divisible by {stride}, given {tuple(output_shape)}")
        x = layers.Dense(h // stride * w // stride * filters[0], activation=activation, name="project")(x)
        x = layers.Reshape((h // stride, w // stride, filters[0]), name="unflatten")(x)
        for i, f in enumerate(filters):
            x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=activation, name=f"deconv{i + 1}")(x)
        x = layers.Conv2D(c, 3, padding="same", activation=output_activation, name="reconstruction")(x)
    elif architecture == "mlp":
        for i, units in enumerate(hidden_units):
            x = layers.Dense(units, activation=activation, name=f"dense{i + 1}")(x)
        size = 1
        for d in output_shape:
            size *= d
        x = layers.Dense(size, activation=output_activation, name="reconstruction")(x)
        x = layers.Reshape(tuple(output_shape), name="unflatten")(x) if len(output_shape) > 1 else x
    else:
        raise UnknownNameError("architecture", architecture, ("mlp", "conv"))
    return keras.Model(inputs, x, name=name)


def reconstruction_error(x, recon, kind: str = "mse", reduction: str = "mean"):
    """Per-example error between ``x`` and ``recon``: MSE or binary cross-entropy,
    averaged ("mean") or summed ("sum", a log-likelihood in nats) over features."""
    if kind not in RECONSTRUCTIONS:
        raise UnknownNameError("reconstruction", kind, RECONSTRUCTIONS)
    x, recon = tf.cast(x, tf.float32), tf.cast(recon, tf.float32)
    if kind == "mse":
        err = tf.square(x - recon)
    else:
        r = tf.clip_by_value(recon, 1e-7, 1 - 1e-7)
        err = -(x * tf.math.log(r) + (1 - x) * tf.math.log(1 - r))
    err = tf.reshape(err, (tf.shape(err)[0], -1))
    return tf.reduce_sum(err, 1) if reduction == "sum" else tf.reduce_mean(err, 1)


# -- models that train themselves ---------------------------------------------------------

class _SelfSupervised(keras.Model):
    """A model whose train/test steps compute ``self.loss_terms(x, y, training)``.

    A compiled loss and compiled metrics are ignored; so are sample weights.
    """

    def loss_terms(self, x, y, training: bool) -> dict:
        raise NotImplementedError

    @property
    def metrics(self):
        if not hasattr(self, "_trackers"):
            self._trackers = {}
        return list(self._trackers.values())

    def _track(self, terms: dict) -> dict:
        self.metrics  # noqa: B018  (creates the dict)
        for k, v in terms.items():
            if k not in self._trackers:
                with tf.init_scope():
                    self._trackers[k] = keras.metrics.Mean(name=k)
            self._trackers[k].update_state(v)
        return {k: t.result() for k, t in self._trackers.items()}

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, y, training=True)
            loss = terms["loss"] / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._track(terms)

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._track(self.loss_terms(x, y, training=False))


@keras.utils.register_keras_serializable(package="tfmodels")
class Autoencoder(_SelfSupervised):
    """``decoder(encoder(x))`` trained to reconstruct ``x``.

    With ``noise_stddev`` (Gaussian) and/or ``mask_rate`` (masking: each input value
    zeroed with that probability) the input is corrupted in ``train_step`` only, and
    the clean input is the target (denoising autoencoder); ``clip_noisy`` clips the
    corrupted input to [0, 1], the range of the image datasets.
    """

    def __init__(self, encoder, decoder, *, reconstruction: str = "mse", noise_stddev: float = 0.0,
                 mask_rate: float = 0.0, clip_noisy: bool = True, **kwargs):
        super().__init__(**kwargs)
        if reconstruction not in RECONSTRUCTIONS:
            raise UnknownNameError("reconstruction", reconstruction, RECONSTRUCTIONS)
        if not 0.0 <= mask_rate < 1.0 or noise_stddev < 0:
            raise TfmodelsError(f"need noise_stddev >= 0 and 0 <= mask_rate < 1, given {noise_stddev}, {mask_rate}")
        self.encoder, self.decoder = encoder, decoder
        self.reconstruction = reconstruction
        self.noise_stddev, self.mask_rate, self.clip_noisy = float(noise_stddev), float(mask_rate), bool(clip_noisy)
        self(tf.zeros((1, *encoder.input_shape[1:])))  # builds it and records the save spec

    def encode(self, x, training=False):
        return self.encoder(x, training=training)

    def call(self, x, training=None):
        return self.decoder(self.encode(x, training=training), training=training)

    def corrupt(self, x):
        """The training-time corruption: Gaussian noise, then masking noise."""
        x = tf.convert_to_tensor(x, tf.float32)
        if self.noise_stddev:
            x = x + tf.random.normal(tf.shape(x), stddev=self.noise_stddev)
        if self.mask_rate:
            x = x * tf.cast(tf.random.uniform(tf.shape(x)) >= self.mask_rate, x.dtype)
        return tf.clip_by_value(x, 0.0, 1.0) if self.clip_noisy and (self.noise_stddev or self.mask_rate) else x

    def loss_terms(self, x, y, training):  # y (labels) unused
        x_in = self.corrupt(x) if training else x
        rec = tf.reduce_mean(reconstruction_error(x, self(x_in, training=training), self.reconstruction))
        terms = {"loss": rec, "reconstruction_loss": rec}
        if self.losses:  # the sparse variant's L1 code penalty
            penalty = tf.add_n(self.losses)
            terms |= {"loss": rec + penalty, "code_penalty": penalty}
        return terms

    def score(self, x, batch_size: int = 256):
        """Anomaly score per example: reconstruction error (MSE) of the clean input."""
        recon = self.predict(x, batch_size=batch_size, verbose=0)
        return np.square(recon - x).reshape(len(x), -1).mean(1)

    def inference_model(self):
        """A functional ``x -> reconstruction`` model sharing these weights (for export)."""
        inputs = keras.Input(shape=self.encoder.input_shape[1:], name="inputs")
        return keras.Model(inputs, self.call(inputs, training=False), name=f"{self.name}_inference")

    def get_config(self):
        return {**super().get_config(), "encoder": keras.layers.serialize(self.encoder),
                "decoder": keras.layers.serialize(self.decoder), "reconstruction": self.reconstruction,
                "noise_stddev": self.noise_stddev, "mask_rate": self.mask_rate, "clip_noisy": self.clip_noisy}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.layers.deserialize(config[key], custom_objects=custom_objects)
        return cls(**config)


@keras.utils.register_keras_serializable(package="tfmodels")
class VAE(Autoencoder):
    """Variational autoencoder (Kingma & Welling 2014): q(z|x) = N(mean, exp(log_var)),
    z = mean + exp(log_var / 2) * eps (reparameterization), loss = reconstruction
    negative log-likelihood (summed over pixels, nats) + beta * KL(q(z|x) || N(0, I)).
    At inference ``call`` decodes the mean. ``elbo`` in the metrics is -loss at beta=1.
    """

    def __init__(self, encoder, decoder, *, beta: float = 1.0, reconstruction: str = "bce", **kwargs):
        super().__init__(encoder, decoder, reconstruction=reconstruction, **kwargs)
        self.beta = float(beta)
        self.latent_dim = int(decoder.input_shape[-1])

    def encode(self, x, training=False):
        return self.encoder(x, training=training)[0]

    def loss_terms(self, x, y, training):  # y (labels) unused
        mean, log_var = self.encoder(x, training=training)
        z = mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))
        rec = reconstruction_error(x, self.decoder(z, training=training), self.reconstruction, "sum")
        kl = -0.5 * tf.reduce_sum(1 + log_var - tf.square(mean) - tf.exp(log_var), 1)
        rec, kl = tf.reduce_mean(rec), tf.reduce_mean(kl)
        return {"loss": rec + self.beta * kl, "reconstruction_loss": rec, "kl_loss": kl, "elbo": -(rec + kl)}

    def sample(self, n: int, seed: int | None = None):
        """``n`` images decoded from z ~ N(0, I) (the decoder's mean image)."""
        z = tf.random.stateless_normal((n, self.latent_dim), seed=(seed or 0, 1))
        return self.decoder(z, training=False).numpy()

    def interpolate(self, x1, x2, steps: int = 8):
        """Decode ``steps`` points on the line between the latent means of x1 and x2."""
        z = self.encode(tf.stack([x1, x2]))
        t = tf.reshape(tf.linspace(0.0, 1.0, steps), (-1, 1))
        return self.decoder((1 - t) * z[0] + t * z[1], training=False).numpy()

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


# -- builders -----------------------------------------------------------------------------

def _autoencoder(input_shape, latent_dim, architecture, hidden_units, filters, activation,
                 output_activation, name, code_l1=0.0, **model_kwargs):
    encoder = encoder_network(input_shape=input_shape, latent_dim=latent_dim, architecture=architecture,
                              hidden_units=hidden_units, filters=filters, activation=activation,
                              code_l1=code_l1)
    decoder = decoder_network(output_shape=input_shape, latent_dim=latent_dim, architecture=architecture,
                              hidden_units=tuple(reversed(hidden_units)), filters=tuple(reversed(filters)),
                              activation=activation, output_activation=output_activation)
    return Autoencoder(encoder, decoder, name=name, **model_kwargs)


@register(family="autoencoder", default_data="digits", edge_ready=True)
def mlp_autoencoder(*, input_shape=(28, 28, 1), latent_dim: int = 32, hidden_units=(256, 128),
                    activation: str = "relu", output_activation: str | None = "sigmoid",
                    reconstruction: str = "mse", num_classes=None, name: str = "mlp_autoencoder"):
    """MLP autoencoder: flatten -> 256 -> 128 -> code 32 -> 128 -> 256 -> image (MSE).

    The undercomplete autoencoder of the lecture notes (Goodfellow et al. 2016, ch. 14).
    476,720 parameters at the default size. ``num_classes`` is ignored (accepted
    because the trainer passes a dataset's class count to every builder).
    """
    return _autoencoder(input_shape, latent_dim, "mlp", hidden_units, (), activation,
                        output_activation, name, reconstruction=reconstruction)


@register(family="autoencoder", default_data="digits", edge_ready=True)
def conv_autoencoder(*, input_shape=(28, 28, 1), latent_dim: int = 32, filters=(32, 64),
                     activation: str = "relu", output_activation: str | None = "sigmoid",
                     reconstruction: str = "mse", num_classes=None, name: str = "conv_autoencoder"):
    """Convolutional autoencoder: two stride-2 3x3 convolutions -> dense code -> mirror
    with transposed convolutions (Masci et al. 2011, stacked convolutional AEs).

    Height and width must be divisible by 4. 278,369 parameters at the default size.
    """
    return _autoencoder(input_shape, latent_dim, "conv", (), filters, activation,
                        output_activation, name, reconstruction=reconstruction)


@register(family="autoencoder", default_data="digits", edge_ready=True)
def sparse_autoencoder(*, input_shape=(28, 28, 1), latent_dim: int = 64, hidden_units=(256,),
                       l1: float = 1e-4, activation: str = "relu", output_activation: str | None = "sigmoid",
                       reconstruction: str = "mse", num_classes=None, name: str = "sparse_autoencoder"):
    """Sparse autoencoder: an MLP autoencoder whose ReLU code carries an L1 activity
    penalty ``l1 * sum|h|`` added to the reconstruction loss (Ng 2011, Goodfellow
    et al. 2016 sec. 14.2.1). 435,536 parameters at the default size.
    """
    return _autoencoder(input_shape, latent_dim, "mlp", hidden_units, (), activation,
                        output_activation, name, code_l1=l1, reconstruction=reconstruction)


@register(family="autoencoder", default_data="digits", edge_ready=True)
def denoising_autoencoder(*, input_shape=(28, 28, 1), latent_dim: int = 32, architecture: str = "conv",
                          hidden_units=(256, 128), filters=(32, 64), noise_stddev: float = 0.3,
                          mask_rate: float = 0.0, clip_noisy: bool = True, activation: str = "relu",
                          output_activation: str | None = "sigmoid", reconstruction: str = "mse",
                          num_classes=None, name: str = "denoising_autoencoder"):
    """Denoising autoencoder (Vincent et al. 2008): the input is corrupted at training
    time only, Gaussian noise (``noise_stddev``) and/or masking noise (``mask_rate``),
    and the clean input is the target. The conv stack by default: 278,369 parameters.
    """
    return _autoencoder(input_shape, latent_dim, architecture, hidden_units, filters, activation,
                        output_activation, name, reconstruction=reconstruction,
                        noise_stddev=noise_stddev, mask_rate=mask_rate, clip_noisy=clip_noisy)


@register(family="autoencoder", default_data="digits", edge_ready=True)
def vae(*, input_shape=(28, 28, 1), latent_dim: int = 16, architecture: str = "mlp",
        hidden_units=(512, 256), filters=(32, 64), beta: float = 1.0, activation: str = "relu",
        reconstruction: str = "bce", num_classes=None, name: str = "vae"):
    """Variational autoencoder (Kingma & Welling 2014): Gaussian encoder (mean,
    log-variance), reparameterized sample, Bernoulli decoder; loss = BCE summed over
    pixels + beta * KL; ``sample(n)``, ``interpolate(x1, x2)``. 1,079,600 parameters
    at the default size.
    """
    encoder = encoder_network(input_shape=input_shape, latent_dim=latent_dim, architecture=architecture,
                              hidden_units=hidden_units, filters=filters, activation=activation, gaussian=True)
    decoder = decoder_network(output_shape=input_shape, latent_dim=latent_dim, architecture=architecture,
                              hidden_units=tuple(reversed(hidden_units)), filters=tuple(reversed(filters)),
                              activation=activation, output_activation="sigmoid")
    return VAE(encoder, decoder, beta=beta, reconstruction=reconstruction, name=name)
