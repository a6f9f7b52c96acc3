"""Convolutional autoencoders and VAEs — by default the CelebA VAE of *Generative Deep Learning*, 2nd ed.
(D. Foster, 2023), ch. 3.

Architecture (defaults = the book's face model, ≈0.49 M parameters)::

    x (B, 3, 64, 64) ─ 5 × [Conv 3×3 stride 2 → BatchNorm → LeakyReLU]  (64 filters each) → (B, 64, 2, 2)
                     ─ flatten → Dense → mean (B, 200)
                               → Dense → logvar (B, 200)
    z = mean + exp(logvar / 2) · ε,  ε ~ N(0, I)                                    (reparameterisation trick)
    z ─ Dense → BatchNorm → LeakyReLU → reshape (B, 64, 2, 2)
      ─ 5 × [ConvTranspose 3×3 stride 2 → BatchNorm → LeakyReLU] → ConvTranspose 3×3 stride 1 → sigmoid → (B, 3, 64, 64)
      (``upsampling="nearest"``: each ConvTranspose stride 2 becomes nearest ×2 upsampling + Conv 3×3)

    loss = β · MSE(x, x̂)  (mean over pixels and channels)  +  KL(q(z|x) ‖ N(0, I))  (sum over z, mean over batch)

The same class, configured, is the book's Fashion-MNIST autoencoder and 2-D VAE (32×32, convs 32/64/128 with ReLU,
no BatchNorm, a plain Dense into the decoder, binary cross-entropy, latent 2, β = 500 for the VAE), the MNIST conv
autoencoder (latent 28) and a conditional conv model (``num_classes``: the one-hot label enters the encoder as
constant extra input channels and the decoder concatenated to ``z``). See ``training/configs/``.

The Keras defaults of the book are kept: LeakyReLU slope 0.3, BatchNorm momentum 0.99 (PyTorch ``momentum=0.01``)
and eps 1e-3. Deliberate differences: convolutions pad symmetrically (PyTorch ``padding=1``), where Keras'
``padding="same"`` with stride 2 pads bottom/right only (output sizes are identical), and the last decoder layer
is a stride-1 transposed conv where the Fashion-MNIST models use a ``Conv2D`` (the same function class).
"""

from __future__ import annotations

from torch import nn

from .autoencoder import SpatialAutoencoder, make_activation


class ConvAutoencoder(
    SpatialAutoencoder,
    library_name="latentlab",
    tags=["autoencoder", "vae", "image-generation", "latent-space"],
    repo_url="https://github.com/latent-lab/latentlab",
):
    """Convolutional (variational) autoencoder (Kingma & Welling, 2014) — the book's CelebA face VAE by default.

    Every architectural choice is an ``__init__`` argument, recorded in ``config.json`` by ``save_pretrained``, so
    a variant is a config, not new code.

    Args:
        in_channels: image channels C (3 for RGB faces, 1 for digits).
        image_size: square input side H = W in pixels; must be divisible by ``2 ** len(hidden_channels)``.
        hidden_channels: filters of each stride-2 encoder conv (the decoder mirrors them).
        z_dim: latent size.
        variational: a VAE (``mean``/``logvar`` heads, sampled ``z``, KL term) or a plain autoencoder.
        num_classes: > 0 makes the model conditional on a label in [0, num_classes).
        batch_norm: BatchNorm after every conv (the CelebA model) or none (the Fashion-MNIST models).
        activation: ``leaky_relu`` (CelebA) or ``relu`` (Fashion-MNIST), see :func:`~.autoencoder.make_activation`.
        decoder_input_activation: BatchNorm (if ``batch_norm``) + activation after the decoder's first Dense layer
            (CelebA: yes; the Fashion-MNIST models: a plain Dense).
        leaky_relu_slope, batch_norm_momentum, batch_norm_eps: the book's Keras defaults (0.3, 0.01, 1e-3).
        upsampling: how each decoder stage doubles the resolution: ``"transposed"`` (ConvTranspose 3×3 stride 2,
            the book's) or ``"nearest"`` (nearest-neighbour ×2 then Conv 3×3 stride 1, which avoids the
            checkerboard artifacts of strided transposed convolutions — Odena, Dumoulin & Olah, "Deconvolution and
            Checkerboard Artifacts", Distill 2016). Same parameter count.

    Raises:
        ValueError: ``image_size`` is not divisible by ``2 ** len(hidden_channels)``, sizes are not positive, or an
            option is unknown.

    Example::

        vae = ConvAutoencoder.from_pretrained("pretrained/celeba-vae-64-book")
        posterior = vae.encode(images)           # images: (B, 3, 64, 64) float in [0, 1]
        faces = vae.decode(posterior.mode())     # (B, 3, 64, 64) float in [0, 1]
    """

    model_type = "conv"

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 64,
        hidden_channels: list[int] | tuple[int, ...] = (64, 64, 64, 64, 64),
        z_dim: int = 200,
        variational: bool = True,
        num_classes: int = 0,
        batch_norm: bool = True,
        activation: str = "leaky_relu",
        decoder_input_activation: bool = True,
        leaky_relu_slope: float = 0.3,
        batch_norm_momentum: float = 0.01,
        batch_norm_eps: float = 1e-3,
        upsampling: str = "transposed",
    ):
        super().__init__()
        hidden_channels = list(hidden_channels)
        depth = len(hidden_channels)
        if depth == 0 or min(hidden_channels) <= 0:
            raise ValueError("hidden_channels must be a non-empty list of positive filter counts")
        if upsampling not in ("transposed", "nearest"):
            raise ValueError(f"upsampling must be 'transposed' or 'nearest', got {upsampling!r}")
        if image_size % (2**depth) != 0:
            raise ValueError(f"image_size={image_size} is not divisible by 2**{depth} (one halving per encoder conv)")
        self._init_family((in_channels, image_size, image_size), z_dim, variational, num_classes)
        def block(conv: nn.Module, channels: int) -> nn.Sequential:
            norm = [nn.BatchNorm2d(channels, momentum=batch_norm_momentum, eps=batch_norm_eps)] if batch_norm else []
            return nn.Sequential(conv, *norm, make_activation(activation, leaky_relu_slope))

        blocks, prev = [], in_channels + num_classes  # a conditional encoder sees the one-hot label as channels
        for c in hidden_channels:
            blocks.append(block(nn.Conv2d(prev, c, 3, stride=2, padding=1), c))
            prev = c
        self.encoder = nn.Sequential(*blocks)
        side = image_size // 2**depth
        self._bottleneck = (prev, side, side)
        flat = prev * side * side
        self._init_heads(flat)

        layers = [nn.Linear(z_dim + num_classes, flat)]
        if decoder_input_activation:
            if batch_norm:
                layers.append(nn.BatchNorm1d(flat, momentum=batch_norm_momentum, eps=batch_norm_eps))
            layers.append(make_activation(activation, leaky_relu_slope))
        self.decoder_input = nn.Sequential(*layers)
        blocks = []
        for c in reversed(hidden_channels):
            if upsampling == "transposed":
                up = nn.ConvTranspose2d(prev, c, 3, stride=2, padding=1, output_padding=1)
            else:
                up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(prev, c, 3, padding=1))
            blocks.append(block(up, c))
            prev = c
        blocks.append(nn.ConvTranspose2d(prev, in_channels, 3, stride=1, padding=1))
        self.decoder = nn.Sequential(*blocks)


