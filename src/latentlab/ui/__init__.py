"""The Gradio app: **Faces** (Morph, Edit, Align, Sample over one or more :class:`~latentlab.faces.FaceLab`) and
**Digits & clothes** (Latent plane, Interpolate, Conditional, Novelty over a :class:`~latentlab.digits.DigitLab`).

Callbacks only convert between components and lab calls — no model math here. Every event that computes a result
is an API endpoint with a stable name that ``gradio_client`` can call:

- Faces: ``/morph``, ``/edit``, ``/edit_many``, ``/align``, ``/sample``;
- Digits & clothes: ``/plane``, ``/interpolate``, ``/generate``, ``/compare_conditional``, ``/novelty``;
- callable too, though left off the API page (the page's own events): ``/plane_update`` (another model or digit
  in the Latent plane tab), ``/plane_click`` (a click on its scatter plot) and ``/novelty_1`` (the second Novelty
  panel).

The first output of each is the picture of the whole result. The face endpoints take an optional ``model`` (one of
the face models by name, default: the first); those that take photos, an optional face number for each (``face_number``,
or ``face_a_number`` and ``face_b_number``; 1 = the largest face); ``/sample`` also a ``prior`` (``"mixture"``, the
model's fitted Gaussian mixture, or ``"normal"``, N(0, I)) and says which it used. Events that only update the page
(the alignment previews, the Edit tab's sliders) are private.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..digits import DigitLab
from ..faces import FaceLab
from .common import DELETE_CACHE, OutputFiles, mcp_tools_return_every_output
from .digits import digit_tabs
from .faces import example_face_paths, face_tabs

__all__ = ["BUNDLED_DIGIT_MODELS", "BUNDLED_FACE_MODELS", "CSS", "DELETE_CACHE", "build_demo", "example_face_paths"]

#: The models the app serves by default (``pretrained/<name>``, or ``<LATENTLAB_HUB_OWNER>/<name>``), in the order
#: the page lists them: ours (the default), ours with a decoder trained against a discriminator under the same encoder
#: (the same latent space, sharper faces), and the book's recipe to compare; then the digit and clothes models.
BUNDLED_FACE_MODELS = ("celeba-vae-64", "celeba-vae-64-sharp", "celeba-vae-64-book")
BUNDLED_DIGIT_MODELS = ("fashion-vae-2", "fashion-conv-ae-2", "mnist-cond-ae-2", "mnist-cond-ae-5", "mnist-cond-vae-2",
                        "mnist-cond-vae-5", "mnist-conv-ae-28", "mnist-dense-ae-digit0", "mnist-denoising-ae-digit0")  # fmt: skip

#: The page's style, passed to ``launch(css=CSS)``: pictures sent at native size (``elem_classes="pixelated"``, e.g.
#: the 398-px grid of 36 sampled faces) are shown about 800 px wide (at most the box's width) with crisp,
#: nearest-neighbour pixels, so the browser enlarges them instead of the server encoding an enlarged copy. A picture
#: shown as a result whose label floats (Gradio draws it, and the picture's buttons, over the picture's top edge)
#: keeps a strip above the picture for them, so neither covers a row of digits or a chart's title (upload boxes, whose
#: pictures are the user's own, keep Gradio's layout).
CSS = """
.pixelated img { image-rendering: pixelated; width: 800px; max-width: 100%; height: auto; max-height: none; object-fit: contain; }
.block:has(> label.float):not(:has(input[type=file])) { padding-top: 30px; }
.block:has(> label.float):not(:has(input[type=file])) .image-container > .icon-button-wrapper.top-panel { top: -30px; }
"""


def build_demo(faces: FaceLab | dict[str, FaceLab], example_faces: list[str | Path] = (),
               digits: DigitLab | None = None, delete_cache: tuple[int, int] | None = DELETE_CACHE) -> gr.Blocks:  # fmt: skip
    """The Blocks app.

    Args:
        faces: the face models by name, the first being the default (a single :class:`FaceLab` is served as
            ``"face-vae"``); every Faces endpoint takes an optional ``model`` parameter naming one.
        example_faces: image paths shown as clickable examples (held-out test faces).
        digits: the MNIST / Fashion-MNIST models for the second group of tabs (left out when ``None``).
        delete_cache: Gradio's ``(frequency, age)`` in seconds: every ``frequency`` s, uploads and output files
            older than ``age`` s are deleted (default :data:`DELETE_CACHE`); ``None`` keeps them until the server stops.
    """
    mcp_tools_return_every_output()
    labs = dict(faces) if isinstance(faces, dict) else {"face-vae": faces}
    if not labs:
        raise ValueError("build_demo needs at least one face model")
    out = OutputFiles()
    with gr.Blocks(title="Latent Lab — see a latent space work", delete_cache=delete_cache) as demo:
        gr.Markdown("# Latent Lab: see a latent space work")
        with gr.Tabs():
            with gr.Tab("Faces"):
                face_tabs(labs, [str(p) for p in example_faces], out)
            if digits is not None:
                with gr.Tab("Digits & clothes"):
                    digit_tabs(digits, out)
    return demo
