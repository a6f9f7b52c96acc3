"""Training objectives: what a model is trained to minimise, kept apart from the model itself.

A model folder records its architecture only (``config.json``); the objective is part of the training config (its
``objective`` section, :class:`AutoencoderObjective` or :class:`AttributeObjective`), so changing a loss changes
neither the model class nor the saved format. :func:`latentlab.config.parse_config` builds a run's objective from that
section (:func:`objective_class` picks the class for the model type), and ``check(model)`` says whether the model can
be trained with it::

    objective = AutoencoderObjective(decoder_variance="optimal", beta=8)   # the shipped face VAE's
    losses = objective(model, {"image": x})                                 # {"loss", "mse", "kl", "sigma"}

Autoencoder and VAE losses (the reconstruction term is a mean over pixels and channels, as in Keras' losses):

* autoencoder: ``loss = reconstruction`` (MSE, or binary cross-entropy for ``reconstruction="bce"``);
* VAE, ``decoder_variance="fixed"`` (the book's): ``loss = w · reconstruction + β · KL(q(z|x) ‖ N(0, I))`` (KL summed
  over z, mean over the batch) with ``w = reconstruction_weight`` — *Generative Deep Learning*, 2nd ed., ch. 3 (w =
  2000 with MSE for CelebA, w = 500 with BCE for Fashion-MNIST, β = 1). With MSE this is a Gaussian decoder of fixed
  variance σ² = D / (2w) per pixel (D = C·H·W), e.g. σ ≈ 1.75 for the book's faces on pixels in [0, 1]: far too
  wide, so the KL term wins and the encoder forgets most of the face.
* VAE, ``decoder_variance="optimal"`` (σ-VAE: Rybkin, Daniilidis & Levine, "Simple and Effective VAE Training with
  Calibrated Decoders", ICML 2021): a Gaussian decoder N(x̂, σ² I) whose one shared variance is set to its maximum-
  likelihood value, the batch's MSE, at every step. The loss is the negative ELBO in nats per image,
  ``D/2 · (log(2π σ²) + 1) + β · KL``, with no reconstruction weight to tune: as reconstructions improve σ shrinks
  and the reconstruction term's weight grows with them. β (default 1: the ELBO) weighs the KL term as in the β-VAE
  (Higgins et al., ICLR 2017): above 1 it asks for a more compressed latent at some cost in reconstruction.
* optional **sharpness terms** of the σ-VAE, each calibrated the same way: a distance ``d`` weighted by
  ``w`` adds ``w · D/2 · log d`` to the loss, the σ-VAE's term for ``d`` with its own optimal scale, so its gradient
  ``w · D/2 · ∇d / d`` keeps the same weight relative to the MSE's however small the errors get (the per-term scales
  of Kendall, Gal & Cipolla, CVPR 2018). ``ssim_weight``: d = 1 − SSIM (Wang et al. 2004; ``pytorch_msssim``, an
  11-px Gaussian window); ``focal_frequency_weight``: d = the focal frequency loss (Jiang et al., ICCV 2021; the
  authors' ``focal_frequency_loss`` package), a squared spectral error that weights the frequencies the decoder gets
  most wrong. With either, the loss is no longer the negative ELBO alone; the objective reports each distance.

The adversarial objective of a decoder trained against a discriminator is :mod:`latentlab.models.discriminator`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .models import AttributeClassifier, Autoencoder
from .models.autoencoder import AutoencoderOutput

RECONSTRUCTIONS = ("mse", "bce")
DECODER_VARIANCES = ("fixed", "optimal")
MIN_LOG_SIGMA = -6.0  # σ-VAE: the decoder's log σ is clipped below (Rybkin et al.'s soft floor), σ ≥ 0.0025


@dataclass(frozen=True)
class AutoencoderObjective:
    """The loss of an autoencoder or VAE (see the module docstring for each term).

    Attributes:
        reconstruction: ``"mse"`` or ``"bce"`` (binary cross-entropy on the decoder's logits), mean over pixels.
        decoder_variance: ``"fixed"`` (``w · reconstruction + β · KL``, the book's) or ``"optimal"`` (the σ-VAE's
            negative ELBO; needs ``reconstruction="mse"``). VAEs only.
        reconstruction_weight: w, the weight of the reconstruction term against the KL term, > 0 (``"fixed"`` only;
            the book uses 2000 for faces).
        beta: β, the weight of the KL term, > 0 (1: the ELBO; > 1: a β-VAE's more compressed latent).
        ssim_weight, focal_frequency_weight: the σ-VAE's optional sharpness terms, ≥ 0 (0: off; ``"optimal"``
            only).

    Raises:
        ValueError: an unknown option, a weight out of range, or an option the chosen decoder variance does not take.
    """

    reconstruction: str = "mse"
    decoder_variance: str = "fixed"
    reconstruction_weight: float = 1.0
    beta: float = 1.0
    ssim_weight: float = 0.0
    focal_frequency_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.reconstruction not in RECONSTRUCTIONS:
            raise ValueError(f"reconstruction must be one of {RECONSTRUCTIONS}, got {self.reconstruction!r}")
        if self.decoder_variance not in DECODER_VARIANCES:
            raise ValueError(f"decoder_variance must be one of {DECODER_VARIANCES}, got {self.decoder_variance!r}")
        if self.decoder_variance == "optimal" and self.reconstruction != "mse":
            raise ValueError("decoder_variance='optimal' (σ-VAE) is a Gaussian decoder: it needs reconstruction='mse'")
        if not (self.reconstruction_weight > 0 and self.beta > 0):
            raise ValueError(f"reconstruction_weight and beta must be > 0, got {self.reconstruction_weight}, {self.beta}")
        if self.reconstruction_weight != 1 and self.decoder_variance == "optimal":
            raise ValueError("the σ-VAE sets its reconstruction weight itself (the decoder's optimal variance): "
                             "reconstruction_weight is for decoder_variance='fixed'")  # fmt: skip
        if not (self.ssim_weight >= 0 and self.focal_frequency_weight >= 0):
            raise ValueError(f"ssim_weight and focal_frequency_weight must be ≥ 0, got {self.ssim_weight}, "
                             f"{self.focal_frequency_weight}")  # fmt: skip
        if (self.ssim_weight or self.focal_frequency_weight) and self.decoder_variance != "optimal":
            raise ValueError("the sharpness terms (ssim_weight, focal_frequency_weight) are calibrated like the σ-VAE's "
                             "MSE term: they need decoder_variance='optimal'")  # fmt: skip

    def check(self, model: Autoencoder) -> None:
        """Raise ValueError when ``model`` cannot be trained with this objective (the σ-VAE needs a VAE)."""
        if self.decoder_variance == "optimal" and not model.variational:
            raise ValueError("decoder_variance='optimal' (σ-VAE) trains a VAE; this model is a plain autoencoder")

    def __call__(self, model: Autoencoder, batch: dict[str, torch.Tensor], forward=None,
                 generator: torch.Generator | None = None, return_reconstruction: bool = False):  # fmt: skip
        """The loss on a batch ``{"image": (B, C, H, W) in [0, 1], "label": (B,) int (conditional)}``.

        Args:
            model: the autoencoder or VAE.
            batch: the batch; ``"label"`` is used by conditional models only. With an ``"input"`` (a corrupted copy
                of ``"image"``) the model encodes the input and is scored against the clean image: a denoising
                autoencoder (Vincent et al. 2008).
            forward: the callable that runs the model (e.g. its DistributedDataParallel wrapper, so gradients are
                synchronised); defaults to the model itself.
            generator: RNG for the posterior sample (a fixed one makes validation losses comparable).
            return_reconstruction: also return the decoded batch, (B, C, H, W) float32 in [0, 1], differentiable
                (the adversarial objective scores it).

        Returns:
            dict of scalar float32 tensors: ``loss`` (what the optimiser minimises), the reconstruction term under
            its name (``mse`` or ``bce``) and, for a VAE, ``kl`` (summed over z, mean over the batch, nats); for the
            σ-VAE also ``sigma``, the decoder's σ = √MSE, and with sharpness terms ``ssim_distance`` (1 − SSIM)
            and/or ``focal_frequency``, each a batch mean. With ``return_reconstruction``: the pair
            ``(losses, reconstruction)``.
        """
        losses, out = self._losses(model, batch, forward, generator)
        return (losses, out.reconstruction) if return_reconstruction else losses

    def _losses(self, model, batch, forward, generator) -> tuple[dict[str, torch.Tensor], AutoencoderOutput]:
        x = batch["image"]
        labels = batch.get("label") if model.conditional else None
        out = (model if forward is None else forward)(batch.get("input", x), labels, generator=generator)
        if self.reconstruction == "bce":  # on logits: stable, and safe under autocast
            recon = F.binary_cross_entropy_with_logits(out.logits.float(), x.float())
        else:
            recon = F.mse_loss(out.reconstruction.float(), x.float())
        if not model.variational:
            return {"loss": recon, self.reconstruction: recon}, out
        kl = out.posterior.kl().mean()
        if self.decoder_variance == "fixed":
            return {"loss": self.reconstruction_weight * recon + self.beta * kl, self.reconstruction: recon, "kl": kl}, out
        # σ-VAE with the optimal shared variance σ² = MSE: Σ_pixels (x − x̂)² / (2σ²) = D/2 per image, and the
        # gradient equals that of the NLL with σ held fixed (∂/∂σ vanishes at the optimum).
        log_sigma = (0.5 * recon.clamp_min(1e-12).log()).clamp_min(MIN_LOG_SIGMA)
        d = x[0].numel()
        nll = d * (log_sigma + 0.5 * math.log(2 * math.pi)) + 0.5 * d * recon / torch.exp(2 * log_sigma)
        losses = {"loss": nll + self.beta * kl, self.reconstruction: recon, "kl": kl, "sigma": log_sigma.exp().detach()}
        for name, weight, distance in (("ssim_distance", self.ssim_weight, _ssim_distance),
                                       ("focal_frequency", self.focal_frequency_weight, _focal_frequency)):  # fmt: skip
            if weight:
                value = distance(out.reconstruction.float(), x.float())
                losses[name] = value
                losses["loss"] = losses["loss"] + weight * 0.5 * d * value.clamp_min(1e-12).log()
        return losses, out


@dataclass(frozen=True)
class AttributeObjective:
    """The attribute classifier's loss: binary cross-entropy over all attributes, with left-right mirroring in
    training mode (no options)."""

    def check(self, model: AttributeClassifier) -> None:
        """Nothing to check: every classifier trains with it."""

    def __call__(self, model: AttributeClassifier, batch: dict[str, torch.Tensor], forward=None,
                 generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:  # fmt: skip
        """The loss on ``{"image": (B, C, S, S) in [0, 1], "attributes": (B, K) 0/1}``; in training mode each image
        is mirrored left-right with probability ½ (drawn from ``generator``).

        Returns:
            ``loss`` = ``bce`` (mean over attributes and batch) and ``accuracy`` (mean over attributes and batch of
            (logit > 0) == label), scalar float32 tensors.
        """
        x, y = batch["image"], batch["attributes"].float()
        if model.training:
            flip = torch.rand(x.shape[0], generator=generator, device=generator.device if generator else x.device)
            x = torch.where((flip < 0.5).to(x.device)[:, None, None, None], x.flip(-1), x)
        logits = (model if forward is None else forward)(x).float()
        bce = F.binary_cross_entropy_with_logits(logits, y)
        return {"loss": bce, "bce": bce, "accuracy": ((logits > 0).float() == y).float().mean()}


def objective_class(model_type: str) -> type[AutoencoderObjective] | type[AttributeObjective]:
    """The objective class for a config's ``model.type``: :class:`AttributeObjective` for the attribute classifier,
    else :class:`AutoencoderObjective`."""
    return AttributeObjective if model_type == AttributeClassifier.model_type else AutoencoderObjective


def _ssim_distance(reconstruction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """1 − SSIM of two (B, C, H, W) batches in [0, 1], a scalar (batch mean; ``pytorch_msssim``, 11-px window)."""
    from pytorch_msssim import ssim

    return 1.0 - ssim(reconstruction, x, data_range=1.0, size_average=True)


def _focal_frequency(reconstruction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The focal frequency loss (Jiang et al., ICCV 2021) of two (B, C, H, W) batches, a scalar (the authors' package,
    its defaults: α = 1, the whole image, per-image spectrum weights)."""
    from focal_frequency_loss import FocalFrequencyLoss

    return FocalFrequencyLoss()(reconstruction.contiguous(), x.contiguous())
