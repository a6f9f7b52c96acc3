"""Attribute directions in a model's latent space, stored beside its weights.

An attribute direction is a latent vector that adds an attribute to a face. The book's estimator is the difference
between the mean posterior mean ``z`` of faces that have the attribute and of faces that do not (*Generative Deep
Learning*, 2nd ed., ch. 3, "Latent space arithmetic"; White, 2016, "Sampling Generative Networks"); ``"regression"``
holds the other labels fixed (:func:`latentlab.latent.attribute_directions`). Directions are only meaningful for the
encoder whose codes they were computed from, so the file records that encoder's latent fingerprint and refuses to
attach to a model with another (:mod:`latentlab.extras`); a new decoder under the same encoder keeps them. The file
also records the estimator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import safetensors
import safetensors.torch
import torch
from tqdm.auto import tqdm

from .extras import LatentBoundFile, LatentMismatchError
from .latent import DIRECTION_METHODS, attribute_directions, project_out

DIRECTIONS_NAME = "attribute_directions.safetensors"
DIRECTIONS_FIX = "recompute them for this model (training/compute_directions.py)"


DirectionsMismatchError = LatentMismatchError  # the name this module's callers know; one error type for all extras


@dataclass(frozen=True)
class AttributeDirections(LatentBoundFile):
    """Named latent directions, one row per attribute.

    Attributes:
        names: attribute names, e.g. ``("5_o_Clock_Shadow", …, "Young")`` for CelebA's 40 labels.
        vectors: float32 tensor (K, z_dim), unnormalised: strength 1 moves a face along the attribute's
            mean-difference axis by the average gap between faces without and with it (``"mean_difference"``:
            mean(z_mean | attr = 1) − mean(z_mean | attr = 0) itself).
        positive_count / negative_count: int64 tensors (K,): how many images have / lack each attribute.
        latent_fingerprint: :meth:`HubModel.latent_fingerprint` of the encoder whose codes the directions come from.
        method: the estimator, one of :data:`latentlab.latent.DIRECTION_METHODS`.
        shrinkage: the ridge λ of ``"regression"`` (0 for plain least squares and for ``"mean_difference"``).
        mean_differences: float32 tensor (K, z_dim), each attribute's mean difference: the axis along which it varies
            in the data, correlates included, which :meth:`decorrelated` keeps still. ``None`` (the default) for
            ``"mean_difference"`` directions, which are their own mean differences; required for other methods.
    """

    kind = "attribute-directions"  # named in errors
    fix = DIRECTIONS_FIX  # named in LatentMismatchError
    names: tuple[str, ...]
    vectors: torch.Tensor
    positive_count: torch.Tensor
    negative_count: torch.Tensor
    latent_fingerprint: str
    method: str = "mean_difference"
    shrinkage: float = 0.0
    mean_differences: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.method not in DIRECTION_METHODS:
            raise ValueError(f"unknown direction method {self.method!r}; known: {', '.join(DIRECTION_METHODS)}")
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.names):
            raise ValueError(f"vectors must be (len(names), z_dim); got {tuple(self.vectors.shape)} for {len(self.names)} names")
        if self.mean_differences is None:
            if self.method != "mean_difference":
                raise ValueError(f"{self.method!r} directions need the attributes' mean differences (mean_differences)")
            object.__setattr__(self, "mean_differences", self.vectors)
        elif self.mean_differences.shape != self.vectors.shape:
            raise ValueError(f"mean_differences must have the vectors' shape {tuple(self.vectors.shape)}, "
                             f"got {tuple(self.mean_differences.shape)}")  # fmt: skip

    @property
    def z_dim(self) -> int:
        return self.vectors.shape[1]

    def index(self, name: str) -> int:
        """Row of ``name``; raises ``KeyError`` listing the known names."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown attribute {name!r}; known: {', '.join(self.names)}") from None

    def __getitem__(self, name: str) -> torch.Tensor:
        """The (z_dim,) direction of one attribute."""
        return self.vectors[self.index(name)]

    def stack(self, names: list[str] | tuple[str, ...]) -> torch.Tensor:
        """The (len(names), z_dim) directions of several attributes, in the given order."""
        return self.vectors[[self.index(n) for n in names]]

    def stack_mean_differences(self, names: list[str] | tuple[str, ...]) -> torch.Tensor:
        """The (len(names), z_dim) mean differences of several attributes, in the given order: the axes that
        :meth:`decorrelated` keeps still."""
        return self.mean_differences[[self.index(n) for n in names]]

    def decorrelated(self, name: str, keep: list[str] | tuple[str, ...] = (), *, rescale: bool = True) -> torch.Tensor:
        """The (z_dim,) direction of ``name`` decorrelated from the attributes in ``keep``: its component along their
        mean differences projected out (:func:`latentlab.latent.project_out`; InterFaceGAN calls this "conditional
        manipulation"), rescaled to the original norm unless ``rescale=False``. ``keep=()`` gives the plain direction.

        The kept attributes' *mean differences* are projected out, whatever the estimator of the edited direction:
        a kept attribute should not move along the whole axis on which it varies in the data. A regression direction
        of a kept attribute (its effect with the other labels held fixed) leaves that axis partly open: for the
        shipped model, projecting out the regression direction of Male let a Goatee edit still flip Male.

        Raises:
            KeyError: an unknown name. ValueError: ``name`` is itself in ``keep``, or nothing is left after projection.
        """
        if name in keep:
            raise ValueError(f"{name!r} cannot be both the attribute to edit and an attribute to keep")
        if not keep:
            return self[name].clone()
        return project_out(self[name], self.stack_mean_differences(list(keep)), rescale=rescale)

    # --- file I/O ---------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write a safetensors file (no pickle) with the vectors, counts and names/fingerprint as metadata; the mean
        differences too, unless the vectors are them (``"mean_difference"``)."""
        tensors = {
            "directions": self.vectors.detach().to("cpu", torch.float32).contiguous(),
            "positive_count": self.positive_count.to("cpu", torch.int64).contiguous(),
            "negative_count": self.negative_count.to("cpu", torch.int64).contiguous(),
        }
        if self.method != "mean_difference":
            tensors["mean_differences"] = self.mean_differences.detach().to("cpu", torch.float32).contiguous()
        safetensors.torch.save_file(
            tensors,
            str(path),
            metadata={
                "names": json.dumps(list(self.names)),
                "latent_fingerprint": self.latent_fingerprint,
                "method": self.method,
                "shrinkage": repr(float(self.shrinkage)),
            },
        )

    @staticmethod
    def read_estimator(path: str | Path) -> tuple[str, float]:
        """``(method, shrinkage)`` recorded in a file written by :meth:`save`, from its metadata alone (also for a file
        that :meth:`load` refuses, e.g. to recompute it with the same estimator).

        Raises:
            ValueError: no readable safetensors file, or no estimator in its metadata.
        """
        try:
            with safetensors.safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
            return meta["method"], float(meta["shrinkage"])
        except (KeyError, ValueError, OSError, safetensors.SafetensorError) as err:
            raise ValueError(f"{path}: no attribute-directions estimator recorded ({err!r})") from err

    @classmethod
    def from_contents(cls, meta: dict[str, str], tensors: dict[str, torch.Tensor]) -> "AttributeDirections":
        """Build from a file's metadata and tensors (:meth:`~latentlab.extras.LatentBoundFile.read` reads them)."""
        return cls(
            names=tuple(json.loads(meta["names"])),
            vectors=tensors["directions"].float(),
            positive_count=tensors["positive_count"],
            negative_count=tensors["negative_count"],
            latent_fingerprint=meta["latent_fingerprint"],
            method=meta["method"],
            shrinkage=float(meta["shrinkage"]),
            mean_differences=tensors["mean_differences"].float() if "mean_differences" in tensors else None,
        )

