"""An ex-post density over a VAE's latent space, stored beside its weights: the prior the app samples from.

A VAE's samples come from N(0, I), but once the posterior of a well-reconstructing model spreads out, the aggregate
posterior (the mixture of q(z|x) over the training faces) no longer fills N(0, I): many prior draws land in holes the
decoder never saw and decode to implausible faces. Ghosh et al., "From Variational to Deterministic Autoencoders"
(ICLR 2020, sec. 4, "ex-post density estimation") fit a density to the training codes after training instead — here,
as they did, a Gaussian mixture with full covariances on the posterior means (scikit-learn's ``GaussianMixture``).

The mixture is only meaningful for the encoder whose codes it was fitted on, so the file records that encoder's
latent fingerprint and refuses to attach to a model with another (:mod:`latentlab.extras`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch

from .extras import LatentBoundFile, LatentMismatchError
from .latent import check_sample_args, seeded_generator

PRIOR_NAME = "prior.safetensors"
PRIOR_KINDS = ("mixture", "normal")  # the folder's fitted mixture, or the VAE's own N(0, I)


PriorMismatchError = LatentMismatchError  # the name this module's callers know; one error type for all extras
PRIOR_FIX = "fit it again for this model (training/fit_prior.py)"


@dataclass(frozen=True)
class GaussianMixturePrior(LatentBoundFile):
    """p(z) = Σ_k π_k N(z; μ_k, Σ_k), with Σ_k = L_k L_kᵀ.

    Attributes:
        weights: float64 (K,) mixture weights π_k, summing to 1 (stored as float32, renormalised on load).
        means: float64 (K, z_dim) component means μ_k.
        scale_tril: float64 (K, z_dim, z_dim) lower-triangular Cholesky factors L_k of the covariances.
        latent_fingerprint: :meth:`HubModel.latent_fingerprint` of the encoder whose posterior means were fitted.
        fitted_on: what the mixture was fitted on (e.g. ``"24183 posterior means of the celeba train split"``).
    """

    kind = "prior"  # named in errors
    fix = PRIOR_FIX  # named in LatentMismatchError
    weights: torch.Tensor
    means: torch.Tensor
    scale_tril: torch.Tensor
    latent_fingerprint: str
    fitted_on: str = ""

    def __post_init__(self) -> None:
        k, d = self.means.shape
        if self.weights.shape != (k,) or self.scale_tril.shape != (k, d, d):
            raise ValueError(f"inconsistent mixture shapes: weights {tuple(self.weights.shape)}, means {(k, d)}, "
                             f"scale_tril {tuple(self.scale_tril.shape)}")  # fmt: skip

    @property
    def z_dim(self) -> int:
        return self.means.shape[1]

    @property
    def components(self) -> int:
        return self.means.shape[0]

    def describe(self) -> str:
        """One line for UIs and cards, e.g. ``"10-component full-covariance Gaussian mixture fitted on …"``."""
        return f"{self.components}-component full-covariance Gaussian mixture fitted on {self.fitted_on or 'posterior means'}"

    def sample(self, count: int, *, seed: int | None = None, temperature: float = 1.0,
               device: str | torch.device = "cpu") -> torch.Tensor:  # fmt: skip
        """Draw ``count`` latents: a component k ~ Categorical(π), then z = μ_k + T · L_k ε with ε ~ N(0, I).

        Args:
            count: how many latents B.
            seed: the same seed gives the same latents (a private ``torch.Generator``; global RNG untouched).
            temperature: T scales every component's standard deviations (covariance × T²), as N(0, T² I) does
                for the standard prior; T = 0 gives the component means.

        Returns:
            (B, z_dim) float32 on ``device``.

        Raises:
            ValueError: ``count < 1`` or ``temperature < 0``.
        """
        check_sample_args(count, temperature)
        generator = seeded_generator(seed)
        k = torch.multinomial(self.weights.double(), count, replacement=True, generator=generator)
        eps = torch.randn(count, self.z_dim, generator=generator, dtype=torch.float64)
        z = self.means[k] + temperature * (self.scale_tril[k] @ eps[:, :, None])[:, :, 0]
        return z.float().to(device)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) in nats for latents (B, z_dim): (B,) float64."""
        mix = torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(probs=self.weights.double()),
            torch.distributions.MultivariateNormal(self.means.double(), scale_tril=self.scale_tril.double()),
        )
        return mix.log_prob(z.double().cpu())

    # --- file I/O ---------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write a safetensors file (no pickle): the tensors as float32 (1.6 MB for 10 components in 200-d), with the
        fingerprint and provenance as metadata."""
        safetensors.torch.save_file(
            {k: getattr(self, k).detach().to("cpu", torch.float32).contiguous() for k in ("weights", "means", "scale_tril")},
            str(path),
            metadata={"latent_fingerprint": self.latent_fingerprint, "fitted_on": self.fitted_on,
                      "kind": "gaussian_mixture", "method": json.dumps("Ghosh et al. 2020, ex-post density estimation")},
        )  # fmt: skip

    @classmethod
    def from_contents(cls, meta: dict[str, str], tensors: dict[str, torch.Tensor]) -> "GaussianMixturePrior":
        """Build from a file's metadata and tensors (:meth:`~latentlab.extras.LatentBoundFile.read` reads them)."""
        t = {k: tensors[k].double() for k in ("weights", "means", "scale_tril")}
        return cls(t["weights"] / t["weights"].sum(), t["means"], t["scale_tril"], meta["latent_fingerprint"],
                   meta.get("fitted_on", ""))  # fmt: skip

