"""The **Digits & clothes** tabs — Latent plane, Interpolate, Conditional, Novelty — over a
:class:`~latentlab.digits.DigitLab`."""

from __future__ import annotations

import gradio as gr
import torch
from PIL import Image

from ..analysis import NOISE_KINDS, novelty_plot
from ..digits import DigitLab
from ..images import digit_from_pil, grid_image, tensor_to_pil
from .common import ImageUpload, OutputFiles, choose


def digit_tabs(lab: DigitLab, out: OutputFiles) -> None:
    """The second group of tabs: the autoencoder family on MNIST / Fashion-MNIST."""
    planes, everything = lab.names(z_dim=2), list(lab.models)
    conditional, novel = lab.names(conditional=True), lab.names(novelty=True)
    gr.Markdown(
        "Small models of 28×28 digits (MNIST) and clothes (Fashion-MNIST): autoencoders, a conditional autoencoder "
        "and a VAE, trained by this project. Data: MNIST (CC BY-SA 3.0), Fashion-MNIST (MIT); the test images "
        "shown are the first 1,000 of each test split."
    )

    def plane(model, x, y, label):
        choose(model, planes, "2-d")
        image, scatter = lab.plane(model, float(x), float(y), int(label or 0))
        return tensor_to_pil(image).resize((224, 224), Image.Resampling.NEAREST), scatter

    def plane_click(model, label, evt: gr.SelectData):
        m = lab.get(choose(model, planes, "2-d"))
        x, y = m.scatter.to_latent(*evt.index)
        image, scatter = plane(model, x, y, label)
        return round(x, 3), round(y, 3), image, scatter

    def interpolate(model, index_a, index_b, frames, method):
        choose(model, everything, "digit")
        frames = int(frames)
        if not 2 <= frames <= 32:
            raise gr.Error(f"frames must be between 2 and 32, got {frames}")
        try:
            strip = lab.interpolate(model, int(index_a), int(index_b), frames, "spherical" if method == "slerp" else "linear")
        except IndexError as err:
            raise gr.Error(str(err)) from None
        return grid_image(strip, nrow=len(strip), scale=3)

    def generate(model, label, z0, z1, z2, z3, z4):
        choose(model, conditional, "conditional")
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
        m = lab.get(choose(model, novel, "novelty"))
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
            # a plane click is ~5 ms of work: outside the queue the page gets it in one POST (/gradio_api/run/...)
            # instead of a queue join and an event stream, which cost more than the work
            plane_button.click(plane, plane_args, [plane_image, plane_scatter], api_name="plane", queue=False)
            gr.on([plane_model.change, plane_label.change], plane, plane_args, [plane_image, plane_scatter],
                  api_name="plane_update", api_visibility="undocumented", queue=False)  # fmt: skip
            plane_scatter.select(plane_click, [plane_model, plane_label], [plane_x, plane_y, plane_image, plane_scatter],
                                 api_name="plane_click", api_visibility="undocumented", queue=False)  # fmt: skip

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
