"""Latent Lab: autoencoders and VAEs whose latent spaces you can see.

    from latentlab import ResNetAutoencoder, latent, load_pretrained
    vae = ResNetAutoencoder.from_pretrained("pretrained/celeba-vae-64")   # the face VAE, with directions and prior
    book = load_pretrained("pretrained/celeba-vae-64-book")  # any model folder: the class comes from config.json
    vae = load_pretrained("latent-lab/celeba-vae-64", revision="main")    # or a Hub repo (HF_ENDPOINT)
"""

from . import latent
from .directions import AttributeDirections, DirectionsMismatchError
from .extras import LatentMismatchError
from .prior import GaussianMixturePrior, PriorMismatchError
from .models import (
    AttributeClassifier,
    Autoencoder,
    AutoencoderOutput,
    CheckpointError,
    ConvAutoencoder,
    DenseAutoencoder,
    DiagonalGaussian,
    ModelNotFoundError,
    PointPosterior,
    ResNetAutoencoder,
    load_autoencoder,
    load_pretrained,
)

__all__ = [
    "AttributeClassifier",
    "AttributeDirections",
    "Autoencoder",
    "AutoencoderOutput",
    "CheckpointError",
    "ConvAutoencoder",
    "DenseAutoencoder",
    "DiagonalGaussian",
    "DirectionsMismatchError",
    "LatentMismatchError",
    "GaussianMixturePrior",
    "ModelNotFoundError",
    "PointPosterior",
    "PriorMismatchError",
    "ResNetAutoencoder",
    "latent",
    "load_autoencoder",
    "load_pretrained",
]
__version__ = "0.1.0"
