"""The digit models behind the app's second group of tabs: latent plane, interpolation, conditional generation,
novelty. Plain Python over the models and :mod:`latentlab.analysis` — no Gradio here.

    lab = DigitLab.from_pretrained(["pretrained/fashion-vae-2", "latent-lab/mnist-cond-ae-2@v1", ...],
                                   samples={"mnist": path, "fashion-mnist": path})
    image, plot = lab.plane("fashion-vae-2", x=0.5, y=-1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import torch
from PIL import Image

from . import latent
from .analysis import NOVELTY_BLUR, LatentPlot, add_noise, novelty_scores, scatter_plot, squared_errors
from .data import DigitData
from .directions import posterior_means
from .models import Autoencoder, CheckpointError, load_pretrained, parse_model_ref


@dataclass
class DigitModel:
    """A loaded digit model with the test sample of its dataset (images at the model's size)."""

    name: str
    model: Autoencoder
    dataset: str
    data: DigitData
    trained_classes: tuple[int, ...] | None = None

    _noisy: dict = field(default_factory=dict, repr=False)

    @cached_property
    def images(self) -> torch.Tensor:
        """(N, 1, S, S) float32 in [0, 1], padded to the model's image size."""
        return self.data.padded(self.model.image_size).float_images()

    @cached_property
    def codes(self) -> torch.Tensor:
        """(N, z_dim) posterior means of the test sample."""
        return posterior_means(self.model, self.images, labels=self.data.labels, progress=False)

    @cached_property
    def errors(self) -> torch.Tensor:
        """(N,) novelty scores of the test sample (:func:`~latentlab.analysis.novelty_scores`)."""
        return novelty_scores(self.model, self.images, self.data.labels)

    def noisy_errors(self, noise: str = "none", level: float = 0.0, seed: int = 0) -> torch.Tensor:
        """(N,) novelty scores of the test sample under ``noise`` at ``level`` (computed once per setting): what
        a noisy image's error is compared with. ``"none"`` is :attr:`errors`."""
        if noise == "none" or float(level) == 0.0:
            return self.errors
        key = (noise, round(float(level), 4), seed)
        if key not in self._noisy:
            self._noisy[key] = novelty_scores(self.model, add_noise(self.images, noise, float(level), seed),
                                              self.data.labels)  # fmt: skip
        return self._noisy[key]

    @cached_property
    def scatter(self) -> LatentPlot:
        """The test sample's 2-D latents, rendered once (raises ValueError for other latent sizes)."""
        if self.model.z_dim != 2:
            raise ValueError(f"{self.name} has a {self.model.z_dim}-d latent; the plane needs 2-d")
        kind = "posterior means" if self.model.variational else "codes"
        return scatter_plot(self.codes.numpy(), self.data.labels.numpy(), self.data.class_names,
                            f"{self.name}: {kind} of {len(self.codes)} test images")  # fmt: skip


class DigitLab:
    """The loaded digit models, by name, and what the app does with them.

    Args:
        models: name → :class:`DigitModel`.
    """

    def __init__(self, models: dict[str, DigitModel]):
        self.models = models

    @classmethod
    def from_pretrained(cls, refs: list[str | Path], samples: dict[str, str | Path]) -> "DigitLab":
        """Load each model folder or Hub repo (``owner/name`` or ``owner/name@revision``) strictly with
        :func:`~latentlab.models.load_pretrained`, named by its last path component; ``samples`` maps a dataset
        name (``mnist``, ``fashion-mnist``) to a :meth:`DigitData.save` file of its test images.

        A model's dataset and training classes come from its ``config.json`` (``trained_on``,
        :class:`~latentlab.models.TrainedOn`).

        Raises:
            ModelNotFoundError: a reference that is neither a folder nor a reachable/cached Hub repo.
            CheckpointError: a bad model, or one whose ``config.json`` does not say what it was trained on.
            DataError: a bad sample file; ValueError: two models with the same name.
        """
        data = {name: DigitData.load(path) for name, path in samples.items()}
        models = {}
        for ref in refs:
            model_id, revision = parse_model_ref(ref)
            name = Path(model_id).name
            if name in models:
                raise ValueError(f"two digit models are named {name!r}; model names must be unique")
            model = load_pretrained(model_id, revision=revision).eval()
            trained_on = model.trained_on
            if trained_on is None:
                raise CheckpointError(f"{ref!r}: its config.json has no trained_on: cannot tell which dataset it was "
                                      "trained on (a folder exported by training/train.py records it)")  # fmt: skip
            if trained_on.dataset not in data:
                raise CheckpointError(f"{ref!r} was trained on {trained_on.dataset!r}; test samples are loaded for "
                                      f"{sorted(data)}")  # fmt: skip
            models[name] = DigitModel(name, model, trained_on.dataset, data[trained_on.dataset], trained_on.classes)
        return cls(models)

    def names(self, *, z_dim: int | None = None, conditional: bool | None = None, novelty: bool | None = None) -> list[str]:
        """Model names filtered by latent size, conditioning, and being a novelty (one-class) model."""
        out = []
        for name, m in self.models.items():
            if z_dim is not None and m.model.z_dim != z_dim:
                continue
            if conditional is not None and m.model.conditional != conditional:
                continue
            if novelty is not None and (m.trained_classes is not None) != novelty:
                continue
            out.append(name)
        return out

    def get(self, name: str) -> DigitModel:
        if name not in self.models:
            raise KeyError(f"unknown model {name!r}; loaded: {', '.join(self.models)}")
        return self.models[name]

    # --- latent plane --------------------------------------------------------------------------------------------
    @torch.no_grad()
    def plane(self, name: str, x: float, y: float, label: int | None = None) -> tuple[torch.Tensor, Image.Image]:
        """Decode the 2-D latent (x, y): the image (C, S, S) in [0, 1] and the scatter with a cross at (x, y)
        (the scatter is rendered once per model; the cross is drawn on a copy).

        ``label`` (0–9) is required by conditional models and ignored by the others."""
        m = self.get(name)
        z = torch.tensor([[float(x), float(y)]])
        labels = torch.tensor([int(label or 0)]) if m.model.conditional else None
        return m.model.decode(z, labels)[0], m.scatter.with_marker(float(x), float(y))

    # --- interpolation --------------------------------------------------------------------------------------------
    @torch.no_grad()
    def interpolate(self, name: str, index_a: int, index_b: int, frames: int = 10, method: str = "linear") -> torch.Tensor:
        """Decode ``frames`` latents between test images ``index_a`` and ``index_b`` (both ends included):
        (frames + 2, C, S, S) in [0, 1] — the two originals first and last around the decoded path.

        Conditional models decode each frame with image A's label up to the middle and B's after it."""
        m = self.get(name)
        n = len(m.images)
        for i in (index_a, index_b):
            if not 0 <= int(i) < n:
                raise IndexError(f"test image index must be in [0, {n - 1}], got {i}")
        a, b = int(index_a), int(index_b)
        z = latent.morph(m.codes[a], m.codes[b], frames, method)
        labels = None
        if m.model.conditional:
            la, lb = m.data.labels[a], m.data.labels[b]
            labels = torch.where(torch.arange(frames) < frames / 2, la, lb)
        return torch.cat([m.images[a : a + 1], m.model.decode(z, labels), m.images[b : b + 1]])

    # --- conditional generation -----------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, name: str, label: int, z: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
        """The chosen class drawn from latent ``z`` (its first ``z_dim`` values are used, missing ones are 0): the image
        (C, S, S) and, for comparison, the same ``z`` decoded as every class (num_classes, C, S, S)."""
        m = self.get(name)
        values = (list(z) + [0.0] * m.model.z_dim)[: m.model.z_dim]
        return self._as_every_class(m, torch.tensor(values, dtype=torch.float32), label)

    @staticmethod
    def _as_every_class(m: DigitModel, z: torch.Tensor, label: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One latent (z_dim,) decoded as every class of a conditional model: (class ``label``, all of them)."""
        if not m.model.conditional:
            raise ValueError(f"{m.name} is not a conditional model")
        if not 0 <= int(label) < m.model.num_classes:
            raise ValueError(f"label must be in [0, {m.model.num_classes - 1}], got {label}")
        every = m.model.decode(z[None].repeat(m.model.num_classes, 1), torch.arange(m.model.num_classes))
        return every[int(label)], every

    @torch.no_grad()
    def borrow_style(self, name: str, index: int, label: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Test image ``index``'s style (its latent, encoded with its own label) drawn as digit ``label``: the image
        (C, S, S), and the same latent decoded as every class (num_classes, C, S, S). A conditional AE whose latent
        carries the class draws the source digit here; a conditional VAE draws the asked one.

        Raises:
            ValueError: not a conditional model, or a label out of range. IndexError: an index out of range.
        """
        m = self.get(name)
        if not 0 <= int(index) < len(m.images):
            raise IndexError(f"test image index must be in [0, {len(m.images) - 1}], got {index}")
        return self._as_every_class(m, m.codes[int(index)], label)

    # --- novelty --------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def novelty(self, name: str, image: torch.Tensor, noise: str = "none", level: float = 0.0,
                seed: int = 0) -> dict:  # fmt: skip
        """Score one image (1, S, S) in [0, 1] with a one-class model, after optional noise.

        Returns:
            ``{"input", "reconstruction"}`` (1, S, S) tensors, ``"error"`` (the novelty score, a float),
            ``"percentile"`` (share of the training class's test images with a lower error, 0–100) and
            ``"class_errors"`` ({label: (n,) errors of that class's test images}) — the test images with the same kind
            and level of noise, so a noisy digit is compared with noisy digits.
        """
        m = self.get(name)
        if m.trained_classes is None:
            raise ValueError(f"{name} was trained on every class; pick a novelty model: {', '.join(self.names(novelty=True))}")
        x = add_noise(image[None].float(), noise, float(level), seed)
        recon = m.model.decode(m.model.encode(x).mode())
        error = float(squared_errors(x, recon, NOVELTY_BLUR)[0])
        errors = m.noisy_errors(noise, level, seed)  # the test sample under the same noise
        trained = torch.isin(m.data.labels, torch.tensor(m.trained_classes))
        percentile = float((errors[trained] < error).float().mean() * 100)
        classes = {int(c): errors[m.data.labels == c] for c in m.data.labels.unique()}
        return {"input": x[0], "reconstruction": recon[0], "error": error, "percentile": percentile,
                "class_errors": classes}  # fmt: skip
