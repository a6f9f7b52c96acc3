"""Files bound to a model's latent space: the attribute directions, the prior, and whatever a model folder gains next.

Such a file is computed from posterior codes ``z``, so it is valid for exactly the encoder that produced them — not
for the decoder, which can be retrained (a sharper decoder under the same frozen encoder) without changing any ``z``.
Each file records the **latent fingerprint** of that encoder (:meth:`HubModel.latent_fingerprint`, a SHA-256 of
the encoder's and posterior heads' tensors) and its latent size; a model attaches it only when both match.

Every kind of extra uses this one mechanism: a :class:`LatentBoundFile` subclass with ``z_dim``,
``latent_fingerprint``, ``save(path)`` and ``from_contents``, registered by file name in the model class's
``extras``; its ``load`` reads and checks, :func:`check_binding` checks, and every mismatch raises
:class:`LatentMismatchError`.
"""

from __future__ import annotations

from pathlib import Path

import safetensors
import torch


class LatentMismatchError(ValueError):
    """A file bound to a latent space (attribute directions, a prior) belongs to another encoder or latent size."""


class LatentBoundFile:
    """Mixin of the extras' classes: :meth:`read` and :meth:`load` (read, then check the binding) on top of their own
    ``from_contents`` (build from a file's metadata and tensors) and ``save``; ``kind`` names the file in errors and
    ``fix`` says what to do when it does not match."""

    kind: str = "latent-bound"
    fix: str = "compute it again for this model"

    @classmethod
    def from_contents(cls, meta: dict[str, str], tensors: dict[str, torch.Tensor]):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def read(cls, path: str | Path):
        """Read a file written by ``save``, unchecked (:meth:`load` also checks the binding).

        Raises:
            ValueError: not a valid file of this kind (missing tensors or metadata, inconsistent shapes, unreadable).
        """
        try:
            return cls.from_contents(*read_safetensors(path))
        except (KeyError, ValueError, OSError, safetensors.SafetensorError) as err:
            raise ValueError(f"{path}: not a valid {cls.kind} file ({err!r})") from err

    @classmethod
    def load(cls, path: str | Path, *, expected_fingerprint: str | None = None):
        """Read a file written by ``save``, checked against ``expected_fingerprint`` (a model's
        :meth:`~latentlab.models.HubModel.latent_fingerprint`) when given.

        Raises:
            ValueError: not a valid file of this kind.
            LatentMismatchError: ``expected_fingerprint`` is given and differs from the file's.
        """
        extra = cls.read(path)
        if expected_fingerprint is not None:
            check_binding(extra, expected_fingerprint, None, f"{path} ({cls.__name__})", cls.fix)
        return extra


def read_safetensors(path: str | Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """A safetensors file's metadata and tensors (no pickle). Raises OSError / SafetensorError when unreadable."""
    with safetensors.safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {}), {k: f.get_tensor(k) for k in f.keys()}


def check_binding(extra: LatentBoundFile, fingerprint: str, z_dim: int | None, what: str, fix: str) -> None:
    """Raise :class:`LatentMismatchError` unless ``extra`` was computed for this latent space.

    Args:
        extra: the directions, prior, … to check.
        fingerprint: the model's :meth:`~latentlab.models.HubModel.latent_fingerprint` (64 hex characters).
        z_dim: the model's latent size, or ``None`` to skip that check.
        what: how the error names the extra (e.g. a file path and its kind).
        fix: what to do about it (e.g. ``"recompute them (training/compute_directions.py)"``).
    """
    if z_dim is not None and extra.z_dim != z_dim:
        raise LatentMismatchError(f"{what} has z_dim {extra.z_dim}, the model has {z_dim}; {fix}")
    if extra.latent_fingerprint != fingerprint:
        raise LatentMismatchError(f"{what} belongs to another encoder (latent fingerprint "
                                  f"{extra.latent_fingerprint[:12]}…, model {fingerprint[:12]}…); {fix}")  # fmt: skip
