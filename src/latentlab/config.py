"""A training run's configuration, parsed once from YAML into typed sections with their defaults and checks.

``training/train.py`` reads a YAML file (``training/configs/*.yaml``) with the sections ``model``, ``data``,
``train`` and, optionally, ``objective``, ``directions``, ``prior`` and ``adversarial``, plus ``name`` and
``output_dir``.
:func:`parse_config` turns that dict into a :class:`RunConfig`; every default lives in the dataclasses below, every
check in their ``__post_init__``, and a key that no section knows is refused with its name. The ``model`` section
is the model class's ``__init__`` arguments plus ``type`` (:func:`latentlab.models.model_class`): the architecture,
which the class checks when it is built; ``objective`` is what it is trained to minimise (:mod:`latentlab.objectives`).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .models.discriminator import AdversarialObjective
from .objectives import AttributeObjective, AutoencoderObjective, objective_class

DATASETS = ("celeba", "mnist", "fashion-mnist", "images")
OPTIMIZERS = ("adam", "adamw")
LR_SCHEDULES = ("constant", "cosine")
MIXED_PRECISIONS = ("no", "fp16", "bf16")
KEEP_RULES = ("best", "last")
WEIGHTS_DTYPES = (None, "float16", "bfloat16", "float32")


class ConfigError(ValueError):
    """A config that cannot be run: an unknown key, a missing required key or a value out of range."""


def _choice(key: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(map(repr, choices))}, not {value!r}")


@dataclass(frozen=True)
class ModuleSource:
    """``train.frozen`` / ``train.init``: copy the named submodules' weights from a model folder (``from``)."""

    source: str
    modules: tuple[str, ...]

    @classmethod
    def parse(cls, raw: dict, key: str) -> "ModuleSource":
        _check_keys(raw, {"from", "modules"}, key)
        if "from" not in raw or not raw.get("modules"):
            raise ConfigError(f"{key} needs 'from' (a model folder) and 'modules' (a non-empty list)")
        return cls(str(raw["from"]), tuple(raw["modules"]))


