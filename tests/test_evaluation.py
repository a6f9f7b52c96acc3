"""The quality metrics of latentlab.evaluation on known cases."""

import math

import numpy as np
import pytest
import torch

from latentlab import ConvVAE
from latentlab.analysis import reconstruction_errors
from latentlab.evaluation import (
    InceptionFeatures,
    fid,
    frechet_distance,
    latent_statistics,
    pca_reconstruction_mse,
    reconstruction_metrics,
)

from .conftest import BUNDLED, FACES


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
    vae = ConvVAE.from_pretrained(str(BUNDLED))
    m = reconstruction_metrics(vae, faces, batch_size=5)
    errors = reconstruction_errors(vae, faces)
    assert m["images"] == len(faces)
    assert m["mse"] == pytest.approx(float(errors.double().mean()), rel=1e-5)
    assert m["psnr_db"] == pytest.approx(float(np.mean([10 * math.log10(1 / e) for e in errors.tolist()])), rel=1e-5)
    u8 = reconstruction_metrics(vae, (faces * 255).round().to(torch.uint8))
    assert u8["mse"] == pytest.approx(m["mse"], rel=0.05)


def test_latent_statistics(faces, tiny_vae):
    vae = ConvVAE.from_pretrained(str(BUNDLED))
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
                           "--fid-images", "24"], capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((folder / "evaluation.json").read_text())
    assert result["data"]["images"] == 2824 and result["fid"]["images"] == 24
    assert 0 < result["reconstruction"]["mse"] < 0.05 and result["reconstruction"]["psnr_db"] > 10
    assert result["fid"]["reconstructions"] > 0 and result["fid"]["samples"] > 0
    assert 0 < result["latent"]["active_units"] <= 200 and result["latent"]["kl"] > 0
    assert "evaluate.py" in result["command"]
