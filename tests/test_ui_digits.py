"""The Digits & clothes tabs' callbacks called directly (no server): module functions of a DigitLab, run on the
bundled digit models and the first 1,000 test images of MNIST / Fashion-MNIST in assets/digits."""

import inspect

import gradio as gr
from gradio import utils as gr_utils
import pytest
from PIL import Image, ImageDraw

from latentlab.digits import DigitLab
from latentlab.images import grid_image, tensor_to_pil
from latentlab.ui import BUNDLED_DIGIT_MODELS
from latentlab.ui.common import OutputFiles
from latentlab.ui.digits import (
    compare_conditional,
    digit_tabs,
    generate,
    interpolate,
    novelty,
    plane,
    plane_click,
)

from .conftest import FACES, REPO

DIGIT_MODELS = BUNDLED_DIGIT_MODELS
ROW = ((10 * 30 + 2) * 3, 32 * 3)  # ten 28-px digits with 2-px gaps, 3× enlarged


@pytest.fixture(scope="module")
def lab() -> DigitLab:
    """The app's digit models (pretrained/), with the bundled test samples."""
    samples = {n: REPO / "assets" / "digits" / f"{n}-test-1000.safetensors" for n in ("mnist", "fashion-mnist")}
    return DigitLab.from_pretrained([REPO / "pretrained" / n for n in DIGIT_MODELS], samples)


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.tobytes() == b.tobytes()


def test_plane_decodes_a_point_and_marks_it(lab):
    image, scatter = plane(lab, "fashion-vae-2", 0.5, -1.0, 0)
    decoded, marked = lab.plane("fashion-vae-2", 0.5, -1.0)
    assert same(image, tensor_to_pil(decoded).resize((224, 224), Image.Resampling.NEAREST))
    assert same(scatter, marked) and scatter.size == (640, 560)
    assert not same(plane(lab, "fashion-vae-2", -2.0, 2.0, 0)[0], image)
    # a conditional model draws the asked digit (None: 0); the others ignore the label
    assert same(plane(lab, "mnist-cond-ae-2", 0, 0, None)[0], plane(lab, "mnist-cond-ae-2", 0, 0, 0)[0])
    assert not same(plane(lab, "mnist-cond-ae-2", 0, 0, 3)[0], plane(lab, "mnist-cond-ae-2", 0, 0, 0)[0])
    assert same(plane(lab, "fashion-vae-2", 0.5, -1.0, 7)[0], image)
    with pytest.raises(gr.Error, match=r"Pick one of the 2-d models: .*mnist-cond-vae-2 \(got 'mnist-conv-ae-28'\)"):
        plane(lab, "mnist-conv-ae-28", 0, 0, 0)


def test_a_click_on_the_scatter_plot_decodes_the_point_under_it(lab):
    scatter = lab.get("fashion-conv-ae-2").scatter
    px, py = scatter.to_pixel(1.25, -0.75)
    click = gr.SelectData(None, {"index": [px, py], "value": None})
    x, y, image, marked = plane_click(lab, "fashion-conv-ae-2", 0, click)
    assert (x, y) == (1.25, -0.75)  # rounded to 3 decimals for the sliders
    expected = plane(lab, "fashion-conv-ae-2", *scatter.to_latent(px, py), 0)
    assert same(image, expected[0]) and same(marked, expected[1])
    with pytest.raises(gr.Error, match="Pick one of the 2-d models"):
        plane_click(lab, "mnist-cond-ae-5", 0, click)


def test_interpolate_between_two_test_images(lab):
    strip = interpolate(lab, "mnist-conv-ae-28", 3, 2, 6, "slerp")
    assert strip.size == ((8 * 30 + 2) * 3, 32 * 3)  # A, 6 frames, B of 28 px with 2-px gaps, 3× enlarged
    assert same(strip, grid_image(lab.interpolate("mnist-conv-ae-28", 3, 2, 6, "spherical"), nrow=8, scale=3))
    assert not same(interpolate(lab, "mnist-conv-ae-28", 3, 2, 6, "lerp"), strip)
    with pytest.raises(gr.Error, match="frames must be between 2 and 24, got 25"):  # the Frames slider's range
        interpolate(lab, "mnist-conv-ae-28", 3, 2, 25, "lerp")
    with pytest.raises(gr.Error, match=r"test image index must be in \[0, 999\], got 5000"):
        interpolate(lab, "mnist-conv-ae-28", 3, 5000, 6, "lerp")
    with pytest.raises(gr.Error, match=r"Pick one of the digit models: .* \(got 'mnist-vae'\)"):
        interpolate(lab, "mnist-vae", 3, 2, 6, "lerp")


def test_generate_draws_the_chosen_digit_from_the_chosen_latent(lab):
    image, row = generate(lab, "mnist-cond-ae-5", 7, 0.5, -0.5, 0.0, 1.0, 0.0)
    assert image.size == (224, 224) and row.size == ROW
    drawn, every = lab.generate("mnist-cond-ae-5", 7, [0.5, -0.5, 0.0, 1.0, 0.0])
    assert same(row, grid_image(every, nrow=10, scale=3))
    assert same(image, tensor_to_pil(drawn).resize((224, 224), Image.Resampling.NEAREST))
    # a 2-d model uses z0 and z1 only
    assert same(generate(lab, "mnist-cond-ae-2", 3, 1, 1, 0, 0, 0)[1],
                generate(lab, "mnist-cond-ae-2", 3, 1, 1, 2, 2, 2)[1])
    with pytest.raises(gr.Error, match="Pick one of the conditional models"):
        generate(lab, "fashion-vae-2", 7, 0, 0, 0, 0, 0)


