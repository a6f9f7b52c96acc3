"""Convolutional VAE for 64×64 faces — the CelebA VAE of *Generative Deep Learning*, 2nd ed. (D. Foster, 2023), ch. 3.

Architecture (defaults = the book's model, ≈0.49 M parameters)::

    x (B, 3, 64, 64) ─ 5 × [Conv 3×3 stride 2 → BatchNorm → LeakyReLU]  (64 filters each) → (B, 64, 2, 2)
                     ─ flatten → Dense → mean (B, 200)
                               → Dense → logvar (B, 200)
    z = mean + exp(logvar / 2) · ε,  ε ~ N(0, I)                                    (reparameterisation trick)
    z ─ Dense → BatchNorm → LeakyReLU → reshape (B, 64, 2, 2)
      ─ 5 × [ConvTranspose 3×3 stride 2 → BatchNorm → LeakyReLU] → ConvTranspose 3×3 stride 1 → sigmoid → (B, 3, 64, 64)

    loss = β · MSE(x, x̂)  (mean over pixels and channels)  +  KL(q(z|x) ‖ N(0, I))  (sum over z, mean over batch)

The Keras defaults of the book are kept: LeakyReLU slope 0.3, BatchNorm momentum 0.99 (PyTorch ``momentum=0.01``)
and eps 1e-3. One deliberate difference: convolutions pad symmetrically (PyTorch ``padding=1``), where Keras'
``padding="same"`` with stride 2 pads bottom/right only; output sizes are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..directions import DIRECTIONS_NAME, AttributeDirections, DirectionsMismatchError
from .base import HubModel, resolve_file


class DiagonalGaussian:
    """The VAE posterior q(z | x) = N(mean, diag(exp(logvar))), shaped like diffusers' ``DiagonalGaussianDistribution``.

    Args:
        mean: float32 tensor (B, z_dim).
        logvar: float32 tensor (B, z_dim), log-variance (natural log).
    """

    def __init__(self, mean: torch.Tensor, logvar: torch.Tensor):
        self.mean = mean
        self.logvar = logvar

    @property
    def std(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A reparameterised draw ``mean + std · ε`` (differentiable in mean/logvar), (B, z_dim) float32."""
        if generator is None:
            eps = torch.randn_like(self.mean)
        else:
            eps = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * eps

    def mode(self) -> torch.Tensor:
        """The posterior mean, (B, z_dim): the deterministic latent used for morphing and editing."""
        return self.mean

    def kl(self) -> torch.Tensor:
        """KL(q(z|x) ‖ N(0, I)) per example, summed over z: (B,) float32, in nats."""
        return 0.5 * torch.sum(self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar, dim=1)


@dataclass
class VAEOutput:
    """Result of :meth:`ConvVAE.forward`.

    Attributes:
        reconstruction: (B, C, H, W) float in [0, 1].
        posterior: the :class:`DiagonalGaussian` q(z | x).
        z: (B, z_dim) the latent that was decoded (a sample, or the mean when ``sample_posterior=False``).
    """

    reconstruction: torch.Tensor
    posterior: DiagonalGaussian
    z: torch.Tensor


def _conv_block(conv: nn.Module, channels: int, slope: float, momentum: float, eps: float) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(channels, momentum=momentum, eps=eps), nn.LeakyReLU(slope))


