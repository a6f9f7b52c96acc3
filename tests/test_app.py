"""The app as users reach it: `python app.py` served on 127.0.0.1, called through gradio_client, bundled model."""

import io
import json
import shlex
import time

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from .conftest import BOOK, BUNDLED, FACES, REPO, SHARP, serve_app
from latentlab.scenes import background, group_photo, place_face, psnr_centre


@pytest.fixture(scope="module")
def client(served_app):
    return Client(served_app, verbose=False)


@pytest.mark.parametrize("folder", [BUNDLED, SHARP, BOOK], ids=lambda p: p.name)
def test_bundled_face_models_are_the_trained_ones(folder, monkeypatch):
    from latentlab import load_autoencoder

    model = load_autoencoder(str(folder))  # strict: config, weights, directions and prior all consistent
    assert model.z_dim == 200 and model.image_size == 64
    assert len(model.attribute_directions.names) == 40
    assert model.prior is not None and model.prior.components == 10  # the Sample tab's default prior
    assert (folder / "model.safetensors").stat().st_size <= 16 * 2**20
    card = (folder / "README.md").read_text()
    record = json.loads((folder / "training_log.json").read_text())
    assert "non-commercial" in card and record["command"] in card
    # the command names a committed config; read as train.py reads it (its --set overrides applied), it gives the
    # recorded config, whose model section is the folder's config: the weights come from a command in the repository
    from latentlab.training.train import load_config, parse_args

    def train_args(command: str):  # a recorded train.py command line, parsed as train.py parses it
        words = shlex.split(command)
        return parse_args(words[words.index("training/train.py") + 1 :])

    args = train_args(record["command"])
    monkeypatch.chdir(REPO)
    assert load_config(args) == record["config"]
    saved = json.loads((folder / "config.json").read_text())
    assert {k: v for k, v in record["config"]["model"].items() if k != "type"}.items() <= saved.items()
    # every run the weights passed through (a decoder trained under a frozen encoder, a fine-tune, …) is recorded
    # with the command that made it, from a committed config, and names modules the model has
    modules = {name.split(".")[0] for name in model.state_dict()}

    def lineage(run: dict):
        yield run
        for key in ("initialized_from", "frozen_from"):
            if run.get(key):
                assert set(run[key]["modules"]) <= modules, (key, run[key]["modules"])
                yield from lineage(run[key])

    for run in lineage(record):
        assert (REPO / train_args(run["command"]).config).is_file(), run["command"]


@pytest.mark.served
def test_every_bundled_model_is_served_and_labelled_without_its_training_record(tmp_path):
    """A model folder describes itself: with every training_log.json removed, the app serves each bundled model under
    its name, the digit models with their datasets and novelty classes, the sharp decoder named as trained against a
    discriminator (all from config.json's trained_on and the cards)."""
    import shutil

    from latentlab.models import RECORD_NAME

    from latentlab.ui import BUNDLED_DIGIT_MODELS as DIGIT_MODEL_NAMES
    from latentlab.ui import BUNDLED_FACE_MODELS as FACE_MODEL_NAMES

    for name in (*FACE_MODEL_NAMES, *DIGIT_MODEL_NAMES):
        shutil.copytree(REPO / "pretrained" / name, tmp_path / name, ignore=shutil.ignore_patterns(RECORD_NAME))
        assert not (tmp_path / name / RECORD_NAME).exists()
    env = {"LATENTLAB_FACE_MODELS": ",".join(str(tmp_path / n) for n in FACE_MODEL_NAMES),
           "LATENTLAB_DIGIT_MODELS": ",".join(str(tmp_path / n) for n in DIGIT_MODEL_NAMES)}  # fmt: skip
    with serve_app(env) as (url, _):
        client = Client(url, verbose=False)
        config = client.config
        choices = {tuple(c[1] for c in comp["props"]["choices"]): [c[0] for c in comp["props"]["choices"]]
                   for comp in config["components"] if comp["props"].get("choices")}  # fmt: skip
        faces = next(labels for names, labels in choices.items() if set(names) == set(FACE_MODEL_NAMES))
        assert "decoder trained against a discriminator" in next(l for l in faces if l.startswith("celeba-vae-64-sharp"))
        assert "MSE-trained decoder" in next(l for l in faces if l.startswith("celeba-vae-64 "))
        # the novelty models are the ones trained on the digit 0 only, scored against MNIST's test digits
        text = client.predict("mnist-dense-ae-digit0", None, 3, "none", 0.0, api_name="/novelty")[2]
        assert "test image 3 (a 0)" in text and "test 0s" in text
        assert "mnist-dense-ae-digit0" in str(client.view_api(print_info=False, return_format="dict"))


