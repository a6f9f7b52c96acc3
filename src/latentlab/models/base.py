"""Strict Hub I/O shared by every Latent Lab model.

`huggingface_hub.PyTorchModelHubMixin` writes ``config.json`` + ``model.safetensors`` and reads them back, but its
loader is lenient: ``strict=False`` by default, a missing ``config.json`` silently builds a default model, and it
falls back to unpickling ``pytorch_model.bin``. :class:`HubModel` keeps the mixin's layout and download code and
closes those holes: a model folder or Hub repo loads only when ``config.json`` exists, ``model.safetensors``
exists, and every tensor matches by name and shape. Pickled weights are never read.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
from huggingface_hub import (
    _CACHED_NO_EXIST,  # try_to_load_from_cache's "known absent" answer, as its documentation imports it
    PyTorchModelHubMixin,
    constants,
    hf_hub_download,
    try_to_load_from_cache,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

log = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
RECORD_NAME = "training_log.json"  # the training run's record, beside the weights (cards are rendered from it)


@dataclass(frozen=True)
class TrainedOn:
    """What a model was trained on, kept in its ``config.json`` (``trained_on``) so that a folder describes itself:
    the app and :class:`~latentlab.digits.DigitLab` / :class:`~latentlab.faces.FaceLab` read it, never the run's
    record.

    Attributes:
        dataset: ``"celeba"``, ``"mnist"``, ``"fashion-mnist"`` or ``"images"`` (a collection of one's own).
        classes: the class labels it was trained on when not all of them (a one-class novelty model), else None.
        adversarial_decoder: its decoder was trained against a discriminator (sharper, not pixel-faithful).
    """

    dataset: str
    classes: tuple[int, ...] | None = None
    adversarial_decoder: bool = False

    @classmethod
    def from_dict(cls, raw: dict) -> "TrainedOn":
        """From ``config.json``'s ``trained_on`` mapping. Raises CheckpointError for unknown or missing keys."""
        known = set(cls.__dataclass_fields__)
        if not isinstance(raw, dict) or "dataset" not in raw or set(raw) - known:
            raise CheckpointError(f"{CONFIG_NAME}: trained_on must be a mapping with dataset and optionally "
                                  f"{', '.join(sorted(known - {'dataset'}))}; got {raw!r}")  # fmt: skip
        classes = raw.get("classes")
        return cls(str(raw["dataset"]), None if classes is None else tuple(int(c) for c in classes),
                   bool(raw.get("adversarial_decoder", False)))  # fmt: skip

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


class CheckpointError(ValueError):
    """A model folder or Hub repo is missing a file, is corrupt, or does not match the model's architecture."""


class ModelNotFoundError(OSError):
    """A model id is neither a local folder nor a repo that the Hub (or, offline, the local cache) can provide.

    The message says what was tried (folder, Hub endpoint, revision, cache) and how to fix it."""


def _not_found(model_id: str, revision: str | None, cache_dir, why: str) -> ModelNotFoundError:
    rev = f" at revision {revision!r}" if revision else ""
    cache = cache_dir or constants.HF_HUB_CACHE
    tried = (
        f"Could not load the model {model_id!r}{rev}. Tried: (1) a local folder {model_id!r}: "
        f"{'exists but is not a folder' if os.path.exists(model_id) else 'no such folder'}; (2) the Hub repo "
        f"{model_id!r}{rev} on {constants.ENDPOINT} and the local cache {cache}: {why}"
    )
    return ModelNotFoundError(tried)


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
    """Path of ``filename`` in a local model folder or a Hub repo (downloaded to the cache); ``None`` if absent.

    ``model_id`` is a folder, or a Hub repo id read through ``hf_hub_download`` (``HF_ENDPOINT``, ``HF_TOKEN`` or
    the saved login, ``HF_HUB_OFFLINE=1`` → the local cache only).

    Raises:
        ModelNotFoundError: neither a folder nor a repo/revision the Hub or the offline cache can provide; the
            message lists what was tried and how to fix it.
    """
    if os.path.isdir(model_id):
        path = os.path.join(model_id, filename)
        return path if os.path.isfile(path) else None
    args = (model_id, revision, cache_dir)
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
    except LocalEntryNotFoundError as err:  # offline, or the Hub unreachable, and the file is not in the cache
        if try_to_load_from_cache(model_id, filename, cache_dir=cache_dir, revision=revision) is _CACHED_NO_EXIST:
            return None  # an earlier online download recorded that this repo/revision has no such file
        if constants.is_offline_mode():
            why = (f"HF_HUB_OFFLINE=1, so only the cache was searched, and {filename} of this repo/revision is not "
                   "there. Download it once while online (unset HF_HUB_OFFLINE), or pass a local folder.")  # fmt: skip
        else:
            why = (f"the Hub could not be reached and {filename} is not in the cache ({err.__class__.__name__}). "
                   "Check the network or HF_ENDPOINT, or pass a local folder.")  # fmt: skip
        raise _not_found(*args, why) from err
    except EntryNotFoundError:  # the Hub answered: no such file in this repo/revision
        return None
    except HFValidationError as err:
        raise _not_found(*args, f"not a valid repo id ({err}). Check the folder path.") from err
    except RevisionNotFoundError as err:
        raise _not_found(*args, "the repo exists but has no such branch, tag or commit. "
                                "List its refs with `hf repo-refs`/`HfApi().list_repo_refs()`.") from err  # fmt: skip
    except RepositoryNotFoundError as err:
        raise _not_found(*args, "the Hub answered that the repo does not exist, or is private or gated and "
                                "no valid token was sent. Check the id; for a private repo set HF_TOKEN or run "
                                "`hf auth login`; for another Hub set HF_ENDPOINT.") from err  # fmt: skip


DOWNLOAD_ARGS = ("revision", "cache_dir", "force_download", "local_files_only", "token")


def config_file(model_id: str, **kwargs: Any) -> str:
    """Path of ``config.json`` of a folder or Hub repo; ``kwargs`` may hold any ``from_pretrained`` arguments
    (the download ones, :data:`DOWNLOAD_ARGS`, are used). Raises ModelNotFoundError (see :func:`resolve_file`) or
    CheckpointError when the folder/repo exists but has no ``config.json``."""
    path = resolve_file(model_id, CONFIG_NAME, **{k: kwargs[k] for k in DOWNLOAD_ARGS if k in kwargs})
    if path is None:
        raise CheckpointError(
            f"{model_id!r} has no {CONFIG_NAME}: not a Latent Lab model folder, and the architecture is not guessed. "
            f"Save models with save_pretrained(), which writes {CONFIG_NAME} next to {WEIGHTS_NAME}."
        )
    return path


def parse_model_ref(ref: str | Path) -> tuple[str, str | None]:
    """Split a model reference into ``(model_id, revision)``.

    ``ref`` is a local folder (returned as is), a Hub repo id ``owner/name`` (revision ``None``: the default
    branch), or ``owner/name@revision`` with a branch, tag or commit sha — the form the app's environment
    variables take. Raises ValueError for an empty id or revision."""
    ref = str(ref).strip()
    if os.path.exists(ref) or "@" not in ref:
        model_id, revision = ref, None
    else:
        model_id, revision = ref.rsplit("@", 1)
        if not revision:
            raise ValueError(f"{ref!r}: empty revision after '@'")
    if not model_id:
        raise ValueError("empty model reference")
    return model_id, revision


class HubModel(PyTorchModelHubMixin):
    """Mixin for ``nn.Module`` models: Hub-layout save/load with strict checks, plus per-model extra files.

    Subclasses may override :meth:`_save_extras` / :meth:`_load_extras` to keep files that belong to one model
    (e.g. attribute directions) in the same folder, so they travel and load together with its weights.

    ``config.json`` also records ``model_type`` (the class's :attr:`model_type`), so
    :func:`latentlab.models.load_pretrained` can pick the class, and loading a folder into the wrong class fails
    with a clear :class:`CheckpointError` instead of a wall of shape mismatches.
    """

    model_type: str = ""
    trained_on: TrainedOn | None = None  # what it was trained on (config.json's ``trained_on``); None: not recorded
    storage_dtype: torch.dtype | None = None  # dtype of the floating-point tensors in model.safetensors; None: as is

    # --- saving -------------------------------------------------------------------------------------------
    def set_storage_dtype(self, dtype: str | torch.dtype | None) -> None:
        """Store floating-point weights as ``dtype`` (``"float16"``/``"bfloat16"``/``"float32"``) from now on, halving
        the weights file for 16-bit types. The weights are rounded to that precision in place first, so the model in
        memory is exactly the one that will be loaded back (and extras bound to its fingerprint stay valid).
        ``from_pretrained`` sets it from the file, so a re-saved folder keeps its dtype. Raises ValueError for
        another dtype."""
        if isinstance(dtype, str):
            dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}.get(dtype, dtype)
        if dtype not in (None, torch.float16, torch.bfloat16, torch.float32):
            raise ValueError(f"storage dtype must be float16, bfloat16 or float32, got {dtype!r}")
        with torch.no_grad():
            for t in self.state_dict().values():
                if dtype is not None and t.is_floating_point():
                    t.copy_(t.to(dtype))
        self.storage_dtype = dtype

    def _save_pretrained(self, save_directory: Path) -> None:
        # contiguous copies: a model trained in channels_last still saves plain NCHW tensors
        dtype = self.storage_dtype
        state = {name: t.detach().to("cpu", dtype if dtype is not None and t.is_floating_point() else t.dtype).contiguous()
                 for name, t in self.state_dict().items()}  # fmt: skip
        safetensors.torch.save_file(state, str(save_directory / WEIGHTS_NAME), metadata={"format": "pt"})
        config = {**(getattr(self, "_hub_mixin_config", None) or {}), "model_type": self.model_type}
        if self.trained_on is not None:
            config["trained_on"] = self.trained_on.to_dict()
        (save_directory / CONFIG_NAME).write_text(json.dumps(config, sort_keys=True, indent=2))
        self._save_extras(save_directory)

    def _save_extras(self, save_directory: Path) -> None:  # pragma: no cover - default: nothing extra
        pass

    # --- loading ------------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs: Any):
        """Load a model folder or Hub repo strictly (see the class docstring).

        Args:
            pretrained_model_name_or_path: a local folder, or a Hub repo id ``owner/name``.
            **kwargs: ``revision`` (branch, tag or commit sha), ``cache_dir``, ``force_download``,
                ``local_files_only``, ``token`` (default: ``HF_TOKEN`` or the saved login), and config overrides.

        Raises:
            ModelNotFoundError: not a folder and not a repo/revision on the Hub or in the offline cache.
            CheckpointError: no ``config.json`` / ``model.safetensors``, wrong model class, or weights that do not
                load strictly.
        """
        model_id = str(pretrained_model_name_or_path)
        # The mixin swallows Hub errors on config.json and then builds a default model; resolve it here first so
        # a missing repo, revision, offline cache entry or config.json raises a clear error.
        config_file(model_id, **kwargs)
        return super().from_pretrained(model_id, **kwargs)

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
        saved_type = (config or {}).get("model_type")
        if cls.model_type and saved_type is None:
            raise CheckpointError(f"{model_id!r}: {CONFIG_NAME} has no model_type; a folder saved by save_pretrained() "
                                  f"records it (for a {cls.__name__}: {cls.model_type!r})")  # fmt: skip
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
        # keys that older folders carry but that are not the model's arguments (training or measuring settings)
        retired = sorted(set(config or {}) - set(cls._hub_mixin_init_parameters) - {"model_type", "trained_on"})
        if retired:
            log.info("%s: ignoring %s in %s (not part of the model; re-save the folder to drop them)",
                     model_id, ", ".join(retired), CONFIG_NAME)  # fmt: skip
        try:
            model = cls(**model_kwargs)
        except TypeError as err:
            raise CheckpointError(f"{model_id!r}: {CONFIG_NAME} does not match {cls.__name__}: {err}") from err
        weights = resolve_file(model_id, WEIGHTS_NAME, **download)
        if weights is None:
            raise CheckpointError(f"{model_id!r} has no {WEIGHTS_NAME} (pickled weights are never loaded).")
        try:
            safetensors.torch.load_model(model, weights, strict=True, device=map_location)
            with safetensors.safe_open(weights, framework="pt") as f:  # 16-bit storage: a re-saved folder keeps it
                stored = {f.get_slice(k).get_dtype() for k in f.keys()} & {"F16", "BF16", "F32", "F64"}
        except Exception as err:  # safetensors raises RuntimeError / SafetensorError / OSError variants
            raise CheckpointError(f"{weights}: weights do not load strictly into {cls.__name__}: {err}") from err
        if (config or {}).get("trained_on") is not None:
            model.trained_on = TrainedOn.from_dict(config["trained_on"])
        if len(stored) == 1:
            model.storage_dtype = {"F16": torch.float16, "BF16": torch.bfloat16}.get(stored.pop())
        model._load_extras(model_id, download)
        model.eval()
        return model

    def _load_extras(self, model_id: str, download: dict) -> None:  # pragma: no cover - default: nothing extra
        pass

    # --- identity -----------------------------------------------------------------------------------------
    decoder_modules: tuple[str, ...] = ()  # top-level modules that map z to images: outside the latent fingerprint

    def weights_fingerprint(self) -> str:
        """SHA-256 over every tensor's name, dtype, shape and bytes (sorted by name): which weights these are
        (64 hex characters). Evaluations record it: their numbers hold for exactly these weights."""
        return self._fingerprint(lambda name: True)

    def latent_fingerprint(self) -> str:
        """SHA-256, as :meth:`weights_fingerprint`, over the tensors of the encoder side only (every module but
        :attr:`decoder_modules`): which latent space this is. Files computed from posterior codes — attribute
        directions, the prior (:mod:`latentlab.extras`) — are bound to it, so they stay valid under a new decoder."""
        return self._fingerprint(lambda name: name.split(".", 1)[0] not in self.decoder_modules)

    def _fingerprint(self, include) -> str:
        import hashlib

        h = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            if not include(name):
                continue
            t = tensor.detach().to("cpu").contiguous().reshape(-1)
            h.update(f"{name}|{t.dtype}|{tuple(tensor.shape)}|".encode())
            h.update(t.view(torch.uint8).numpy().tobytes())
        return h.hexdigest()