class ConvVAE(
    nn.Module,
    HubModel,
    library_name="latentlab",
    tags=["vae", "celeba", "image-generation", "latent-space"],
    repo_url="https://github.com/latent-lab/latentlab",
):
    """Convolutional variational autoencoder (Kingma & Welling, 2014) — the book's CelebA face VAE by default.

    Every architectural choice is an ``__init__`` argument, recorded in ``config.json`` by ``save_pretrained``, so
    a variant is a config, not new code.

    Args:
        in_channels: image channels C (3 for RGB faces).
        image_size: square input side H = W in pixels; must be divisible by ``2 ** len(hidden_channels)``.
        hidden_channels: filters of each stride-2 encoder conv (the decoder mirrors them).
        z_dim: latent size.
        beta: weight β of the reconstruction MSE against the KL term (the book uses 2000).
        leaky_relu_slope, batch_norm_momentum, batch_norm_eps: Keras defaults of the seed (0.3, 0.01, 1e-3).

    Raises:
        ValueError: ``image_size`` is not divisible by ``2 ** len(hidden_channels)``, or sizes are not positive.

    Example::

        vae = ConvVAE.from_pretrained("pretrained/celeba-vae-64")
        posterior = vae.encode(images)           # images: (B, 3, 64, 64) float in [0, 1]
        faces = vae.decode(posterior.mode())     # (B, 3, 64, 64) float in [0, 1]
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 64,
        hidden_channels: list[int] | tuple[int, ...] = (64, 64, 64, 64, 64),
        z_dim: int = 200,
        beta: float = 2000.0,
        leaky_relu_slope: float = 0.3,
        batch_norm_momentum: float = 0.01,
        batch_norm_eps: float = 1e-3,
    ):
        super().__init__()
        hidden_channels = list(hidden_channels)
        depth = len(hidden_channels)
        if depth == 0 or z_dim <= 0 or in_channels <= 0 or min(hidden_channels) <= 0:
            raise ValueError("in_channels, z_dim and every hidden_channels entry must be positive")
        if image_size % (2**depth) != 0:
            raise ValueError(f"image_size={image_size} is not divisible by 2**{depth} (one halving per encoder conv)")
        self.in_channels, self.image_size, self.z_dim, self.beta = in_channels, image_size, z_dim, float(beta)
        bn = dict(slope=leaky_relu_slope, momentum=batch_norm_momentum, eps=batch_norm_eps)

        blocks, prev = [], in_channels
        for c in hidden_channels:
            blocks.append(_conv_block(nn.Conv2d(prev, c, 3, stride=2, padding=1), c, **bn))
            prev = c
        self.encoder = nn.Sequential(*blocks)
        self._bottleneck = (prev, image_size // 2**depth, image_size // 2**depth)
        flat = prev * self._bottleneck[1] * self._bottleneck[2]
        self.mean_head = nn.Linear(flat, z_dim)
        self.logvar_head = nn.Linear(flat, z_dim)

        self.decoder_input = nn.Sequential(
            nn.Linear(z_dim, flat),
            nn.BatchNorm1d(flat, momentum=batch_norm_momentum, eps=batch_norm_eps),
            nn.LeakyReLU(leaky_relu_slope),
        )
        blocks = []
        for c in reversed(hidden_channels):
            blocks.append(_conv_block(nn.ConvTranspose2d(prev, c, 3, stride=2, padding=1, output_padding=1), c, **bn))
            prev = c
        blocks.append(nn.ConvTranspose2d(prev, in_channels, 3, stride=1, padding=1))
        self.decoder = nn.Sequential(*blocks)
        self.attribute_directions: AttributeDirections | None = None

    # --- the model ----------------------------------------------------------------------------------------
    def _check_images(self, x: torch.Tensor) -> None:
        expected = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"expected images of shape (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}")

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """Posterior q(z | x) of a batch of images.

        Args:
            x: (B, C, H, W) float tensor in [0, 1] (C, H, W = ``in_channels``, ``image_size``, ``image_size``).

        Returns:
            :class:`DiagonalGaussian` with ``mean`` and ``logvar`` of shape (B, z_dim), float32.

        Raises:
            ValueError: ``x`` has the wrong shape.
        """
        self._check_images(x)
        h = self.encoder(x).flatten(1)
        return DiagonalGaussian(self.mean_head(h).float(), self.logvar_head(h).float())

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images from latents.

        Args:
            z: (B, z_dim) float tensor.

        Returns:
            (B, C, H, W) float32 tensor in [0, 1].

        Raises:
            ValueError: ``z`` is not (B, z_dim).
        """
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"expected latents of shape (B, {self.z_dim}), got {tuple(z.shape)}")
        h = self.decoder_input(z).view(z.shape[0], *self._bottleneck)
        return torch.sigmoid(self.decoder(h)).float()

    def forward(
        self, x: torch.Tensor, sample_posterior: bool = True, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encode, draw ``z`` (or take the mean with ``sample_posterior=False``), decode. ``x``: (B, C, H, W) in [0, 1]."""
        posterior = self.encode(x)
        z = posterior.sample(generator) if sample_posterior else posterior.mode()
        return VAEOutput(self.decode(z), posterior, z)

    def compute_loss(
        self, batch: dict[str, torch.Tensor], forward=None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """The book's VAE loss on a batch ``{"image": (B, C, H, W) in [0, 1]}``.

        Args:
            batch: the batch; only ``"image"`` is used.
            forward: the callable that runs this model (e.g. its DistributedDataParallel wrapper, so gradients are
                synchronised); defaults to the model itself.
            generator: RNG for the posterior sample (a fixed one makes validation losses comparable).

        Returns:
            dict of scalar float32 tensors: ``loss`` = β·``mse`` + ``kl`` (what the optimiser minimises), ``mse``
            (mean over pixels and channels) and ``kl`` (summed over z, mean over the batch, nats).
        """
        x = batch["image"]
        out = (self if forward is None else forward)(x, generator=generator)
        mse = F.mse_loss(out.reconstruction.float(), x.float())
        kl = out.posterior.kl().mean()
        return {"loss": self.beta * mse + kl, "mse": mse, "kl": kl}

    # --- attribute directions travel with the weights --------------------------------------------------------
    def set_attribute_directions(self, directions: AttributeDirections | None) -> None:
        """Attach directions computed for these weights.

        Raises:
            DirectionsMismatchError: their fingerprint or z_dim does not match this model's weights.
        """
        if directions is not None:
            if directions.z_dim != self.z_dim:
                raise DirectionsMismatchError(f"directions have z_dim {directions.z_dim}, model has {self.z_dim}")
            fingerprint = self.weights_fingerprint()
            if directions.model_fingerprint != fingerprint:
                raise DirectionsMismatchError(
                    "attribute directions were computed for other weights; recompute them for this model"
                )
        self.attribute_directions = directions

    def _save_extras(self, save_directory: Path) -> None:
        if self.attribute_directions is not None:
            self.set_attribute_directions(self.attribute_directions)  # still these weights? (raises if trained since)
            self.attribute_directions.save(save_directory / DIRECTIONS_NAME)

    def _load_extras(self, model_id: str, download: dict) -> None:
        path = resolve_file(model_id, DIRECTIONS_NAME, **download)
        if path is not None:
            self.set_attribute_directions(
                AttributeDirections.load(path, expected_fingerprint=self.weights_fingerprint())
            )

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
