"""The Gradio app: **Faces** (Morph, Edit, Sample over a :class:`~latentlab.faces.FaceLab`) and **Digits &
clothes** (Latent plane, Interpolate, Conditional, Novelty over a :class:`~latentlab.digits.DigitLab`).

Callbacks only convert between components and lab calls — no model math here. Every event is an API endpoint
with a stable name that ``gradio_client`` can call: ``/morph``, ``/edit``, ``/sample``, ``/plane``, ``/plane_click``,
``/interpolate``, ``/generate``, ``/novelty``; the first output of each is the picture of the whole result. The face
endpoints take an optional last ``model`` (one of the face models by name, default: the first), ``/sample`` also a
``prior`` (``"mixture"``, the model's fitted Gaussian mixture, or ``"normal"``, N(0, I)) and says which it used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import torch
from gradio import utils as gr_utils
from PIL import Image, UnidentifiedImageError

from .alignment import NoFaceError, annotate
from .analysis import NOISE_KINDS, novelty_plot
from .digits import DigitLab
from .faces import FaceLab, frames_to_gif, frames_to_strip
from .images import digit_from_pil, grid_image, tensor_to_pil

NOT_AN_IMAGE = "That file is not an image we can read. Upload a picture (JPEG, PNG, WebP, GIF or BMP)."

CELEBA_TERMS = (
    "Faces: CelebA-HQ (Liu et al. 2015; Karras et al. 2018), for **non-commercial research and education only**. "
    "Both face models are small 64×64 VAEs trained by this project: ours (a residual VAE with a calibrated decoder, "
    "the σ-VAE of Rybkin et al. 2021) and the book's (*Generative Deep Learning*, 2nd ed., ch. 3), to compare."
)
# uploads and outputs older than 10 minutes are deleted every 2 minutes: a long-running Space keeps bounded disk
DELETE_CACHE = (120, 600)
# the Edit tab's sliders for several edits at once: the attributes people reach for first (any of the 40 can be added)
SLIDER_ATTRIBUTES = ("Smiling", "Young", "Male", "Eyeglasses", "Blond_Hair", "Bangs", "Heavy_Makeup", "Mustache")
PRIOR_CHOICES = [("fitted mixture (the model's prior)", "mixture"), ("N(0, I)", "normal")]


class ImageUpload(gr.Image):
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


@dataclass
class FaceInput:
    """One face input of the Faces tabs: the upload box, which face of the photo to use (shown when it has
    several), and what the alignment made of it (the crop the model sees, the photo with the faces marked)."""

    photo: ImageUpload
    number: gr.Number
    crop: gr.Image
    found: gr.Image


def _face_input(label: str, examples: list[str], examples_label: str, key: str) -> FaceInput:
    """An upload box for one face (upload, clipboard or webcam), the example faces under it as clickable
    thumbnails, and the alignment preview beside a face-number choice."""
    photo = ImageUpload(label=label, type="pil", image_mode=None, sources=["upload", "clipboard", "webcam"],
                        height=192, elem_id=f"{key}-photo")  # fmt: skip
    if examples:
        gr.Examples(examples, inputs=[photo], label=examples_label, examples_per_page=12)
    with gr.Row():
        crop = gr.Image(label="Aligned (what the model sees)", type="pil", format="png", height=128,
                        interactive=False, buttons=["download"], elem_id=f"{key}-crop")  # fmt: skip
        found = gr.Image(label="Faces found", type="pil", format="jpeg", height=128, interactive=False,
                         elem_id=f"{key}-found")  # fmt: skip
    number = gr.Number(value=1, precision=0, minimum=1, label="Face in the photo (1 = the largest)", visible=False,
                       elem_id=f"{key}-number")  # fmt: skip
    return FaceInput(photo, number, crop, found)


def _face_number(number) -> int:
    """The UI's / API's face number (1 = the largest) as a 0-based index."""
    try:
        value = int(number or 1)
    except (TypeError, ValueError):
        raise gr.Error(f"face number must be a whole number ≥ 1, got {number!r}") from None
    if value < 1:
        raise gr.Error(f"face number must be ≥ 1, got {value}")
    return value - 1


class OutputFiles:
    """The app's output pictures as files, each written once and atomically, named by its content.

    Why: Gradio saves a returned PIL image by rewriting ``<cache>/<hash>/image.png`` in place; when two visitors get
    the same picture at once (the same example faces), one request's file is rewritten while it is being sent and the
    download breaks ("Too little data for declared Content-Length"). Here each picture is encoded once, written to a
    temporary name and renamed into place (``os.replace``: a reader keeps the file it opened), and an existing file
    with the same content is reused, never rewritten. The folder lies inside Gradio's cache folder, so Gradio serves
    the files as they are and its ``delete_cache`` removes them with its own.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else Path(gr_utils.get_upload_folder()) / "latentlab"

    def write(self, data: bytes, name: str) -> str:
        """Store ``data`` as ``<root>/<sha256>/<name>``; returns the path (an existing copy is reused)."""
        folder = self.root / hashlib.sha256(data).hexdigest()[:40]
        path = folder / name
        if path.is_file():
            with contextlib.suppress(OSError):
                os.utime(path)  # delete_cache ages files by their time: a reused file starts again
            return str(path)
        folder.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
        return str(path)

    def png(self, image: Image.Image, name: str = "image") -> str:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1)  # fast; these are small pictures
        return self.write(buffer.getvalue(), f"{name}.png")

    def files(self, fn):
        """Wrap a callback so every PIL image it returns is stored as a PNG file (same signature, for the API)."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            if isinstance(result, tuple):
                return tuple(self.png(r) if isinstance(r, Image.Image) else r for r in result)
            return self.png(result) if isinstance(result, Image.Image) else result

        return wrapper


def _require(face, label: str) -> None:
    if face is None:
        raise gr.Error(f"Add {label}: upload a photo or click one of the example faces.")


def _describe_face_model(name: str, lab: FaceLab) -> str:
    """A model-choice label: its name and what kind of model it is."""
    kind = "ours: residual σ-VAE" if lab.model.model_type == "resnet" else "the book's VAE, ch. 3"
    return f"{name} ({kind})"


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
    labs = dict(faces) if isinstance(faces, dict) else {"face-vae": faces}
    if not labs:
        raise ValueError("build_demo needs at least one face model")
    default_model = next(iter(labs))
    examples = [str(p) for p in example_faces]
    attributes = list(labs[default_model].attribute_names)
    out = OutputFiles()

    def get_lab(model) -> FaceLab:
        if (model or default_model) not in labs:
            raise gr.Error(f"Pick one of the face models: {', '.join(labs)} (got {model!r}).")
        return labs[model or default_model]

    def aligned(lab: FaceLab, photo, number, label: str):
        """The model's input for one face input: ``photo``'s face ``number`` (1 = the largest), aligned."""
        _require(photo, label)
        try:
            return lab.prepare(photo, _face_number(number))
        except NoFaceError as err:
            raise gr.Error(f"{label[0].upper()}{label[1:]}: {err}", title="No face found") from None

    def views(photo, number, model, label: str):
        """The alignment of ``photo``'s face ``number`` and what is shown of it: (crop, the photo marked)."""
        result = aligned(get_lab(model), photo, number, label)
        return result, (result.crop, annotate(photo, result.faces, result.index) if result.faces else result.crop)

    def align(photo, face_number=1, model=None):
        return views(photo, face_number, model, "a photo")[1]

    def preview(photo, number, model=None):
        return (None, None) if photo is None else align(photo, number, model)

    def number_box(count: int):
        """The face-number box under a face input: reset to 1, shown when the photo has several faces."""
        return gr.update(value=1, maximum=max(count, 1), visible=count > 1,
                         info=f"{count} faces found" if count > 1 else None)  # fmt: skip

    def preview_upload(photo, model=None):
        """A new photo in a face input: its largest face aligned (one detection), and the face-number box."""
        if photo is None:
            return None, None, number_box(0)
        result, shown = views(photo, 1, model, "a photo")
        return (*shown, number_box(len(result.faces)))

    def morph(face_a, face_b, frames, model=None, face_a_number=1, face_b_number=1):
        lab = get_lab(model)
        frames = int(frames)
        if not 2 <= frames <= 64:
            raise gr.Error(f"frames must be between 2 and 64, got {frames}")
        crop_a, crop_b = aligned(lab, face_a, face_a_number, "face A").crop, aligned(lab, face_b, face_b_number, "face B").crop
        decoded = lab.morph(crop_a, crop_b, frames)
        buffer = io.BytesIO()
        frames_to_gif(decoded, buffer)
        return frames_to_strip(decoded), out.write(buffer.getvalue(), "morph.gif")

    def edit(face, attribute, strength, keep=None, model=None, face_number=1):
        lab = get_lab(model)
        crop = aligned(lab, face, face_number, "a face").crop  # an unknown attribute is refused by the Dropdowns
        keep = [k for k in (keep or []) if k != attribute]  # keeping the edited attribute itself means nothing
        strength = float(strength)
        step = abs(strength) or 1.0
        # one batch: the edit, then the sweep −2s, −s, 0, +s, +2s (its strength-0 frame is the reconstruction)
        try:
            original, decoded = lab.edit(crop, attribute, [strength, -2 * step, -step, 0.0, step, 2 * step], keep)
        except ValueError as err:  # the direction lies in the span of the kept ones
            raise gr.Error(f"{attribute} cannot be decorrelated from {', '.join(keep)}: {err}") from err
        comparison = grid_image(torch.stack([original, decoded[3], decoded[0]]), nrow=3, scale=3)
        return comparison, frames_to_strip(decoded[1:], scale=2)

    def set_edit(mapping, name, value):
        mapping = {k: v for k, v in dict(mapping or {}).items() if k != name}
        return {**mapping, name: float(value)} if float(value) != 0 else mapping

    def set_edit_from_menu(mapping, name, value):
        if not name:
            raise gr.Error("Pick an attribute to add.")
        return set_edit(mapping, name, value)

    def edit_many(face, edits, keep=None, independent=True, model=None, face_number=1):
        lab = get_lab(model)
        if isinstance(edits, str):  # a JSON text from an API caller
            try:
                edits = json.loads(edits or "{}")
            except json.JSONDecodeError as err:
                raise gr.Error(f"edits must be a mapping attribute → strength, e.g. {{\"Smiling\": 1.0}} ({err})") from None
        if not isinstance(edits, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in edits.values()):
            raise gr.Error('edits must be a mapping attribute → strength, e.g. {"Smiling": 1.0, "Young": -1.0}')
        unknown = [a for a in [*edits, *(keep or [])] if a not in lab.attribute_names]
        if unknown:
            raise gr.Error(f"Unknown attribute(s): {', '.join(map(str, unknown))}. Use CelebA's 40 names, e.g. Smiling.")
        if not edits:
            raise gr.Error("No edits: move a slider or add an attribute first.")
        keep = [k for k in (keep or []) if k not in edits]  # an edited attribute cannot also be kept
        crop = aligned(lab, face, face_number, "a face").crop
        try:
            original, reconstruction, edited = lab.edit_many(crop, edits, keep, independent=bool(independent))
        except ValueError as err:  # a direction inside the span of the others
            raise gr.Error(f"These edits cannot be made independent: {err}") from None
        return (grid_image(edited[None], nrow=1, scale=3, padding=0),
                grid_image(torch.stack([original, reconstruction, edited]), nrow=3, scale=3))

    def sample(seed, count, temperature, model=None, prior=None):
        lab = get_lab(model)
        count = int(count)
        if not 1 <= count <= 100:
            raise gr.Error(f"count must be between 1 and 100, got {count}")
        if not 0 <= float(temperature) <= 3:
            raise gr.Error(f"temperature must be between 0 and 3, got {temperature}")
        prior = prior or lab.default_prior
        try:
            faces = lab.sample(count, seed=int(seed), temperature=float(temperature), prior=prior)
        except ValueError as err:  # a folder without a fitted prior
            raise gr.Error(f"{model or default_model}: {err}") from None
        grid = grid_image(faces, nrow=min(count, 6 if count <= 36 else 10), scale=2)
        return grid, f"Sampled from **{lab.describe_prior(prior)}** at temperature {float(temperature):g}, seed {int(seed)}."

    # every callback's pictures go out as files written once, atomically (see OutputFiles)
    align, preview, preview_upload, morph, edit, edit_many, sample = map(
        out.files, (align, preview, preview_upload, morph, edit, edit_many, sample))

    with gr.Blocks(title="Latent Lab — see a latent space work", delete_cache=delete_cache) as demo:
        gr.Markdown("# Latent Lab: see a latent space work")
        with gr.Tabs():
            with gr.Tab("Faces"):
                gr.Markdown(
                    "Every face is encoded to a 200-number latent `z` (the posterior mean) and decoded back. "
                    "**Morph** interpolates between two latents, **Edit** adds an attribute direction "
                    "(mean `z` of faces with the attribute minus mean `z` of faces without), **Sample** decodes random `z` "
                    "from the model's prior: a Gaussian mixture fitted to the training faces' latents, or N(0, I).\n\n"
                    + CELEBA_TERMS
                )
                face_model = gr.Radio([(_describe_face_model(n, lab), n) for n, lab in labs.items()], value=default_model,
                                      label="Face model", info="Switch to the book's model to see what the recipe "
                                      "changes do: same latent size, same data.")  # fmt: skip
                with gr.Tab("Morph"):
                    with gr.Row():
                        with gr.Column():
                            face_a = _face_input("Face A", examples, "Test faces → A", "face-a")
                        with gr.Column():
                            face_b = _face_input("Face B", examples[::-1], "Test faces → B", "face-b")
                    frames = gr.Slider(2, 32, value=10, step=1, label="Frames (both ends included)")
                    morph_button = gr.Button("Morph", variant="primary")
                    strip = gr.Image(label="Frames: reconstruction of A → reconstruction of B", type="pil", format="png",
                                     elem_id="morph-frames")  # fmt: skip
                    gif = gr.Image(label="Animated GIF", type="filepath", format="gif", height=256, elem_id="morph-gif")
                    morph_button.click(morph, [face_a.photo, face_b.photo, frames, face_model, face_a.number,
                                               face_b.number], [strip, gif], api_name="morph")  # fmt: skip

                with gr.Tab("Edit"):
                    with gr.Row():
                        with gr.Column():
                            face = _face_input("Face", examples, "Test faces", "edit-face")
                        with gr.Column():
                            attribute = gr.Dropdown(attributes, value="Smiling" if "Smiling" in attributes else None,
                                                    label="Attribute (CelebA's 40 labels)")  # fmt: skip
                            strength = gr.Slider(-4, 4, value=1.5, step=0.25,
                                                 label="Strength (× the attribute direction; negative removes it)")  # fmt: skip
                            keep = gr.Dropdown(attributes, value=[], multiselect=True,
                                               label="Keep unchanged (decorrelate the direction from these)",
                                               info="CelebA's labels are correlated (blond hair with women, eyeglasses "
                                                    "with age): their directions are projected out, as in "
                                                    "InterFaceGAN's conditional editing.")  # fmt: skip
                            edit_button = gr.Button("Edit", variant="primary")
                    comparison = gr.Image(label="Original | reconstruction | edit", type="pil", format="png",
                                          elem_id="edit-comparison")  # fmt: skip
                    sweep = gr.Image(label="Sweep: −2s, −s, 0, +s, +2s", type="pil", format="png", elem_id="edit-sweep")
                    edit_button.click(edit, [face.photo, attribute, strength, keep, face_model, face.number],
                                      [comparison, sweep], api_name="edit")  # fmt: skip
                    # (example face, attribute, strength, keep): the Blond_Hair pair shows one face with the plain
                    # and with the decorrelated direction
                    presets = [(0, "Smiling", 1.5, []), (3, "Blond_Hair", 2.0, []), (3, "Blond_Hair", 2.0, ["Male"]),
                               (5, "Eyeglasses", 2.0, ["Male", "Young"]), (4, "Male", -1.5, []),
                               (7, "Young", -2.0, ["Male"])]  # fmt: skip
                    if examples and attributes:
                        gr.Examples([[examples[i % len(examples)], a, s, [k for k in kept if k in attributes]]
                                     for i, a, s, kept in presets if a in attributes],
                                    inputs=[face.photo, attribute, strength, keep], label="Try these edits")  # fmt: skip

                    gr.Markdown("### Several attributes at once\nMove the sliders (or add any of the 40), then "
                                "**Apply all**: every edit is added to the same face. With *independent sliders*, each "
                                "direction has the others' (and the kept attributes') projected out, so one slider "
                                "does not drag the others' attributes along.")  # fmt: skip
                    with gr.Row():
                        sliders = {a: gr.Slider(-3, 3, value=0, step=0.25, label=a, min_width=120)
                                   for a in SLIDER_ATTRIBUTES if a in attributes}  # fmt: skip
                    with gr.Row():
                        more_attribute = gr.Dropdown(attributes, value=None, label="Add another attribute")
                        more_strength = gr.Slider(-3, 3, value=1.0, step=0.25, label="Its strength")
                        add_button = gr.Button("Add", size="sm")
                    with gr.Row():
                        edits = gr.JSON(value={}, label="Edits (attribute → strength), applied together",
                                        elem_id="edit-many-edits")  # fmt: skip
                        with gr.Column():
                            independent = gr.Checkbox(value=True, label="Independent sliders (decorrelated directions)")
                            apply_button = gr.Button("Apply all", variant="primary")
                            clear_button = gr.Button("Clear")
                    with gr.Row():
                        many_edited = gr.Image(label="Edited face", type="pil", format="png", height=216,
                                               elem_id="edit-many-result")  # fmt: skip
                        many_comparison = gr.Image(label="Original | reconstruction | all edits", type="pil",
                                                   format="png", elem_id="edit-many-comparison")  # fmt: skip
                    for name, slider in sliders.items():
                        slider.input(lambda mapping, value, name=name: set_edit(mapping, name, value), [edits, slider],
                                     [edits], api_visibility="private")  # fmt: skip
                    add_button.click(set_edit_from_menu, [edits, more_attribute, more_strength], [edits],
                                     api_visibility="private")  # fmt: skip
                    clear_button.click(lambda: ({}, *[0] * len(sliders)), None, [edits, *sliders.values()],
                                       api_visibility="private")  # fmt: skip
                    apply_button.click(edit_many, [face.photo, edits, keep, independent, face_model, face.number],
                                       [many_edited, many_comparison], api_name="edit_many")  # fmt: skip

                # every face input shows what the alignment made of it (a cleared input clears its preview; a photo
                # without a face shows the message and hides the face-number box)
                for fi in (face_a, face_b, face):
                    fi.photo.change(preview_upload, [fi.photo, face_model], [fi.crop, fi.found, fi.number],
                                    api_visibility="private").failure(lambda: number_box(0), None, [fi.number],
                                                                      api_visibility="private")  # fmt: skip
                    fi.number.input(preview, [fi.photo, fi.number, face_model], [fi.crop, fi.found],
                                    api_visibility="private")  # fmt: skip

                with gr.Tab("Align"):
                    gr.Markdown(
                        "How uploads become the model's input: faces are found (MediaPipe), and each is cropped from "
                        "its eye centres and mouth corners as CelebA-HQ was (an oriented square, reflect-padded where "
                        "it leaves the photo). Morph and Edit do this to every upload; a square picture of at most "
                        "128 px is taken as already aligned. Profiles, covered faces and upside-down photos fail."
                    )  # fmt: skip
                    with gr.Row():
                        with gr.Column():
                            align_photo = ImageUpload(label="Photo", type="pil", image_mode=None,
                                                      sources=["upload", "clipboard", "webcam"], height=256)  # fmt: skip
                            align_number = gr.Number(value=1, precision=0, minimum=1, label="Face (1 = the largest)")
                            align_button = gr.Button("Align", variant="primary")
                        with gr.Column():
                            align_crop = gr.Image(label="Aligned face (the model's input)", type="pil", format="png",
                                                  height=192, interactive=False)  # fmt: skip
                            align_found = gr.Image(label="Faces found: box, landmarks, crop square", type="pil",
                                                   format="jpeg", interactive=False)  # fmt: skip
                    align_button.click(align, [align_photo, align_number, face_model], [align_crop, align_found],
                                       api_name="align")  # fmt: skip

                with gr.Tab("Sample"):
                    with gr.Row():
                        seed = gr.Number(value=0, precision=0, label="Seed")
                        count = gr.Slider(1, 64, value=36, step=1, label="Faces")
                        temperature = gr.Slider(0.0, 1.5, value=1.0, step=0.05, label="Temperature (scales the std of z)")
                        prior = gr.Radio(PRIOR_CHOICES, value="mixture", label="Prior",
                                         info="N(0, I) is the VAE's own prior; the mixture (Ghosh et al. 2020) is "
                                              "fitted to where the training faces' latents really lie.")  # fmt: skip
                    sample_button = gr.Button("Sample", variant="primary")
                    grid = gr.Image(label="Samples", type="pil", format="png")
                    sampled_from = gr.Markdown()
                    sample_button.click(sample, [seed, count, temperature, face_model, prior], [grid, sampled_from],
                                        api_name="sample")  # fmt: skip
                    gr.Examples([[0, 36, 1.0, "mixture"], [7, 36, 0.7, "mixture"], [42, 16, 1.0, "normal"]],
                                inputs=[seed, count, temperature, prior])  # fmt: skip
            if digits is not None:
                with gr.Tab("Digits & clothes"):
                    _digit_tabs(digits, out)
    return demo


