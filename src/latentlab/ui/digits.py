"""The **Digits & clothes** tabs — Latent plane, Interpolate, Conditional, Novelty — over a
:class:`~latentlab.digits.DigitLab`.

The callbacks are module functions that take the digit models (``lab``) and the event's inputs as arguments, so they
can be called and tested without the app; :func:`digit_tabs` builds the components, one helper per tab, and wires
each event to its callback with the lab bound. As on the Faces tabs, an endpoint's callback docstring is its one
description (Python readers, the API page, agents), in Gradio's form, its placeholders (``<all>``, ``<2-d>``,
``<blur>``, a range of :data:`LIMITS` such as ``<frames>``) filled from the served models by :func:`_fills`; input a
callback refuses raises :class:`~latentlab.ui.common.UserError`.
"""

from __future__ import annotations

import gradio as gr
import torch
from PIL import Image

from ..analysis import NOISE_KINDS, NOVELTY_BLUR, novelty_plot
from ..digits import DigitLab
from ..images import DRAWING_MAX_MID_TONES, digit_from_pil, grid_image, mid_tone_share, tensor_to_pil
from .common import (Choice, ImageUpload, OutputFiles, UserError, _bind, check_range, choose, ranges,
                     refuse_non_images)

INTRO = (
    "Small models of 28×28 digits (MNIST) and clothes (Fashion-MNIST): autoencoders, a conditional autoencoder "
    "and a VAE, trained by this project. Data: MNIST (CC BY-SA 3.0), Fashion-MNIST (MIT); the test images "
    "shown are the first 1,000 of each test split."
)


# the ranges of the digit endpoints' numeric inputs: one declaration for their sliders, the callbacks' checks and the
# descriptions (the latent plane's and the conditional code's are the sliders' ranges; other values still decode)
LIMITS = {"frames": (2, 24), "plane": (-4, 4), "code": (-3, 3), "level": (0, 1)}


def _fills(lab: DigitLab) -> dict[str, str]:
    """The texts that the digit endpoints' descriptions name as placeholders: the served models of each kind
    (``<2-d>``, ``<conditional>``, ``<novelty>``, ``<all>``), the novelty measure's blur (``<blur>``) and each range
    of :data:`LIMITS`."""
    kinds = {"2-d": lab.names(z_dim=2), "conditional": lab.names(conditional=True),
             "novelty": lab.names(novelty=True), "all": list(lab.models)}  # fmt: skip
    return {**{kind: ", ".join(names) for kind, names in kinds.items()}, "blur": f"{NOVELTY_BLUR:g}", **ranges(LIMITS)}


def _enlarged(image: torch.Tensor) -> Image.Image:
    """One decoded image (C, 28, 28) in [0, 1] as a 224×224 PIL image with square pixels."""
    return tensor_to_pil(image).resize((224, 224), Image.Resampling.NEAREST)


# --- the callbacks: plain functions of the digit models (``lab``) and the event's inputs ---------------------------
def plane(lab: DigitLab, model: str, x, y, label) -> tuple[Image.Image, Image.Image]:
    """Decode one point of a 2-d latent space: what a digit or clothes model's decoder draws at latent (x, y),
    and where the test images' latents lie.

    Args:
        model: a model with a 2-d latent: <2-d>.
        x: the latent's first coordinate, about <plane>.
        y: the latent's second coordinate, about <plane>.
        label: the digit 0 to 9 that a conditional model draws (others ignore it).

    Returns:
        a PNG of the decoded image (28x28, enlarged to 224x224)
        a PNG scatter plot of the test images' latents with the point marked
    """
    choose(model, lab.names(z_dim=2), "2-d")
    image, scatter = lab.plane(model, float(x), float(y), int(label or 0))
    return _enlarged(image), scatter


def plane_click(lab: DigitLab, model: str, label, evt: gr.SelectData
                ) -> tuple[float, float, Image.Image, Image.Image]:  # fmt: skip
    """``/plane_click``: a click on the scatter plot of :func:`plane` decoded where it landed.

    Args:
        lab, model, label: as for :func:`plane`.
        evt: the click; ``evt.index`` is its (column, row) in the scatter image's pixels.

    Returns:
        ``(x, y, image, scatter)``: the clicked latent point (rounded to 3 decimals, for the sliders) and
        :func:`plane`'s pictures there.

    Raises:
        UserError: ``model`` is not one of the 2-d models.
    """
    x, y = lab.get(choose(model, lab.names(z_dim=2), "2-d")).scatter.to_latent(*evt.index)
    return (round(x, 3), round(y, 3), *plane(lab, model, x, y, label))


