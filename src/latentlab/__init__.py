"""Latent Lab: autoencoders and VAEs whose latent spaces you can see.

    from latentlab import ConvVAE, latent, load_pretrained
    vae = ConvVAE.from_pretrained("pretrained/celeba-vae-64")
    ae = load_pretrained("pretrained/mnist-conv-ae-28")     # any model folder: the class comes from config.json
    vae = ConvVAE.from_pretrained("latent-lab/celeba-vae-64", revision="main")  # or a Hub repo (HF_ENDPOINT)
"""

from . import latent
from .directions import AttributeDirections, DirectionsMismatchError
from .models import (
    AttributeClassifier,
    Autoencoder,
    CheckpointError,
    ConvAutoencoder,
    ConvVAE,
    DenseAutoencoder,
    DiagonalGaussian,
    ModelNotFoundError,
    PointPosterior,
    VAEOutput,
    load_pretrained,
)

__all__ = [
    "AttributeClassifier",
    "AttributeDirections",
    "Autoencoder",
    "CheckpointError",
    "ConvAutoencoder",
    "ConvVAE",
    "DenseAutoencoder",
    "DiagonalGaussian",
    "DirectionsMismatchError",
    "ModelNotFoundError",
    "PointPosterior",
    "VAEOutput",
    "latent",
    "load_pretrained",
]
__version__ = "0.1.0"
