"""Latent Lab — the Hugging Face Space entry point (``app_file``).

    python app.py                                   # serves on http://127.0.0.1:7860
    LATENTLAB_FACE_MODEL=owner/name python app.py   # a Hub repo id instead of the bundled folder

The face model comes from ``ConvVAE.from_pretrained(MODEL_ID)``: by default the bundled folder
``pretrained/celeba-vae-64`` (trained by ``training/train_vae.py``), or the Hub repo id / folder named by
``LATENTLAB_FACE_MODEL``.
"""

import os
from pathlib import Path

from latentlab.faces import FaceLab
from latentlab.ui import build_demo, example_face_paths

HERE = Path(__file__).resolve().parent
MODEL_ID = os.environ.get("LATENTLAB_FACE_MODEL", str(HERE / "pretrained" / "celeba-vae-64"))
EXAMPLE_FACES = example_face_paths(HERE / "assets" / "faces")  # held-out CelebA-HQ test faces

demo = build_demo(FaceLab.from_pretrained(MODEL_ID), EXAMPLE_FACES)

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=2).launch()