def interpolate(lab: DigitLab, model: str, index_a, index_b, frames, method: str) -> Image.Image:
    """Interpolate between two test images: their latent codes and the decoded path between them.

    Args:
        model: any of the digit and clothes models: <all>.
        index_a: the first test image, an index 0 to 999.
        index_b: the second test image, an index 0 to 999.
        frames: how many latents to decode, <frames>, both ends included.
        method: lerp (a straight line) or slerp (spherical).

    Returns:
        a PNG strip: image A, the decoded path, image B
    """
    choose(model, list(lab.models), "digit")
    frames = int(frames)
    check_range("frames", frames, LIMITS["frames"])
    path = "spherical" if method == "slerp" else "linear"
    try:
        strip = lab.interpolate(model, int(index_a), int(index_b), frames, path)
    except IndexError as err:
        raise UserError(str(err)) from None
    return grid_image(strip, nrow=len(strip), scale=3)


def generate(lab: DigitLab, model: str, label, z0, z1, z2, z3, z4) -> tuple[Image.Image, Image.Image]:
    """Draw a chosen digit from a chosen latent code with a conditional autoencoder (the label picks the
    digit, the code the handwriting style).

    Args:
        model: a conditional model: <conditional>.
        label: the digit to draw, 0 to 9.
        z0: latent coordinate 0, about <code>.
        z1: latent coordinate 1, about <code>.
        z2: latent coordinate 2, about <code> (5-d models only).
        z3: latent coordinate 3, about <code> (5-d models only).
        z4: latent coordinate 4, about <code> (5-d models only).

    Returns:
        a PNG of the drawn digit (224x224)
        a PNG row of the same code drawn as every digit 0 to 9
    """
    choose(model, lab.names(conditional=True), "conditional")
    image, every = lab.generate(model, int(label), [float(v) for v in (z0, z1, z2, z3, z4)])
    return _enlarged(image), grid_image(every, nrow=len(every), scale=3)


def compare_conditional(lab: DigitLab, index, label, z_dim=2) -> tuple[Image.Image, Image.Image, Image.Image]:
    """The same test digit's style drawn as the asked digit by the plain conditional AE and
    the conditional VAE of one latent size: the VAE keeps only the style in its code, so it draws the asked digit.

    Args:
        index: the test image whose style is used, an index 0 to 999.
        label: the digit to draw, 0 to 9.
        z_dim: the latent size of the pair of models, 2 or 5.

    Returns:
        a PNG of the test image, the conditional AE's drawing and the conditional VAE's drawing
        a PNG row of the conditional AE's drawing of that style as every digit 0 to 9
        a PNG row of the conditional VAE's drawing of that style as every digit 0 to 9
    """
    pair = {m.model.variational: n for n, m in lab.models.items()
            if m.model.conditional and m.model.z_dim == int(z_dim)}  # fmt: skip
    if len(pair) < 2:
        raise UserError(f"No plain/variational pair of conditional models with a {int(z_dim)}-d latent is loaded.")
    try:
        drawn, rows = zip(*(lab.borrow_style(pair[v], int(index), int(label)) for v in (False, True)))
    except (IndexError, ValueError) as err:
        raise UserError(str(err)) from None
    source = lab.get(pair[False]).images[int(index)]
    side = grid_image(torch.stack([source, *drawn]), nrow=3, scale=5)
    return side, grid_image(rows[0], nrow=10, scale=3), grid_image(rows[1], nrow=10, scale=3)


