import os
import socket
from pathlib import Path

import pytest

# Set before anything imports huggingface_hub / gradio: no network here, and nothing is sent anywhere.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

REPO = Path(__file__).resolve().parents[1]
CELEBA_HQ = Path(os.environ.get("LATENTLAB_CELEBA", REPO.parent / "shared" / "data" / "celeba_hq" / "hq64"))
BUNDLED = REPO / "pretrained" / "celeba-vae-64"
FACES = sorted((REPO / "assets" / "faces").glob("*.png"))


@pytest.fixture(scope="session")
def celeba_dir() -> Path:
    if not CELEBA_HQ.is_dir():
        pytest.fail(f"the real CelebA-HQ data is required at {CELEBA_HQ} (or set LATENTLAB_CELEBA)")
    return CELEBA_HQ


@pytest.fixture
def tiny_vae():
    """A small random ConvVAE (fast), in eval mode."""
    import torch

    from latentlab import ConvVAE

    torch.manual_seed(0)
    return ConvVAE(image_size=32, hidden_channels=[8, 16, 16], z_dim=12).eval()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
