"""Pivotal tuning: a copy of a VAE's decoder fitted to given faces around their codes, so they stay themselves.

A 200-number code does not hold a person: the decoder gives back a near stranger for most photos, and every edit
or morph starts from that stranger. Pivotal tuning (Roich, Mokady, Bermano & Cohen-Or, "Pivotal Tuning for
Latent-based Editing of Real Images", ACM TOG 2022) keeps the code and moves the decoder instead: each photo's
posterior mean is its **pivot** ``z0``, and a copy of the decoder is tuned so that ``D(z0)`` is the photo, while
PTI's **locality regularizer** holds the tuned decoder's outputs for codes between the pivot and prior samples
close to those of the untuned decoder, so the latent space around the pivot keeps its meaning: attribute
directions still edit, morphs still pass through faces. The result is a **personalised decoder**:
:func:`pivotal_tuning` returns a model that shares the encoder, its attribute directions and its prior with the
model it came from (the same latent space, the same latent fingerprint) and owns only the tuned decoder.

Objective per step (all pixel terms are means over pixels and channels, images in [0, 1])::

    MSE(D'(z0), x) + L1(D'(z0), x) + λ · MSE(D'(z_r), D(z_r) + (1 − t) · (x − D(z0))),
    z_r = z0 + t · (z_p − z0),  t ~ U(0, 1)

with ``z_p`` drawn from the model's prior (its fitted mixture, else N(0, I)), ``D`` the untuned and ``D'`` the
tuned decoder. Far from the pivot (t → 1) this is PTI's locality regularizer, ``D'(z_r) ≈ D(z_r)``: other faces
stay as they were. Near it, the target also carries what the untuned decoder misses of the photo, ``x − D(z0)``,
fading linearly along the path, so codes close to the pivot (an edit, the first frames of a morph) keep the
person's details instead of being pulled back to the untuned decoder's stranger. Measured on 30 test faces at 70
steps (docs/pivotal-tuning.md): the same person after Eyeglasses +2 on 83 % of the faces, against 77 % with PTI's
plain target. PTI uses LPIPS + L2 on the photo; the L1 term here takes LPIPS's place (no network scores the faces: the
networks that measure identity and attributes stay outside every objective).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import latent
from .models import Autoencoder


@dataclass(frozen=True)
class PivotalTuning:
    """The settings of :func:`pivotal_tuning`; the defaults are the app's, measured on the shipped face VAE.

    Attributes:
        steps: Adam steps on the decoder copy (> 0).
        learning_rate: Adam's learning rate (> 0); ≥ 10⁻³ fits the photo faster but breaks the edits around it.
        regularizer_codes: codes ``z_r`` per step for the locality regularizer (≥ 0; 0 turns it off).
        regularizer_weight: λ, the regularizer's weight (≥ 0).
        seed: seeds the regularizer's codes: the same faces and settings give the same decoder.
    """

    steps: int = 80
    learning_rate: float = 3.5e-4
    regularizer_codes: int = 1
    regularizer_weight: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.steps < 1 or not self.learning_rate > 0:
            raise ValueError(f"steps must be ≥ 1 and learning_rate > 0, got {self.steps}, {self.learning_rate}")
        if self.regularizer_codes < 0 or self.regularizer_weight < 0:
            raise ValueError("regularizer_codes and regularizer_weight must be ≥ 0, got "
                             f"{self.regularizer_codes}, {self.regularizer_weight}")  # fmt: skip


def personalized_copy(model: Autoencoder) -> Autoencoder:
    """A model that shares every module of ``model`` but its decoder (``model.decoder_modules``), which it owns as a
    deep copy: the same encoder, attribute directions and prior objects (no memory spent on them), a decoder free
    to change. Its :meth:`~latentlab.models.HubModel.latent_fingerprint` equals ``model``'s. Module hooks
    registered on the copy itself are shared with ``model`` (register them on its modules instead)."""
    tuned = copy.copy(model)  # a shallow copy: the same attribute values, among them the module dictionaries...
    tuned._modules = dict(model._modules)  # ...which must be its own, so replacing a module does not touch model
    tuned._parameters, tuned._buffers = dict(model._parameters), dict(model._buffers)
    for name in model.decoder_modules:
        decoder = copy.deepcopy(model._modules[name])
        for module in decoder.modules():  # caches of the original's weights (models.resnet's phase kernels)
            module.__dict__.pop("_phase_kernel_cache", None)
        tuned._modules[name] = decoder
    return tuned


def decoder_parameters(model: Autoencoder) -> list[torch.nn.Parameter]:
    """The parameters of ``model``'s decoder modules (what pivotal tuning changes)."""
    return [p for name in model.decoder_modules for p in getattr(model, name).parameters()]