def novelty(lab: DigitLab, model: str, upload: Image.Image | None = None, index=3, noise: str = "none", level=0.3
            ) -> tuple[Image.Image, Image.Image, str]:  # fmt: skip
    """Score how novel a digit looks to a one-class autoencoder trained on zeros: its reconstruction
    error (the mean squared error after a <blur>-pixel blur, the same measure for every model) against the test digits'
    errors. A photo is scored as the ink drawing it becomes, and the verdict then says it is a photo.

    Args:
        model: a one-class model: <novelty>.
        upload: a picture of a digit (a URL or an uploaded file), centred MNIST-style; leave empty to use a test image.
        index: the test image used without an upload, an index 0 to 999.
        noise: none, gaussian or salt_and_pepper, added before scoring.
        level: the noise level, <level> (the Gaussian sigma, or the fraction of pixels).

    Returns:
        a PNG of the input and its reconstruction
        a PNG chart of where the error falls among the test digits' errors, per class
        the verdict in Markdown
    """
    m = lab.get(choose(model, lab.names(novelty=True), "novelty"))
    if noise not in NOISE_KINDS:
        raise UserError(f"noise must be one of {', '.join(NOISE_KINDS)}, got {noise!r}")
    check_range("noise level", float(level), LIMITS["level"])
    photo = ""
    if upload is not None:
        image, source = digit_from_pil(upload, m.model.image_size), "your upload"
        share = mid_tone_share(upload)
        if share > DRAWING_MAX_MID_TONES:
            photo = (f"⚠️ Your upload looks like a photo, not a drawing ({share:.0%} of its pixels are mid-tones; "
                     f"drawings have under {DRAWING_MAX_MID_TONES:.0%}). These models know only digits: what they score "
                     "is the ink drawing the photo becomes (left), so the verdict says nothing about the photo "
                     "itself.\n\n")
    else:
        if not 0 <= int(index) < len(m.images):
            raise UserError(f"test image index must be in [0, {len(m.images) - 1}], got {index}")
        image = m.images[int(index)]
        source = f"test image {int(index)} (a {m.data.class_names[int(m.data.labels[int(index)])]})"
    r = lab.novelty(model, image, noise, float(level))
    trained = ", ".join(m.data.class_names[c] for c in m.trained_classes)
    pair = grid_image(torch.stack([r["input"], r["reconstruction"]]), nrow=2, scale=6)
    chart = novelty_plot(r["class_errors"], r["error"], m.data.class_names, m.trained_classes,
                         f"Test reconstruction errors per class (trained on {trained})")  # fmt: skip
    verdict = "looks **novel**" if r["percentile"] >= 95 else "looks like the training data"
    text = photo + (f"**{source}**: reconstruction error **{r['error']:.3g}**, higher than "
                    f"{r['percentile']:.1f} % of the test {trained}s → {verdict} (threshold: the 95th percentile "
                    "of the training class).")  # fmt: skip
    return pair, chart, text


# --- the tabs: components, and events wired to the callbacks above -------------------------------------------------
def digit_tabs(lab: DigitLab, out: OutputFiles) -> None:
    """The second group of tabs, inside the caller's Blocks: the autoencoder family on MNIST / Fashion-MNIST in
    ``lab``, ``out`` where the pictures are written."""
    gr.Markdown(INTRO)
    with gr.Tabs():
        _plane_tab(lab, out)
        _interpolate_tab(lab, out)
        _conditional_tab(lab, out)
        _novelty_tab(lab, out)


def _model_choice(names: list[str], label: str) -> gr.Dropdown:
    """A menu of the models ``names``, the first chosen."""
    return gr.Dropdown(names, value=names[0] if names else None, label=label)