def test_the_two_decoders_of_ours_share_one_latent_space():
    """The default and celeba-vae-64-sharp (its decoder trained against a discriminator) decode the same z: the same
    encoder and posterior heads tensor for tensor, the very same attribute-direction and prior files, other decoders."""
    import safetensors.torch
    import torch

    from latentlab import load_autoencoder

    sharp, mse = (safetensors.torch.load_file(str(f / "model.safetensors")) for f in (SHARP, BUNDLED))
    assert sharp.keys() == mse.keys()
    encoder = [k for k in sharp if k.startswith(("encoder.", "mean_head.", "logvar_head."))]
    decoder = [k for k in sharp if k.startswith(("decoder_input.", "decoder."))]
    assert encoder and decoder and len(encoder) + len(decoder) == len(sharp)
    assert all(torch.equal(sharp[k], mse[k]) for k in encoder)
    assert not all(torch.equal(sharp[k], mse[k]) for k in decoder)
    for name in ("attribute_directions.safetensors", "prior.safetensors"):
        assert (SHARP / name).read_bytes() == (BUNDLED / name).read_bytes(), name
    a, b = load_autoencoder(str(SHARP)), load_autoencoder(str(BUNDLED))
    assert a.latent_fingerprint() == b.latent_fingerprint() and a.weights_fingerprint() != b.weights_fingerprint()
    record = json.loads((SHARP / "training_log.json").read_text())
    assert record["config"]["adversarial"] and record["frozen_from"]["folder"] == "pretrained/celeba-vae-64"


def test_the_default_face_model_is_ours_and_the_book_is_selectable(client):
    """Ours (the residual σ-VAE) is the default; the book's answers the same calls with other faces."""
    face_a, face_b = handle_file(str(FACES[0])), handle_file(str(FACES[3]))
    default = client.predict(face_a, face_b, 6, api_name="/morph")[0]
    ours = client.predict(face_a, face_b, 6, "celeba-vae-64", api_name="/morph")[0]
    book = client.predict(face_a, face_b, 6, "celeba-vae-64-book", api_name="/morph")[0]
    assert Image.open(default).tobytes() == Image.open(ours).tobytes() != Image.open(book).tobytes()
    edited = client.predict(face=handle_file(str(FACES[1])), attribute="Smiling", strength=1.5, model="celeba-vae-64-book",
                            api_name="/edit")[0]  # fmt: skip
    assert Image.open(edited).size == ((3 * 66 + 2) * 3, 68 * 3)
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict(face_a, face_b, 6, "celeba-vae-128", api_name="/morph")


