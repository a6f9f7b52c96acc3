"""The residual σ-VAE (models/resnet.py trained with objectives' decoder_variance='optimal'), 16-bit weight storage, and the ex-post
Gaussian-mixture prior bound to the weights (latentlab.prior): known cases, round trips, refusals."""

import math

import pytest
import torch

from latentlab import GaussianMixturePrior, PriorMismatchError, ResNetAutoencoder, load_autoencoder
from latentlab.faces import FaceLab
from latentlab.config import ConfigError, parse_config
from latentlab.objectives import AutoencoderObjective
from latentlab.prior import PRIOR_NAME, fit_gaussian_mixture, select_gaussian_mixture


SIGMA_VAE = AutoencoderObjective(decoder_variance="optimal")  # the face VAE's objective at β = 1: the negative ELBO


@pytest.fixture
def tiny_resnet():
    torch.manual_seed(0)
    return ResNetAutoencoder(image_size=16, widths=[8, 16], stem_stride=2, z_dim=6).eval()


def test_residual_vae_shapes_and_the_sigma_vae_loss(tiny_resnet):
    x = torch.rand(4, 3, 16, 16)
    posterior = tiny_resnet.encode(x)
    assert posterior.mean.shape == posterior.logvar.shape == (4, 6)
    images = tiny_resnet.decode(posterior.mode())
    assert images.shape == (4, 3, 16, 16) and 0 <= images.min() and images.max() <= 1
    losses = SIGMA_VAE(tiny_resnet, {"image": x}, generator=torch.Generator().manual_seed(1))
    out = tiny_resnet(x, generator=torch.Generator().manual_seed(1))
    mse = ((out.reconstruction - x) ** 2).mean()
    d = 3 * 16 * 16
    # the Gaussian NLL per image at the maximum-likelihood σ² = MSE: D/2 · (log 2πσ² + 1)
    nll = 0.5 * d * (math.log(2 * math.pi * mse.item()) + 1)
    torch.testing.assert_close(losses["loss"], torch.tensor(nll) + losses["kl"], rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(losses["sigma"], mse.sqrt())
    # the gradient is that of the NLL with σ held at its optimum (∂/∂σ vanishes there): d·∂MSE/(2σ²)
    x2 = torch.rand(2, 3, 16, 16)
    recon = torch.rand(2, 3, 16, 16, requires_grad=True)
    from latentlab.objectives import MIN_LOG_SIGMA  # noqa: F401  (the floor exists)

    m = ((recon - x2) ** 2).mean()
    (0.5 * d * m.log()).backward()
    expected = d * 2 * (recon - x2).detach() / (2 * m.detach() * recon.numel())
    torch.testing.assert_close(recon.grad, expected)


def test_sharpness_terms_add_calibrated_log_distances():
    """ssim_weight / focal_frequency_weight add w · D/2 · log d to the σ-VAE loss, d measured by the maintained
    packages (pytorch_msssim, focal_frequency_loss); off (0) the loss is the negative ELBO alone."""
    from focal_frequency_loss import FocalFrequencyLoss
    from pytorch_msssim import ssim

    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16)
    d = 3 * 16 * 16
    sharp = ResNetAutoencoder(image_size=16, widths=[8, 16], stem_stride=2, z_dim=6).eval()
    sharper = AutoencoderObjective(decoder_variance="optimal", ssim_weight=0.5, focal_frequency_weight=2.0)
    base = SIGMA_VAE(sharp, {"image": x}, generator=torch.Generator().manual_seed(1))
    losses = sharper(sharp, {"image": x}, generator=torch.Generator().manual_seed(1))
    assert "ssim_distance" not in base and "focal_frequency" not in base
    recon = sharp(x, generator=torch.Generator().manual_seed(1)).reconstruction
    ssim_distance = 1 - ssim(recon, x, data_range=1.0)
    ffl = FocalFrequencyLoss()(recon, x)
    torch.testing.assert_close(losses["ssim_distance"], ssim_distance)
    torch.testing.assert_close(losses["focal_frequency"], ffl)
    assert 0 < ffl <= ((recon - x) ** 2).mean()  # a spectrally weighted MSE (weights ≤ 1, orthonormal DFT)
    expected = base["loss"] + 0.5 * d * (0.5 * ssim_distance.log() + 2.0 * ffl.log())
    torch.testing.assert_close(losses["loss"], expected, rtol=1e-5, atol=1e-2)
    losses["loss"].backward()  # differentiable through both packages
    assert all(p.grad is not None for p in sharp.decoder.parameters())
    # the same face twice is at distance 0 under both
    assert float(1 - ssim(x, x, data_range=1.0)) == pytest.approx(0, abs=1e-6) and float(FocalFrequencyLoss()(x, x)) == 0
    # the objective is not the model's: its config records the architecture only
    assert not {"ssim_weight", "focal_frequency_weight", "beta", "decoder_variance"} & set(sharp._hub_mixin_config)


