"""A patch discriminator and the adversarial loss terms that train a decoder against it.

The discriminator is the PatchGAN of pix2pix (Isola et al., "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017): a stack of stride-2 convolutions whose output is a grid of logits, one per overlapping patch
(8×8 for a 64-px image with three stride-2 layers), so it judges local texture rather than the whole face. Every
convolution is wrapped in spectral normalisation (Miyato et al., ICLR 2018), which bounds its Lipschitz constant and
keeps training stable without a normalisation layer.

The decoder's objective (:class:`AdversarialObjective`) follows VQGAN (Esser, Rombach & Ommer, "Taming Transformers
for High-Resolution Image Synthesis", CVPR 2021): a reconstruction term plus an adversarial term whose weight is
set at every step to ``λ = ‖∇_w L_rec‖ / ‖∇_w L_adv‖`` at the decoder's last layer ``w`` (times a configurable
factor), so the adversarial gradient never swamps the reconstruction; the discriminator can train alone for a
warm-up before the decoder sees it. The reconstruction term is L1, MSE and/or feature matching on the
discriminator's hidden layers (pix2pixHD: Wang et al., CVPR 2018) — no pretrained network enters the loss.

The discriminator belongs to training only: it is saved in the training checkpoints, never in a model folder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

ADVERSARIAL_LOSSES = ("hinge", "non_saturating")


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator with spectral normalisation.

    Args:
        in_channels: image channels C.
        widths: channels of the stride-2 convolutions (4×4 kernels), one halving each; default 64/128/256.
        leaky_relu_slope: slope of the LeakyReLU after each hidden convolution (0.2, as in pix2pix).

    Input (B, C, H, W) float images in [0, 1]; :meth:`forward` returns the patch logits (B, 1, H / 2^L, W / 2^L)
    and the hidden activations after each stride-2 layer (for feature matching).

    Raises:
        ValueError: ``widths`` empty or not positive.
    """

    def __init__(self, in_channels: int = 3, widths: list[int] | tuple[int, ...] = (64, 128, 256),
                 leaky_relu_slope: float = 0.2):  # fmt: skip
        super().__init__()
        widths = list(widths)
        if not widths or min(widths) <= 0:
            raise ValueError(f"widths must be a non-empty list of positive channel counts, got {widths}")
        layers, prev = [], in_channels
        for w in widths:
            layers.append(nn.Sequential(spectral_norm(nn.Conv2d(prev, w, 4, stride=2, padding=1)),
                                        nn.LeakyReLU(leaky_relu_slope)))  # fmt: skip
            prev = w
        self.blocks = nn.ModuleList(layers)
        self.head = spectral_norm(nn.Conv2d(prev, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h, features = x * 2.0 - 1.0, []  # images in [-1, 1], as the GAN literature feeds them
        for block in self.blocks:
            h = block(h)
            features.append(h)
        return self.head(h), features


@dataclass(frozen=True)
class AdversarialObjective:
    """The decoder's and the discriminator's losses for one batch (VQGAN's recipe, see the module docstring).

    Attributes:
        loss: ``"hinge"`` (Lim & Ye 2017; Miyato et al. 2018) or ``"non_saturating"`` (Goodfellow et al. 2014).
        weight: factor on the adaptive weight λ of the adversarial term (VQGAN's ``disc_weight``), ≥ 0.
        start_step: optimiser steps during which the discriminator trains alone (the decoder is not updated).
        l1_weight, mse_weight, feature_matching_weight: the reconstruction terms (pixel means; feature matching is
            the mean L1 distance between the discriminator's hidden activations of real and decoded images).
        r1_weight: weight γ of the R1 penalty ``γ/2 · E‖∇_x D(x)‖²`` on real images (Mescheder et al., ICML 2018),
            0 for none.
        max_adaptive_weight: upper clamp of λ (VQGAN: 10⁴).
    """

    loss: str = "hinge"
    weight: float = 0.5
    start_step: int = 0
    l1_weight: float = 1.0
    mse_weight: float = 0.0
    feature_matching_weight: float = 1.0
    r1_weight: float = 0.0
    max_adaptive_weight: float = 1e4

    def __post_init__(self):
        if self.loss not in ADVERSARIAL_LOSSES:
            raise ValueError(f"adversarial loss must be one of {ADVERSARIAL_LOSSES}, got {self.loss!r}")
        if min(self.weight, self.l1_weight, self.mse_weight, self.feature_matching_weight, self.r1_weight) < 0:
            raise ValueError("adversarial weights must be ≥ 0")
        if not (self.l1_weight or self.mse_weight or self.feature_matching_weight):
            raise ValueError("the decoder needs a reconstruction term: l1_weight, mse_weight or feature_matching_weight > 0")

    def decoder_losses(self, discriminator: nn.Module, x: torch.Tensor, reconstruction: torch.Tensor,
                       last_layer: torch.Tensor) -> dict[str, torch.Tensor]:  # fmt: skip
        """The decoder's loss: reconstruction terms + λ · adversarial term.

        Args:
            discriminator: a :class:`PatchDiscriminator` (or its DDP wrapper); its parameters get no gradient here
                that matters (the caller zeroes them before the discriminator's own step).
            x: (B, C, H, W) real images in [0, 1].
            reconstruction: (B, C, H, W) decoded images in [0, 1], differentiable in the decoder.
            last_layer: the decoder's last weight tensor, where λ compares the two gradients.

        Returns:
            dict of scalars: ``loss`` (to backpropagate: its gradient in the decoder is that of ``objective``;
            its value means nothing), ``objective`` = reconstruction + λ · adversarial, ``reconstruction`` (the weighted
            sum of the terms below), ``l1``, ``mse``, ``feature_matching`` (those with weight > 0),
            ``adversarial`` (the generator's adversarial loss) and ``adaptive_weight`` (λ · factor, detached).
        """
        x, reconstruction = x.float(), reconstruction.float()
        fake_logits, fake_features = discriminator(reconstruction)
        out: dict[str, torch.Tensor] = {}
        rec = torch.zeros((), device=x.device)
        if self.l1_weight:
            out["l1"] = F.l1_loss(reconstruction, x)
            rec = rec + self.l1_weight * out["l1"]
        if self.mse_weight:
            out["mse"] = F.mse_loss(reconstruction, x)
            rec = rec + self.mse_weight * out["mse"]
        if self.feature_matching_weight:
            with torch.no_grad():
                _, real_features = discriminator(x)
            fm = sum(F.l1_loss(f.float(), r.float()) for f, r in zip(fake_features, real_features)) / len(fake_features)
            out["feature_matching"] = fm
            rec = rec + self.feature_matching_weight * fm
        fake_logits = fake_logits.float()
        adversarial = -fake_logits.mean() if self.loss == "hinge" else F.softplus(-fake_logits).mean()
        # Each term's gradient at the decoded images (one pass back through the discriminator per term), then at
        # the last layer (a pass through that layer alone) for λ; the decoder's gradient is then that of a
        # surrogate, <reconstruction, g_rec + λ·g_adv>, which equals the gradient of rec + λ·adversarial.
        g_rec, g_adv = (torch.autograd.grad(term, reconstruction, retain_graph=True)[0] for term in (rec, adversarial))
        w_rec, w_adv = (torch.autograd.grad(reconstruction, last_layer, g, retain_graph=True)[0] for g in (g_rec, g_adv))
        lam = (w_rec.norm() / (w_adv.norm() + 1e-4)).clamp(0.0, self.max_adaptive_weight) * self.weight
        out.update(loss=(reconstruction * (g_rec + lam * g_adv)).sum(), objective=(rec + lam * adversarial).detach(),
                   reconstruction=rec.detach(), adversarial=adversarial.detach(), adaptive_weight=lam)  # fmt: skip
        return out

    def discriminator_losses(self, discriminator: nn.Module, x: torch.Tensor, reconstruction: torch.Tensor
                             ) -> dict[str, torch.Tensor]:  # fmt: skip
        """The discriminator's loss on real ``x`` and decoded ``reconstruction`` (both (B, C, H, W) in [0, 1]; the
        reconstruction is detached here). Returns ``discriminator_loss`` (minimised), ``logits_real`` and
        ``logits_fake`` (batch means) and, with R1, ``r1``."""
        x = x.float().detach().requires_grad_(self.r1_weight > 0)
        real_logits = discriminator(x)[0].float()
        fake_logits = discriminator(reconstruction.float().detach())[0].float()
        if self.loss == "hinge":
            loss = F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
        else:
            loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        out = {"logits_real": real_logits.mean().detach(), "logits_fake": fake_logits.mean().detach()}
        if self.r1_weight:
            (grad,) = torch.autograd.grad(real_logits.sum(), x, create_graph=True)
            out["r1"] = grad.pow(2).flatten(1).sum(1).mean()
            loss = loss + 0.5 * self.r1_weight * out["r1"]
        out["discriminator_loss"] = loss
        return out
