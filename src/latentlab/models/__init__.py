"""Latent Lab models: ``nn.Module`` + Hub I/O (``save_pretrained`` / strict ``from_pretrained``)."""

from .base import CheckpointError, HubModel
from .vae import ConvVAE, DiagonalGaussian, VAEOutput

__all__ = ["CheckpointError", "ConvVAE", "DiagonalGaussian", "HubModel", "VAEOutput"]