def _choose(name: str, names: list[str], what: str) -> str:
    if name not in names:
        raise gr.Error(f"Pick one of the {what} models: {', '.join(names)} (got {name!r}).")
    return name


def _digit_tabs(lab: DigitLab, out: OutputFiles) -> None:
    """The second group of tabs: the autoencoder family on MNIST / Fashion-MNIST."""
    planes, everything = lab.names(z_dim=2), list(lab.models)
    conditional, novel = lab.names(conditional=True), lab.names(novelty=True)
    gr.Markdown(
        "Small models of 28×28 digits (MNIST) and clothes (Fashion-MNIST): autoencoders, a conditional autoencoder "
        "and a VAE, trained by this project. Data: MNIST (CC BY-SA 3.0), Fashion-MNIST (MIT); the test images "
        "shown are the first 1,000 of each test split."
    )

    def plane(model, x, y, label):
        _choose(model, planes, "2-d")
        image, scatter = lab.plane(model, float(x), float(y), int(label or 0))
        return tensor_to_pil(image).resize((224, 224), Image.Resampling.NEAREST), scatter

    def plane_click(model, label, evt: gr.SelectData):
        m = lab.get(_choose(model, planes, "2-d"))
        x, y = m.scatter.to_latent(*evt.index)
        image, scatter = plane(model, x, y, label)
        return round(x, 3), round(y, 3), image, scatter

    def interpolate(model, index_a, index_b, frames, method):
        _choose(model, everything, "digit")
        frames = int(frames)
        if not 2 <= frames <= 32:
            raise gr.Error(f"frames must be between 2 and 32, got {frames}")
        try:
            strip = lab.interpolate(model, int(index_a), int(index_b), frames, "spherical" if method == "slerp" else "linear")
        except IndexError as err:
            raise gr.Error(str(err)) from None
        return grid_image(strip, nrow=len(strip), scale=3)

    def generate(model, label, z0, z1, z2, z3, z4):
        _choose(model, conditional, "conditional")
        image, every = lab.generate(model, int(label), [float(v) for v in (z0, z1, z2, z3, z4)])
        return tensor_to_pil(image).resize((224, 224), Image.Resampling.NEAREST), grid_image(every, nrow=len(every), scale=3)

    def compare_conditional(index, label, z_dim=2):
        """The same test digit's style drawn as the asked digit by the plain conditional AE and the conditional VAE
        of one latent size: [source | AE | VAE], and each model's row of all ten digits."""
        pair = {m.model.variational: n for n, m in lab.models.items()
                if m.model.conditional and m.model.z_dim == int(z_dim)}  # fmt: skip
        if len(pair) < 2:
            raise gr.Error(f"No plain/variational pair of conditional models with a {int(z_dim)}-d latent is loaded.")
        try:
            drawn, rows = zip(*(lab.borrow_style(pair[v], int(index), int(label)) for v in (False, True)))
        except (IndexError, ValueError) as err:
            raise gr.Error(str(err)) from None
        source = lab.get(pair[False]).images[int(index)]
        side = grid_image(torch.stack([source, *drawn]), nrow=3, scale=5)
        return side, grid_image(rows[0], nrow=10, scale=3), grid_image(rows[1], nrow=10, scale=3)

    def novelty(model, upload, index, noise, level):
        m = lab.get(_choose(model, novel, "novelty"))
        if noise not in NOISE_KINDS:
            raise gr.Error(f"noise must be one of {', '.join(NOISE_KINDS)}, got {noise!r}")
        if not 0 <= float(level) <= 1:
            raise gr.Error(f"noise level must be between 0 and 1, got {level}")
        if upload is not None:
            image, source = digit_from_pil(upload, m.model.image_size), "your upload"
        else:
            if not 0 <= int(index) < len(m.images):
                raise gr.Error(f"test image index must be in [0, {len(m.images) - 1}], got {index}")
            image = m.images[int(index)]
            source = f"test image {int(index)} (a {m.data.class_names[int(m.data.labels[int(index)])]})"
        r = lab.novelty(model, image, noise, float(level))
        trained = ", ".join(m.data.class_names[c] for c in m.trained_classes)
        pair = grid_image(torch.stack([r["input"], r["reconstruction"]]), nrow=2, scale=6)
        chart = novelty_plot(r["class_errors"], r["error"], m.data.class_names, m.trained_classes,
                             f"Test reconstruction errors per class (trained on {trained})")  # fmt: skip
        verdict = "looks **novel**" if r["percentile"] >= 95 else "looks like the training data"
        blur = float(getattr(m.model, "error_blur", 0.0))
        score = "reconstruction MSE" if blur == 0 else f"reconstruction error (MSE after a σ {blur:g} px blur)"
        text = (f"**{source}**: {score} **{r['error']:.4f}**, higher than {r['percentile']:.1f} % of the "
                f"test {trained}s → {verdict} (threshold: the 95th percentile of the training class).")  # fmt: skip
        return pair, chart, text

    plane, plane_click, interpolate, generate, compare_conditional, novelty = map(
        out.files, (plane, plane_click, interpolate, generate, compare_conditional, novelty))

    with gr.Tabs():
        with gr.Tab("Latent plane"):
            gr.Markdown("Pick a point of a 2-d latent space — with the sliders or by clicking the scatter plot — "
                        "and see what the decoder draws there.")  # fmt: skip
            with gr.Row():
                with gr.Column():
                    plane_model = gr.Dropdown(planes, value=planes[0] if planes else None, label="Model (2-d latent)")
                    plane_x = gr.Slider(-4, 4, value=0.0, step=0.01, label="z[0]")
                    plane_y = gr.Slider(-4, 4, value=0.0, step=0.01, label="z[1]")
                    plane_label = gr.Slider(0, 9, value=0, step=1, label="Digit (conditional models only)")
                    plane_button = gr.Button("Decode", variant="primary")
                    plane_image = gr.Image(label="Decoded image", type="pil", format="png", height=240)
                with gr.Column(scale=2):
                    plane_scatter = gr.Image(label="Test images' latents (click to decode a point)", type="pil",
                                             format="png", interactive=False)  # fmt: skip
            plane_args = [plane_model, plane_x, plane_y, plane_label]
            plane_button.click(plane, plane_args, [plane_image, plane_scatter], api_name="plane")
            gr.on([plane_model.change, plane_label.change], plane, plane_args, [plane_image, plane_scatter],
                  api_name="plane_update", api_visibility="undocumented")  # fmt: skip
            plane_scatter.select(plane_click, [plane_model, plane_label], [plane_x, plane_y, plane_image, plane_scatter],
                                 api_name="plane_click", api_visibility="undocumented")  # fmt: skip

        with gr.Tab("Interpolate"):
            gr.Markdown("Decode the straight (or spherical) path between two test images' latents.")
            with gr.Row():
                interp_model = gr.Dropdown(everything, value=everything[0] if everything else None, label="Model")
                index_a = gr.Number(value=3, precision=0, label="Test image A (index 0–999)")
                index_b = gr.Number(value=2, precision=0, label="Test image B (index 0–999)")
                interp_frames = gr.Slider(2, 24, value=10, step=1, label="Frames")
                method = gr.Radio(["lerp", "slerp"], value="lerp", label="Interpolation")
            interp_button = gr.Button("Interpolate", variant="primary")
            interp_strip = gr.Image(label="A | decoded path | B", type="pil", format="png")
            interp_button.click(interpolate, [interp_model, index_a, index_b, interp_frames, method], [interp_strip],
                                api_name="interpolate")  # fmt: skip
            gr.Examples([[n, 3, 2, 10, "lerp"] for n in everything], inputs=[interp_model, index_a, index_b, interp_frames, method])

        with gr.Tab("Conditional"):
            gr.Markdown("A conditional autoencoder gets the digit's label beside its latent: choose the digit and a "
                        "latent `z` (the style). The row shows the same `z` drawn as every digit.")  # fmt: skip
            with gr.Row():
                with gr.Column():
                    cond_model = gr.Dropdown(conditional, value=conditional[0] if conditional else None, label="Model")
                    cond_label = gr.Slider(0, 9, value=7, step=1, label="Digit")
                    zs = [gr.Slider(-3, 3, value=0.0, step=0.05, label=f"z[{i}]" + (" (5-d models)" if i >= 2 else ""))
                          for i in range(5)]  # fmt: skip
                    cond_button = gr.Button("Generate", variant="primary")
                with gr.Column():
                    cond_image = gr.Image(label="The chosen digit", type="pil", format="png", height=240)
                    cond_row = gr.Image(label="Same z, digits 0–9", type="pil", format="png")
            cond_button.click(generate, [cond_model, cond_label, *zs], [cond_image, cond_row], api_name="generate")
            pairs = sorted({m.model.z_dim for m in lab.models.values() if m.model.conditional and m.model.variational})
            if pairs:
                gr.Markdown(
                    "### Same style, asked digit: conditional AE vs conditional VAE\n"
                    "A test digit is encoded (with its own label) and decoded with the digit you ask for. The plain "
                    "conditional autoencoder's `z` already says which digit it saw, so its decoder often ignores the "
                    "label and draws the source digit. The VAE's KL term makes `z` pay for every bit it carries, so "
                    "what the label tells for free is pushed out of `z`: it keeps only the style, and the asked digit "
                    "is drawn (Sohn et al. 2015)."
                )  # fmt: skip
                with gr.Row():
                    with gr.Column():
                        style_index = gr.Number(value=0, precision=0, label="Style: test image (index 0–999)")
                        style_label = gr.Slider(0, 9, value=3, step=1, label="Asked digit")
                        style_z = gr.Radio(pairs, value=pairs[-1], label="Latent size",
                                           info="the 5-d AE ignores the label most often")  # fmt: skip
                        style_button = gr.Button("Draw with both", variant="primary")
                    with gr.Column(scale=2):
                        style_side = gr.Image(label="Test image | conditional AE | conditional VAE", type="pil",
                                              format="png", elem_id="cond-compare")  # fmt: skip
                        style_ae = gr.Image(label="Conditional AE: the same style as digits 0–9", type="pil", format="png")
                        style_vae = gr.Image(label="Conditional VAE: the same style as digits 0–9", type="pil", format="png")
                style_button.click(compare_conditional, [style_index, style_label, style_z], [style_side, style_ae, style_vae],
                                   api_name="compare_conditional")  # fmt: skip
                gr.Examples([[0, 3, pairs[-1]], [2, 8, pairs[-1]], [4, 1, pairs[0]]],
                            inputs=[style_index, style_label, style_z])  # fmt: skip

        with gr.Tab("Novelty"):
            gr.Markdown("An autoencoder trained on one digit reconstructs that digit well and others badly: its "
                        "reconstruction error is a novelty score. Use a test image or upload a drawing of a digit "
                        "(any colours; it is centred MNIST-style), optionally with noise. Two models score it side by "
                        "side: with noise, the plain autoencoder's error is mostly the noise's, so every noisy digit "
                        "looks novel; the denoising autoencoder (trained on noisy 0s against clean ones) still tells a "
                        "0 from the rest. The charts compare with test digits under the same noise.")  # fmt: skip
            with gr.Row():
                with gr.Column():
                    nov_upload = ImageUpload(label="Your digit (optional; overrides the test image)", type="pil",
                                             image_mode=None, sources=["upload", "clipboard"], height=160)  # fmt: skip
                    nov_index = gr.Number(value=3, precision=0, label="Test image index (0–999)")
                with gr.Column():
                    nov_noise = gr.Radio(list(NOISE_KINDS), value="none", label="Noise")
                    nov_level = gr.Slider(0, 1, value=0.3, step=0.05, label="Noise level (σ, or fraction of pixels)")
                    nov_button = gr.Button("Score", variant="primary")
            sides = []
            with gr.Row():
                for k in range(min(2, len(novel))):
                    with gr.Column():
                        model = gr.Dropdown(novel, value=novel[k], label="Model" if k == 0 else "Beside it")
                        pair = gr.Image(label="Input | reconstruction", type="pil", format="png", elem_id=f"novelty-pair-{k}")
                        text = gr.Markdown()
                        chart = gr.Image(label="Where this error falls", type="pil", format="png")
                        sides.append((model, pair, chart, text))
            for k, (model, pair, chart, text) in enumerate(sides):
                nov_button.click(novelty, [model, nov_upload, nov_index, nov_noise, nov_level], [pair, chart, text],
                                 api_name="novelty" if k == 0 else f"novelty_{k}",
                                 api_visibility="public" if k == 0 else "undocumented")  # fmt: skip
            gr.Examples([[None, i, n, l] for i, n, l in
                         [(3, "none", 0.0), (2, "none", 0.0), (10, "gaussian", 0.3), (10, "salt_and_pepper", 0.1)]],
                        inputs=[nov_upload, nov_index, nov_noise, nov_level])  # fmt: skip


def example_face_paths(folder: str | Path) -> list[Path]:
    """The example faces in ``folder`` (``*.png``/``*.jpg``), sorted by name."""
    folder = Path(folder)
    return sorted([*folder.glob("*.png"), *folder.glob("*.jpg")])

