import io

import numpy as np
import pytest
import torch
from PIL import Image

from latentlab import AttributeDirections
from latentlab.data import CELEBA_ATTRIBUTES
from latentlab.faces import FaceLab, frames_to_gif
from latentlab.images import face_crop, make_grid, pil_to_tensor, tensor_to_pil

from .conftest import FACES


@pytest.fixture
def lab(tiny_vae):
    directions = AttributeDirections(
        CELEBA_ATTRIBUTES,
        torch.randn(40, tiny_vae.z_dim, generator=torch.Generator().manual_seed(0)),
        torch.ones(40, dtype=torch.long),
        torch.ones(40, dtype=torch.long),
        tiny_vae.latent_fingerprint(),
    )
    tiny_vae.set_attribute_directions(directions)
    return FaceLab(tiny_vae, precision="fp32")


def test_example_faces_are_real_64px_test_faces():
    assert len(FACES) >= 8
    for path in FACES:
        with Image.open(path) as im:
            assert im.size == (64, 64) and im.mode == "RGB"


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "CMYK", "I;16", "LA"])
def test_any_mode_and_size_becomes_a_square_rgb_face(mode):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)).convert(mode)
    face = face_crop(image, 64)
    assert face.size == (64, 64) and face.mode == "RGB"


def test_exif_rotation_is_applied():
    image = Image.new("RGB", (80, 40), "red")
    image.paste((0, 0, 255), (0, 0, 40, 40))  # left half blue
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° CW to display"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    upright = face_crop(Image.open(io.BytesIO(buffer.getvalue())), 40)
    top = np.asarray(upright)[2, 20]
    assert top[2] > 200 and top[0] < 60  # after the rotation the blue half is on top


def test_tensor_pil_round_trip_and_grid():
    x = torch.rand(3, 16, 16)
    back = pil_to_tensor(tensor_to_pil(x))
    assert (back - x).abs().max() <= 0.5 / 255 + 1e-6
    grid = make_grid(torch.zeros(5, 3, 8, 8), nrow=3, padding=2)
    assert grid.shape == (3, 2 * 10 + 2, 3 * 10 + 2)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_morph_end_frames_are_the_reconstructions(lab, precision):
    lab.precision = precision
    a, b = Image.open(FACES[0]), Image.open(FACES[1])
    frames = lab.morph(a, b, 7)
    assert frames.shape == (7, 3, 32, 32) and 0 <= frames.min() and frames.max() <= 1
    z = lab.encode(lab.to_tensor([a, b]))
    recon = lab.decode(z)
    tol = 1e-5 if precision == "fp32" else 2e-2  # bf16 kernels may round differently for other batch sizes
    torch.testing.assert_close(frames[0], recon[0], atol=tol, rtol=0)
    torch.testing.assert_close(frames[-1], recon[1], atol=tol, rtol=0)
    torch.testing.assert_close(frames[3], lab.decode(z.mean(0, keepdim=True))[0], atol=tol, rtol=0)  # midpoint
    assert not torch.equal(frames[0], frames[-1])