def _plane_tab(lab: DigitLab, out: OutputFiles) -> None:
    """The Latent plane tab: a 2-d latent point decoded, picked by the sliders (``/plane``), another model or digit
    (``/plane_update``) or a click on the scatter plot (``/plane_click``)."""
    with gr.Tab("Latent plane"):
        gr.Markdown("Pick a point of a 2-d latent space — with the sliders or by clicking the scatter plot — "
                    "and see what the decoder draws there.")  # fmt: skip
        names = lab.names(z_dim=2)
        # the first model's plane at the origin, shown as the page opens (the scatter is what the user clicks)
        first_image, first_scatter = plane(lab, names[0], 0.0, 0.0, 0) if names else (None, None)
        with gr.Row():
            with gr.Column():
                model = _model_choice(names, "Model (2-d latent)")
                x = gr.Slider(*LIMITS["plane"], value=0.0, step=0.01, label="z[0]")
                y = gr.Slider(*LIMITS["plane"], value=0.0, step=0.01, label="z[1]")
                label = gr.Slider(0, 9, value=0, step=1, label="Digit (conditional models only)")
                button = gr.Button("Decode", variant="primary")
                image = gr.Image(first_image, label="Decoded image", type="pil", format="png", height=240)
            with gr.Column(scale=2):
                scatter = gr.Image(first_scatter, label="Test images' latents (click to decode a point)", type="pil",
                                   format="png", interactive=False, elem_id="plane-scatter")  # fmt: skip
        decode, args = out.files(_bind(plane, lab, fills=_fills(lab))), [model, x, y, label]
        # a plane click is ~5 ms of work: outside the queue the page gets it in one POST (/gradio_api/run/...)
        # instead of a queue join and an event stream, which cost more than the work
        button.click(decode, args, [image, scatter], api_name="plane", queue=False)
        gr.on([model.change, label.change], decode, args, [image, scatter],
              api_name="plane_update", api_visibility="undocumented", queue=False)  # fmt: skip
        scatter.select(out.files(_bind(plane_click, lab)), [model, label], [x, y, image, scatter],
                       api_name="plane_click", api_visibility="undocumented", queue=False)  # fmt: skip


def _interpolate_tab(lab: DigitLab, out: OutputFiles) -> None:
    """The Interpolate tab: the decoded path between two test images (``/interpolate``)."""
    everything = list(lab.models)
    with gr.Tab("Interpolate"):
        gr.Markdown("Decode the straight (or spherical) path between two test images' latents.")
        with gr.Row():
            model = _model_choice(everything, "Model")
            index_a = gr.Number(value=3, precision=0, label="Test image A (index 0–999)")
            index_b = gr.Number(value=2, precision=0, label="Test image B (index 0–999)")
            frames = gr.Slider(*LIMITS["frames"], value=10, step=1, label="Frames")
            method = gr.Radio(["lerp", "slerp"], value="lerp", label="Interpolation")
        button = gr.Button("Interpolate", variant="primary")
        strip = gr.Image(label="A | decoded path | B", type="pil", format="png")
        inputs = [model, index_a, index_b, frames, method]
        button.click(out.files(_bind(interpolate, lab, fills=_fills(lab))), inputs, [strip],
                     api_name="interpolate")  # fmt: skip
        gr.Examples([[n, 3, 2, 10, "lerp"] for n in everything], inputs=inputs)


def _conditional_tab(lab: DigitLab, out: OutputFiles) -> None:
    """The Conditional tab: a chosen digit drawn from a chosen latent (``/generate``), then, when a conditional
    VAE is loaded, the conditional AE and VAE compared (``/compare_conditional``)."""
    with gr.Tab("Conditional"):
        gr.Markdown("A conditional autoencoder gets the digit's label beside its latent: choose the digit and a "
                    "latent `z` (the style). The row shows the same `z` drawn as every digit.")  # fmt: skip
        with gr.Row():
            with gr.Column():
                model = _model_choice(lab.names(conditional=True), "Model")
                label = gr.Slider(0, 9, value=7, step=1, label="Digit")
                zs = [gr.Slider(*LIMITS["code"], value=0.0, step=0.05, label=f"z[{i}]" + (" (5-d models)" if i >= 2 else ""))
                      for i in range(5)]  # fmt: skip
                button = gr.Button("Generate", variant="primary")
            with gr.Column():
                image = gr.Image(label="The chosen digit", type="pil", format="png", height=240)
                row = gr.Image(label="Same z, digits 0–9", type="pil", format="png")
        button.click(out.files(_bind(generate, lab, fills=_fills(lab))), [model, label, *zs],
                     [image, row], api_name="generate")  # fmt: skip
        z_dims = sorted({m.model.z_dim for m in lab.models.values() if m.model.conditional and m.model.variational})
        if z_dims:
            _compare_panel(lab, out, z_dims)


