"""Latent Lab: autoencoders and VAEs whose latent spaces you can see.

    from latentlab import ConvVAE, latent
    vae = ConvVAE.from_pretrained("pretrained/celeba-vae-64")
"""

from . import latent
from .directions import AttributeDirections, DirectionsMismatchError
from .models import CheckpointError, ConvVAE, DiagonalGaussian, VAEOutput

__all__ = [
    "AttributeDirections",
    "CheckpointError",
    "ConvVAE",
    "DiagonalGaussian",
    "DirectionsMismatchError",
    "VAEOutput",
    "latent",
]
__version__ = "0.1.0"