def test_compare_conditional_draws_one_style_with_the_ae_and_the_vae(lab):
    side, ae_row, vae_row = compare_conditional(lab, 0, 3, 5)
    assert side.size == ((3 * 30 + 2) * 5, 32 * 5) and ae_row.size == vae_row.size == ROW
    assert not same(ae_row, vae_row)
    _, every = lab.borrow_style("mnist-cond-vae-5", 0, 3)
    assert same(vae_row, grid_image(every, nrow=10, scale=3))
    assert same(compare_conditional(lab, 0, 3)[0], compare_conditional(lab, 0, 3, 2)[0])  # 2-d by default
    with pytest.raises(gr.Error, match="No plain/variational pair of conditional models with a 3-d latent"):
        compare_conditional(lab, 0, 3, 3)
    with pytest.raises(gr.Error, match=r"test image index must be in \[0, 999\], got 5000"):
        compare_conditional(lab, 5000, 3, 5)
    with pytest.raises(gr.Error, match=r"label must be in \[0, 9\], got 12"):
        compare_conditional(lab, 0, 12, 5)


def test_novelty_of_a_test_image_and_of_an_upload(lab):
    pair, chart, text = novelty(lab, "mnist-dense-ae-digit0", None, 3, "none", 0.0)
    assert pair.size == ((2 * 30 + 2) * 6, 32 * 6) and isinstance(chart, Image.Image)
    assert "test image 3 (a 0)" in text and "looks like the training data" in text  # test image 3 is a zero
    assert "looks **novel**" in novelty(lab, "mnist-dense-ae-digit0", None, 2, "none", 0.0)[2]  # a 1
    # the denoising model scores a noisy 0 against test digits under the same noise
    text = novelty(lab, "mnist-denoising-ae-digit0", None, 10, "gaussian", 0.3)[2]
    assert "(a 0)" in text and "looks like the training data" in text
    drawing = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(drawing).ellipse([50, 30, 150, 170], outline="black", width=16)  # a hand-drawn zero
    text = novelty(lab, "mnist-dense-ae-digit0", drawing, 5000, "gaussian", 0.1)[2]  # the upload overrides the index
    assert text.startswith("**your upload**: reconstruction")  # a drawing: no warning
    # a photo (a face) is scored as the ink drawing it becomes, and the verdict says it is a photo
    text = novelty(lab, "mnist-dense-ae-digit0", Image.open(FACES[0]), 3, "none", 0.0)[2]
    assert text.startswith("⚠️ Your upload looks like a photo, not a drawing") and "**your upload**" in text


@pytest.mark.parametrize(("model", "index", "noise", "level", "message"), [
    ("mnist-conv-ae-28", 3, "none", 0.0,
     r"Pick one of the novelty models: mnist-dense-ae-digit0, mnist-denoising-ae-digit0 \(got 'mnist-conv-ae-28'\)"),
    ("mnist-dense-ae-digit0", 3, "pink", 0.0, "noise must be one of none, gaussian, salt_and_pepper, got 'pink'"),
    ("mnist-dense-ae-digit0", 3, "gaussian", 1.5, "noise level must be between 0 and 1, got 1.5"),
    ("mnist-dense-ae-digit0", 1000, "none", 0.0, r"test image index must be in \[0, 999\], got 1000"),
])  # fmt: skip
def test_novelty_refuses_bad_input_with_a_message(lab, model, index, noise, level, message):
    with pytest.raises(gr.Error, match=message):
        novelty(lab, model, None, index, noise, level)


def test_the_wired_events_show_the_api_of_before(lab, tmp_path):
    """digit_tabs binds the lab: the endpoints' parameters are the callbacks' other arguments, only
    /compare_conditional has a description, and a scatter click gets its event data."""
    with gr.Blocks() as demo:
        digit_tabs(lab, OutputFiles(tmp_path))
    api = demo.get_api_info(all_endpoints=True)["named_endpoints"]
    params = {name: [p["parameter_name"] for p in spec["parameters"]] for name, spec in api.items()}
    assert params["/plane"] == params["/plane_update"] == ["model", "x", "y", "label"]
    assert params["/plane_click"] == ["model", "label"]
    assert params["/interpolate"] == ["model", "index_a", "index_b", "frames", "method"]
    assert params["/generate"] == ["model", "label", "z0", "z1", "z2", "z3", "z4"]
    assert params["/compare_conditional"] == ["index", "label", "z_dim"]
    assert params["/novelty"] == params["/novelty_1"] == ["model", "upload", "index", "noise", "level"]
    # each endpoint is described as an agent's tool (the MCP server reads the same docstring): what it does, with
    # the served models named; the page-only events are not
    for fn in (plane, interpolate, generate, compare_conditional, novelty):
        description = api[f"/{fn.__name__}"]["description"]
        assert description.startswith(inspect.getdoc(fn).split("\n")[0]), fn.__name__
        assert "<" not in description, description  # every placeholder filled
    # /generate takes exactly the served conditional models, and its tool text names them
    conditional = lab.names(conditional=True)
    assert "mnist-cond-vae-5" in conditional and api["/generate"]["parameters"][0]["type"]["enum"] == conditional
    generate_fn = next(f.fn for f in demo.fns.values() if f.api_name == "generate")
    assert gr_utils.get_function_description(generate_fn)[1]["model"] == "a conditional model: " + ", ".join(conditional) + "."
    assert api["/plane_click"]["description"] == ""
    events = {fn.api_name: fn for fn in demo.fns.values()}
    assert events["plane_click"].collects_event_data and not events["plane"].collects_event_data
    # the wired callback writes its pictures as files
    image, scatter = events["plane"].fn("fashion-vae-2", 0.5, -1.0, 0)
    assert image.startswith(str(tmp_path)) and scatter.startswith(str(tmp_path))
    assert Image.open(image).size == (224, 224) and Image.open(scatter).size == (640, 560)