def pivotal_tuning(model: Autoencoder, images: torch.Tensor, settings: PivotalTuning = PivotalTuning(), *,
                   progress: Callable[[int, int], None] | None = None) -> Autoencoder:  # fmt: skip
    """Tune a copy of ``model``'s decoder to decode ``images`` from their posterior means (pivotal tuning, see the
    module docstring; Roich et al., ACM TOG 2022).

    One decoder is tuned on all ``images`` together: for a morph, both faces, so both ends are the people and the
    frames between come from one decoder. Runs where ``model`` is (CPU or GPU), in float32, with its own seeded
    generator (the global RNG is untouched): on a CPU the same model, faces and settings give the same decoder (a
    GPU's convolution backward may differ in the last bits from run to run).

    Cost on a 2-core x86-64 CPU, the shipped 64-px face VAE (1.07 M decoder parameters), default settings: 2.6 s
    for one face, 3.0 s for two (medians, benchmarks/pivotal_tuning.py); the tuned copy holds one decoder (≈ 4.3 MB
    of float32 weights).

    Args:
        model: a VAE or autoencoder (:class:`~latentlab.models.Autoencoder`, unconditional); its weights are not
            changed, and it is left in eval mode (the tuned model shares its encoder).
        images: (B, C, S, S) float tensor in [0, 1], the model's input size: the aligned faces.
        settings: steps, learning rate, regularizer and seed (:class:`PivotalTuning`).
        progress: called as ``progress(step, steps)`` after each step (a progress bar); an exception it raises
            stops the tuning and propagates (nothing half-tuned is returned).

    Returns:
        the personalised model (:func:`personalized_copy`: ``model``'s encoder, attribute directions and prior,
        its own tuned decoder), in eval mode, with ``pivots`` (B, z_dim) float32: the codes it was tuned at.

    Raises:
        ValueError: images of the wrong shape, or a conditional model (its decoder also takes a label).
    """
    if model.conditional:
        raise ValueError("pivotal tuning needs an unconditional model (a conditional decoder also takes a label)")
    model._check_images(images)
    device = next(model.parameters()).device
    x = images.to(device, torch.float32)
    model.eval()
    with torch.no_grad():
        pivots = model.encode(x).mode().float()
        codes, targets = _regularizer_codes(model, pivots, settings, x)
    tuned = personalized_copy(model)
    parameters = decoder_parameters(tuned)  # the copy's own: the shared encoder is outside decode's graph
    for p in parameters:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(parameters, lr=settings.learning_rate, foreach=True)
    r = settings.regularizer_codes
    fused = {m: m.fuse_upsampling for name in tuned.decoder_modules for m in getattr(tuned, name).modules()
             if hasattr(m, "fuse_upsampling")}  # see models.resnet.Decoder  # fmt: skip
    for module in fused:
        module.fuse_upsampling = False  # a few images a step: the plain layers are faster to train
    try:
        for step in range(settings.steps):
            batch = pivots if not r else torch.cat([pivots, codes[step]])
            decoded = tuned.decode(batch)
            own = decoded[: len(pivots)]
            loss = F.mse_loss(own, x) + F.l1_loss(own, x)
            if r and settings.regularizer_weight:
                loss = loss + settings.regularizer_weight * F.mse_loss(decoded[len(pivots):], targets[step])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if progress is not None:
                progress(step + 1, settings.steps)
    finally:
        for p in parameters:
            p.grad = None  # the copy keeps its weights, not the last step's gradients
            p.requires_grad_(False)
        for module, fuse in fused.items():
            module.fuse_upsampling = fuse
    tuned.pivots = pivots
    return tuned


def _regularizer_codes(model: Autoencoder, pivots: torch.Tensor, settings: PivotalTuning, x: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Every step's regularizer codes (steps, R, z_dim), ``z0 + t (z_p − z0)`` for a pivot picked at random, and
    their targets (steps, R, C, S, S), ``D(z_r) + (1 − t) (x − D(z0))``, decoded in one batch before tuning starts
    (``x``: the photos (B, C, S, S))."""
    steps, r = settings.steps, settings.regularizer_codes
    if not r:
        return pivots.new_zeros(steps, 0, pivots.shape[1]), x.new_zeros(steps, 0, *x.shape[1:])
    n = steps * r
    generator = latent.seeded_generator(settings.seed)
    if model.prior is not None:
        prior = model.prior.sample(n, seed=settings.seed).to(pivots.device)
    else:
        prior = torch.randn(n, model.z_dim, generator=generator).to(pivots.device)
    t = torch.rand(n, 1, generator=generator).to(pivots.device)
    which = torch.randint(len(pivots), (n,), generator=generator).to(pivots.device)
    codes = pivots[which] + t * (prior - pivots[which])
    targets = torch.cat([model.decode(c) for c in codes.split(256)])
    residual = (x - model.decode(pivots))[which]  # what the untuned decoder misses of each photo
    targets = targets + (1 - t)[:, :, None, None] * residual
    return codes.view(steps, r, -1), targets.view(steps, r, *targets.shape[1:])