def _away_from(direction: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """The expected decorrelated direction, computed here by least squares (the library uses an SVD): ``direction``
    minus its projection onto the span of ``others``' rows, rescaled to ``direction``'s length."""
    coefficients = torch.linalg.lstsq(others.double().T, direction.double()[:, None]).solution
    residual = direction.double() - (others.double().T @ coefficients)[:, 0]
    return (residual * direction.double().norm() / residual.norm()).float()


def test_edit_moves_along_the_direction(lab):
    face = Image.open(FACES[2])
    original, decoded = lab.edit(face, "Smiling", [0.0, 2.0])
    assert original.shape == (3, 32, 32) and decoded.shape == (2, 3, 32, 32)
    z = lab.encode(original[None])
    expected = lab.decode(z + 2.0 * lab.model.attribute_directions.vectors[CELEBA_ATTRIBUTES.index("Smiling")])
    torch.testing.assert_close(decoded[1:], expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(decoded[:1], lab.decode(z), atol=1e-5, rtol=0)
    with pytest.raises(KeyError):
        lab.edit(face, "Not_An_Attribute", 1.0)


def test_sample_is_reproducible(lab):
    a = lab.sample(6, seed=5, temperature=0.8)
    assert a.shape == (6, 3, 32, 32)
    assert torch.equal(a, lab.sample(6, seed=5, temperature=0.8))
    assert not torch.equal(a, lab.sample(6, seed=6, temperature=0.8))


def test_gif_has_forward_and_back_frames(lab, tmp_path):
    frames = torch.linspace(0, 1, 5)[:, None, None, None] * torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    path = frames_to_gif(frames, tmp_path / "m.gif", scale=2)  # five distinct frames (a tiny VAE's samples look alike)
    with Image.open(path) as gif:
        assert gif.n_frames == 8 and gif.size == (64, 64) and gif.info["loop"] == 0
        first = np.asarray(gif.convert("RGB"), np.float32) / 255
    expected = np.asarray(tensor_to_pil(frames[0]).resize((64, 64), Image.Resampling.NEAREST), np.float32) / 255
    assert np.abs(first - expected).mean() < 0.02  # the shared palette keeps the colours


def test_keep_unchanged_holds_the_kept_mean_differences_still_for_regression_directions(tiny_vae):
    g = torch.Generator().manual_seed(1)
    vectors, mean_differences = torch.randn(40, tiny_vae.z_dim, generator=g), torch.randn(40, tiny_vae.z_dim, generator=g)
    counts = torch.ones(40, dtype=torch.long)
    directions = AttributeDirections(CELEBA_ATTRIBUTES, vectors, counts, counts, tiny_vae.latent_fingerprint(),
                                     "regression", 0.0, mean_differences)  # fmt: skip
    tiny_vae.set_attribute_directions(directions)
    lab = FaceLab(tiny_vae, precision="fp32")
    face = Image.open(FACES[0])
    original, decoded = lab.edit(face, "Goatee", [1.0], keep=["Male"])
    z = lab.encode(original[None])
    goatee, male = (CELEBA_ATTRIBUTES.index(n) for n in ("Goatee", "Male"))
    expected = _away_from(vectors[goatee], mean_differences[[male]])
    torch.testing.assert_close(decoded, lab.decode(z + expected), atol=1e-4, rtol=0)
    edits = {"Goatee": 1.0, "Smiling": 0.5}
    _, _, edited = lab.edit_many(face, edits, keep=["Male"])
    rows = [CELEBA_ATTRIBUTES.index(n) for n in edits]
    moved = [_away_from(vectors[r], mean_differences[[male, *(o for o in rows if o != r)]]) for r in rows]
    expected = z + sum(strength * d for strength, d in zip(edits.values(), moved))
    torch.testing.assert_close(edited, lab.decode(expected)[0], atol=1e-4, rtol=0)


def test_edit_many_adds_every_edit_to_one_face(lab):
    face = Image.open(FACES[3])
    edits = {"Smiling": 1.0, "Young": -0.5, "Eyeglasses": 1.5}
    original, reconstruction, edited = lab.edit_many(face, edits, independent=False)
    z = lab.encode(original[None])
    plain = lab.model.attribute_directions.stack(list(edits))
    expected = z + sum(strength * d for strength, d in zip(edits.values(), plain))
    torch.testing.assert_close(edited, lab.decode(expected)[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(reconstruction, lab.decode(z)[0], atol=1e-5, rtol=0)
    # independent (the default): each direction with the others' and the kept one's projected out
    _, _, independent = lab.edit_many(face, edits, keep=["Male"])
    male = lab.model.attribute_directions.stack(["Male"])
    moved = [_away_from(d, torch.cat([male, torch.cat([plain[:i], plain[i + 1:]])])) for i, d in enumerate(plain)]
    expected = z + sum(strength * d for strength, d in zip(edits.values(), moved))
    torch.testing.assert_close(independent, lab.decode(expected)[0], atol=1e-4, rtol=0)
    assert not torch.allclose(independent, edited)
    # zero strengths are dropped; nothing left is the reconstruction
    _, _, unchanged = lab.edit_many(face, {"Smiling": 0.0})
    torch.testing.assert_close(unchanged, reconstruction, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="both edited and kept"):
        lab.edit_many(face, edits, keep=["Smiling"])
    with pytest.raises(KeyError):
        lab.edit_many(face, {"Not_An_Attribute": 1.0})


def test_the_edit_examples_with_attributes_kept_show_the_difference():
    """The Edit tab's pair "Heavy_Makeup" / "Heavy_Makeup, keep Male" on one face: the two results differ where a
    visitor can see it (a mean of ≥ 8/255 per pixel on the shipped model, plain decoder)."""
    from latentlab.ui.faces import EDIT_EXAMPLES

    from .conftest import BUNDLED

    lab = FaceLab.from_pretrained(BUNDLED)
    pairs = [(i, a, s, kept) for i, a, s, kept in EDIT_EXAMPLES if kept and (i, a, s, []) in EDIT_EXAMPLES]
    assert pairs, "no example shows one edit with and without attributes kept"
    for i, attribute, strength, kept in pairs:
        face = Image.open(FACES[i])
        plain = lab.edit_many(face, {attribute: strength})[2]
        keeping = lab.edit_many(face, {attribute: strength}, keep=kept)[2]
        assert float((plain - keeping).abs().mean()) * 255 >= 8, (i, attribute, kept)
