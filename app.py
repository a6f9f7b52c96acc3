"""Latent Lab — the Hugging Face Space entry point (``app_file``).

    python app.py                                      # the bundled models, on http://127.0.0.1:7860
    LATENTLAB_HUB_OWNER=latent-lab python app.py       # every model from the Hub repos latent-lab/<name>
    LATENTLAB_FACE_MODELS=owner/name@v1 python app.py  # face models from repos at a branch, tag or commit

Which models the app serves is configuration only (environment variables; a Space sets them under Settings →
Variables):

- ``LATENTLAB_FACE_MODELS``: the face VAEs, comma-separated, the first one the default — each a folder,
  ``owner/name`` or ``owner/name@revision``, named in the UI and the API's ``model`` parameter by the name in its
  card (its last path component, without the revision, when the card has none).
- ``LATENTLAB_DIGIT_MODELS``: the digit models, comma-separated, in the same forms; each is named in the UI by its
  last path component, and its ``config.json`` says what it was trained on (``trained_on``, written at export).
- ``LATENTLAB_HUB_OWNER``: the default for both: ``<owner>/<name>`` for every bundled model name.
- Without any of them: the bundled folders ``pretrained/<name>`` (each trained by ``training/train.py``).
- ``LATENTLAB_DELETE_CACHE``: ``frequency,age`` in seconds for deleting uploads and outputs (default ``120,600``).
- ``GRADIO_MCP_SERVER``: the MCP server (every API endpoint as a tool for LLM agents, streamable HTTP at
  ``/gradio_api/mcp/``) is on by default; ``GRADIO_MCP_SERVER=false`` turns it off.

Hub repos are read with the standard client settings: ``HF_ENDPOINT``, ``HF_TOKEN`` (private repos) and
``HF_HUB_OFFLINE=1`` (the local cache only). The digit tabs show the first 1,000 test images of MNIST /
Fashion-MNIST from ``assets/digits/``.
"""

import logging
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    import latentlab  # noqa: F401  (installed with `pip install -e .`)
except ModuleNotFoundError:  # a Space installs requirements.txt only and runs the repository as is
    sys.path.insert(0, str(HERE / "src"))

from latentlab.alignment import FaceAligner  # noqa: E402
from latentlab.digits import DigitLab  # noqa: E402
from latentlab.faces import FaceLab  # noqa: E402
from latentlab.runtime import retain_freed_memory  # noqa: E402
from latentlab.ui import BUNDLED_DIGIT_MODELS, BUNDLED_FACE_MODELS, CSS, build_demo, example_face_paths  # noqa: E402


def default_ref(name: str) -> str:
    """``<LATENTLAB_HUB_OWNER>/<name>`` when that variable is set, else the bundled folder."""
    owner = os.environ.get("LATENTLAB_HUB_OWNER", "").strip()
    return f"{owner}/{name}" if owner else str(HERE / "pretrained" / name)


FACE_MODELS = [r.strip() for r in os.environ.get("LATENTLAB_FACE_MODELS", "").split(",") if r.strip()] or [
    default_ref(name) for name in BUNDLED_FACE_MODELS
]
DIGIT_MODELS = [r.strip() for r in os.environ.get("LATENTLAB_DIGIT_MODELS", "").split(",") if r.strip()] or [
    default_ref(name) for name in BUNDLED_DIGIT_MODELS
]
EXAMPLE_FACES = example_face_paths(HERE / "assets" / "faces")  # held-out CelebA-HQ test faces
DIGIT_SAMPLES = {name: HERE / "assets" / "digits" / f"{name}-test-1000.safetensors" for name in ("mnist", "fashion-mnist")}

retain_freed_memory()  # freed activations stay in the process: no page faults on every morph (latentlab.runtime)
ALIGNER = FaceAligner()  # uploads are found and cropped as CelebA-HQ was (MediaPipe; models inside its wheel)
FACE_LABS = [FaceLab.from_pretrained(ref, aligner=ALIGNER) for ref in FACE_MODELS]  # each named by its card
demo = build_demo({lab.name: lab for lab in FACE_LABS}, EXAMPLE_FACES,
                  DigitLab.from_pretrained(DIGIT_MODELS, DIGIT_SAMPLES),
                  delete_cache=tuple(int(v) for v in os.environ.get("LATENTLAB_DELETE_CACHE", "120,600").split(",")))  # fmt: skip

if __name__ == "__main__":
    # one line per expected user error (no face, not an image) on the latentlab.app logger; others keep their traces
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("latentlab").setLevel(logging.INFO)
    print(f"face models: {', '.join(FACE_MODELS)}\ndigit models: {', '.join(DIGIT_MODELS)}", flush=True)
    mcp_server = os.environ.get("GRADIO_MCP_SERVER", "true").strip().lower() not in ("0", "false", "no", "off")
    demo.queue(default_concurrency_limit=2).launch(css=CSS, mcp_server=mcp_server)
