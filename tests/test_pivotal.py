"""Pivotal tuning (latentlab.pivotal) on the shipped face VAE and held-out CelebA-HQ test faces: the tuned decoder
gives the photo back closer, still edits, shares the latent space, and the lab's cache of tuned decoders is bounded,
keyed by the faces' pixels and never keeps a failed tuning."""

import threading

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from latentlab import AttributeClassifier, ConvAutoencoder, load_autoencoder
from latentlab.data import load_celeba
from latentlab.faces import FaceLab, PersonalizedDecoders
from latentlab.images import pil_to_tensor
from latentlab.pivotal import PivotalTuning, decoder_parameters, personalized_copy, pivotal_tuning

from .conftest import BOOK, BUNDLED, FACES, REPO

FAST = PivotalTuning(steps=12)  # for what does not depend on how well the photo is fitted


@pytest.fixture(scope="module")
def model():
    return load_autoencoder(str(BUNDLED)).eval()


@pytest.fixture(scope="module")
def test_faces(celeba_dir):
    return load_celeba(str(celeba_dir), "test", image_size=64).images[:64].float() / 255


@pytest.fixture(scope="module")
def judge():
    return AttributeClassifier.from_pretrained(str(REPO / "pretrained" / "celeba-attribute-classifier")).eval()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(-10 * torch.log10(F.mse_loss(a, b)))


def test_tuning_gives_a_held_out_face_back_closer_and_leaves_the_model_alone(model, test_faces):
    x = test_faces[7:8]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tuned = pivotal_tuning(model, x)
    with torch.no_grad():
        z = model.encode(x).mode()
        gain = psnr(tuned.decode(z), x) - psnr(model.decode(z), x)
    assert gain >= 3.0, f"PSNR gained {gain:.2f} dB"
    torch.testing.assert_close(tuned.pivots, z)
    for name, tensor in model.state_dict().items():  # the model it came from is unchanged
        assert torch.equal(tensor, before[name]), name


def test_the_tuned_model_shares_the_latent_space_and_owns_only_its_decoder(model, test_faces):
    tuned = pivotal_tuning(model, test_faces[:1], FAST)
    assert tuned.encoder is model.encoder and tuned.mean_head is model.mean_head
    assert tuned.attribute_directions is model.attribute_directions and tuned.prior is model.prior
    assert tuned.decoder is not model.decoder and tuned.decoder_input is not model.decoder_input
    assert tuned.latent_fingerprint() == model.latent_fingerprint()
    assert tuned.weights_fingerprint() != model.weights_fingerprint()
    assert not any(p.requires_grad for p in decoder_parameters(tuned))
    assert all(p.requires_grad for p in model.parameters())  # the model stays trainable as it was
    copy = personalized_copy(model)
    copy.decoder = torch.nn.Identity()  # replacing a module of the copy does not touch the model
    assert isinstance(model.decoder, torch.nn.Sequential)


def test_the_same_faces_and_seed_give_the_same_decoder(model, test_faces):
    a = pivotal_tuning(model, test_faces[3:4], FAST)
    b = pivotal_tuning(model, test_faces[3:4], FAST)
    c = pivotal_tuning(model, test_faces[3:4], PivotalTuning(steps=12, seed=1))
    assert a.weights_fingerprint() == b.weights_fingerprint() != c.weights_fingerprint()


def test_an_edit_on_a_tuned_decoder_still_moves_the_judges_decision(model, test_faces, judge):
    smiling = judge.attribute_names.index("Smiling")
    direction = model.attribute_directions["Smiling"]
    with torch.no_grad():
        z = model.encode(test_faces).mode()
        p_plain = judge.predict_proba(model.decode(z + 1.5 * direction))[:, smiling]
        p_photo = judge.predict_proba(test_faces)[:, smiling]
    # faces without a smile whose plain edit the judge reads as smiling
    faces = [i for i in range(len(z)) if p_photo[i] < 0.3 and p_plain[i] > 0.7][:3]
    assert len(faces) == 3
    for i in faces:
        tuned = pivotal_tuning(model, test_faces[i : i + 1])
        with torch.no_grad():
            p = judge.predict_proba(tuned.decode(torch.stack([z[i], z[i] + 1.5 * direction])))[:, smiling]
        assert p[0] < 0.5 < p[1], f"face {i}: P(Smiling) {p[0]:.2f} → {p[1]:.2f}"


def test_one_decoder_is_tuned_on_both_faces_of_a_morph(model, test_faces):
    pair = test_faces[10:12]
    tuned = pivotal_tuning(model, pair)
    with torch.no_grad():
        z = model.encode(pair).mode()
        for i in range(2):
            assert psnr(tuned.decode(z[i : i + 1]), pair[i : i + 1]) >= psnr(model.decode(z[i : i + 1]), pair[i : i + 1]) + 2