@dataclass(frozen=True)
class DataConfig:
    """The ``data`` section.

    Attributes:
        name: ``celeba``, ``mnist``, ``fashion-mnist``, or ``images``: any collection ``datasets`` reads, decoded on
            the fly (:func:`latentlab.data.load_images`).
        source: a local folder (CelebA: Parquet files; digits: the IDX files; images: a folder of pictures or of
            Parquet files, each file's split from its name, or a Parquet glob) or a Hub dataset id; ``None``: the
            dataset's default folder.
        image_column: the pictures' column (``images``).
        label_columns: ``images``: the columns whose labels give attribute directions (binary, or a class column
            such as a folder's ``label``: one attribute per class); ``None``: no labels, no directions.
        train_split, eval_split: the splits trained on and validated on.
        limit, eval_limit: keep the first N rows of those splits (quick runs); ``None`` keeps all.
        validation_size: digit sets (and single-split image collections) have no validation split: the last N
            training images are held out.
        classes: keep only these labels in train / validation (digits; the test split keeps all).
    """

    name: str = "celeba"
    source: str | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    limit: int | None = None
    eval_limit: int | None = None
    validation_size: int = 5000
    classes: tuple[int, ...] | None = None
    image_column: str = "image"
    label_columns: tuple[str, ...] | None = None

    def __post_init__(self):
        _choice("data.name", self.name, DATASETS)
        if self.name == "images" and not self.source:
            raise ConfigError("data.name images needs data.source: a folder of pictures, Parquet files or a Hub id")
        for key in ("limit", "eval_limit"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise ConfigError(f"data.{key} must be ≥ 1 or null, not {getattr(self, key)}")


@dataclass(frozen=True)
class TrainConfig:
    """The ``train`` section (see ``training/train.py`` for what each does).

    Attributes:
        seed, batch_size, learning_rate, max_epochs: required.
        patience: epochs without a better validation loss before stopping (``keep: best``).
        optimizer: ``adam`` (the book's) or ``adamw`` (with ``weight_decay``).
        lr_schedule: ``constant`` or ``cosine`` (linear warm-up over ``warmup_steps``, then cosine decay to 0).
        min_delta: the smallest validation improvement that counts.
        hflip: mirror a random half of each batch. corruption: a denoising autoencoder's input noise.
        mixed_precision: ``no``, ``fp16`` or ``bf16`` (accelerate). channels_last: NHWC memory format.
        checkpoint_every_steps: also checkpoint every N steps (``None``: at epoch ends only); keep_checkpoints: how many.
        max_steps: stop (with a checkpoint) after N optimiser steps in total.
        weights_dtype: the exported weights' storage dtype (``float16`` halves the file).
        frozen, init: modules loaded from a model folder and kept fixed / fine-tuned.
        keep: ``best`` (the lowest validation loss) or ``last`` (the last epoch's weights).
        num_workers: DataLoader worker processes decoding images (``images`` collections decode on the fly).
    """

    seed: int
    batch_size: int
    learning_rate: float
    max_epochs: int
    patience: int = 10
    optimizer: str = "adam"
    weight_decay: float = 0.01
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    min_delta: float = 0.0
    hflip: bool = False
    corruption: tuple[dict, ...] | None = None
    mixed_precision: str = "no"
    channels_last: bool = False
    checkpoint_every_steps: int | None = None
    keep_checkpoints: int = 2
    max_steps: int | None = None
    weights_dtype: str | None = None
    frozen: ModuleSource | None = None
    init: ModuleSource | None = None
    keep: str = "best"
    num_workers: int = 0

    def __post_init__(self):
        _choice("train.optimizer", self.optimizer, OPTIMIZERS)
        _choice("train.lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _choice("train.mixed_precision", self.mixed_precision, MIXED_PRECISIONS)
        _choice("train.keep", self.keep, KEEP_RULES)
        _choice("train.weights_dtype", self.weights_dtype, WEIGHTS_DTYPES)
        if min(self.batch_size, self.max_epochs, self.keep_checkpoints) < 1 or not self.learning_rate >= 0:
            raise ConfigError("train.batch_size, max_epochs and keep_checkpoints must be ≥ 1, learning_rate ≥ 0")


@dataclass(frozen=True)
class DirectionsConfig:
    """The ``directions`` section: the attribute directions' estimator (:func:`latentlab.latent.attribute_directions`)."""

    method: str = "mean_difference"
    shrinkage: float = 0.0


@dataclass(frozen=True)
class PriorConfig:
    """The ``prior`` section: a Gaussian-mixture prior with ``components`` components fitted at export."""

    components: int = 10
    seed: int = 0

    def __post_init__(self):
        if self.components < 1:
            raise ConfigError(f"prior.components must be ≥ 1, not {self.components}")


@dataclass(frozen=True)
class AdversarialConfig:
    """The ``adversarial`` section, one flat mapping: the fields of
    :class:`~latentlab.models.discriminator.AdversarialObjective` (the decoder's objective), ``discriminator``
    (:class:`~latentlab.models.discriminator.PatchDiscriminator`'s arguments) and the discriminator's Adam
    ``learning_rate`` and ``betas`` (VQGAN's 0.5, 0.9)."""

    objective: AdversarialObjective = AdversarialObjective()
    learning_rate: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.9)
    discriminator: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict) -> "AdversarialConfig":
        own = {f.name for f in dataclasses.fields(cls)} - {"objective"}
        objective_keys = {f.name for f in dataclasses.fields(AdversarialObjective)}
        _check_keys(raw, own | objective_keys, "adversarial")
        rest = {k: v for k, v in raw.items() if k in own}
        if "betas" in rest:
            rest["betas"] = tuple(rest["betas"])
        objective = AdversarialObjective(**{k: v for k, v in raw.items() if k in objective_keys})
        return cls(objective=objective, **rest)


