"""The Gradio app: three tabs (Morph, Edit, Sample) over a :class:`~latentlab.faces.FaceLab`.

Callbacks only convert between components and :class:`FaceLab` calls — no model math here. Every event is a
public API endpoint (``/morph``, ``/edit``, ``/sample``) that ``gradio_client`` can call; the first output of each
is the picture of the whole result.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import torch
from PIL import Image, UnidentifiedImageError

from .faces import FaceLab, frames_to_gif, frames_to_strip
from .images import grid_image

NOT_AN_IMAGE = "That file is not an image we can read. Upload a photo of a face (JPEG, PNG, WebP, GIF or BMP)."

CELEBA_TERMS = (
    "Faces: CelebA-HQ (Liu et al. 2015; Karras et al. 2018), for **non-commercial research and education only**. "
    "The model is a small 64×64 VAE (*Generative Deep Learning*, 2nd ed., ch. 3) trained by this project."
)


class FaceUpload(gr.Image):
    """``gr.Image`` that opens uploads itself, so a file that is not an image gets a short message (``gr.Error``)
    instead of Gradio's 'Could not preprocess input' text; returns the PIL image untouched (any size or mode)."""

    is_template = True  # rendered by the browser as the built-in Image component (no frontend of its own)

    def preprocess(self, payload):
        if payload is None:
            return None
        try:
            if payload.path is None:  # a data: URL
                return super().preprocess(payload)
            image = Image.open(payload.path)
            image.load()
            return image
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
            raise gr.Error(NOT_AN_IMAGE, title="Not an image") from None


def _face_input(label: str, examples: list[str], examples_label: str) -> FaceUpload:
    """An upload box for one face, with the example faces under it as clickable thumbnails."""
    face = FaceUpload(label=label, type="pil", image_mode=None, sources=["upload", "clipboard", "webcam"],
                      height=192)  # fmt: skip
    if examples:
        gr.Examples(examples, inputs=[face], label=examples_label, examples_per_page=12)
    return face


def _require(face, label: str) -> None:
    if face is None:
        raise gr.Error(f"Add {label}: upload a photo or click one of the example faces.")


def build_demo(lab: FaceLab, example_faces: list[str | Path] = ()) -> gr.Blocks:
    """The Blocks app. ``example_faces``: image paths shown as clickable examples (held-out test faces)."""
    examples = [str(p) for p in example_faces]
    attributes = list(lab.attribute_names)
    out_dir = Path(tempfile.mkdtemp(prefix="latentlab-"))

    def morph(face_a, face_b, frames):
        _require(face_a, "face A")
        _require(face_b, "face B")
        frames = int(frames)
        if not 2 <= frames <= 64:
            raise gr.Error(f"frames must be between 2 and 64, got {frames}")
        decoded = lab.morph(face_a, face_b, frames)
        gif = frames_to_gif(decoded, tempfile.NamedTemporaryFile(dir=out_dir, suffix=".gif", delete=False).name)
        return frames_to_strip(decoded), str(gif)

    def edit(face, attribute, strength):
        _require(face, "a face")  # an unknown attribute is refused by the Dropdown before this runs
        strength = float(strength)
        step = abs(strength) or 1.0
        # one batch: the edit, then the sweep −2s, −s, 0, +s, +2s (its strength-0 frame is the reconstruction)
        original, decoded = lab.edit(face, attribute, [strength, -2 * step, -step, 0.0, step, 2 * step])
        comparison = grid_image(torch.stack([original, decoded[3], decoded[0]]), nrow=3, scale=3)
        return comparison, frames_to_strip(decoded[1:], scale=2)

    def sample(seed, count, temperature):
        count = int(count)
        if not 1 <= count <= 100:
            raise gr.Error(f"count must be between 1 and 100, got {count}")
        if not 0 <= float(temperature) <= 3:
            raise gr.Error(f"temperature must be between 0 and 3, got {temperature}")
        faces = lab.sample(count, seed=int(seed), temperature=float(temperature))
        return grid_image(faces, nrow=min(count, 6 if count <= 36 else 10), scale=2)

    with gr.Blocks(title="Latent Lab — a face VAE's latent space") as demo:
        gr.Markdown(
            "# Latent Lab: walk a face VAE's latent space\n"
            "Every face is encoded to a 200-number latent `z` (the posterior mean) and decoded back. "
            "**Morph** interpolates between two latents, **Edit** adds an attribute direction "
            "(mean `z` of faces with the attribute minus mean `z` of faces without), **Sample** decodes random `z` "
            "from N(0, I).\n\n" + CELEBA_TERMS
        )
        with gr.Tab("Morph"):
            with gr.Row():
                with gr.Column():
                    face_a = _face_input("Face A", examples, "Test faces → A")
                with gr.Column():
                    face_b = _face_input("Face B", examples[::-1], "Test faces → B")
            frames = gr.Slider(2, 32, value=10, step=1, label="Frames (both ends included)")
            morph_button = gr.Button("Morph", variant="primary")
            strip = gr.Image(label="Frames: reconstruction of A → reconstruction of B", type="pil", format="png")
            gif = gr.Image(label="Animated GIF", type="filepath", format="gif", height=256)
            morph_button.click(morph, [face_a, face_b, frames], [strip, gif], api_name="morph")

        with gr.Tab("Edit"):
            with gr.Row():
                with gr.Column():
                    face = _face_input("Face", examples, "Test faces")
                with gr.Column():
                    attribute = gr.Dropdown(attributes, value="Smiling" if "Smiling" in attributes else None,
                                            label="Attribute (CelebA's 40 labels)")  # fmt: skip
                    strength = gr.Slider(-4, 4, value=1.5, step=0.25,
                                         label="Strength (× the attribute direction; negative removes it)")  # fmt: skip
                    edit_button = gr.Button("Edit", variant="primary")
            comparison = gr.Image(label="Original | reconstruction | edit", type="pil", format="png")
            sweep = gr.Image(label="Sweep: −2s, −s, 0, +s, +2s", type="pil", format="png")
            edit_button.click(edit, [face, attribute, strength], [comparison, sweep], api_name="edit")
            presets = [("Smiling", 1.5), ("Eyeglasses", 2.0), ("Blond_Hair", 1.5), ("Male", -1.5), ("Young", -2.0)]
            if examples and attributes:
                gr.Examples([[examples[i % len(examples)], a, s] for i, (a, s) in enumerate(presets) if a in attributes],
                            inputs=[face, attribute, strength], label="Try these edits")  # fmt: skip

        with gr.Tab("Sample"):
            with gr.Row():
                seed = gr.Number(value=0, precision=0, label="Seed")
                count = gr.Slider(1, 64, value=36, step=1, label="Faces")
                temperature = gr.Slider(0.0, 1.5, value=1.0, step=0.05, label="Temperature (std of z)")
            sample_button = gr.Button("Sample", variant="primary")
            grid = gr.Image(label="Samples from N(0, T² I)", type="pil", format="png")
            sample_button.click(sample, [seed, count, temperature], [grid], api_name="sample")
            gr.Examples([[0, 36, 1.0], [7, 36, 0.7], [42, 16, 1.2]], inputs=[seed, count, temperature])
    return demo


def example_face_paths(folder: str | Path) -> list[Path]:
    """The example faces in ``folder`` (``*.png``/``*.jpg``), sorted by name."""
    folder = Path(folder)
    return sorted([*folder.glob("*.png"), *folder.glob("*.jpg")])

