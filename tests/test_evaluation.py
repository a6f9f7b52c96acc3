"""The quality metrics of latentlab.evaluation on known cases."""

import json
import math

import numpy as np
import pytest
import torch

from latentlab import load_autoencoder
from latentlab.analysis import reconstruction_errors
from latentlab.evaluation import (
    InceptionFeatures,
    fid,
    frechet_distance,
    latent_statistics,
    pca_reconstruction_mse,
    reconstruction_metrics,
)

from .conftest import BUNDLED, FACES, REPO


def random_covariance(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_distance_known_cases():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=16), random_covariance(rng, 16)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-9
    # diagonal Gaussians: ‖Δμ‖² + Σ (σ1 + σ2 − 2 √(σ1 σ2))
    v1, v2 = rng.uniform(0.5, 2, 16), rng.uniform(0.5, 2, 16)
    mu2 = mu + 0.3
    expected = 16 * 0.09 + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    assert frechet_distance(mu, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_agrees_with_fid_helper_pytorch():
    """The second implementation: fid-helper-pytorch's own distance (scipy sqrtm of the product)."""
    from fid_helper_pytorch import FidHelper

    rng = np.random.default_rng(1)
    for d in (8, 64):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = random_covariance(rng, d), random_covariance(rng, d)
        helper = FidHelper.__new__(FidHelper)  # only its distance; no network needed for this
        helper.ref_stat_dict, helper.eval_stat_dict = {"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}
        theirs = helper.compute_fid_score()
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(float(theirs), rel=1e-6)


@pytest.fixture(scope="module")
def faces():
    from PIL import Image

    from latentlab.images import face_crop, pil_to_tensor

    return torch.stack([pil_to_tensor(face_crop(Image.open(p), 64)) for p in FACES])


@pytest.mark.slow
def test_fid_of_real_inception_features(faces):
    """The bundled Inception weights load without a download; a set against itself scores 0, and faces score
    closer to slightly blurred faces than to noise."""
    inception = InceptionFeatures()
    real = inception(faces)
    assert real.shape == (len(faces), 2048) and real.dtype == np.float32
    u8 = inception((faces * 255).round().to(torch.uint8))
    assert np.allclose(u8, real, atol=1e-3)  # uint8 and float input are the same images
    assert abs(fid(real, real)) < 1e-3
    blurred = inception(torch.nn.functional.avg_pool2d(faces, 3, 1, 1))
    noise = inception(torch.rand_like(faces))
    assert 0 < fid(real, blurred) < fid(real, noise)


def test_reconstruction_metrics_match_the_novelty_score_and_psnr(faces):
    vae = load_autoencoder(str(BUNDLED))
    m = reconstruction_metrics(vae, faces, batch_size=5)
    errors = reconstruction_errors(vae, faces)
    assert m["images"] == len(faces)
    assert m["mse"] == pytest.approx(float(errors.double().mean()), rel=1e-5)
    assert m["psnr_db"] == pytest.approx(float(np.mean([10 * math.log10(1 / e) for e in errors.tolist()])), rel=1e-5)
    u8 = reconstruction_metrics(vae, (faces * 255).round().to(torch.uint8))
    assert u8["mse"] == pytest.approx(m["mse"], rel=0.05)
    from pytorch_msssim import ssim

    with torch.no_grad():
        recon = vae.decode(vae.encode(faces).mode())
    assert m["ssim"] == pytest.approx(float(ssim(recon, faces, data_range=1.0)), rel=1e-5)
    assert 0 < m["ssim"] < 1


def test_latent_statistics(faces, tiny_vae):
    vae = load_autoencoder(str(BUNDLED))
    stats = latent_statistics(vae, faces, batch_size=5)
    with torch.no_grad():
        posterior = vae.encode(faces)
    assert stats["kl"] == pytest.approx(float(posterior.kl().double().mean()), rel=1e-5)
    assert len(stats["kl_per_dim"]) == vae.z_dim and min(stats["kl_per_dim"]) >= 0
    variance = posterior.mean.double().var(0)
    assert stats["active_units"] == int((variance > 0.01).sum()) and 0 < stats["active_units"] <= vae.z_dim
    hist = stats["histogram"]
    assert sum(hist["counts"]) <= len(faces) * vae.z_dim and sum(hist["normal_probability"]) == pytest.approx(1, abs=1e-4)
    from latentlab import ConvAutoencoder

    with pytest.raises(ValueError, match="VAE"):
        latent_statistics(ConvAutoencoder(image_size=32, hidden_channels=[8], z_dim=4, variational=False), faces[:, :, :32, :32])


def test_pca_baseline_on_low_rank_data():
    g = torch.Generator().manual_seed(0)
    basis = torch.randn(5, 3 * 8 * 8, generator=g)
    def make(n):
        return (0.5 + 0.05 * torch.randn(n, 5, generator=g) @ basis + 0.001 * torch.randn(n, 3 * 8 * 8, generator=g)).reshape(n, 3, 8, 8)
    train, test = make(400), make(100)
    exact = pca_reconstruction_mse(train, test, components=5)
    assert exact["mse"] < 2e-6 and exact["explained_variance"] > 0.99  # only the 0.001 noise is left
    assert pca_reconstruction_mse(train, test, components=2)["mse"] > 100 * exact["mse"]


@pytest.mark.slow
def test_evaluate_script_writes_evaluation_json(tmp_path, celeba_dir):
    """`training/evaluate.py` on the real test split (FID on a small subset, to keep the test short)."""
    import json
    import shutil
    import subprocess
    import sys

    from .conftest import REPO

    folder = tmp_path / "celeba-vae-64"
    shutil.copytree(BUNDLED, folder)
    proc = subprocess.run([sys.executable, str(REPO / "training" / "evaluate.py"), str(folder), "--data", str(celeba_dir),
                           "--fid-images", "24", "--edit-images", "12"], capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((folder / "evaluation.json").read_text())
    assert result["data"]["images"] == 2824 and result["fid"]["images"] == 24
    assert 0 < result["reconstruction"]["mse"] < 0.05 and result["reconstruction"]["psnr_db"] > 10
    fids = result["fid"]
    assert min(fids["reconstructions"], fids["samples_prior"], fids["samples_normal"], fids["interpolations"]) > 0
    assert fids["samples"] == fids["samples_prior"] and "Gaussian mixture" in fids["samples_from"]  # the folder's prior
    assert 0 < result["latent"]["active_units"] <= 200 and result["latent"]["kl"] > 0
    assert "evaluate.py" in result["command"]
    edits = result["edits"]  # judged by the bundled attribute classifier
    assert edits["images"] == 12 and edits["classifier"] == "celeba-attribute-classifier"
    assert len(edits["attributes"]) == 40 and len(edits["decorrelation"]) == 7
    smiling = edits["attributes"]["Smiling"]
    assert smiling["faces_without"] + smiling["faces_with"] == 12
    rates = edits["rates"]["Smiling"]  # the judge on the photos and on their reconstructions
    assert 0 <= rates["originals"] <= 1 and 0 <= rates["reconstructions"] <= 1
    assert smiling["faces_with"] == round(12 * rates["reconstructions"])
    assert {(r["strength"], r["way"]) for r in smiling["rows"]} == {(1.0, "add"), (1.0, "remove"), (2.0, "add"), (2.0, "remove")}
    # and the card shows them
    from latentlab.training.model_card import render_model_card

    card = render_model_card(folder)
    assert "## Attribute edits, judged by a classifier" in card and "| Blond_Hair | Male | decorrelated |" in card
    assert "FID of samples from the fitted prior" in card and "FID of morph midpoints" in card
    assert "faces the judge reads as smiling: originals → reconstructions" in card


def test_comparison_picks_the_best_sample_fid_at_no_worse_reconstruction():


    from latentlab.training.compare_face_models import choose, markdown

    rows = [{"name": "seed", "test_mse": 0.019, "fid_samples": 170.0},
            {"name": "sharp-but-wild", "test_mse": 0.006, "fid_samples": 150.0},
            {"name": "smooth-and-blurry", "test_mse": 0.030, "fid_samples": 90.0},
            {"name": "pca", "components": 200, "test_mse": 0.005, "test_psnr_db": 23.0}]  # fmt: skip
    assert choose(rows, "seed") == "sharp-but-wild"  # the lower FID of the blurry model does not count
    assert choose(rows[1:], "seed") == "smooth-and-blurry"  # no reference row: the lowest FID
    assert "| pca | 200 principal components |" in markdown(rows[3:], None)


def test_comparison_names_the_residual_blocks_only_where_they_differ_from_one():

    from latentlab.training.compare_face_models import architecture

    config = json.loads((BUNDLED / "config.json").read_text())
    shipped = "residual, 4 levels 32/64/128/256, stride-2 stem, upsample+conv decoder 32/32/64/128"
    assert architecture(config) == shipped  # one block per level, as every row measured before the deeper encoder
    deeper = architecture({**config, "blocks_per_level": 2, "decoder_blocks_per_level": 1})
    assert deeper == ("residual, 4 levels 32/64/128/256 × 2 blocks, stride-2 stem, upsample+conv decoder 32/32/64/128"
                      " × 1 block")  # fmt: skip
    both = architecture({**config, "blocks_per_level": 2, "decoder_blocks_per_level": None})
    assert both == "residual, 4 levels 32/64/128/256 × 2 blocks, stride-2 stem, upsample+conv decoder 32/32/64/128"


class ToyVAE(torch.nn.Module):
    """A decoder whose image channel c is the constant sigmoid(z_c): what the toy judge reads back exactly."""

    conditional = False

    def __init__(self, directions=None):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))
        self.attribute_directions = directions

    def encode(self, x, labels=None):  # the Autoencoder signature
        from latentlab import DiagonalGaussian

        z = torch.logit(x.mean((2, 3)).clamp(1e-4, 1 - 1e-4))
        return DiagonalGaussian(z, torch.zeros_like(z))

    def decode(self, z):
        return torch.sigmoid(z * self.scale)[:, :, None, None].expand(-1, -1, 4, 4)


class ToyJudge(torch.nn.Module):
    """An attribute 'classifier' that reads attribute c as the mean of channel c: P(c) = sigmoid(z_c) exactly."""

    attribute_names = ("A", "B", "C")

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def predict_proba(self, x):
        return x.mean((2, 3))


def toy_latents():
    # 4 faces without A and 2 with it; B and C well inside their decisions
    return torch.tensor([[-1.0, 3.0, -3.0]] * 4 + [[1.0, 3.0, -3.0]] * 2)


def test_edit_effects_known_case():
    from latentlab.evaluation import edit_effects

    z, e = toy_latents(), torch.eye(3)
    report = edit_effects(ToyVAE(), ToyJudge(), z, "A", 2 * e[0], strengths=(0.25, 1.0), watch=("B",))
    assert (report["faces_without"], report["faces_with"]) == (4, 2)
    rows = {(r["strength"], r["way"]): r for r in report["rows"]}
    # strength 0.25 moves z_A by 0.5: −1 → −0.5 stays "without"; 1 → 0.5 stays "with"
    assert rows[(0.25, "add")]["success"] == 0.0 and rows[(0.25, "remove")]["success"] == 0.0
    # strength 1 moves it by 2: every face flips both ways, and nothing else moves
    add = rows[(1.0, "add")]
    assert add["faces"] == 4 and add["success"] == 1.0 and rows[(1.0, "remove")]["success"] == 1.0
    assert add["target_delta"] == pytest.approx(float(torch.sigmoid(torch.tensor(1.0)) - torch.sigmoid(torch.tensor(-1.0))))
    assert add["others_abs_delta"] == 0.0 and add["others_flip_rate"] == 0.0
    assert add["watched"] == {"B": {"abs_delta": 0.0, "flip_rate": 0.0}}
    # an entangled direction also pushes B across its boundary (3 − 4 < 0): every face's B flips
    tangled = edit_effects(ToyVAE(), ToyJudge(), z, "A", 2 * e[0] - 4 * e[1], strengths=(1.0,), watch=("B",))
    row = tangled["rows"][0]
    assert row["success"] == 1.0 and row["watched"]["B"]["flip_rate"] == 1.0
    assert row["others_flip_rate"] == 0.5  # B flipped, C did not
    assert row["most_moved"][0][0] == "B"


def test_mean_edit_effects_per_row_and_per_face():
    from latentlab.evaluation import mean_edit_effects

    # one attribute: added on 98 faces (success 0.1, others 0.02), removed from its 2 faces (success 1, others 0.5)
    rows = [{"strength": 1.0, "way": "add", "faces": 98, "success": 0.1, "others_flip_rate": 0.02},
            {"strength": 1.0, "way": "remove", "faces": 2, "success": 1.0, "others_flip_rate": 0.5},
            {"strength": 1.0, "way": "remove", "faces": 0, "success": float("nan")},
            {"strength": 2.0, "way": "add", "faces": 98, "success": 0.9, "others_flip_rate": 0.3}]  # fmt: skip
    assert mean_edit_effects([{"rows": rows}]) == pytest.approx((0.55, 0.26))
    assert mean_edit_effects([{"rows": rows}], per_face=True) == pytest.approx(((9.8 + 2) / 100, (1.96 + 1) / 100))


def test_decorrelated_directions_remove_the_side_effect():
    """The whole report on the toy: A's direction is entangled with B's; keeping B removes B's flips."""
    from latentlab import AttributeDirections
    from latentlab.evaluation import attribute_edit_report

    e = torch.eye(3)
    vectors = torch.stack([2 * e[0] - 4 * e[1], 5 * e[1], -e[2]])
    directions = AttributeDirections(("A", "B", "C"), vectors, torch.ones(3, dtype=torch.long),
                                     torch.ones(3, dtype=torch.long), "toy")  # fmt: skip
    images = torch.sigmoid(toy_latents())[:, :, None, None].expand(-1, -1, 4, 4)
    report = attribute_edit_report(ToyVAE(directions), ToyJudge(), images, strengths=(1.0,), cases=[("A", ("B",))])
    assert report["images"] == 6 and set(report["attributes"]) == {"A", "B", "C"}
    case = report["decorrelation"][0]
    assert case["target"] == "A" and case["keep"] == ["B"]
    plain, decorrelated = case["plain"]["rows"][0], case["decorrelated"]["rows"][0]
    assert plain["watched"]["B"]["flip_rate"] == 1.0
    # decorrelated: A's direction minus its B part, rescaled to the same norm (√20 along e_A): A flips, B is untouched
    assert decorrelated["success"] == 1.0
    assert decorrelated["watched"]["B"] == {"abs_delta": 0.0, "flip_rate": 0.0}
    with pytest.raises(ValueError, match="no attribute directions"):
        attribute_edit_report(ToyVAE(None), ToyJudge(), images)


def test_classifier_metrics_known_case():
    from latentlab.data import FaceData
    from latentlab.evaluation import classifier_metrics

    # channel means decide: A is right on all 4 faces; B is answered 'yes' always, right on the 3 positives only
    z = torch.tensor([[-2.0, 2.0, -2.0], [2.0, 2.0, -2.0], [2.0, 2.0, -2.0], [-2.0, 2.0, -2.0]])
    images = (torch.sigmoid(z)[:, :, None, None].expand(-1, -1, 4, 4) * 255).round().to(torch.uint8)
    labels = torch.tensor([[0, 1, 0], [1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=torch.uint8)
    m = classifier_metrics(ToyJudge(), FaceData(images, labels, ("A", "B", "C"), [str(i) for i in range(4)]))
    a, b, c = (m["attributes"][k] for k in "ABC")
    assert a["accuracy"] == 1.0 and a["balanced_accuracy"] == 1.0 and a["majority"] == 0.5
    assert b["accuracy"] == 0.75 and b["balanced_accuracy"] == 0.5 and b["majority"] == 0.75  # no better than always-yes
    assert c["accuracy"] == 1.0 and math.isnan(c["balanced_accuracy"]) and c["positive_rate"] == 0.0
    assert m["mean_accuracy"] == pytest.approx((1 + 0.75 + 1) / 3)
    assert m["mean_balanced_accuracy"] == pytest.approx(0.75)  # NaN (no positives) left out
    with pytest.raises(ValueError, match="attributes"):
        classifier_metrics(ToyJudge(), FaceData(images, labels, ("A", "C", "B"), [str(i) for i in range(4)]))


@pytest.mark.slow
def test_compare_directions_measures_each_estimator_on_validation_faces(tmp_path, celeba_dir):
    """training/compare_directions.py on the book's model, a slice of the data: one row per estimator, lengths as
    each estimator defines them, rates in [0, 1], and the command that made the file."""

    from latentlab.training.compare_directions import main, parse_estimator

    assert parse_estimator("regression:0.3@norm") == ("regression", 0.3, True)
    assert parse_estimator("mean_difference") == ("mean_difference", 0.0, False)
    out = tmp_path / "directions.json"
    report = main([str(REPO / "pretrained" / "celeba-vae-64-book"), "mean_difference", "regression", "regression@norm",
                   "--data", str(celeba_dir), "--faces", "12", "--train-images", "3000", "--out", str(out)])  # fmt: skip
    assert json.loads(out.read_text()) == report
    assert report["split"] == "validation" and report["faces"] == 12 and report["train_images"] == 3000
    rows = {r["estimator"]: r for r in report["estimators"]}
    assert list(rows) == ["mean_difference", "regression", "regression@norm"]
    for r in rows.values():
        assert 0.0 <= r["edit_success"] <= 1.0 and 0.0 <= r["others_flip_rate"] <= 1.0
    assert rows["mean_difference"]["length_over_mean_difference"] == pytest.approx(1.0)
    assert rows["regression@norm"]["length_over_mean_difference"] == pytest.approx(1.0, rel=1e-4)
    assert rows["regression"]["length_over_mean_difference"] > 1.0  # |m|/cos: longer, to cover the same gap
    assert "--faces 12 --train-images 3000" in report["command"]
    # the picture: 3 faces × 2 attributes rows, 2 estimators × 3 strengths columns, 64-px faces at scale 2
    from PIL import Image

    main([str(REPO / "pretrained" / "celeba-vae-64-book"), "mean_difference", "regression", "--data", str(celeba_dir),
          "--faces", "3", "--train-images", "3000", "--picture", str(tmp_path / "d.png"), "--picture-only",
          "--picture-attributes", "Smiling", "Male"])  # fmt: skip
    with Image.open(tmp_path / "d.png") as picture:
        columns, rows = picture.size
        assert columns > 6 * 128 and columns < 6 * 140 and rows > 6 * 128 and rows < 6 * 140


def test_evaluate_edits_only_replaces_the_edits_and_keeps_the_rest(tmp_path, celeba_dir):
    """``evaluate.py --edits-only``: new edit numbers into the existing evaluation.json, every other section as it
    was; refused without a file, or when the file names other weights."""
    import shutil

    from latentlab.training.evaluate import main as evaluate_main

    folder = tmp_path / "celeba-vae-64-book"
    shutil.copytree(REPO / "pretrained" / "celeba-vae-64-book", folder)
    before = json.loads((folder / "evaluation.json").read_text())
    args = [str(folder), "--edits-only", "--edit-images", "6", "--data", str(celeba_dir), "--device", "cpu"]
    evaluate_main(args)
    after = json.loads((folder / "evaluation.json").read_text())
    assert {k: v for k, v in after.items() if k != "edits"} == {k: v for k, v in before.items() if k != "edits"}
    edits = after["edits"]
    assert edits["images"] == 6 and edits["images"] != before["edits"]["images"]
    assert "--edits-only" in edits["command"] and edits["directions"] == {"method": "mean_difference", "shrinkage": 0.0}
    assert edits["weights_fingerprint"] == load_autoencoder(str(folder)).weights_fingerprint()
    assert set(edits["attributes"]) == set(before["edits"]["attributes"])
    assert "--edits-only" in (folder / "README.md").read_text()  # the card says which command measured the edits
    (folder / "evaluation.json").write_text(json.dumps({**after, "weights_fingerprint": "0" * 64}))
    with pytest.raises(SystemExit, match="other weights"):
        evaluate_main(args)
    (folder / "evaluation.json").unlink()
    with pytest.raises(SystemExit, match="run the full evaluation first"):
        evaluate_main(args)


@pytest.mark.slow
def test_evaluate_fid_sets_measures_only_those_and_says_which_were_not(tmp_path, celeba_dir):
    """``evaluate.py --fid-sets reconstructions samples_prior``: two Inception passes instead of four; the others are
    listed as not measured (not copied from anywhere), the card and the comparison show a dash for them; a set list
    without the two the card needs is refused. ``--add-fid-sets`` measures the others later into the same file, and
    they equal what one run of all four sets measures."""
    import shutil

    from latentlab.training.compare_face_models import markdown, model_row
    from latentlab.training.evaluate import main as evaluate_main
    from latentlab.training.model_card import render_model_card

    folder = tmp_path / "celeba-vae-64"
    shutil.copytree(BUNDLED, folder)
    base = [str(folder), "--data", str(celeba_dir), "--device", "cpu", "--fid-images", "16", "--no-edits"]
    evaluate_main([*base, "--fid-sets", "reconstructions", "samples_prior"])
    fids = json.loads((folder / "evaluation.json").read_text())["fid"]
    assert fids["reconstructions"] > 0 and fids["samples"] == fids["samples_prior"] > 0
    assert "samples_normal" not in fids and "interpolations" not in fids
    assert fids["not_measured"] == ["samples_normal", "interpolations"]
    card = render_model_card(folder)
    assert "FID of samples from the fitted prior" in card and "z ~ N(0, I) |" not in card
    assert "FID sets not measured in this run | samples_normal, interpolations |" in card
    row = model_row(folder)
    assert row["fid_samples_normal"] is None and row["fid_interpolations"] is None
    assert f"| {row['fid_samples']:.1f} | — | — |" in markdown([row], None)
    with pytest.raises(SystemExit):  # argparse: the card needs reconstructions and samples_prior
        evaluate_main([*base, "--fid-sets", "reconstructions"])
    # --add-fid-sets: the two left out, later, on the same faces; the rest of the file as it was
    before = json.loads((folder / "evaluation.json").read_text())
    add = [str(folder), "--data", str(celeba_dir), "--device", "cpu", "--add-fid-sets", "samples_normal", "interpolations"]
    evaluate_main(add)
    after = json.loads((folder / "evaluation.json").read_text())
    assert {k: v for k, v in after.items() if k != "fid"} == {k: v for k, v in before.items() if k != "fid"}
    added = after["fid"]
    assert "not_measured" not in added and added["images"] == 16
    assert {k: added[k] for k in fids if k != "not_measured"} == {k: v for k, v in fids.items() if k != "not_measured"}
    assert set(added["added_by"]) == {"samples_normal", "interpolations"} and "--add-fid-sets" in added["added_by"]["interpolations"]
    assert list(added["added_seconds"]) == [added["added_by"]["interpolations"]]  # one run, one time for its sets
    assert added["added_seconds"][added["added_by"]["interpolations"]] > 0
    assert "FID sets not measured" not in render_model_card(folder)
    # the same numbers as one run of all four sets on these faces
    whole = tmp_path / "whole"
    shutil.copytree(BUNDLED, whole)
    evaluate_main([str(whole), *base[1:]])
    full = json.loads((whole / "evaluation.json").read_text())["fid"]
    for name in ("reconstructions", "samples_prior", "samples_normal", "interpolations"):
        assert added[name] == pytest.approx(full[name], rel=1e-4), name
    (folder / "evaluation.json").write_text(json.dumps({**after, "weights_fingerprint": "0" * 64}))
    with pytest.raises(SystemExit, match="other weights"):
        evaluate_main(add)


def test_periodic_artifact_report_finds_a_grid_pattern_and_only_where_it_is(celeba_dir):
    """A faint pattern of period 4 px added to real faces stands out at 4 px (and its harmonic at 2 px), not at 8 px;
    the faces themselves score 1 against themselves."""
    from latentlab.data import load_celeba
    from latentlab.evaluation import periodic_artifact_report

    faces = load_celeba(celeba_dir, "validation", limit=256).images
    x = faces.float() / 255
    grid = x.clone()
    grid[..., ::4, ::4] += 0.05
    report = periodic_artifact_report(faces, {"same": x, "grid": grid.clamp(0, 1)})
    assert report["same"]["period_4px_over_real"] == pytest.approx(1.0)
    assert report["grid"]["period_4px_over_real"] > 2 and report["grid"]["period_2px_over_real"] > 2
    assert report["grid"]["period_8px_over_real"] == pytest.approx(1.0, abs=0.05)


def test_the_face_descriptor_tells_the_same_person_from_another():
    """dlib's face descriptor (the identity measure of training/evaluate.py --identity-only) on the example test
    faces: a JPEG quality-30 copy of a photo is the same person, another face is not."""
    import io

    from PIL import Image

    from latentlab.evaluation import FaceDescriptors, identity_distances, same_person
    from latentlab.images import pil_to_tensor

    from .conftest import FACES

    photos = torch.stack([pil_to_tensor(Image.open(p).convert("RGB")) for p in FACES[:6]])
    copies = []
    for p in FACES[:6]:
        buffer = io.BytesIO()
        Image.open(p).convert("RGB").save(buffer, "JPEG", quality=30)
        copies.append(pil_to_tensor(Image.open(buffer).convert("RGB")))
    describe = FaceDescriptors()
    a, b = describe(photos), describe(torch.stack(copies))
    assert a.shape == (6, 128)
    assert same_person(identity_distances(a, b))["same_person"] == 1.0
    assert same_person(identity_distances(a, np.roll(a, 1, axis=0)))["same_person"] <= 1 / 6