@dataclass(frozen=True)
class RunConfig:
    """A whole training run's configuration (:func:`parse_config`); ``as_read`` is the mapping it was parsed from
    (the YAML file with its overrides), which the run's record keeps verbatim."""

    model: dict[str, Any]
    data: DataConfig
    train: TrainConfig
    objective: AutoencoderObjective | AttributeObjective = AutoencoderObjective()
    name: str | None = None
    output_dir: str = "runs/model"
    directions: DirectionsConfig = DirectionsConfig()
    prior: PriorConfig | None = None
    adversarial: AdversarialConfig | None = None
    as_read: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def model_type(self) -> str:
        return self.model.get("type", "conv")

    def model_options(self) -> dict[str, Any]:
        """The model class's ``__init__`` arguments (the ``model`` section without ``type``)."""
        return {k: v for k, v in self.model.items() if k != "type"}

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the model's input."""
        if self.model.get("image_shape"):
            return tuple(self.model["image_shape"])
        size = self.model["image_size"]
        return (self.model.get("in_channels", 1), size, size)


def _check_keys(raw: dict, known: set[str], section: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"{section} must be a mapping, not {type(raw).__name__}")
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown key{'s' if len(unknown) > 1 else ''} in {section}: "
                          f"{', '.join(f'{section}.{k}' for k in unknown)} (known: {', '.join(sorted(known))})")  # fmt: skip


def _section(cls, raw: dict | None, section: str, **converted):
    """``cls(**raw)`` with unknown keys refused by name and missing required ones named."""
    raw = dict(raw or {})
    _check_keys(raw, {f.name for f in dataclasses.fields(cls)}, section)
    raw.update(converted)
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]  # fmt: skip
    missing = [k for k in required if k not in raw]
    if missing:
        raise ConfigError(f"{section} needs {', '.join(f'{section}.{k}' for k in missing)}")
    try:
        return cls(**raw)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:  # a class's own checks (e.g. the objectives'); keys are checked above
        raise ConfigError(f"{section}: {err}") from err


def parse_config(raw: dict) -> RunConfig:
    """The typed :class:`RunConfig` of a config dict (a YAML file as read, overrides applied).

    Raises:
        ConfigError: an unknown section or key (named), a required key missing, or a value out of range.
    """
    _check_keys(raw, {f.name for f in dataclasses.fields(RunConfig)} - {"as_read"}, "the config")
    for key in ("model", "data", "train"):
        if not isinstance(raw.get(key), dict):
            raise ConfigError(f"the config needs a '{key}' section")
    data, train = raw["data"], raw["train"]
    sources = {k: ModuleSource.parse(train[k], f"train.{k}") for k in ("frozen", "init") if train.get(k)}
    optional = {k: _section(cls, raw[k], k) for k, cls in (("directions", DirectionsConfig), ("prior", PriorConfig))
                if raw.get(k)}  # fmt: skip
    if raw.get("adversarial"):
        optional["adversarial"] = AdversarialConfig.parse(raw["adversarial"])
        if not {"encoder", "mean_head", "logvar_head"} <= set(sources["frozen"].modules if "frozen" in sources else ()):
            raise ConfigError("adversarial trains a VAE's decoder only: train.frozen.modules must list encoder, "
                              "mean_head and logvar_head (the latent space, its directions and prior stay fixed)")  # fmt: skip
    top = {k: raw[k] for k in ("name", "output_dir") if raw.get(k) is not None}
    objective = objective_class(raw["model"].get("type", "conv"))
    optional["objective"] = _section(objective, raw.get("objective"), "objective")
    return RunConfig(
        model=dict(raw["model"]),
        data=_section(DataConfig, data, "data",
                      **({"classes": tuple(data["classes"])} if data.get("classes") is not None else {}),
                      **({"label_columns": tuple(data["label_columns"])} if data.get("label_columns") else {})),
        train=_section(TrainConfig, train, "train", frozen=sources.get("frozen"), init=sources.get("init"),
                       **({"corruption": tuple(train["corruption"])} if train.get("corruption") else {})),
        **optional,
        **top,
        as_read=copy.deepcopy(raw),
    )  # fmt: skip
