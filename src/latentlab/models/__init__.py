"""Latent Lab models: ``nn.Module`` + Hub I/O (``save_pretrained`` / strict ``from_pretrained``).

The autoencoders share :class:`Autoencoder`'s API (``encode``/``decode``/``forward``); an architecture is a class, a
variant (sizes, VAE or not, conditional or not) is its config; what it is trained to minimise is
:mod:`latentlab.objectives`'. :class:`AttributeClassifier` is the
CelebA attribute judge of the evaluation. :func:`model_class` maps the
``model.type`` of a training config to the class.
"""

from .autoencoder import AutoencoderOutput, Autoencoder, DiagonalGaussian, PointPosterior
from .classifier import AttributeClassifier
from .base import (CONFIG_NAME, RECORD_NAME, CheckpointError, HubModel, ModelNotFoundError, TrainedOn, config_file,
                   parse_model_ref, resolve_file)
from .conv import ConvAutoencoder
from .dense import DenseAutoencoder
from .resnet import ResNetAutoencoder

MODEL_TYPES: dict[str, type[HubModel]] = {"conv": ConvAutoencoder, "dense": DenseAutoencoder,
                                         "resnet": ResNetAutoencoder,
                                         "attribute-classifier": AttributeClassifier}  # fmt: skip


def model_class(model_type: str) -> type[HubModel]:
    """The class for a config's ``model.type`` (``conv``, ``dense``, ``resnet`` or ``attribute-classifier``). Raises ValueError
    for an unknown type."""
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model type {model_type!r}; choose one of {sorted(MODEL_TYPES)}")
    return MODEL_TYPES[model_type]


def load_autoencoder(model_id: str, **kwargs) -> Autoencoder:
    """:func:`load_pretrained` for code that needs an autoencoder or VAE (the face tabs, evaluation, directions):
    any architecture (``conv``, ``resnet``, ``dense``), chosen from ``config.json``. Raises as
    :func:`load_pretrained`, and CheckpointError for a folder that holds another kind of model (the classifier)."""
    model = load_pretrained(model_id, **kwargs)
    if not isinstance(model, Autoencoder):
        raise CheckpointError(f"{model_id!r} holds a {type(model).__name__}, not an autoencoder or VAE")
    return model


def load_pretrained(model_id: str, **kwargs) -> HubModel:
    """Load any Latent Lab model folder or Hub repo, choosing the class from ``config.json``'s ``model_type``.

    Args:
        model_id: a local folder or a Hub repo id.
        **kwargs: passed to ``from_pretrained`` (``revision``, ``cache_dir``, ``local_files_only``, ``token``, …).

    Raises:
        ModelNotFoundError: neither a folder nor a repo/revision the Hub or the offline cache can provide.
        CheckpointError: no ``config.json``, an unknown ``model_type``, or weights that do not load strictly.
    """
    import json

    path = config_file(model_id, **kwargs)
    try:
        model_type = json.loads(open(path, encoding="utf-8").read()).get("model_type")
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{path}: unreadable {CONFIG_NAME} ({err})") from err
    if model_type not in MODEL_TYPES:
        why = "no model_type" if model_type is None else f"unknown model_type {model_type!r}"
        raise CheckpointError(f"{model_id!r}: {why} in {CONFIG_NAME} (one of {', '.join(MODEL_TYPES)})")
    return MODEL_TYPES[model_type].from_pretrained(model_id, **kwargs)


__all__ = [
    "AttributeClassifier",
    "Autoencoder",
    "AutoencoderOutput",
    "CheckpointError",
    "ConvAutoencoder",
    "DenseAutoencoder",
    "DiagonalGaussian",
    "HubModel",
    "MODEL_TYPES",
    "ModelNotFoundError",
    "PointPosterior",
    "RECORD_NAME",
    "ResNetAutoencoder",
    "TrainedOn",
    "load_autoencoder",
    "load_pretrained",
    "model_class",
    "config_file",
    "parse_model_ref",
    "resolve_file",
]