def test_the_books_model_and_a_small_autoencoder_are_tuned_alike(test_faces):
    book = load_autoencoder(str(BOOK)).eval()
    tuned = pivotal_tuning(book, test_faces[:1], PivotalTuning(steps=30))
    with torch.no_grad():
        z = book.encode(test_faces[:1]).mode()
        assert psnr(tuned.decode(z), test_faces[:1]) > psnr(book.decode(z), test_faces[:1])
    torch.manual_seed(0)
    small = ConvAutoencoder(image_size=32, hidden_channels=[8, 16], z_dim=6, variational=False).eval()
    x = F.interpolate(test_faces[:1], size=32, mode="area")
    assert pivotal_tuning(small, x, FAST).pivots.shape == (1, 6)


def test_bad_inputs_are_refused(model):
    with pytest.raises(ValueError, match="expected images of shape"):
        pivotal_tuning(model, torch.rand(1, 3, 32, 32))
    conditional = ConvAutoencoder(image_size=32, hidden_channels=[8], z_dim=2, num_classes=10)
    with pytest.raises(ValueError, match="unconditional"):
        pivotal_tuning(conditional, torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="steps must be"):
        PivotalTuning(steps=0)


# --- the lab's cache of tuned decoders ----------------------------------------------------------------------------
@pytest.fixture
def lab(model):
    return FaceLab(model, precision="fp32", personalized=PersonalizedDecoders(capacity=2))


def faces(*indices):
    return [Image.open(FACES[i]) for i in indices]


def test_a_face_is_tuned_once_then_served_from_the_cache(lab, monkeypatch):
    calls = []
    monkeypatch.setattr("latentlab.faces.pivotal_tuning", lambda *a, **k: calls.append(1) or pivotal_tuning(*a, **k))
    settings = FAST
    first = lab.personalize(faces(0), settings)
    again = lab.personalize([Image.open(FACES[0]).copy()], settings)  # the same pixels, another upload
    assert len(calls) == 1 and again.model is first.model
    lab.personalize(faces(1), settings)
    lab.personalize(faces(0, 1), settings)  # a morph pair is its own entry
    assert len(calls) == 3 and len(lab.personalized) == 2  # the bound: the least recently used entry went
    lab.personalize(faces(0), settings)
    assert len(calls) == 4


def test_a_failed_or_interrupted_tuning_leaves_nothing_in_the_cache(lab):
    class Stop(Exception):
        pass

    def interrupt(step, steps):
        if step == 3:
            raise Stop

    with pytest.raises(Stop):
        lab.personalize(faces(2), FAST, progress=interrupt)
    assert len(lab.personalized) == 0
    seen = []
    tuned = lab.personalize(faces(2), FAST, progress=lambda step, steps: seen.append(step))
    assert seen == list(range(1, FAST.steps + 1)) and len(lab.personalized) == 1
    assert tuned.model is not lab.model


def test_concurrent_calls_for_one_face_share_one_tuning_and_a_failed_one_is_not_passed_on():
    """Five calls for one key at once (none cached: capacity 0) run one tuning; calls waiting on a tuning that fails
    tune again themselves instead of getting that call's error."""
    cache = PersonalizedDecoders(0)
    started, release, calls = threading.Event(), threading.Event(), []

    def tune():
        calls.append(1)
        started.set()
        release.wait(10)
        return f"tuned {len(calls)}"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("face", tune))) for _ in range(5)]
    threads[0].start()
    started.wait(10)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert calls == [1] and results == ["tuned 1"] * 5

    started.clear()
    release.clear()
    failures, outcomes = [], []

    def failing():
        started.set()
        release.wait(10)
        raise RuntimeError("cancelled")

    def first():
        try:
            cache.get("other", failing)
        except RuntimeError as err:
            failures.append(err)

    owner = threading.Thread(target=first)
    owner.start()
    started.wait(10)
    waiter = threading.Thread(target=lambda: outcomes.append(cache.get("other", lambda: "tuned again")))
    waiter.start()
    release.set()
    owner.join(10)
    waiter.join(10)
    assert len(failures) == 1 and outcomes == ["tuned again"]


def test_different_faces_never_mix(lab):
    """Two faces tuned at once from two threads: each tuned decoder gives its own face back closer than the other's."""
    results = {}
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, lab.personalize(faces(k), FAST))) for k in (3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for own, other in ((3, 4), (4, 3)):
        x = pil_to_tensor(Image.open(FACES[own]))[None]
        z = lab.encode(x)
        assert psnr(results[own].decode(z), x) > psnr(results[other].decode(z), x) + 1


def test_the_cache_bound_is_checked():
    with pytest.raises(ValueError, match="capacity"):
        PersonalizedDecoders(-1)
    assert PersonalizedDecoders(0).get("k", lambda: "tuned") == "tuned"