def _compare_panel(lab: DigitLab, out: OutputFiles, z_dims: list[int]) -> None:
    """The Conditional tab's comparison: one test digit's style drawn as the asked digit by the conditional AE and
    VAE of a latent size among ``z_dims`` (``/compare_conditional``)."""
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
            index = gr.Number(value=0, precision=0, label="Style: test image (index 0–999)")
            label = gr.Slider(0, 9, value=3, step=1, label="Asked digit")
            z_dim = Choice(z_dims, value=z_dims[-1], label="Latent size",
                             info="the 5-d AE ignores the label most often")  # fmt: skip
            button = gr.Button("Draw with both", variant="primary")
        with gr.Column(scale=2):
            side = gr.Image(label="Test image | conditional AE | conditional VAE", type="pil", format="png",
                            elem_id="cond-compare")  # fmt: skip
            ae_row = gr.Image(label="Conditional AE: the same style as digits 0–9", type="pil", format="png")
            vae_row = gr.Image(label="Conditional VAE: the same style as digits 0–9", type="pil", format="png")
    button.click(out.files(_bind(compare_conditional, lab, fills=_fills(lab))),
                 [index, label, z_dim], [side, ae_row, vae_row], api_name="compare_conditional")  # fmt: skip
    gr.Examples([[0, 3, z_dims[-1]], [2, 8, z_dims[-1]], [4, 1, z_dims[0]]], inputs=[index, label, z_dim])


def _novelty_tab(lab: DigitLab, out: OutputFiles) -> None:
    """The Novelty tab: one digit (a test image or an upload) scored by up to two one-class models side by side,
    with one button (``/novelty`` for the first, ``/novelty_1`` for the second)."""
    novel = lab.names(novelty=True)
    with gr.Tab("Novelty"):
        gr.Markdown("An autoencoder trained on one digit reconstructs that digit well and others badly: its "
                    "reconstruction error is a novelty score. Use a test image or upload a drawing of a digit "
                    "(any colours; it is centred MNIST-style), optionally with noise. Two models score it side by "
                    "side: with noise, the plain autoencoder's error is mostly the noise's, so every noisy digit "
                    "looks novel; the denoising autoencoder (trained on noisy 0s against clean ones) still tells a "
                    "0 from the rest. The charts compare with test digits under the same noise. Both models use one "
                    f"measure: the mean squared reconstruction error after a {NOVELTY_BLUR:g}-px blur (noise is pixel-fine, a wrong "
                    "stroke is not). A photo is not a digit: it is scored as the ink drawing it becomes, and the "
                    "verdict says so.")  # fmt: skip
        with gr.Row():
            with gr.Column():
                upload = ImageUpload(label="Your digit (optional; overrides the test image)", type="pil",
                                     image_mode=None, sources=["upload", "clipboard"], height=160,
                                     elem_id="novelty-upload")  # fmt: skip
                index = gr.Number(value=3, precision=0, label="Test image index (0–999)")
            with gr.Column():
                noise = gr.Radio(list(NOISE_KINDS), value="none", label="Noise")
                level = gr.Slider(*LIMITS["level"], value=0.3, step=0.05, label="Noise level (σ, or fraction of pixels)")
                button = gr.Button("Score", variant="primary")
        sides = []
        with gr.Row():
            for k in range(min(2, len(novel))):
                with gr.Column():
                    model = gr.Dropdown(novel, value=novel[k], label="Model" if k == 0 else "Beside it")
                    pair = gr.Image(label="Input | reconstruction", type="pil", format="png",
                                    elem_id=f"novelty-pair-{k}")  # fmt: skip
                    text = gr.Markdown(label="Verdict")  # the label names the API output
                    chart = gr.Image(label="Where this error falls", type="pil", format="png")
                    sides.append((model, pair, chart, text))
        refuse_non_images(upload)
        score = out.files(_bind(novelty, lab, fills=_fills(lab)))
        for k, (model, pair, chart, text) in enumerate(sides):
            button.click(score, [model, upload, index, noise, level], [pair, chart, text],
                         api_name="novelty" if k == 0 else f"novelty_{k}",
                         api_visibility="public" if k == 0 else "undocumented")  # fmt: skip
        gr.Examples([[None, i, n, l] for i, n, l in
                     [(3, "none", 0.0), (2, "none", 0.0), (10, "gaussian", 0.3), (10, "salt_and_pepper", 0.1)]],
                    inputs=[upload, index, noise, level])  # fmt: skip
