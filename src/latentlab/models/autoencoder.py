"""What every Latent Lab model shares: the posterior types, ``encode``/``decode``/``forward``, extras and Hub I/O.

A model is an autoencoder (deterministic code ``z = f(x)``) or a VAE (posterior q(z | x) = N(mean, diag(var))),
optionally **conditional** on a class label (the one-hot label is given to the encoder with ``x`` and to the
decoder with ``z``). Subclasses (:class:`~latentlab.models.ConvAutoencoder`,
:class:`~latentlab.models.DenseAutoencoder`, :class:`~latentlab.models.ResNetAutoencoder`) only build the encoder
body and the decoder; the heads, the conditioning and the Hub I/O live here, so every model has the same API::

    posterior = model.encode(x, labels)        # .mean / .mode() / .sample() / .kl()
    x_hat = model.decode(posterior.mode(), labels)

A model is its architecture only: what it is trained to minimise is :mod:`latentlab.objectives`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..directions import DIRECTIONS_NAME, AttributeDirections
from ..extras import check_binding
from ..prior import PRIOR_NAME, GaussianMixturePrior
from .base import HubModel, resolve_file

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


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

    def kl_per_dim(self) -> torch.Tensor:
        """KL(q(z_j|x) ‖ N(0, 1)) per example and latent dimension: (B, z_dim) float32, in nats."""
        return 0.5 * (self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar)

    def kl(self) -> torch.Tensor:
        """KL(q(z|x) ‖ N(0, I)) per example, summed over z: (B,) float32, in nats."""
        return self.kl_per_dim().sum(dim=1)


class PointPosterior:
    """The "posterior" of a plain autoencoder: all mass on ``z = f(x)`` (like diffusers' ``IdentityDistribution``).

    It has the :class:`DiagonalGaussian` interface so code can treat both model kinds alike: ``sample()`` and
    ``mode()`` return ``mean`` (B, z_dim) float32; ``logvar`` is ``None``; there is no KL term.
    """

    logvar = None

    def __init__(self, z: torch.Tensor):
        self.mean = z

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.mean

    def mode(self) -> torch.Tensor:
        return self.mean


@dataclass
class AutoencoderOutput:
    """Result of ``forward``.

    Attributes:
        reconstruction: (B, C, H, W) float32 in [0, 1] (the sigmoid of ``logits``).
        posterior: :class:`DiagonalGaussian` (VAE) or :class:`PointPosterior` (autoencoder).
        z: (B, z_dim) the latent that was decoded (a posterior sample, or its mean).
        logits: (B, C, H, W) the decoder's pre-sigmoid output (used by the binary cross-entropy loss).
    """

    reconstruction: torch.Tensor
    posterior: DiagonalGaussian | PointPosterior
    z: torch.Tensor
    logits: torch.Tensor




def make_activation(name: str, leaky_relu_slope: float = 0.3) -> nn.Module:
    """The activation module for a config name (``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return nn.LeakyReLU(leaky_relu_slope) if name == "leaky_relu" else ACTIVATIONS[name]()


class Autoencoder(nn.Module, HubModel):
    """Base class: heads, conditioning, ``encode``/``decode``/``forward``, attribute directions and prior.

    Subclasses call :meth:`_init_family` from ``__init__`` and build ``self.encoder`` (images + optional label
    maps → (B, F) features via :meth:`_encoder_features`) and ``self.decoder`` (via :meth:`_decoder_logits`).
    """

    image_shape: tuple[int, int, int]
    z_dim: int
    decoder_modules = ("decoder_input", "decoder")  # the rest (encoder, heads) defines the latent space

    def _init_family(self, image_shape: tuple[int, int, int], z_dim: int, variational: bool, num_classes: int) -> None:
        if z_dim <= 0 or min(image_shape) <= 0:
            raise ValueError("z_dim and the image shape must be positive")
        if num_classes < 0:
            raise ValueError(f"num_classes must be ≥ 0 (0 = unconditional), got {num_classes}")
        self.image_shape = tuple(image_shape)
        self.in_channels, self.image_size = image_shape[0], image_shape[1]
        self.z_dim, self.variational, self.num_classes = z_dim, bool(variational), num_classes
        self.attribute_directions: AttributeDirections | None = None
        self.prior: GaussianMixturePrior | None = None

    def _init_heads(self, features: int) -> None:
        """Dense heads from the encoder's (B, features) output: ``mean_head``/``logvar_head`` or ``latent_head``."""
        if self.variational:
            self.mean_head = nn.Linear(features, self.z_dim)
            self.logvar_head = nn.Linear(features, self.z_dim)
        else:
            self.latent_head = nn.Linear(features, self.z_dim)

    # --- to be provided by each architecture -------------------------------------------------------------------
    def _encoder_features(self, x: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _latent_code(self, h: torch.Tensor) -> torch.Tensor:
        """The autoencoder's code from the ``latent_head`` output (subclasses may add an activation)."""
        return h

    def _decoder_logits(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """(B, z_dim [+ num_classes]) → (B, C, H, W) pre-sigmoid."""
        raise NotImplementedError

    # --- checks ----------------------------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def _check_images(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            shape = ", ".join(map(str, self.image_shape))
            raise ValueError(f"expected images of shape (B, {shape}), got {tuple(x.shape)}")

    def _onehot(self, labels: torch.Tensor | None, batch_size: int, like: torch.Tensor) -> torch.Tensor | None:
        if not self.conditional:
            if labels is not None:
                raise ValueError("this model is not conditional; do not pass labels")
            return None
        if labels is None:
            raise ValueError(f"this model is conditional: pass labels, an int tensor (B,) in [0, {self.num_classes})")
        labels = torch.as_tensor(labels, device=like.device)
        if labels.shape != (batch_size,) or labels.dtype.is_floating_point:
            raise ValueError(f"labels must be an int tensor of shape ({batch_size},), got {labels.dtype} {tuple(labels.shape)}")
        if batch_size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"labels must lie in [0, {self.num_classes}), got {labels.min().item()}..{labels.max().item()}")
        return F.one_hot(labels.long(), self.num_classes).to(like.dtype)

    # --- the model ---------------------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> DiagonalGaussian | PointPosterior:
        """Posterior of a batch of images.

        Args:
            x: (B, C, H, W) float tensor in [0, 1], (C, H, W) = ``image_shape``.
            labels: (B,) int class labels in [0, ``num_classes``) — required for a conditional model, else ``None``.

        Returns:
            :class:`DiagonalGaussian` (``mean``/``logvar`` (B, z_dim) float32) for a VAE, :class:`PointPosterior`
            (``mean`` = the code) for an autoencoder.

        Raises:
            ValueError: wrong image shape, or labels missing / out of range / given to an unconditional model.
        """
        self._check_images(x)
        h = self._encoder_features(x, self._onehot(labels, x.shape[0], x))
        if self.variational:
            return DiagonalGaussian(self.mean_head(h).float(), self.logvar_head(h).float())
        return PointPosterior(self._latent_code(self.latent_head(h)).float())

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's pre-sigmoid output (B, C, H, W) for latents ``z`` (B, z_dim). Raises ValueError on bad shapes."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"expected latents of shape (B, {self.z_dim}), got {tuple(z.shape)}")
        onehot = self._onehot(labels, z.shape[0], z)
        return self._decoder_logits(z if onehot is None else torch.cat([z, onehot], dim=1))

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images from latents.

        Args:
            z: (B, z_dim) float tensor.
            labels: (B,) int class labels (conditional models only): which class to draw.

        Returns:
            (B, C, H, W) float32 tensor in [0, 1].

        Raises:
            ValueError: ``z`` is not (B, z_dim), or labels are missing / out of range / not expected.
        """
        return torch.sigmoid(self.decode_logits(z, labels)).float()

    def forward(
        self,
        x: torch.Tensor,
        labels: torch.Tensor | None = None,
        sample_posterior: bool = True,
        generator: torch.Generator | None = None,
    ) -> AutoencoderOutput:
        """Encode, take ``z`` (a posterior sample, or the mean with ``sample_posterior=False``; an autoencoder's code
        either way), decode. ``x``: (B, C, H, W) in [0, 1]; ``labels`` as in :meth:`encode`."""
        posterior = self.encode(x, labels)
        z = posterior.sample(generator) if sample_posterior else posterior.mode()
        logits = self.decode_logits(z, labels)
        return AutoencoderOutput(torch.sigmoid(logits).float(), posterior, z, logits)

    def last_decoder_weight(self) -> torch.Tensor:
        """The weight tensor of the decoder's last layer (where VQGAN's adaptive weight compares gradients)."""
        layers = [m for m in self.decoder.modules() if getattr(m, "weight", None) is not None and m.weight.ndim >= 2]
        return layers[-1].weight

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # --- files bound to the latent space travel with the weights (latentlab.extras) -------------------------
    # attribute name -> (file name in a model folder, its class: a latentlab.extras.LatentBoundFile)
    extras = {"attribute_directions": (DIRECTIONS_NAME, AttributeDirections), "prior": (PRIOR_NAME, GaussianMixturePrior)}

    def set_extra(self, name: str, extra, *, fingerprint: str | None = None) -> None:
        """Attach a latent-bound extra (``name``: a key of :attr:`extras`), or detach it with ``None``.

        Args:
            fingerprint: this model's :meth:`latent_fingerprint`, if already computed (it hashes the encoder).

        Raises:
            LatentMismatchError: the extra belongs to another encoder or latent size.
            KeyError: an unknown name.
        """
        if extra is not None:
            check_binding(extra, fingerprint or self.latent_fingerprint(), self.z_dim, f"the {name.replace('_', ' ')}",
                          self.extras[name][1].fix)  # fmt: skip
        setattr(self, name, extra)

    def set_attribute_directions(self, directions: AttributeDirections | None, *, fingerprint: str | None = None) -> None:
        """Attach attribute directions computed from this model's encoder (see :meth:`set_extra`).

        Raises:
            DirectionsMismatchError: they belong to another encoder or latent size.
        """
        self.set_extra("attribute_directions", directions, fingerprint=fingerprint)

    def set_prior(self, prior: GaussianMixturePrior | None, *, fingerprint: str | None = None) -> None:
        """Attach an ex-post prior (:mod:`latentlab.prior`) fitted on this encoder's posterior means (see
        :meth:`set_extra`).

        Raises:
            PriorMismatchError: it belongs to another encoder or latent size.
        """
        self.set_extra("prior", prior, fingerprint=fingerprint)

    def _save_extras(self, save_directory: Path) -> None:
        attached = {name: getattr(self, name) for name in self.extras if getattr(self, name) is not None}
        fingerprint = self.latent_fingerprint() if attached else None  # still this encoder? (raises if trained since)
        for name, extra in attached.items():
            self.set_extra(name, extra, fingerprint=fingerprint)
            extra.save(save_directory / self.extras[name][0])

    def _load_extras(self, model_id: str, download: dict) -> None:
        files = {name: resolve_file(model_id, file_name, **download) for name, (file_name, _) in self.extras.items()}
        files = {name: path for name, path in files.items() if path is not None}
        fingerprint = self.latent_fingerprint() if files else None  # hashed once for every file
        for name, path in files.items():
            extra = self.extras[name][1].load(path, expected_fingerprint=fingerprint)
            self.set_extra(name, extra, fingerprint=fingerprint)  # the latent size, too


class SpatialAutoencoder(Autoencoder):
    """The plumbing shared by the convolutional architectures (:class:`~.conv.ConvAutoencoder`,
    :class:`~.resnet.ResNetAutoencoder`): ``self.encoder`` maps the images — with a conditional model's one-hot label
    as constant extra channels — to (B, *bottleneck) features, flattened into the heads; ``self.decoder_input`` maps
    ``z`` (joined with the one-hot label) to (B, C·h·w), reshaped to ``self._bottleneck`` = (C, h, w), the input of
    ``self.decoder``."""

    _bottleneck: tuple[int, int, int]

    def _encoder_features(self, x, onehot):
        if onehot is not None:  # (B, K) → (B, K, H, W) constant maps beside the image channels
            x = torch.cat([x, onehot[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)
        return self.encoder(x).flatten(1)

    def _decoder_logits(self, z):
        return self.decoder(self.decoder_input(z).view(z.shape[0], *self._bottleneck))
