"""Strict Hub I/O shared by every Latent Lab model.

`huggingface_hub.PyTorchModelHubMixin` writes ``config.json`` + ``model.safetensors`` and reads them back, but its
loader is lenient: ``strict=False`` by default, a missing ``config.json`` silently builds a default model, and it
falls back to unpickling ``pytorch_model.bin``. :class:`HubModel` keeps the mixin's layout and download code and
closes those holes: a model folder or Hub repo loads only when ``config.json`` exists, ``model.safetensors``
exists, and every tensor matches by name and shape. Pickled weights are never read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from huggingface_hub import PyTorchModelHubMixin, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class CheckpointError(ValueError):
    """A model folder or Hub repo is missing a file, is corrupt, or does not match the model's architecture."""


def resolve_file(
    model_id: str,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    force_download: bool = False,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> str | None:
    """Path of ``filename`` in a local model folder or a Hub repo (downloaded to the cache); ``None`` if absent."""
    if os.path.isdir(model_id):
        path = os.path.join(model_id, filename)
        return path if os.path.isfile(path) else None
    try:
        return hf_hub_download(
            repo_id=model_id,
            filename=filename,
            revision=revision,
            cache_dir=cache_dir,
            force_download=force_download,
            local_files_only=local_files_only,
            token=token,
        )
    except EntryNotFoundError:
        return None


class HubModel(PyTorchModelHubMixin):
    """Mixin for ``nn.Module`` models: Hub-layout save/load with strict checks, plus per-model extra files.

    Subclasses may override :meth:`_save_extras` / :meth:`_load_extras` to keep files that belong to one model
    (e.g. attribute directions) in the same folder, so they travel and load together with its weights.

    ``config.json`` also records ``model_type`` (the class's :attr:`model_type`), so
    :func:`latentlab.models.load_pretrained` can pick the class, and loading a folder into the wrong class fails
    with a clear :class:`CheckpointError` instead of a wall of shape mismatches.
    """

    model_type: str = ""

    # --- saving -------------------------------------------------------------------------------------------
    def _save_pretrained(self, save_directory: Path) -> None:
        # contiguous copies: a model trained in channels_last still saves plain NCHW tensors
        state = {name: t.detach().to("cpu").contiguous() for name, t in self.state_dict().items()}
        safetensors.torch.save_file(state, str(save_directory / WEIGHTS_NAME), metadata={"format": "pt"})
        config = {**(getattr(self, "_hub_mixin_config", None) or {}), "model_type": self.model_type}
        (save_directory / CONFIG_NAME).write_text(json.dumps(config, sort_keys=True, indent=2))
        self._save_extras(save_directory)

    def _save_extras(self, save_directory: Path) -> None:  # pragma: no cover - default: nothing extra
        pass

    # --- loading ------------------------------------------------------------------------------------------
    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        config: dict | None = None,
        map_location: str = "cpu",
        strict: bool = True,
        **model_kwargs: Any,
    ):
        if config is None:
            raise CheckpointError(
                f"{model_id!r} has no {CONFIG_NAME}: refusing to guess the architecture. "
                f"Save models with save_pretrained(), which writes {CONFIG_NAME} next to {WEIGHTS_NAME}."
            )
        saved_type = config.get("model_type", "conv")  # folders from before model_type was recorded hold conv VAEs
        if cls.model_type and saved_type != cls.model_type:
            raise CheckpointError(
                f"{model_id!r} holds a {saved_type!r} model, not a {cls.__name__} ({cls.model_type!r}); "
                "load it with latentlab.models.load_pretrained(), which picks the class from config.json."
            )
        if not strict:
            raise ValueError(f"{cls.__name__} loads weights strictly only; drop strict=False.")
        download = dict(
            revision=revision,
            cache_dir=cache_dir,
            force_download=force_download,
            local_files_only=local_files_only,
            token=token,
        )
        try:
            model = cls(**model_kwargs)
        except TypeError as err:
            raise CheckpointError(f"{model_id!r}: {CONFIG_NAME} does not match {cls.__name__}: {err}") from err
        weights = resolve_file(model_id, WEIGHTS_NAME, **download)
        if weights is None:
            raise CheckpointError(f"{model_id!r} has no {WEIGHTS_NAME} (pickled weights are never loaded).")
        try:
            safetensors.torch.load_model(model, weights, strict=True, device=map_location)
        except Exception as err:  # safetensors raises RuntimeError / SafetensorError / OSError variants
            raise CheckpointError(f"{weights}: weights do not load strictly into {cls.__name__}: {err}") from err
        model._load_extras(model_id, download)
        model.eval()
        return model

    def _load_extras(self, model_id: str, download: dict) -> None:  # pragma: no cover - default: nothing extra
        pass

    # --- identity -----------------------------------------------------------------------------------------
    def weights_fingerprint(self) -> str:
        """SHA-256 over every tensor's name, dtype, shape and bytes (sorted by name): which weights these are.

        Used to bind per-model extras (attribute directions) to the exact weights they were computed from.
        """
        import hashlib

        h = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            t = tensor.detach().to("cpu").contiguous().reshape(-1)
            h.update(f"{name}|{t.dtype}|{tuple(tensor.shape)}|".encode())
            h.update(t.view(torch.uint8).numpy().tobytes())
        return h.hexdigest()
