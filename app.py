"""Latent Lab — the Hugging Face Space entry point (``app_file``).

    python app.py                                   # serves on http://127.0.0.1:7860
    LATENTLAB_FACE_MODEL=owner/name python app.py   # a Hub repo id instead of the bundled folder

The face model comes from ``ConvVAE.from_pretrained(MODEL_ID)``: by default the bundled folder
``pretrained/celeba-vae-64`` (trained by ``training/train.py``), or the Hub repo id / folder named by
``LATENTLAB_FACE_MODEL``. The digit models are the bundled folders ``pretrained/<name>`` (each trained by
``training/train.py --config training/configs/<name>.yaml``), shown with the first 1,000 test images of MNIST /
Fashion-MNIST from ``assets/digits/``.
"""

import os
from pathlib import Path

from latentlab.digits import DigitLab
from latentlab.faces import FaceLab
from latentlab.ui import build_demo, example_face_paths

HERE = Path(__file__).resolve().parent
MODEL_ID = os.environ.get("LATENTLAB_FACE_MODEL", str(HERE / "pretrained" / "celeba-vae-64"))
EXAMPLE_FACES = example_face_paths(HERE / "assets" / "faces")  # held-out CelebA-HQ test faces
DIGIT_MODELS = {
    name: HERE / "pretrained" / name
    for name in ("fashion-vae-2", "fashion-conv-ae-2", "mnist-cond-ae-2", "mnist-cond-ae-5", "mnist-conv-ae-28",
                 "mnist-dense-ae-digit0")
}  # fmt: skip
DIGIT_SAMPLES = {name: HERE / "assets" / "digits" / f"{name}-test-1000.safetensors" for name in ("mnist", "fashion-mnist")}

demo = build_demo(
    FaceLab.from_pretrained(MODEL_ID), EXAMPLE_FACES, DigitLab.from_folders(DIGIT_MODELS, DIGIT_SAMPLES)
)

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=2).launch()
