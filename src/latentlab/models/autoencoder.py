"""What every Latent Lab model shares: the posterior types, ``encode``/``decode``/``forward``/``compute_loss``.

A model is an autoencoder (deterministic code ``z = f(x)``) or a VAE (posterior q(z | x) = N(mean, diag(var))),
optionally **conditional** on a class label (the one-hot label is given to the encoder with ``x`` and to the
decoder with ``z``). Subclasses (:class:`~latentlab.models.ConvAutoencoder`,
:class:`~latentlab.models.DenseAutoencoder`) only build the encoder body and the decoder; the heads, the
conditioning, the losses and the Hub I/O live here, so every model has the same API::

    posterior = model.encode(x, labels)        # .mean / .mode() / .sample() / .kl()
    x_hat = model.decode(posterior.mode(), labels)
    losses = model.compute_loss({"image": x, "label": labels})

Losses (the reconstruction term is a mean over pixels and channels, as in Keras' losses):

* autoencoder: ``loss = reconstruction`` (MSE, or binary cross-entropy for ``reconstruction_loss="bce"``);
* VAE, ``decoder_variance="fixed"`` (the book's): ``loss = β · reconstruction + KL(q(z|x) ‖ N(0, I))`` (KL summed
  over z, mean over the batch) — *Generative Deep Learning*, 2nd ed., ch. 3 (β = 2000 with MSE for CelebA, β = 500
  with BCE for Fashion-MNIST). With MSE this is a Gaussian decoder of fixed variance σ² = D / (2β) per pixel
  (D = C·H·W), e.g. σ ≈ 1.75 for the book's faces on pixels in [0, 1]: far too wide, so the KL term wins and the
  encoder forgets most of the face.
* VAE, ``decoder_variance="optimal"`` (σ-VAE: Rybkin, Daniilidis & Levine, "Simple and Effective VAE Training with
  Calibrated Decoders", ICML 2021): a Gaussian decoder N(x̂, σ² I) whose one shared variance is set to its maximum-
  likelihood value, the batch's MSE, at every step. The loss is the negative ELBO in nats per image,
  ``D/2 · (log(2π σ²) + 1) + KL``, with no β to tune: as reconstructions improve σ shrinks and the reconstruction
  term's weight grows with them. ``kl_weight`` (default 1: the ELBO) multiplies the KL term as in the β-VAE
  (Higgins et al., ICLR 2017): above 1 it asks for a more compressed latent at some cost in reconstruction.
* optional **sharpness terms** of the σ-VAE, each calibrated the same way: a distance ``d`` weighted by
  ``w`` adds ``w · D/2 · log d`` to the loss, the σ-VAE's term for ``d`` with its own optimal scale, so its gradient
  ``w · D/2 · ∇d / d`` keeps the same weight relative to the MSE's however small the errors get (the per-term scales
  of Kendall, Gal & Cipolla, CVPR 2018). ``ssim_weight``: d = 1 − SSIM (Wang et al. 2004; ``pytorch_msssim``, an
  11-px Gaussian window); ``focal_frequency_weight``: d = the focal frequency loss (Jiang et al., ICCV 2021; the
  authors' ``focal_frequency_loss`` package), a squared spectral error that weights the frequencies the decoder gets
  most wrong. With either, the loss is no longer the negative ELBO alone; ``compute_loss`` reports each distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..directions import DIRECTIONS_NAME, AttributeDirections
from ..extras import check_binding
from ..prior import PRIOR_NAME, GaussianMixturePrior
from .base import HubModel, resolve_file

RECONSTRUCTION_LOSSES = ("mse", "bce")
DECODER_VARIANCES = ("fixed", "optimal")
MIN_LOG_SIGMA = -6.0  # σ-VAE: the decoder's log σ is clipped below (Rybkin et al.'s soft floor), σ ≥ 0.0025
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
    """Base class: heads, conditioning, ``encode``/``decode``/``forward``/``compute_loss``, attribute directions.

    Subclasses call :meth:`_init_family` from ``__init__`` and build ``self.encoder`` (images + optional label
    maps → (B, F) features via :meth:`_encoder_features`) and ``self.decoder`` (via :meth:`_decoder_logits`).
    """

    image_shape: tuple[int, int, int]
    z_dim: int
    decoder_modules = ("decoder_input", "decoder")  # the rest (encoder, heads) defines the latent space

    def _init_family(
        self,
        image_shape: tuple[int, int, int],
        z_dim: int,
        variational: bool,
        beta: float,
        num_classes: int,
        reconstruction_loss: str,
        decoder_variance: str = "fixed",
        ssim_weight: float = 0.0,
        focal_frequency_weight: float = 0.0,
        kl_weight: float = 1.0,
    ) -> None:
        if z_dim <= 0 or min(image_shape) <= 0:
            raise ValueError("z_dim and the image shape must be positive")
        if num_classes < 0:
            raise ValueError(f"num_classes must be ≥ 0 (0 = unconditional), got {num_classes}")
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction_loss must be one of {RECONSTRUCTION_LOSSES}, got {reconstruction_loss!r}")
        if decoder_variance not in DECODER_VARIANCES:
            raise ValueError(f"decoder_variance must be one of {DECODER_VARIANCES}, got {decoder_variance!r}")
        if decoder_variance == "optimal" and (reconstruction_loss != "mse" or not variational):
            raise ValueError("decoder_variance='optimal' (σ-VAE) is a Gaussian decoder: it needs a VAE with "
                             "reconstruction_loss='mse'")  # fmt: skip
        if not (ssim_weight >= 0 and focal_frequency_weight >= 0):
            raise ValueError(f"ssim_weight and focal_frequency_weight must be ≥ 0, got {ssim_weight}, {focal_frequency_weight}")
        if (ssim_weight or focal_frequency_weight) and decoder_variance != "optimal":
            raise ValueError("the sharpness terms (ssim_weight, focal_frequency_weight) are calibrated like the σ-VAE's "
                             "MSE term: they need decoder_variance='optimal'")  # fmt: skip
        if not kl_weight > 0:
            raise ValueError(f"kl_weight must be > 0, got {kl_weight}")
        if kl_weight != 1 and decoder_variance != "optimal":
            raise ValueError("kl_weight weighs the σ-VAE's KL term; with decoder_variance='fixed' β already sets the "
                             "balance of reconstruction and KL")  # fmt: skip
        self.ssim_weight, self.focal_frequency_weight = float(ssim_weight), float(focal_frequency_weight)
        self.kl_weight = float(kl_weight)
        self.image_shape = tuple(image_shape)
        self.in_channels, self.image_size = image_shape[0], image_shape[1]
        self.z_dim, self.variational, self.beta = z_dim, bool(variational), float(beta)
        self.num_classes, self.reconstruction_loss = num_classes, reconstruction_loss
        self.decoder_variance = decoder_variance
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

    def compute_loss(
        self, batch: dict[str, torch.Tensor], forward=None, generator: torch.Generator | None = None,
        return_reconstruction: bool = False,
    ) -> dict[str, torch.Tensor] | tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The training loss on a batch ``{"image": (B, C, H, W) in [0, 1], "label": (B,) int (conditional)}``.

        Args:
            batch: the batch; ``"label"`` is used by conditional models only. With an ``"input"`` (a corrupted copy
                of ``"image"``) the model encodes the input and is scored against the clean image: a denoising
                autoencoder (Vincent et al. 2008).
            forward: the callable that runs this model (e.g. its DistributedDataParallel wrapper, so gradients are
                synchronised); defaults to the model itself.
            generator: RNG for the posterior sample (a fixed one makes validation losses comparable).
            return_reconstruction: also return the decoded batch, (B, C, H, W) float32 in [0, 1], differentiable
                (the adversarial objective of :mod:`.discriminator` scores it).

        Returns:
            dict of scalar float32 tensors: ``loss`` (what the optimiser minimises), the reconstruction term under
            its name (``mse`` or ``bce``, mean over pixels) and, for a VAE, ``kl`` (summed over z, mean over the
            batch, nats) with ``loss = β · reconstruction + kl`` (``decoder_variance="fixed"``) or, for the σ-VAE,
            ``loss = D/2 · (log(2π σ²) + 1) + kl_weight · kl`` (nats per image; the negative ELBO at the default
            ``kl_weight`` 1) and ``sigma``, the decoder's σ = √MSE; with
            sharpness terms (module docstring) also ``ssim_distance`` (1 − SSIM) and/or ``focal_frequency``, each
            a batch mean, and their ``w · D/2 · log d`` in ``loss``. With ``return_reconstruction``: the pair
            ``(losses, reconstruction)``.
        """
        losses, out = self._losses(batch, forward, generator)
        return (losses, out.reconstruction) if return_reconstruction else losses

    def _losses(self, batch, forward, generator) -> tuple[dict[str, torch.Tensor], AutoencoderOutput]:
        x = batch["image"]
        labels = batch.get("label") if self.conditional else None
        out = (self if forward is None else forward)(batch.get("input", x), labels, generator=generator)
        if self.reconstruction_loss == "bce":  # on logits: stable, and safe under autocast
            recon = F.binary_cross_entropy_with_logits(out.logits.float(), x.float())
        else:
            recon = F.mse_loss(out.reconstruction.float(), x.float())
        if not self.variational:
            return {"loss": recon, self.reconstruction_loss: recon}, out
        kl = out.posterior.kl().mean()
        if self.decoder_variance == "fixed":
            return {"loss": self.beta * recon + kl, self.reconstruction_loss: recon, "kl": kl}, out
        # σ-VAE with the optimal shared variance σ² = MSE: Σ_pixels (x − x̂)² / (2σ²) = D/2 per image, and the
        # gradient equals that of the NLL with σ held fixed (∂/∂σ vanishes at the optimum).
        log_sigma = (0.5 * recon.clamp_min(1e-12).log()).clamp_min(MIN_LOG_SIGMA)
        d = x[0].numel()
        nll = d * (log_sigma + 0.5 * math.log(2 * math.pi)) + 0.5 * d * recon / torch.exp(2 * log_sigma)
        losses = {"loss": nll + self.kl_weight * kl, self.reconstruction_loss: recon, "kl": kl, "sigma": log_sigma.exp().detach()}
        for name, weight, distance in (("ssim_distance", self.ssim_weight, _ssim_distance),
                                       ("focal_frequency", self.focal_frequency_weight, _focal_frequency)):  # fmt: skip
            if weight:
                value = distance(out.reconstruction.float(), x.float())
                losses[name] = value
                losses["loss"] = losses["loss"] + weight * 0.5 * d * value.clamp_min(1e-12).log()
        return losses, out

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


def _ssim_distance(reconstruction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """1 − SSIM of two (B, C, H, W) batches in [0, 1], a scalar (batch mean; ``pytorch_msssim``, 11-px window)."""
    from pytorch_msssim import ssim

    return 1.0 - ssim(reconstruction, x, data_range=1.0, size_average=True)


def _focal_frequency(reconstruction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The focal frequency loss (Jiang et al., ICCV 2021) of two (B, C, H, W) batches, a scalar (the authors' package,
    its defaults: α = 1, the whole image, per-image spectrum weights)."""
    from focal_frequency_loss import FocalFrequencyLoss

    return FocalFrequencyLoss()(reconstruction.contiguous(), x.contiguous())


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