def test_api_names_and_parameters(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    params = {name: [p["parameter_name"] for p in spec["parameters"]] for name, spec in api.items()}
    assert params["/sample"] == ["seed", "count", "temperature", "model", "prior"]
    assert params["/morph"] == ["face_a", "face_b", "frames", "model", "face_a_number", "face_b_number", "keep_person"]
    assert params["/edit"] == ["face", "attribute", "strength", "keep", "model", "face_number", "keep_person"]
    assert params["/align"] == ["photo", "face_number", "model"]
    assert params["/edit_many"] == ["face", "edits", "keep", "independent", "model", "face_number", "keep_person"]
    defaults = {name: {p["parameter_name"]: p.get("parameter_default") for p in spec["parameters"]}
                for name, spec in api.items()}  # fmt: skip
    assert {defaults[e]["model"] for e in ("/sample", "/morph", "/edit")} == {"celeba-vae-64"}
    assert defaults["/sample"]["prior"] == "mixture"
    assert {defaults[e]["keep_person"] for e in ("/morph", "/edit", "/edit_many")} == {True}  # pivotal tuning: on


def test_sample_grid_from_the_fitted_prior_and_from_the_normal(client):
    path, said = client.predict(seed=1, count=36, temperature=1.0, api_name="/sample")
    grid = Image.open(path)
    assert grid.size == (6 * 66 + 2, 6 * 66 + 2) and grid.format == "WEBP"  # 6×6 faces of 64 px, 2 px gaps, native size
    assert "10-component full-covariance Gaussian mixture" in said  # the tab says which prior it used
    same = Image.open(client.predict(seed=1, count=36, temperature=1.0, api_name="/sample")[0])
    assert same.tobytes() == grid.tobytes()  # reproducible by seed
    normal, said = client.predict(seed=1, count=36, temperature=1.0, prior="normal", api_name="/sample")
    assert "N(0, I)" in said and Image.open(normal).tobytes() != grid.tobytes()
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict(seed=1, count=4, temperature=1.0, prior="uniform", api_name="/sample")
    book, said = client.predict(seed=1, count=36, temperature=1.0, model="celeba-vae-64-book", api_name="/sample")
    assert "Gaussian mixture" in said and Image.open(book).tobytes() != grid.tobytes()  # the book's own fitted prior


def test_morph_between_two_test_faces(client):
    strip_path, gif_path = client.predict(face_a=handle_file(str(FACES[0])), face_b=handle_file(str(FACES[3])),
                                          frames=8, api_name="/morph")  # fmt: skip
    strip = Image.open(strip_path)
    assert strip.size == ((8 * 66 + 2) * 2, 68 * 2)
    with Image.open(gif_path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 14  # 8 forward, 6 back


def test_edit_smiling(client):
    comparison_path, sweep_path, (before, after) = client.predict(face=handle_file(str(FACES[1])), attribute="Smiling",
                                                                  strength=1.5, api_name="/edit")  # fmt: skip
    assert Image.open(comparison_path).size == ((3 * 66 + 2) * 3, 68 * 3)  # original | reconstruction | edit
    assert Image.open(sweep_path).size == ((5 * 66 + 2) * 2, 68 * 2)
    # the before / after slider's pair: the reconstruction and the edit, 4× enlarged
    assert Image.open(before).size == Image.open(after).size == (256, 256)
    assert Image.open(before).tobytes() != Image.open(after).tobytes()


def test_edit_with_decorrelated_direction(client):
    """'Keep unchanged' projects the kept attributes' directions out: a different edit, the same reconstruction;
    keeping the edited attribute itself is ignored; omitting keep is the plain direction."""
    face = handle_file(str(FACES[4]))
    plain = Image.open(client.predict(face=face, attribute="Blond_Hair", strength=2.0, keep=[], api_name="/edit")[0])
    kept = Image.open(client.predict(face=face, attribute="Blond_Hair", strength=2.0, keep=["Male"], api_name="/edit")[0])
    third = plain.width // 3
    assert plain.crop((0, 0, 2 * third, plain.height)).tobytes() == kept.crop((0, 0, 2 * third, kept.height)).tobytes()
    assert plain.crop((2 * third, 0, plain.width, plain.height)).tobytes() != kept.crop((2 * third, 0, kept.width, kept.height)).tobytes()
    default = Image.open(client.predict(face=face, attribute="Blond_Hair", strength=2.0, api_name="/edit")[0])
    itself = Image.open(client.predict(face=face, attribute="Blond_Hair", strength=2.0, keep=["Blond_Hair"], api_name="/edit")[0])
    assert default.tobytes() == plain.tobytes() == itself.tobytes()
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict(face=face, attribute="Blond_Hair", strength=2.0, keep=["Sunglasses"], api_name="/edit")


def test_edit_many_applies_three_edits_at_once(client):
    face = handle_file(str(FACES[1]))
    edits = {"Smiling": 1.0, "Young": -1.0, "Eyeglasses": 1.5}
    edited, comparison = client.predict(face=face, edits=edits, api_name="/edit_many")
    assert Image.open(edited).size == (64 * 3, 64 * 3)  # the edited face first
    assert Image.open(comparison).size == ((3 * 66 + 2) * 3, 68 * 3)  # original | reconstruction | all edits
    one = Image.open(client.predict(face=face, edits={"Smiling": 1.0}, api_name="/edit_many")[0])
    assert one.tobytes() != Image.open(edited).tobytes()
    plain = Image.open(client.predict(face=face, edits=edits, independent=False, api_name="/edit_many")[0])
    kept = Image.open(client.predict(face=face, edits=edits, keep=["Male"], api_name="/edit_many")[0])
    assert len({plain.tobytes(), kept.tobytes(), Image.open(edited).tobytes()}) == 3
    for bad, message in [({"Sunglasses": 1.0}, "Unknown attribute"), ({}, "No edits"), ({"Smiling": "lots"}, "mapping")]:
        with pytest.raises(Exception, match=message):
            client.predict(face=face, edits=bad, api_name="/edit_many")


def test_any_image_size_or_mode_is_accepted(client, tmp_path):
    """A photo of any size and mode (RGBA here, a face placed in a larger scene) is found, aligned and edited."""
    photo, _ = place_face(Image.open(FACES[2]), size=(517, 311), scale=2.5, angle=10, seed=4)
    photo.convert("RGBA").save(tmp_path / "odd.png")
    comparison_path, *_ = client.predict(face=handle_file(str(tmp_path / "odd.png")), attribute="Eyeglasses",
                                         strength=-1, api_name="/edit")  # fmt: skip
    assert Image.open(comparison_path).size == ((3 * 66 + 2) * 3, 68 * 3)


# --- uploads are found and aligned -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def test_faces(celeba_dir):
    from latentlab.data import load_celeba
    from latentlab.images import tensor_to_pil

    data = load_celeba(celeba_dir, "test")
    return [tensor_to_pil(data.float_images(i)) for i in range(11, len(data), len(data) // 20)][:20]


def test_align_returns_a_real_face_in_its_celebahq_framing(client, test_faces, tmp_path):
    """The issue's measure through the served app: 20 real test faces, enlarged 2.5–6×, rotated up to 30° and placed
    anywhere in an 800×600 JPEG; /align's crops match the originals (median PSNR of the central region ≥ 24 dB)."""
    rng = np.random.default_rng(1)
    scores = []
    for i, face in enumerate(test_faces):
        scale, angle = rng.uniform(2.5, 6.0), rng.uniform(-30, 30)
        r = scale * 64 * 0.75
        photo, _ = place_face(face, scale=scale, angle=angle, centre=(rng.uniform(r, 800 - r), rng.uniform(r, 600 - r)), seed=i)
        photo.save(tmp_path / f"{i}.jpg", quality=92)
        crop, found = client.predict(handle_file(str(tmp_path / f"{i}.jpg")), api_name="/align")
        crop = Image.open(crop)
        assert crop.size == (64, 64)
        scores.append(psnr_centre(crop, face))
    assert np.median(scores) >= 24, sorted(np.round(scores, 1))
    assert Image.open(found).size == (768, 576)  # the photo, marked, at most 768 px


def test_a_photo_without_a_face_gets_a_clear_message_and_the_app_keeps_serving(client, tmp_path):
    background((800, 600), 3).save(tmp_path / "landscape.jpg")
    empty = handle_file(str(tmp_path / "landscape.jpg"))
    for call in (lambda: client.predict(empty, api_name="/align"),
                 lambda: client.predict(face=empty, attribute="Smiling", strength=1.0, api_name="/edit"),
                 lambda: client.predict(face_a=handle_file(str(FACES[0])), face_b=empty, frames=4, api_name="/morph")):  # fmt: skip
        with pytest.raises(Exception, match="No face found — try a frontal photo"):
            call()
    assert Image.open(client.predict(handle_file(str(FACES[0])), api_name="/align")[0]).size == (64, 64)


def test_the_log_has_no_known_noise_from_the_face_detector(client, served):
    """MediaPipe's native start-up notes (inference_feedback_manager, …) stay out of the app's output, on start and on
    the first faces found; one log line per expected user error is what the log holds."""
    from latentlab.alignment import NATIVE_NOISE

    client.predict(handle_file(str(FACES[1])), api_name="/align")
    time.sleep(0.5)  # the log is read by a thread
    noise = [line for line in served[1] if NATIVE_NOISE.search(line)]
    assert not noise, noise


def test_a_big_phone_photo_is_aligned_through_the_app(client, test_faces, tmp_path):
    """A 4000×3000 JPEG stored sideways with EXIF orientation 6: /align turns it upright, finds the face on a reduced
    copy and crops it from the full resolution."""
    photo, _ = place_face(test_faces[5], size=(4000, 3000), scale=18.0, angle=-20.0, centre=(2700, 1300), seed=5)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "phone.jpg", quality=90, exif=exif)
    crop, found = client.predict(handle_file(str(tmp_path / "phone.jpg")), api_name="/align")
    assert psnr_centre(Image.open(crop), test_faces[5]) > 20
    assert Image.open(found).size == (768, 576)  # upright, marked, at most 768 px


def test_several_faces_the_largest_by_default_another_by_number(client, test_faces, tmp_path):
    photo = group_photo([(test_faces[0], 2.5, (250, 300)), (test_faces[1], 4.0, (700, 380))], seed=6)
    photo.save(tmp_path / "two.jpg", quality=92)
    two = handle_file(str(tmp_path / "two.jpg"))
    largest = Image.open(client.predict(two, api_name="/align")[0])
    other = Image.open(client.predict(two, 2, api_name="/align")[0])
    assert psnr_centre(largest, test_faces[1]) > 20 and psnr_centre(other, test_faces[0]) > 20
    with pytest.raises(Exception, match="Face 3 was asked for, but the photo has 2 faces"):
        client.predict(two, 3, api_name="/align")
    # /edit and /morph take the same face numbers: the second face edited is the second face aligned
    by_number = Image.open(client.predict(face=two, attribute="Smiling", strength=1.0, face_number=2, api_name="/edit")[0])
    other.save(tmp_path / "other.png")
    direct = Image.open(client.predict(face=handle_file(str(tmp_path / "other.png")), attribute="Smiling", strength=1.0,
                                       api_name="/edit")[0])  # fmt: skip
    assert by_number.tobytes() == direct.tobytes()


def test_non_image_upload_gets_a_message_and_the_app_stays_up(client, tmp_path):
    junk = tmp_path / "holiday.jpg"
    junk.write_text("this is not a picture")
    with pytest.raises(Exception, match="not an image"):
        client.predict(face=handle_file(str(junk)), attribute="Smiling", strength=1.0, api_name="/edit")
    with pytest.raises(Exception, match="not an image"):
        client.predict(face_a=handle_file(str(junk)), face_b=handle_file(str(FACES[0])), frames=4, api_name="/morph")
    with pytest.raises(Exception, match="Sunglasses is not in the list of choices"):
        client.predict(face=handle_file(str(FACES[0])), attribute="Sunglasses", strength=1.0, api_name="/edit")
    assert Image.open(client.predict(seed=0, count=4, temperature=0.5, api_name="/sample")[0]).size[0] > 0


# --- the digit tabs ---------------------------------------------------------------------------------------------------
def test_digit_api_names_and_parameters(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    params = {name: [p["parameter_name"] for p in spec["parameters"]] for name, spec in api.items()}
    assert params["/plane"] == ["model", "x", "y", "label"]
    assert params["/interpolate"] == ["model", "index_a", "index_b", "frames", "method"]
    assert params["/generate"] == ["model", "label", "z0", "z1", "z2", "z3", "z4"]
    assert params["/novelty"] == ["model", "upload", "index", "noise", "level"]
    assert params["/compare_conditional"] == ["index", "label", "z_dim"]


def test_latent_plane_decodes_a_point_and_marks_it(client):
    image_path, scatter_path = client.predict(model="fashion-vae-2", x=0.5, y=-1.0, label=0, api_name="/plane")
    assert Image.open(image_path).size == (224, 224)
    assert Image.open(scatter_path).size == (640, 560)
    other, _ = client.predict(model="fashion-vae-2", x=-2.0, y=2.0, label=0, api_name="/plane")
    assert Image.open(other).tobytes() != Image.open(image_path).tobytes()
    with pytest.raises(Exception, match="mnist-conv-ae-28 is not in the list of choices"):
        client.predict(model="mnist-conv-ae-28", x=0, y=0, label=0, api_name="/plane")


def test_the_benchmarks_page_client_gets_what_gradio_client_gets(client, served_app):
    """benchmarks/benchmark.py times the app as its page calls it: plane clicks outside the queue (one POST to
    /gradio_api/run/...), the rest through the queue's event stream. Both ways must return the same pictures."""
    import httpx

    from benchmarks.benchmark import PageClient

    page = PageClient(served_app)
    assert {"plane", "plane_click", "plane_update"} <= page.unqueued and "sample" not in page.unqueued
    for api, data in [("/plane", ("fashion-vae-2", 0.5, -1.0, 0)), ("/sample", (3, 4, 1.0, "celeba-vae-64", "mixture"))]:
        served = page.call(api, *data)
        expected = client.predict(*data, api_name=api)
        assert Image.open(io.BytesIO(httpx.get(served[0]["url"]).content)).tobytes() == Image.open(expected[0]).tobytes()
    with pytest.raises(RuntimeError, match="not in the list of choices"):
        page.call("/plane", "mnist-conv-ae-28", 0, 0, 0)


def test_interpolation_between_two_test_images(client):
    strip = Image.open(client.predict(model="mnist-conv-ae-28", index_a=3, index_b=2, frames=6, method="slerp",
                                      api_name="/interpolate"))  # fmt: skip
    assert strip.size == ((8 * 30 + 2) * 3, 32 * 3)  # A, 6 frames, B of 28 px with 2 px gaps, at 3×
    with pytest.raises(Exception, match=r"index must be in \[0, 999\]"):
        client.predict(model="mnist-conv-ae-28", index_a=3, index_b=5000, frames=6, method="lerp", api_name="/interpolate")


def test_conditional_generation_of_a_chosen_digit(client):
    image, row = client.predict("mnist-cond-ae-5", 7, 0.5, -0.5, 0.0, 1.0, 0.0, api_name="/generate")
    assert Image.open(image).size == (224, 224)
    assert Image.open(row).size == ((10 * 30 + 2) * 3, 32 * 3)


def test_conditional_ae_and_vae_side_by_side_for_one_style(client):
    """Test image 0 (a 7) drawn as a 3 by both 5-d models: the strip is [source | AE | VAE], the rows all ten digits;
    the two models draw differently."""
    side, ae_row, vae_row = client.predict(index=0, label=3, z_dim=5, api_name="/compare_conditional")
    assert Image.open(side).size == ((3 * 30 + 2) * 5, 32 * 5)
    assert Image.open(ae_row).size == Image.open(vae_row).size == ((10 * 30 + 2) * 3, 32 * 3)
    assert Image.open(ae_row).tobytes() != Image.open(vae_row).tobytes()
    with pytest.raises(Exception, match="test image index must be in"):
        client.predict(index=5000, label=3, z_dim=5, api_name="/compare_conditional")


def test_the_denoising_model_still_tells_a_noisy_zero_from_the_training_class(client):
    """Test image 10 (a 0) with Gaussian noise σ 0.3: against test digits under the same noise, the denoising model
    finds it like its training 0s."""
    _, _, text = client.predict(model="mnist-denoising-ae-digit0", upload=None, index=10, noise="gaussian", level=0.3,
                                api_name="/novelty")  # fmt: skip
    assert "(a 0)" in text and "looks like the training data" in text


def test_novelty_of_a_test_digit_an_upload_and_a_bad_file(client, tmp_path):
    pair, chart, text = client.predict(model="mnist-dense-ae-digit0", upload=None, index=3, noise="none", level=0.0,
                                       api_name="/novelty")  # fmt: skip
    assert Image.open(pair).size == ((2 * 30 + 2) * 6, 32 * 6) and Image.open(chart).size[0] > 0
    assert "test image 3 (a 0)" in text and "looks like the training data" in text  # test image 3 is a zero
    _, _, text = client.predict(model="mnist-dense-ae-digit0", upload=None, index=2, noise="none", level=0.0,
                                api_name="/novelty")  # fmt: skip
    assert "test image 2 (a 1)" in text and "novel" in text
    from PIL import ImageDraw

    drawing = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(drawing).ellipse([50, 30, 150, 170], outline="black", width=16)  # a hand-drawn zero
    drawing.save(tmp_path / "zero.png")
    _, _, text = client.predict(model="mnist-dense-ae-digit0", upload=handle_file(str(tmp_path / "zero.png")),
                                index=0, noise="gaussian", level=0.1, api_name="/novelty")  # fmt: skip
    assert "your upload" in text
    junk = tmp_path / "digit.png"
    junk.write_bytes(b"\x89PNG broken")
    with pytest.raises(Exception, match="not an image"):
        client.predict(model="mnist-dense-ae-digit0", upload=handle_file(str(junk)), index=0, noise="none", level=0.0,
                       api_name="/novelty")  # fmt: skip
