"""The **Faces** tabs — Morph, Edit, Align, Sample — over one or more :class:`~latentlab.faces.FaceLab` models.

The callbacks are module functions that take the face models (``labs``: name → FaceLab) and what else they need
as arguments, so they can be called and tested without the app; :func:`face_tabs` builds the components, one helper
per tab, and wires each event to its callback with those arguments bound. Each upload is found and aligned once
(:func:`align_upload`) and handed to the lab as the :class:`~latentlab.alignment.AlignedFace` it became. Morph and
Edit then decode, unless the caller turns ``keep_person`` off, with a decoder fitted to those faces (pivotal tuning,
:meth:`~latentlab.faces.FaceLab.personalize`, cached per face by the lab), so the faces stay the people uploaded.

An endpoint's callback (:func:`morph`, :func:`edit`, :func:`edit_many`, :func:`align`, :func:`sample`) carries its
one description: its docstring is what Python readers, the API page and agents (the MCP server's tool description)
read, in Gradio's form (one line per parameter and per output), with placeholders such as ``<size>``, ``<models>``
and ``<frames>`` that :func:`~latentlab.ui.common._bind` fills from the served models and :data:`LIMITS`. The
parameters before the API's (``labs``, and ``out`` where a file is written) are bound when the tab is built. Input
a callback refuses raises :class:`~latentlab.ui.common.UserError`, shown to the user as one message.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import torch
from PIL import Image

from ..alignment import AlignedFace, NoFaceError, annotate, face_at, marked_scale
from ..faces import FaceLab, frames_to_gif, frames_to_strip
from ..images import grid_image, tensor_to_pil
from .common import (ImageUpload, NumberMapping, OutputFiles, UserError, _bind, check_range, ranges,
                     refuse_non_images)

# shown when a served face model was trained on CelebA (its card's datasets)
CELEBA_TERMS = (
    "Faces: CelebA-HQ (Liu et al. 2015; Karras et al. 2018), for **non-commercial research and education only**. "
    "The CelebA face models are small VAEs trained by this project: ours (a residual VAE with a calibrated decoder, "
    "the σ-VAE of Rybkin et al. 2021) and the book's (*Generative Deep Learning*, 2nd ed., ch. 3), to compare."
)
# the Edit tab's sliders for several edits at once: the attributes people reach for first (any of the 40 can be added)
#: The Edit tab's examples: (example face, attribute, strength, keep). The Heavy_Makeup pair shows the plain and the
#: decorrelated direction on one man: plain, the judge's P(Male) falls from 1.00 to 0.14 (makeup comes with women in
#: CelebA, cosine −0.51 with Male's mean difference); with Male kept it stays 1.00 (mean pixel difference between the
#: two 12/255, Keep the person on). Chosen by measuring every example face; Blond_Hair, nearly orthogonal to Male
#: (cosine −0.12), differs by under 3/255 when Male is kept, on every example face.
EDIT_EXAMPLES = [(0, "Smiling", 1.5, []), (3, "Blond_Hair", 1.5, []), (4, "Heavy_Makeup", 2.0, []),
                 (4, "Heavy_Makeup", 2.0, ["Male"]), (5, "Eyeglasses", 2.0, ["Male", "Young"]), (4, "Male", -1.5, []),
                 (7, "Young", -2.0, ["Male"])]  # fmt: skip

SLIDER_ATTRIBUTES = ("Smiling", "Young", "Male", "Eyeglasses", "Blond_Hair", "Bangs", "Heavy_Makeup", "Mustache")
PRIOR_CHOICES = [("fitted mixture (the model's prior)", "mixture"), ("N(0, I)", "normal")]
# The accepted range of each numeric input of the face endpoints: one declaration for the sliders that take them, the
# callbacks that check them and the tool descriptions that state them
FRAMES_PER_ROW = 8  # the morph's frames wrap after this many
LIMITS = {"frames": (2, 32), "strength": (-4, 4), "edit_strength": (-3, 3), "count": (1, 64), "temperature": (0, 1.5)}


def _fills(labs: dict[str, FaceLab]) -> dict[str, str]:
    """The texts that the face endpoints' descriptions name as placeholders: ``<models>`` the served face models
    (the first the default), ``<size>`` the default model's image size ("64x64"), ``<per_row>`` the morph's frames
    a row, and each range of :data:`LIMITS` ("2 to 32")."""
    names = list(labs)
    size = labs[names[0]].image_size
    models = f"{names[0]} (default)" + "".join(f", {n}" for n in names[1:])
    return {"models": models, "size": f"{size}x{size}", "per_row": str(FRAMES_PER_ROW), **ranges(LIMITS)}


def face_limits(size: int) -> str:
    """What the face finder finds and what it does not, for a model of ``size``-px faces (under every upload box)."""
    return ("Finds frontal and turned faces (up to ~60°), tilted heads, close-ups and groups — click a face in "
            "*Faces found* to use it. Not found: profiles, covered or masked faces, upside-down photos, faces "
            f"under ~40 px. A {size}×{size} picture is used as it is, as an aligned crop.")  # fmt: skip


@dataclass
class FaceInput:
    """One face input of the Faces tabs: its name (the upload box's label, used in every message about it), the
    upload box, which face of the photo to use (shown when it has several), and what the alignment made of it
    (the crop the model sees, the photo with the faces marked, where a click picks a face)."""

    label: str
    photo: ImageUpload
    number: gr.Number
    crop: gr.Image
    found: gr.Image
    examples: list[gr.Examples]


def _face_input(label: str, examples: list[str], examples_label: str, key: str, size: int) -> FaceInput:
    """An upload box for one face (upload, clipboard or webcam) with what the face finder finds under it, the
    example faces as clickable thumbnails, and the alignment preview beside a face-number choice."""
    photo = ImageUpload(label=label, type="pil", image_mode=None, sources=["upload", "clipboard", "webcam"],
                        height=192, elem_id=f"{key}-photo")  # fmt: skip
    gr.Markdown(face_limits(size), elem_classes="face-limits")
    shown = [gr.Examples(examples, inputs=[photo], label=examples_label, examples_per_page=12)] if examples else []
    with gr.Row():
        crop = gr.Image(label=f"{label}: the model's input", type="pil", format="png", height=192,
                        interactive=False, buttons=["download"], scale=1, elem_id=f"{key}-crop")  # fmt: skip
        found = gr.Image(label=f"Faces found in {label} (click one to use it)", type="pil", format="jpeg",
                         height=192, interactive=False, scale=2, elem_id=f"{key}-found")  # fmt: skip
    number = gr.Number(value=1, precision=0, minimum=1, label=f"{label}: which face (1 = the largest)",
                       visible=False, elem_id=f"{key}-number")  # fmt: skip
    return FaceInput(label, photo, number, crop, found, shown)


def _face_number(number) -> int:
    """The UI's / API's face number (1 = the largest) as a 0-based index."""
    try:
        value = int(number or 1)
    except (TypeError, ValueError):
        raise UserError(f"face number must be a whole number ≥ 1, got {number!r}") from None
    if value < 1:
        raise UserError(f"face number must be ≥ 1, got {value}")
    return value - 1


def _require(face, label: str) -> None:
    if face is None:
        raise UserError(f"{label} is empty: upload a photo or click one of the example faces.", title=f"No {label}")


def _describe_face_model(name: str, lab: FaceLab) -> str:
    """A model-choice label: its name and what kind of model it is."""
    if not lab.attribute_names:
        return f"{name} (no attribute directions: trained without labels)"
    if lab.model.model_type != "resnet":
        return f"{name} (the book's VAE, ch. 3)"
    decoder = "decoder trained against a discriminator: sharp" if lab.adversarial_decoder else "MSE-trained decoder: soft"
    return f"{name} (ours, {decoder})"


# --- the callbacks: plain functions of the face models (``labs``: name → FaceLab, the first the default) -----------
def _require_directions(lab: FaceLab, model: str | None) -> None:
    if not lab.attribute_names:
        raise UserError(f"{model or 'This model'} has no attribute directions (it was trained on pictures without "
                        "labels): Morph and Sample work with it, Edit does not.", title="No attribute directions")  # fmt: skip


def get_lab(labs: dict[str, FaceLab], model: str | None = None) -> FaceLab:
    """The face model named ``model`` (``None`` or ``""``: the first of ``labs``); UserError for an unknown name."""
    default = next(iter(labs))
    if (model or default) not in labs:
        raise UserError(f"Pick one of the face models: {', '.join(labs)} (got {model!r}).")
    return labs[model or default]


def align_upload(lab: FaceLab, photo: Image.Image | None, number, label: str) -> AlignedFace:
    """The model's input for one face input: ``photo``'s face ``number`` (1 = the largest), found and aligned once.

    Args:
        lab: the face model whose :meth:`~latentlab.faces.FaceLab.prepare` aligns (its aligner, its image size S).
        photo: the upload, any PIL image; ``None`` is refused with a message naming ``label``.
        number: the face number as the UI / API gives it (an int or float ≥ 1, or ``None`` for 1).
        label: the input's name, as its upload box is labelled ("Face A", "Face B", "Face", "Photo"), for the
            messages.

    Returns:
        :class:`~latentlab.alignment.AlignedFace` with an S×S RGB crop, to pass on to the lab as it is.

    Raises:
        UserError: no photo, a bad face number, or no such face in the photo.
    """
    _require(photo, label)
    try:
        return lab.prepare(photo, _face_number(number))
    except NoFaceError as err:
        raise UserError(f"{label}: {err}", title="No face found") from None


def _aligned_and_marked(labs: dict[str, FaceLab], photo: Image.Image, number, model: str | None, label: str
                        ) -> tuple[AlignedFace, Image.Image | None]:  # fmt: skip
    """Face ``number`` of ``photo`` aligned by ``model`` (see :func:`align_upload`), and the photo with every face
    found marked (``None`` when nothing was detected: an aligned crop, or a lab without an aligner)."""
    result = align_upload(get_lab(labs, model), photo, number, label)
    return result, annotate(photo, result.faces, result.index) if result.faces else None


def align(labs: dict[str, FaceLab], photo: Image.Image, face_number=1, model: str | None = None
          ) -> tuple[Image.Image, Image.Image]:  # fmt: skip
    """Find the faces in a photo and crop one as the model sees it: aligned from its eyes and mouth as
    CelebA-HQ's faces were, <size> pixels.

    Args:
        photo: the photo (a URL or an uploaded file).
        face_number: which face, 1 = the largest (default 1).
        model: the face model whose input size is used: <models>.

    Returns:
        a PNG of the aligned <size> face
        a JPEG of the photo (at most 768 px) with every face found marked and numbered
    """
    result, marked = _aligned_and_marked(labs, photo, face_number, model, "Photo")
    return result.crop, marked if marked is not None else result.crop


def preview(labs: dict[str, FaceLab], label: str, photo: Image.Image | None, number, model: str | None = None):
    """Face input ``label``'s alignment preview for face ``number``: ``(crop, marked)``, ``marked`` being ``None``
    when nothing was detected (an aligned crop); ``(None, None)`` without a photo."""
    if photo is None:
        return None, None
    result, marked = _aligned_and_marked(labs, photo, number, model, label)
    return result.crop, marked


def face_number_box(count: int) -> dict:
    """The update of the face-number box under a face input for a photo with ``count`` faces: reset to 1, shown
    when the photo has several faces."""
    return gr.update(value=1, maximum=max(count, 1), visible=count > 1,
                     info=f"{count} faces found" if count > 1 else None)  # fmt: skip


def preview_upload(labs: dict[str, FaceLab], label: str, photo: Image.Image | None, model: str | None = None):
    """A new photo in face input ``label``: ``(crop, marked, face-number box update)`` for its largest face (one
    detection; ``marked`` is ``None`` for an aligned crop); ``(None, None, hidden box)`` when the input was
    cleared."""
    if photo is None:
        return None, None, face_number_box(0)
    result, marked = _aligned_and_marked(labs, photo, 1, model, label)
    return result.crop, marked, face_number_box(len(result.faces))


def pick_face(labs: dict[str, FaceLab], label: str, photo: Image.Image | None, model: str | None,
              evt: gr.SelectData):  # fmt: skip
    """A click on face input ``label``'s "Faces found" picture at ``evt.index`` = (x, y) of that picture: the face
    there is aligned and becomes the input's face — ``(crop, marked, face-number box update)``; nothing changes
    (``gr.skip()``) when the click is beside every face or the picture marks no faces."""
    if photo is None:
        return gr.skip(), gr.skip(), gr.skip()
    lab = get_lab(labs, model)
    found = align_upload(lab, photo, 1, label)
    scale = marked_scale(photo)  # the marked picture is the photo at this scale (EXIF turns keep its longer side)
    index = face_at(found.faces, (evt.index[0] / scale, evt.index[1] / scale)) if found.faces else None
    if index is None:
        return gr.skip(), gr.skip(), gr.skip()
    chosen = found.choose(photo, index)
    return (chosen.crop, annotate(photo, chosen.faces, index),
            gr.update(value=index + 1, maximum=len(chosen.faces), visible=True, info=f"{len(chosen.faces)} faces found"))  # fmt: skip


KEEP_PERSON_LABEL = "Keep the person: fit the decoder to this photo"
KEEP_PERSON_INFO = ("Pivotal tuning (Roich et al. 2022): a copy of the decoder is fitted to the face around its code, "
                    "so the reconstruction, the edits and the morph stay the person in the photo (a few seconds the "
                    "first time, then remembered for this face). Untick to see what the model alone gives back.")  # fmt: skip


def personalized(lab: FaceLab, faces: list[AlignedFace], keep_person, progress=None) -> FaceLab:
    """``lab`` itself, or with ``keep_person`` the lab over a decoder fitted to ``faces``
    (:meth:`~latentlab.faces.FaceLab.personalize`, cached), its steps shown by ``progress`` (a ``gr.Progress``)."""
    if not keep_person:
        return lab
    if progress is None:
        return lab.personalize(faces)
    what = "the faces" if len(faces) > 1 else "the face"
    return lab.personalize(faces, progress=lambda step, steps: progress((step, steps), desc=f"Fitting the decoder to {what}"))


def morph(labs: dict[str, FaceLab], out: OutputFiles, face_a: Image.Image, face_b: Image.Image, frames,
          model: str | None = None, face_a_number=1, face_b_number=1, keep_person=True,
          progress=gr.Progress()) -> tuple[Image.Image, str]:  # fmt: skip
    """Morph one face into another: both faces are found in their photos, cropped to <size> as CelebA-HQ was
    aligned, encoded to latent codes, and the straight line between the codes is decoded.

    Args:
        face_a: the first photo (a URL or an uploaded file); any photo with a face, or a <size> aligned face crop.
        face_b: the second photo, as face_a.
        frames: how many frames, <frames>, both reconstructions included (default 10).
        model: the face model: <models>.
        face_a_number: which face of face_a's photo, 1 = the largest (default 1).
        face_b_number: which face of face_b's photo, 1 = the largest (default 1).
        keep_person: true (default) to first fit a copy of the decoder to both faces (pivotal tuning: about 3 s on a 2-core CPU, then cached for the same two faces) so both ends look like the people in the photos; false for the model's plain reconstructions.

    Returns:
        a PNG of the frames (<size> each, enlarged 2x) in rows of up to <per_row>, reconstruction of A to reconstruction of B
        a looping animated GIF of the same frames
    """
    lab = get_lab(labs, model)
    frames = int(frames)
    check_range("frames", frames, LIMITS["frames"])
    a, b = align_upload(lab, face_a, face_a_number, "Face A"), align_upload(lab, face_b, face_b_number, "Face B")
    decoded = personalized(lab, [a, b], keep_person, progress).morph(a, b, frames)
    buffer = io.BytesIO()
    frames_to_gif(decoded, buffer)
    return grid_image(decoded, nrow=min(len(decoded), FRAMES_PER_ROW), scale=2), out.write(buffer.getvalue(), "morph.gif")


def edit(labs: dict[str, FaceLab], face: Image.Image, attribute: str, strength, keep: list[str] | None = None,
         model: str | None = None, face_number=1, keep_person=True, progress=gr.Progress()
         ) -> tuple[Image.Image, Image.Image, tuple[Image.Image, Image.Image]]:  # fmt: skip
    """Edit one attribute of a face (one of CelebA's 40 labels, e.g. Smiling, Young, Eyeglasses, Blond_Hair) by
    adding the attribute's direction in latent space to the face's latent code.

    Args:
        face: the photo (a URL or an uploaded file); any photo with a face, or a <size> aligned face crop.
        attribute: the CelebA attribute name, e.g. Smiling, Young, Male, Eyeglasses, Blond_Hair, Bangs, Mustache.
        strength: how far to move along the direction, <strength>; negative removes the attribute (default 1.5).
        keep: attribute names to hold unchanged (their mean-difference axes are projected out), e.g. ["Male"].
        model: the face model: <models>.
        face_number: which face of the photo, 1 = the largest (default 1).
        keep_person: true (default) to first fit a copy of the decoder to the face (pivotal tuning: about 3 s on a 2-core CPU, then cached for the same face) so the reconstruction and the edit stay the person in the photo; false for the model's plain reconstruction.

    Returns:
        a PNG of original, reconstruction and edit side by side (each <size>, enlarged 3x)
        a PNG sweep of the edit at strengths -2s, -s, 0, +s, +2s
        a pair of PNGs, the reconstruction and the edit (each enlarged 4x), for a before / after comparison
    """
    lab = get_lab(labs, model)
    _require_directions(lab, model)
    strength = float(strength)
    check_range("strength", strength, LIMITS["strength"])
    aligned = align_upload(lab, face, face_number, "Face")  # an unknown attribute is refused by the Dropdowns
    keep = [k for k in (keep or []) if k != attribute]  # keeping the edited attribute itself means nothing
    lab = personalized(lab, [aligned], keep_person, progress)
    step = abs(strength) or 1.0
    # one batch: the edit, then the sweep −2s, −s, 0, +s, +2s (its strength-0 frame is the reconstruction)
    try:
        original, decoded = lab.edit(aligned, attribute, [strength, -2 * step, -step, 0.0, step, 2 * step], keep)
    except ValueError as err:  # the direction lies in the span of the kept ones
        raise UserError(f"{attribute} cannot be decorrelated from {', '.join(keep)}: {err}") from err
    comparison = grid_image(torch.stack([original, decoded[3], decoded[0]]), nrow=3, scale=3)
    before, after = (tensor_to_pil(decoded[i]).resize((4 * lab.image_size,) * 2, Image.Resampling.NEAREST) for i in (3, 0))
    return comparison, frames_to_strip(decoded[1:], scale=2), (before, after)


def set_edit(mapping: dict | None, name: str, value) -> dict[str, float]:
    """The Edit tab's edits (attribute → strength) with ``name`` set to ``value``; a 0 strength removes it."""
    mapping = {k: v for k, v in dict(mapping or {}).items() if k != name}
    return {**mapping, name: float(value)} if float(value) != 0 else mapping


def set_edit_from_menu(mapping: dict | None, name: str | None, value) -> dict[str, float]:
    """:func:`set_edit` for the "Add another attribute" menu: UserError when no attribute is picked."""
    if not name:
        raise UserError("Pick an attribute to add.")
    return set_edit(mapping, name, value)


def parse_edits(lab: FaceLab, edits, keep: list[str] | None) -> tuple[dict[str, float], list[str]]:
    """``/edit_many``'s ``edits`` (a mapping attribute → strength, or its JSON text from an API caller) and
    ``keep`` checked against ``lab``'s attributes: ``(edits, keep)``, ``keep`` without the edited attributes.

    Raises:
        UserError: not a mapping of numbers, an unknown attribute, or no edits.
    """
    if isinstance(edits, str):
        try:
            edits = json.loads(edits or "{}")
        except json.JSONDecodeError as err:
            raise UserError(f"edits must be a mapping attribute → strength, e.g. {{\"Smiling\": 1.0}} ({err})") from None
    if not isinstance(edits, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in edits.values()):
        raise UserError('edits must be a mapping attribute → strength, e.g. {"Smiling": 1.0, "Young": -1.0}')
    unknown = [a for a in [*edits, *(keep or [])] if a not in lab.attribute_names]
    if unknown:
        raise UserError(f"Unknown attribute(s): {', '.join(map(str, unknown))}. Use CelebA's 40 names, e.g. Smiling.")
    if not edits:
        raise UserError("No edits: move a slider or add an attribute first.")
    for name, value in edits.items():
        check_range(f"{name}'s strength", float(value), LIMITS["edit_strength"])
    return edits, [k for k in (keep or []) if k not in edits]  # an edited attribute cannot also be kept


def edit_many(labs: dict[str, FaceLab], face: Image.Image, edits, keep: list[str] | None = None, independent=True,
              model: str | None = None, face_number=1, keep_person=True, progress=gr.Progress()
              ) -> tuple[Image.Image, Image.Image]:  # fmt: skip
    """Edit several attributes of one face at once: every attribute direction, each with its own
    strength, is added to the face's latent code.

    Args:
        face: the photo (a URL or an uploaded file); any photo with a face, or a <size> aligned face crop.
        edits: a JSON object of CelebA attribute name to strength (<edit_strength>), e.g. {"Smiling": 1.0, "Young": -1.0}.
        keep: attribute names to hold unchanged, e.g. ["Male"] (default none).
        independent: true to decorrelate each direction from the other edited and kept ones (default true).
        model: the face model: <models>.
        face_number: which face of the photo, 1 = the largest (default 1).
        keep_person: true (default) to first fit a copy of the decoder to the face (pivotal tuning: about 3 s on a 2-core CPU, then cached for the same face) so the edited face stays the person in the photo; false for the model's plain decoder.

    Returns:
        a PNG of the edited face (<size>, enlarged 3x)
        a PNG of original, reconstruction and all edits side by side
    """
    lab = get_lab(labs, model)
    _require_directions(lab, model)
    edits, keep = parse_edits(lab, edits, keep)
    aligned = align_upload(lab, face, face_number, "Face")
    lab = personalized(lab, [aligned], keep_person, progress)
    try:
        original, reconstruction, edited = lab.edit_many(aligned, edits, keep, independent=bool(independent))
    except ValueError as err:  # a direction inside the span of the others
        raise UserError(f"These edits cannot be made independent: {err}") from None
    return (grid_image(edited[None], nrow=1, scale=3, padding=0),
            grid_image(torch.stack([original, reconstruction, edited]), nrow=3, scale=3))  # fmt: skip


def sample(labs: dict[str, FaceLab], seed, count, temperature, model: str | None = None, prior: str | None = None
           ) -> tuple[Image.Image, str]:  # fmt: skip
    """Generate new faces that no one has: random latent codes drawn from the model's prior, decoded.

    Args:
        seed: the random seed, an integer; the same seed gives the same faces (default 0).
        count: how many faces, <count> (default 36).
        temperature: scales the spread of the codes, <temperature>; lower gives more average faces (default 1.0).
        model: the face model: <models>.
        prior: mixture (the Gaussian mixture fitted to the training faces' codes, default) or normal (N(0, I)).

    Returns:
        a lossless WebP grid of the faces, <size> each
        a line saying which prior, temperature and seed were used
    """
    lab = get_lab(labs, model)
    count = int(count)
    check_range("count", count, LIMITS["count"])
    check_range("temperature", float(temperature), LIMITS["temperature"])
    prior = prior or lab.default_prior
    try:
        faces = lab.sample(count, seed=int(seed), temperature=float(temperature), prior=prior)
    except ValueError as err:  # a folder without a fitted prior
        raise UserError(f"{model or next(iter(labs))}: {err}") from None
    # native pixels (398 px for 36 faces: a quarter of the pixels of a 2× copy to encode, as lossless WebP);
    # the page shows it enlarged with crisp pixels (CSS in ui.CSS)
    grid = grid_image(faces, nrow=min(count, 6 if count <= 36 else 10))
    return grid, f"Sampled from **{lab.describe_prior(prior)}** at temperature {float(temperature):g}, seed {int(seed)}."


# --- the tabs: components, and events wired to the callbacks above -------------------------------------------------
def face_tabs(labs: dict[str, FaceLab], examples: list[str], out: OutputFiles) -> None:
    """The Faces tabs, inside the caller's Blocks: ``labs`` by name (the first is the default of every endpoint's
    ``model``), ``examples`` the example face paths, ``out`` where the pictures are written."""
    default = labs[next(iter(labs))]
    celeba = any("celeba" in d.lower() for lab in labs.values() for d in lab.datasets)
    gr.Markdown(
        f"Every face is encoded to a {default.model.z_dim}-number latent `z` (the posterior mean) and decoded back. "
        "**Morph** interpolates between two latents, **Edit** adds an attribute direction "
        "(the book's model: mean `z` of faces with the attribute minus mean `z` of faces without; ours: the "
        "attribute's effect on `z` with the other 39 labels held fixed, a regression over the training faces), "
        "**Sample** decodes random `z` "
        "from the model's prior: a Gaussian mixture fitted to the training faces' latents, or N(0, I)."
        + ("\n\n" + CELEBA_TERMS if celeba else "")
    )
    face_model = gr.Radio([(_describe_face_model(n, lab), n) for n, lab in labs.items()], value=next(iter(labs)),
                          label="Face model", info=("Ours come with two decoders of the same latent space: the same "
                          "z decoded for pixel error (MSE: soft) or trained against a discriminator (sharp). The book's "
                          "model: same latent size, same data, the book's recipe. " if celeba else "") + "Switching "
                          "clears the results shown on every Faces tab (they were made by the other model): press "
                          "their buttons again.")  # fmt: skip
    (face_a, face_b), morphed = _morph_tab(labs, examples, out, face_model)
    face, edited = _edit_tab(labs, examples, out, face_model)
    # every face input shows what the alignment made of it (a cleared input clears its preview; a photo without
    # a face shows the message once and clears the preview), a click on a face in "Faces found" picks it, and any
    # change of the input's face clears the results made from the one before
    for fi, results in ((face_a, morphed), (face_b, morphed), (face, edited)):
        # the preview runs on the user's own changes (an upload, a paste, a clear) and after an example is loaded,
        # not on "change": a photo that replaces another fires "change" twice (two detections, two error toasts)
        checked = refuse_non_images(fi.photo, clear=[fi.crop, fi.found, fi.number],
                                    cleared=[None, None, face_number_box(0)])  # fmt: skip
        for trigger in [checked.success, *(ex.load_input_event.then for ex in fi.examples)]:
            shown = trigger(out.files(_bind(preview_upload, labs, fi.label)), [fi.photo, face_model],
                            [fi.crop, fi.found, fi.number], api_visibility="private")  # fmt: skip
            shown.failure(lambda: (None, None, face_number_box(0)), None, [fi.crop, fi.found, fi.number],
                          api_visibility="private")  # fmt: skip
        fi.number.input(out.files(_bind(preview, labs, fi.label)), [fi.photo, fi.number, face_model],
                        [fi.crop, fi.found], api_visibility="private")  # fmt: skip
        fi.found.select(out.files(_bind(pick_face, labs, fi.label)), [fi.photo, face_model],
                        [fi.crop, fi.found, fi.number], api_visibility="private")  # fmt: skip
        _clear_on([fi.photo.change, fi.number.input, fi.found.select], results)
    aligned = _align_tab(labs, out, face_model)
    sampled = _sample_tab(labs, out, face_model)
    _clear_on([face_model.change], [*morphed, *edited, *aligned, *sampled])  # results of another model


def _clear_on(triggers: list, outputs: list) -> None:
    """Empty ``outputs`` (results on the page) whenever one of ``triggers`` fires: in the browser, no request."""
    gr.on(triggers, None, None, outputs, js=f"() => [{', '.join(['null'] * len(outputs))}]", api_visibility="private")


def _morph_tab(labs: dict[str, FaceLab], examples: list[str], out: OutputFiles, face_model: gr.Radio
               ) -> tuple[tuple[FaceInput, FaceInput], list[gr.Image]]:  # fmt: skip
    """The Morph tab and its ``/morph`` event; returns its two face inputs (A, B) and its results."""
    size = next(iter(labs.values())).image_size
    with gr.Tab("Morph"):
        with gr.Row():
            with gr.Column():
                face_a = _face_input("Face A", examples, "Test faces → A", "face-a", size)
            with gr.Column():
                face_b = _face_input("Face B", examples[::-1], "Test faces → B", "face-b", size)
        with gr.Row():
            frames = gr.Slider(*LIMITS["frames"], value=10, step=1, label="Frames (both ends included)", scale=2)
            morph_keep_person = gr.Checkbox(value=True, label=KEEP_PERSON_LABEL, info=KEEP_PERSON_INFO, scale=1,
                                            elem_id="morph-keep-person")  # fmt: skip
        morph_button = gr.Button("Morph", variant="primary")
        strip = gr.Image(label="Frames: reconstruction of A → reconstruction of B", type="pil", format="png",
                         elem_id="morph-frames")  # fmt: skip
        gif = gr.Image(label="Animated GIF", type="filepath", format="gif", height=256, elem_id="morph-gif")
        morph_button.click(out.files(_bind(morph, labs, out, fills=_fills(labs))), [face_a.photo, face_b.photo, frames, face_model,
                           face_a.number, face_b.number, morph_keep_person], [strip, gif], api_name="morph")  # fmt: skip
    return (face_a, face_b), [strip, gif]


def _edit_tab(labs: dict[str, FaceLab], examples: list[str], out: OutputFiles, face_model: gr.Radio
              ) -> tuple[FaceInput, list[gr.Image]]:  # fmt: skip
    """The Edit tab: one attribute (``/edit``, with example edits), then several at once (``/edit_many``);
    returns its face input and its results."""
    default = next(iter(labs))
    attributes = list(labs[default].attribute_names)
    with gr.Tab("Edit"):
        if not attributes:  # the default model cannot edit: say why, and offer no button that fails
            gr.Markdown(f"**{default} has no attribute directions** (it was trained on pictures without labels), so "
                        "it has nothing to edit along. Morph and Sample work with it.", elem_id="edit-unavailable")  # fmt: skip
        with gr.Row():
            with gr.Column():
                face = _face_input("Face", examples, "Test faces", "edit-face", labs[default].image_size)
            with gr.Column():
                attribute = gr.Dropdown(attributes, value="Smiling" if "Smiling" in attributes else None,
                                        label="Attribute", info=f"one of the model's {len(attributes)} labels")  # fmt: skip
                # short labels: they are also the headers of the examples table below
                strength = gr.Slider(*LIMITS["strength"], value=1.5, step=0.25, label="Strength",
                                     info="× the attribute direction; negative removes it")  # fmt: skip
                keep = gr.Dropdown(attributes, value=[], multiselect=True, label="Keep unchanged",
                                   info="The direction is decorrelated from these. "
                                        "CelebA's labels are correlated (blond hair with women, eyeglasses "
                                        "with age): the axes along which the kept attributes vary in the data "
                                        "(their mean differences) are projected out of the direction, as in "
                                        "InterFaceGAN's conditional editing.")  # fmt: skip
                keep_person = gr.Checkbox(value=True, label=KEEP_PERSON_LABEL, info=KEEP_PERSON_INFO,
                                          elem_id="edit-keep-person")  # fmt: skip
                edit_button = gr.Button("Edit", variant="primary", interactive=bool(attributes))
        comparison = gr.Image(label="Original | reconstruction | edit", type="pil", format="png",
                              elem_id="edit-comparison")  # fmt: skip
        with gr.Row():
            sweep = gr.Image(label="Sweep: −2s, −s, 0, +s, +2s", type="pil", format="png", elem_id="edit-sweep", scale=2)
            before_after = gr.ImageSlider(label="Before / after (drag to compare)",
                                          type="filepath", format="png", elem_id="edit-slider", scale=1)  # fmt: skip
        edit_button.click(out.files(_bind(edit, labs, fills=_fills(labs))), [face.photo, attribute, strength, keep, face_model,
                          face.number, keep_person], [comparison, sweep, before_after], api_name="edit")  # fmt: skip
        presets = EDIT_EXAMPLES
        if examples and attributes:
            face.examples.append(gr.Examples([[examples[i % len(examples)], a, s, [k for k in kept if k in attributes]]
                                              for i, a, s, kept in presets if a in attributes],
                                             inputs=[face.photo, attribute, strength, keep], label="Try these edits"))  # fmt: skip
        many = _edit_many_panel(labs, out, face, keep, keep_person, attributes, face_model)
    return face, [comparison, sweep, before_after, *many]


def _edit_many_panel(labs: dict[str, FaceLab], out: OutputFiles, face: FaceInput, keep: gr.Dropdown,
                     keep_person: gr.Checkbox, attributes: list[str], face_model: gr.Radio) -> list[gr.Image]:  # fmt: skip
    """The Edit tab's "several attributes at once": sliders and a menu filling one mapping of edits, applied to
    the tab's ``face`` with its ``keep`` and ``keep_person`` choices by ``/edit_many``; returns its results."""
    gr.Markdown("### Several attributes at once\nMove the sliders (or add any of the 40), then "
                "**Apply all**: every edit is added to the same face. With *independent sliders*, each "
                "direction has the other edited and the kept attributes' mean differences projected out, "
                "so one slider does not drag the others' attributes along. Each direction carries what its "
                "attribute looks like in CelebA: bangs there are mostly dark, so Bangs (and Male) paint a dark "
                "fringe on light hair, and Eyeglasses at +2 are often sunglasses (CelebA's label includes them); strengths add up, so several "
                "large ones stack these. Keeping the hair colours (Blond_Hair, Brown_Hair, …) halves the dark "
                "fringe.")  # fmt: skip
    with gr.Row():
        sliders = {a: gr.Slider(*LIMITS["edit_strength"], value=0, step=0.25, label=a, min_width=120)
                   for a in SLIDER_ATTRIBUTES if a in attributes}  # fmt: skip
    with gr.Row():
        more_attribute = gr.Dropdown(attributes, value=None, label="Add another attribute")
        more_strength = gr.Slider(*LIMITS["edit_strength"], value=1.0, step=0.25, label="Its strength")
        add_button = gr.Button("Add", size="sm")
    with gr.Row():
        edits = NumberMapping(value={}, label="Edits (attribute → strength), applied together",
                        elem_id="edit-many-edits")  # fmt: skip
        with gr.Column():
            independent = gr.Checkbox(value=True, label="Independent sliders (decorrelated directions)")
            apply_button = gr.Button("Apply all", variant="primary", interactive=bool(attributes))
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
    apply_button.click(out.files(_bind(edit_many, labs, fills=_fills(labs))), [face.photo, edits, keep, independent, face_model,
                       face.number, keep_person], [many_edited, many_comparison], api_name="edit_many")  # fmt: skip
    return [many_edited, many_comparison]


def _align_tab(labs: dict[str, FaceLab], out: OutputFiles, face_model: gr.Radio) -> list[gr.Image]:
    """The Align tab: a photo's faces found and one of them aligned (``/align``); a click on a face in the
    marked photo aligns that one. Returns its results."""
    with gr.Tab("Align"):
        gr.Markdown(
            "How uploads become the model's input: faces are found (MediaPipe: a far and a close detector, "
            "the photo also searched turned ±30° for tilted heads), and each is cropped from its eye centres "
            "and mouth corners as CelebA-HQ was (an oriented square, reflect-padded where it leaves the photo). "
            "Morph and Edit do this to every upload."
        )  # fmt: skip
        with gr.Row():
            with gr.Column():
                align_photo = ImageUpload(label="Photo", type="pil", image_mode=None,
                                          sources=["upload", "clipboard", "webcam"], height=256,
                                          elem_id="align-photo")  # fmt: skip
                gr.Markdown(face_limits(next(iter(labs.values())).image_size), elem_classes="face-limits")
                align_number = gr.Number(value=1, precision=0, minimum=1, label="Photo: face (1 = the largest)",
                                         elem_id="align-number")  # fmt: skip
                align_button = gr.Button("Align", variant="primary")
            with gr.Column():
                align_crop = gr.Image(label="Photo, aligned (the model's input)", type="pil", format="png",
                                      height=192, interactive=False, elem_id="align-crop")  # fmt: skip
                align_found = gr.Image(label="Faces found in Photo (click one to use it)",
                                       type="pil", format="jpeg", interactive=False, elem_id="align-found")  # fmt: skip
        align_button.click(out.files(_bind(align, labs, fills=_fills(labs))), [align_photo, align_number, face_model],
                           [align_crop, align_found], api_name="align")  # fmt: skip
        align_found.select(out.files(_bind(pick_face, labs, "Photo")), [align_photo, face_model],
                           [align_crop, align_found, align_number], api_visibility="private")  # fmt: skip
        _clear_on([align_photo.change, align_number.input], [align_crop, align_found])
        # a new photo starts again from its largest face (in the browser, no request)
        align_photo.change(None, None, [align_number], js="() => 1", api_visibility="private")
        refuse_non_images(align_photo)
    return [align_crop, align_found]


def _sample_tab(labs: dict[str, FaceLab], out: OutputFiles, face_model: gr.Radio) -> list[gr.Image]:
    """The Sample tab: new faces from a model's prior (``/sample``), sent as lossless WebP; returns its results."""
    with gr.Tab("Sample"):
        with gr.Row():
            seed = gr.Number(value=0, precision=0, label="Seed")
            count = gr.Slider(*LIMITS["count"], value=36, step=1, label="Faces")
            temperature = gr.Slider(*LIMITS["temperature"], value=1.0, step=0.05, label="Temperature (scales the std of z)")
            prior = gr.Radio(PRIOR_CHOICES, value="mixture", label="Prior",
                             info="N(0, I) is the VAE's own prior; the mixture (Ghosh et al. 2020) is "
                                  "fitted to where the training faces' latents really lie.")  # fmt: skip
        sample_button = gr.Button("Sample", variant="primary")
        grid = gr.Image(label="Samples", type="pil", format="webp", elem_id="sample-grid", elem_classes="pixelated")
        sampled_from = gr.Markdown(label="Prior used")  # the label names the API output
        sample_button.click(out.files(_bind(sample, labs, fills=_fills(labs)), image_format="webp"),
                            [seed, count, temperature, face_model, prior], [grid, sampled_from],
                            api_name="sample")  # fmt: skip
        gr.Examples([[0, 36, 1.0, "mixture"], [7, 36, 0.7, "mixture"], [42, 16, 1.0, "normal"]],
                    inputs=[seed, count, temperature, prior])  # fmt: skip
    return [grid, sampled_from]


def example_face_paths(folder: str | Path) -> list[Path]:
    """The example faces in ``folder`` (``*.png``/``*.jpg``), sorted by name."""
    folder = Path(folder)
    return sorted([*folder.glob("*.png"), *folder.glob("*.jpg")])