def fit_gaussian_mixture(codes: torch.Tensor, latent_fingerprint: str, *, components: int = 10, seed: int = 0,
                         fitted_on: str = "", max_iter: int = 200) -> GaussianMixturePrior:  # fmt: skip
    """Fit a full-covariance Gaussian mixture to latent codes with scikit-learn's EM (k-means initialisation).

    Args:
        codes: (N, z_dim) float posterior means of the training split.
        latent_fingerprint: the latent fingerprint of the encoder the codes came from.
        components: K (Ghosh et al. use 10).
        seed: ``random_state`` of the initialisation.
        fitted_on: provenance recorded in the file.

    Returns:
        :class:`GaussianMixturePrior`.

    Raises:
        ValueError: fewer codes than components.
    """
    from sklearn.mixture import GaussianMixture

    x = codes.detach().double().cpu().numpy()
    if len(x) < components:
        raise ValueError(f"need at least {components} codes to fit {components} components, got {len(x)}")
    gmm = GaussianMixture(components, covariance_type="full", reg_covar=1e-6, max_iter=max_iter, random_state=seed)
    gmm.fit(x)
    tril = np.linalg.cholesky(gmm.covariances_)
    return GaussianMixturePrior(torch.from_numpy(gmm.weights_ / gmm.weights_.sum()), torch.from_numpy(gmm.means_),
                                torch.from_numpy(tril), latent_fingerprint, fitted_on)  # fmt: skip


def select_gaussian_mixture(codes: torch.Tensor, held_out: torch.Tensor, latent_fingerprint: str, *,
                            components=(5, 10, 20, 40), seed: int = 0, fitted_on: str = "",
                            progress: bool = False) -> tuple[GaussianMixturePrior, list[dict]]:  # fmt: skip
    """Fit a mixture for each number of components on ``codes`` and keep the one under which the ``held_out`` codes
    are most likely: the number of components chosen by held-out log-likelihood, a criterion that looks at no
    decoded image (more components follow the aggregate posterior more closely until they start to fit the training
    faces one by one).

    Args:
        codes: (N, z_dim) posterior means of the training split.
        held_out: (M, z_dim) posterior means of faces not in ``codes`` (the validation split).
        latent_fingerprint, seed, fitted_on: as :func:`fit_gaussian_mixture`.
        components: the candidate K.
        progress: a tqdm bar over the candidates.

    Returns:
        ``(prior, table)``: the chosen :class:`GaussianMixturePrior`, and one row per candidate with ``components``,
        ``train_log_likelihood`` and ``held_out_log_likelihood`` (mean nats per code) and ``seconds``.

    Raises:
        ValueError: no candidates, or fewer codes than a candidate's components.
    """
    import time

    from tqdm.auto import tqdm

    if not components:
        raise ValueError("no candidate numbers of components")
    table, best = [], None
    for k in tqdm(components, desc="mixture components", disable=not progress):
        start = time.perf_counter()
        prior = fit_gaussian_mixture(codes, latent_fingerprint, components=int(k), seed=seed, fitted_on=fitted_on)
        row = {"components": int(k), "train_log_likelihood": float(prior.log_prob(codes).mean()),
               "held_out_log_likelihood": float(prior.log_prob(held_out).mean()),
               "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
        table.append(row)
        if best is None or row["held_out_log_likelihood"] > best[1]:
            best = (prior, row["held_out_log_likelihood"])
    return best[0], table
