"""Fully connected (multilayer-perceptron) autoencoders, plain, variational or conditional.

The dense digit models are configs of :class:`DenseAutoencoder` (see ``training/configs/``):

* the **novelty-detection autoencoder**: an MLP 784 → 100 → 784 with sigmoid units and a squared-error loss,
  trained on one digit only, so its reconstruction error is high on everything else
  (``hidden_features=[]``, ``z_dim=100``, ``latent_activation="sigmoid"``; the objective's ``reconstruction="mse"``);
* the **conditional autoencoder**: the one-hot label concatenated to the flattened image at the encoder input and
  to the latent at the decoder input, so a chosen class can be drawn from any ``z``
  (``num_classes=10``, ``hidden_features=[512, 256]``, ``z_dim`` 2 or 5).

Layout: flatten → [Dense → activation] per ``hidden_features`` → latent head(s); decoder: [Dense → activation]
per reversed ``hidden_features`` → Dense → reshape → sigmoid.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .autoencoder import Autoencoder, make_activation


class DenseAutoencoder(
    Autoencoder,
    library_name="latentlab",
    tags=["autoencoder", "mnist", "latent-space"],
    repo_url="https://github.com/latent-lab/latentlab",
):
    """Multilayer-perceptron autoencoder / VAE over flattened images.

    Args:
        image_shape: (C, H, W) of the input images, e.g. ``[1, 28, 28]``.
        hidden_features: widths of the encoder's hidden layers (the decoder mirrors them); may be empty.
        z_dim: latent size.
        activation: hidden-layer activation (``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``).
        latent_activation: an activation on the autoencoder's code (e.g. ``sigmoid``: the 100 sigmoid units of
            the novelty-detection MLP) or ``None`` for a linear code; not allowed for a VAE.
        variational: a VAE (``mean``/``logvar`` heads, KL term) or a plain autoencoder.
        num_classes: > 0 makes the model conditional on a label in [0, num_classes).

    Raises:
        ValueError: non-positive sizes, an unknown option, or ``latent_activation`` with ``variational=True``.

    Example::

        ae = DenseAutoencoder.from_pretrained("pretrained/mnist-dense-ae-digit0")
        scores = latentlab.analysis.novelty_scores(ae, x)   # (B,) per-image novelty scores
    """

    model_type = "dense"

    def __init__(
        self,
        image_shape: list[int] | tuple[int, int, int] = (1, 28, 28),
        hidden_features: list[int] | tuple[int, ...] = (),
        z_dim: int = 100,
        activation: str = "relu",
        latent_activation: str | None = None,
        variational: bool = False,
        num_classes: int = 0,
    ):
        super().__init__()
        image_shape = tuple(int(s) for s in image_shape)
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be (C, H, W), got {image_shape}")
        hidden_features = list(hidden_features)
        if any(h <= 0 for h in hidden_features):
            raise ValueError("hidden_features must be positive widths")
        if latent_activation is not None and variational:
            raise ValueError("latent_activation is for plain autoencoders; a VAE's mean/logvar are linear")
        self._init_family(image_shape, z_dim, variational, num_classes)
        make_activation(activation)  # an unknown name fails here even when there are no hidden layers
        pixels = math.prod(image_shape)

        layers, prev = [], pixels + num_classes
        for width in hidden_features:
            layers.append(nn.Sequential(nn.Linear(prev, width), make_activation(activation)))
            prev = width
        self.encoder = nn.Sequential(*layers)
        self._init_heads(prev)
        self.latent_activation = make_activation(latent_activation) if latent_activation else nn.Identity()

        layers, prev = [], z_dim + num_classes
        for width in reversed(hidden_features):
            layers.append(nn.Sequential(nn.Linear(prev, width), make_activation(activation)))
            prev = width
        layers.append(nn.Linear(prev, pixels))
        self.decoder = nn.Sequential(*layers)

    def _encoder_features(self, x, onehot):
        h = x.flatten(1)
        return self.encoder(h if onehot is None else torch.cat([h, onehot], dim=1))

    def _latent_code(self, h):
        return self.latent_activation(h)

    def _decoder_logits(self, z):
        return self.decoder(z).view(z.shape[0], *self.image_shape)