def test_beta_scales_only_the_kl_term_of_the_sigma_vae():
    """β multiplies the σ-VAE's KL term (the β-VAE's β, Higgins et al. 2017); at 1 the loss is the negative ELBO, and
    the reconstruction term and the KL say the same as without it."""
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16)
    model = ResNetAutoencoder(image_size=16, widths=[8, 16], stem_stride=2, z_dim=6).eval()
    base = SIGMA_VAE(model, {"image": x}, generator=torch.Generator().manual_seed(1))
    compressed = AutoencoderObjective(decoder_variance="optimal", beta=2.5)
    losses = compressed(model, {"image": x}, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(losses["kl"], base["kl"])
    torch.testing.assert_close(losses["mse"], base["mse"])
    assert float(base["kl"]) > 0
    torch.testing.assert_close(losses["loss"], base["loss"] + 1.5 * base["kl"], rtol=1e-5, atol=1e-3)
    with pytest.raises(ValueError, match="reconstruction_weight and beta must be > 0"):
        AutoencoderObjective(decoder_variance="optimal", beta=0.0)
    with pytest.raises(ValueError, match="reconstruction_weight is for decoder_variance='fixed'"):
        AutoencoderObjective(decoder_variance="optimal", reconstruction_weight=2.0)
    with pytest.raises(ValueError, match="need decoder_variance='optimal'"):
        AutoencoderObjective(ssim_weight=1.0)
    with pytest.raises(ValueError, match="trains a VAE"):
        AutoencoderObjective(decoder_variance="optimal").check(ResNetAutoencoder(variational=False))
    raw = {"model": {"type": "resnet"}, "data": {}, "train": {"seed": 0, "batch_size": 8, "learning_rate": 1e-3,
                                                               "max_epochs": 1}}  # fmt: skip
    with pytest.raises(ConfigError, match="unknown key in objective: objective.kl_weight"):  # the old name of β
        parse_config({**raw, "objective": {"kl_weight": 2.0}})


def test_bad_residual_configs_raise():
    with pytest.raises(ValueError, match="not divisible"):
        ResNetAutoencoder(image_size=20, widths=[8, 16, 16], stem_stride=2)
    with pytest.raises(ValueError, match="stem_stride"):
        ResNetAutoencoder(stem_stride=3)
    with pytest.raises(ValueError, match="≥ 0"):
        AutoencoderObjective(decoder_variance="optimal", focal_frequency_weight=-1.0)
    with pytest.raises(ValueError, match="decoder_variance"):
        AutoencoderObjective(decoder_variance="learned")
    with pytest.raises(ValueError, match="needs reconstruction='mse'"):
        AutoencoderObjective(decoder_variance="optimal", reconstruction="bce")


def test_float16_storage_halves_the_file_and_round_trips_exactly(tiny_resnet, tmp_path):
    tiny_resnet.save_pretrained(tmp_path / "fp32")
    tiny_resnet.set_storage_dtype("float16")  # rounds the weights in place first
    fingerprint = tiny_resnet.weights_fingerprint()
    tiny_resnet.save_pretrained(tmp_path / "fp16")
    size = lambda p: (p / "model.safetensors").stat().st_size  # noqa: E731
    assert size(tmp_path / "fp16") < 0.6 * size(tmp_path / "fp32")
    loaded = load_autoencoder(str(tmp_path / "fp16"))
    assert loaded.storage_dtype == torch.float16 and loaded.weights_fingerprint() == fingerprint
    assert all(t.dtype == torch.float32 for t in loaded.state_dict().values())  # computes in fp32
    loaded.save_pretrained(tmp_path / "again")  # a re-saved folder keeps 16-bit storage
    assert size(tmp_path / "again") == size(tmp_path / "fp16")
    assert load_autoencoder(str(tmp_path / "fp32")).storage_dtype is None
    with pytest.raises(ValueError, match="storage dtype"):
        tiny_resnet.set_storage_dtype("int8")


def two_clusters(n=400, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, d, generator=g) * 0.1 + 5.0
    b = torch.randn(n // 3, d, generator=g) * 0.5 - 5.0
    return torch.cat([a, b])


def test_the_mixture_finds_known_clusters_and_samples_them():
    prior = fit_gaussian_mixture(two_clusters(), "f" * 64, components=2, seed=0, fitted_on="a toy")
    order = prior.means[:, 0].argsort()
    torch.testing.assert_close(prior.means[order], torch.tensor([[-5.0] * 3, [5.0] * 3], dtype=torch.float64),
                               atol=0.15, rtol=0)  # fmt: skip
    torch.testing.assert_close(prior.weights[order], torch.tensor([0.25, 0.75], dtype=torch.float64), atol=0.01, rtol=0)
    z = prior.sample(4000, seed=1)
    assert z.shape == (4000, 3) and z.dtype == torch.float32
    assert 0.72 < (z[:, 0] > 0).float().mean() < 0.78  # the mixture weights
    assert z[z[:, 0] > 0].std(0).mean() == pytest.approx(0.1, rel=0.15)  # the tight cluster's spread
    assert torch.equal(prior.sample(5, seed=3), prior.sample(5, seed=3))
    cold = prior.sample(4000, seed=1, temperature=0.5)
    assert cold[cold[:, 0] > 0].std(0).mean() == pytest.approx(0.05, rel=0.15)  # T scales the standard deviations
    at_zero = prior.sample(10, seed=1, temperature=0.0)
    assert all(any(torch.allclose(row.double(), m, atol=1e-6) for m in prior.means) for row in at_zero)
    assert prior.log_prob(torch.tensor([[5.0] * 3])) > prior.log_prob(torch.tensor([[0.0] * 3]))
    with pytest.raises(ValueError, match="temperature"):
        prior.sample(2, temperature=-1)
    with pytest.raises(ValueError, match="at least 2 codes"):
        fit_gaussian_mixture(torch.zeros(1, 3), "f" * 64, components=2)


def test_the_number_of_components_is_chosen_by_held_out_likelihood():
    """Two clusters: one component underfits them and many overfit the training codes; the held-out codes choose."""
    codes, held_out = two_clusters(n=400, seed=0), two_clusters(n=400, seed=1)
    prior, table = select_gaussian_mixture(codes, held_out, "f" * 64, components=(1, 2, 60), fitted_on="a toy")
    assert [row["components"] for row in table] == [1, 2, 60] and prior.components == 2
    by_k = {row["components"]: row for row in table}
    assert by_k[2]["held_out_log_likelihood"] > by_k[1]["held_out_log_likelihood"]
    assert by_k[2]["held_out_log_likelihood"] > by_k[60]["held_out_log_likelihood"]
    assert by_k[60]["train_log_likelihood"] > by_k[2]["train_log_likelihood"]  # what training codes alone would pick
    assert prior.fitted_on == "a toy" and prior.latent_fingerprint == "f" * 64
    with pytest.raises(ValueError, match="no candidate"):
        select_gaussian_mixture(codes, held_out, "f" * 64, components=())


def test_the_prior_travels_with_its_weights_and_refuses_others(tiny_resnet, tmp_path):
    codes = tiny_resnet.encode(torch.rand(64, 3, 16, 16)).mean.detach()
    prior = fit_gaussian_mixture(codes, tiny_resnet.latent_fingerprint(), components=3, seed=0)
    tiny_resnet.set_prior(prior)
    tiny_resnet.save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / PRIOR_NAME).is_file()
    loaded = load_autoencoder(str(tmp_path / "m"))
    torch.testing.assert_close(loaded.prior.means, prior.means)
    lab = FaceLab(loaded, precision="fp32")
    assert lab.default_prior == "mixture" and "3-component" in lab.describe_prior()
    assert lab.sample(4, seed=0).shape == (4, 3, 16, 16)
    assert not torch.equal(lab.sample(4, seed=0), lab.sample(4, seed=0, prior="normal"))
    with pytest.raises(ValueError, match="prior must be"):
        lab.sample(4, prior="uniform")
    # another model's weights: the prior refuses to attach, on load and in memory
    other = ResNetAutoencoder(image_size=16, widths=[8, 16], stem_stride=2, z_dim=6)
    with pytest.raises(PriorMismatchError):
        other.set_prior(prior)
    other.save_pretrained(tmp_path / "other")
    (tmp_path / "other" / PRIOR_NAME).write_bytes((tmp_path / "m" / PRIOR_NAME).read_bytes())
    with pytest.raises(PriorMismatchError, match="fit it again"):
        load_autoencoder(str(tmp_path / "other"))
    (tmp_path / "other" / PRIOR_NAME).write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a valid prior file"):
        load_autoencoder(str(tmp_path / "other"))
    no_prior = FaceLab(ResNetAutoencoder(image_size=16, widths=[8, 16], stem_stride=2, z_dim=6), precision="fp32")
    assert no_prior.default_prior == "normal" and no_prior.describe_prior() == "N(0, I)"
    with pytest.raises(ValueError, match="no fitted prior"):
        no_prior.sample(2, prior="mixture")


def test_mixture_shapes_are_checked():
    with pytest.raises(ValueError, match="inconsistent"):
        GaussianMixturePrior(torch.ones(2) / 2, torch.zeros(2, 3), torch.eye(3).expand(3, 3, 3), "f")


@pytest.mark.slow
def test_the_fit_prior_script_chooses_and_binds_the_prior(tmp_path, celeba_dir):
    """`training/fit_prior.py` on real faces with two candidates: it writes the held-out choice into the folder, bound to
    the folder's weights, and a report whose choice is the candidate with the best held-out log-likelihood."""
    import json
    import shutil
    import subprocess
    import sys

    from .conftest import BUNDLED, REPO

    folder = tmp_path / "celeba-vae-64"
    shutil.copytree(BUNDLED, folder)
    before = (folder / PRIOR_NAME).read_bytes()
    report = tmp_path / "components.json"
    proc = subprocess.run([sys.executable, str(REPO / "training" / "fit_prior.py"), str(folder), "--data", str(celeba_dir),
                           "--components", "1", "2", "--limit", "300", "--report", str(report)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = json.loads(report.read_text())
    assert [row["components"] for row in table["candidates"]] == [1, 2]
    best = max(table["candidates"], key=lambda row: row["held_out_log_likelihood"])
    assert table["chosen"] == best["components"]
    assert table["train"] == "300 train posterior means" and table["held_out"] == "300 validation posterior means"
    assert "fit_prior.py" in table["command"] and "--limit 300" in table["command"]
    assert (folder / PRIOR_NAME).read_bytes() != before
    loaded = load_autoencoder(str(folder))  # strictly, the new prior bound to the folder's weights
    assert table["weights_fingerprint"] == loaded.weights_fingerprint()
    assert loaded.prior.components == table["chosen"] and "K of 1/2" in loaded.prior.fitted_on
    # a bad argument is refused before anything is written
    bad = subprocess.run([sys.executable, str(REPO / "training" / "fit_prior.py"), str(folder), "--components", "0"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "--components must be ≥ 1" in bad.stderr