@torch.no_grad()
def posterior_means(model, data, batch_size: int = 512, *, labels: torch.Tensor | None = None,
                    progress: bool = True) -> torch.Tensor:  # fmt: skip
    """Posterior means ``encode(x).mean`` (the codes) of a batch of images: (N, z_dim) float32 on the CPU.

    Args:
        model: an autoencoder or VAE (put in eval mode; each batch is moved to its device).
        data: (N, C, H, W) float images in [0, 1], or a dataset with ``len`` and ``float_images(slice)`` (e.g. a
            :class:`~latentlab.data.FaceData` or :class:`~latentlab.data.DigitData` split).
        batch_size: images encoded per forward pass.
        labels: (N,) int class labels, passed to a conditional model (``model.conditional``) and ignored otherwise.
        progress: show a progress bar (it disappears when done).
    """
    model.eval()
    device = next(model.parameters()).device
    cond = labels if getattr(model, "conditional", False) else None
    means = []
    for start in tqdm(range(0, len(data), batch_size), desc="posterior means", unit="batch", leave=False,
                      disable=not progress):  # fmt: skip
        batch = slice(start, start + batch_size)
        x = data[batch] if isinstance(data, torch.Tensor) else data.float_images(batch)
        y = None if cond is None else cond[batch].to(device)
        posterior = model.encode(x.to(device)) if y is None else model.encode(x.to(device), y)
        means.append(posterior.mean.float().cpu())
    return torch.cat(means) if means else torch.empty(0, model.z_dim)


def compute_attribute_directions(model, data, batch_size: int = 512, means: torch.Tensor | None = None,
                                 method: str = "mean_difference", shrinkage: float = 0.0) -> AttributeDirections:  # fmt: skip
    """Directions of every labelled attribute of ``data`` for ``model``, bound to its encoder (latent fingerprint).

    Args:
        model: a trained VAE with ``encode(x).mean`` (e.g. :class:`~latentlab.models.ResNetAutoencoder`).
        data: a :class:`~latentlab.data.FaceData` split (the training split, by the method's definition).
        batch_size: images encoded at a time.
        means: the (N, z_dim) :func:`posterior_means` of ``data``, if already computed.
        method, shrinkage: the estimator (:func:`latentlab.latent.attribute_directions`).

    Raises:
        ValueError: an unknown method or a negative shrinkage.

    Returns:
        :class:`AttributeDirections` with one row per name in ``data.attribute_names``.
    """
    means = posterior_means(model, data, batch_size) if means is None else means
    vectors, n_pos, n_neg = attribute_directions(means, data.attributes, method, shrinkage)
    mean_differences = None if method == "mean_difference" else attribute_directions(means, data.attributes)[0]
    return AttributeDirections(tuple(data.attribute_names), vectors, n_pos, n_neg, model.latent_fingerprint(),
                               method, float(shrinkage), mean_differences)  # fmt: skip
