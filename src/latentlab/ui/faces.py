"""The **Faces** tabs — Morph, Edit, Align, Sample — over one or more :class:`~latentlab.faces.FaceLab` models."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import torch

from ..alignment import NoFaceError, annotate
from ..faces import FaceLab, frames_to_gif, frames_to_strip
from ..images import grid_image
from .common import ImageUpload, OutputFiles

CELEBA_TERMS = (
    "Faces: CelebA-HQ (Liu et al. 2015; Karras et al. 2018), for **non-commercial research and education only**. "
    "Both face models are small 64×64 VAEs trained by this project: ours (a residual VAE with a calibrated decoder, "
    "the σ-VAE of Rybkin et al. 2021) and the book's (*Generative Deep Learning*, 2nd ed., ch. 3), to compare."
)
# the Edit tab's sliders for several edits at once: the attributes people reach for first (any of the 40 can be added)
SLIDER_ATTRIBUTES = ("Smiling", "Young", "Male", "Eyeglasses", "Blond_Hair", "Bangs", "Heavy_Makeup", "Mustache")
PRIOR_CHOICES = [("fitted mixture (the model's prior)", "mixture"), ("N(0, I)", "normal")]


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


def _require(face, label: str) -> None:
    if face is None:
        raise gr.Error(f"Add {label}: upload a photo or click one of the example faces.")


def _describe_face_model(name: str, lab: FaceLab) -> str:
    """A model-choice label: its name and what kind of model it is."""
    kind = "ours: residual σ-VAE" if lab.model.model_type == "resnet" else "the book's VAE, ch. 3"
    return f"{name} ({kind})"


def face_tabs(labs: dict[str, FaceLab], examples: list[str], out: OutputFiles) -> None:
    """The Faces tabs, inside the caller's Blocks: ``labs`` by name (the first is the default of every endpoint's
    ``model``), ``examples`` the example face paths, ``out`` where the pictures are written."""
    default_model = next(iter(labs))
    attributes = list(labs[default_model].attribute_names)

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
        # native pixels (398 px for 36 faces: a quarter of the pixels of a 2× copy to encode, as lossless WebP);
        # the page shows it enlarged with crisp pixels (CSS in ui.CSS)
        grid = grid_image(faces, nrow=min(count, 6 if count <= 36 else 10))
        return grid, f"Sampled from **{lab.describe_prior(prior)}** at temperature {float(temperature):g}, seed {int(seed)}."

    # every callback's pictures go out as files written once, atomically (see OutputFiles)
    align, preview, preview_upload, morph, edit, edit_many = map(
        out.files, (align, preview, preview_upload, morph, edit, edit_many))
    sample = out.files(sample, image_format="webp")

    gr.Markdown(
        "Every face is encoded to a 200-number latent `z` (the posterior mean) and decoded back. "
        "**Morph** interpolates between two latents, **Edit** adds an attribute direction "
        "(the book's model: mean `z` of faces with the attribute minus mean `z` of faces without; ours: the "
        "attribute's effect on `z` with the other 39 labels held fixed, a regression over the training faces), "
        "**Sample** decodes random `z` "
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
                                        "with age): the axes along which the kept attributes vary in the data "
                                        "(their mean differences) are projected out of the direction, as in "
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
                    "direction has the other edited and the kept attributes' mean differences projected out, "
                    "so one slider does not drag the others' attributes along.")  # fmt: skip
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
        grid = gr.Image(label="Samples", type="pil", format="webp", elem_id="sample-grid", elem_classes="pixelated")
        sampled_from = gr.Markdown()
        sample_button.click(sample, [seed, count, temperature, face_model, prior], [grid, sampled_from],
                            api_name="sample")  # fmt: skip
        gr.Examples([[0, 36, 1.0, "mixture"], [7, 36, 0.7, "mixture"], [42, 16, 1.0, "normal"]],
                    inputs=[seed, count, temperature, prior])  # fmt: skip


def example_face_paths(folder: str | Path) -> list[Path]:
    """The example faces in ``folder`` (``*.png``/``*.jpg``), sorted by name."""
    folder = Path(folder)
    return sorted([*folder.glob("*.png"), *folder.glob("*.jpg")])
