"""The autoencoder family (dense AE, conv AE, conditional AE, 2-D VAE): model API, strict Hub round trips, the shared
training loop on the real MNIST / Fashion-MNIST data, and the shipped models' measured behaviour."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from latentlab.analysis import LatentPlot, add_noise, normal_cdf, normal_ppf, scatter_plot
from latentlab.config import parse_config
from latentlab.data import DigitData, load_mnist
from latentlab.images import digit_from_pil
from latentlab.models import CheckpointError, ConvAutoencoder, DenseAutoencoder, load_pretrained, model_class
from latentlab.objectives import AutoencoderObjective
from latentlab.ui import BUNDLED_DIGIT_MODELS

from .conftest import REPO

CONFIGS = REPO / "training" / "configs"
DIGIT_CONFIGS = sorted(p.stem for p in CONFIGS.glob("*.yaml") if p.stem.startswith(("mnist_", "fashion_")))
SHIPPED = REPO / "pretrained"


def config(name: str) -> dict:
    return yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())


def build(name: str, seed: int = 0):
    mcfg = dict(config(name)["model"])
    torch.manual_seed(seed)
    return model_class(mcfg.pop("type"))(**mcfg).eval()


def objective(name: str):
    """The objective a digit config trains its model with."""
    return parse_config(config(name)).objective


def batch_for(model, n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((n, *model.image_shape), generator=g)
    return x, (torch.randint(0, 10, (n,), generator=g) if model.conditional else None)


def test_the_digit_models_have_configs():
    assert DIGIT_CONFIGS == ["fashion_conv_ae_2", "fashion_vae_2", "mnist_cond_ae_2", "mnist_cond_ae_5",
                             "mnist_cond_vae_2", "mnist_cond_vae_5", "mnist_conv_ae_28", "mnist_denoising_ae_digit0",
                             "mnist_dense_ae_digit0"]  # fmt: skip


@pytest.mark.parametrize("name", DIGIT_CONFIGS)
def test_round_trip_is_bit_exact_and_strict(tmp_path, name):
    model = build(name)
    x, labels = batch_for(model)
    model.save_pretrained(tmp_path / "m")
    loaded = load_pretrained(str(tmp_path / "m"))  # the class comes from config.json's model_type
    assert type(loaded) is type(model)
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    assert torch.equal(model(x, labels, sample_posterior=False).reconstruction,
                       loaded(x, labels, sample_posterior=False).reconstruction)  # fmt: skip
    # strict: a config that does not match the weights is refused
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["z_dim"] += 1
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="do not load strictly"):
        load_pretrained(str(tmp_path / "m"))


def test_loading_into_the_wrong_class_says_so(tmp_path):
    build("mnist_dense_ae_digit0").save_pretrained(tmp_path / "dense")
    with pytest.raises(CheckpointError, match="holds a 'dense' model"):
        ConvAutoencoder.from_pretrained(str(tmp_path / "dense"))


@pytest.mark.parametrize("name", DIGIT_CONFIGS)
def test_shapes_losses_and_posteriors(name):
    model = build(name)
    x, labels = batch_for(model)
    out = model(x, labels)
    assert out.reconstruction.shape == x.shape and 0 <= out.reconstruction.min() and out.reconstruction.max() <= 1
    assert out.z.shape == (6, model.z_dim)
    loss = objective(name)
    losses = loss(model, {"image": x, "label": labels if labels is not None else torch.zeros(6, dtype=torch.long)})
    term = loss.reconstruction
    assert set(losses) == ({"loss", term, "kl"} if model.variational else {"loss", term})
    if model.variational:
        assert torch.allclose(losses["loss"], loss.reconstruction_weight * losses[term] + loss.beta * losses["kl"])
        assert out.posterior.logvar is not None
    else:  # a plain autoencoder: sampling is the code itself
        assert out.posterior.logvar is None and torch.equal(out.posterior.sample(), out.posterior.mode())


def test_conditional_models_need_labels_and_use_them():
    model = build("mnist_cond_ae_2")
    z = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="conditional: pass labels"):
        model.decode(z)
    with pytest.raises(ValueError, match=r"in \[0, 10\)"):
        model.decode(z, torch.tensor([3, 10]))
    a, b = model.decode(z, torch.tensor([3, 8]))
    assert not torch.equal(a, b)  # same z, different digit
    with pytest.raises(ValueError, match="not conditional"):
        build("fashion_vae_2").decode(z, torch.tensor([1, 2]))


def test_the_seed_dense_autoencoder_is_784_100_784_sigmoid():
    model = build("mnist_dense_ae_digit0")
    assert model.num_parameters() == 784 * 100 + 100 + 100 * 784 + 784
    code = model.encode(torch.rand(3, 1, 28, 28)).mode()
    assert code.shape == (3, 100) and 0 < code.min() and code.max() < 1  # sigmoid units


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="reconstruction must be one of"):
        AutoencoderObjective(reconstruction="l1")
    with pytest.raises(TypeError):
        ConvAutoencoder(reconstruction_loss="mse")  # an objective's option, not the model's
    with pytest.raises(ValueError, match="activation"):
        DenseAutoencoder(activation="swish")
    with pytest.raises(ValueError, match="latent_activation"):
        DenseAutoencoder(latent_activation="sigmoid", variational=True)
    with pytest.raises(ValueError, match="divisible"):
        ConvAutoencoder(in_channels=1, image_size=28, hidden_channels=[8, 8, 8])
    with pytest.raises(ValueError, match="unknown model type"):
        model_class("transformer")


# --- the shared loop on the real data -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DIGIT_CONFIGS)
@pytest.mark.training
def test_training_steps_on_real_data_lower_the_loss(name):
    from latentlab.config import parse_config
    from latentlab.data import load_split
    from latentlab.training import train
    cfg = config(name)
    cfg["data"]["limit"] = 2048
    run = parse_config(cfg)
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    model, optimizer = train.build_run(run, accelerator)
    model, optimizer = accelerator.prepare(model, optimizer)
    recipe = train.recipe_for(run, model)
    data = load_split(run, "train")
    held = load_split(run, "validation")
    assert len(data) <= 2048 and data.images.shape[-1] == model.image_size
    if cfg["data"].get("classes"):
        assert set(data.labels.tolist()) == set(cfg["data"]["classes"])

    def held_out_loss():
        model.eval()
        with torch.no_grad():
            batch = train.to_batch(held.images[:512], held.labels[:512], False)
            loss = recipe.objective(model, batch, generator=torch.Generator().manual_seed(0))["loss"].item()
        model.train()
        return loss

    before = held_out_loss()
    noise = torch.Generator().manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(60):
        idx = torch.randint(0, len(data), (64,), generator=g)
        train.train_step(accelerator, model, optimizer, data.images[idx], data.labels[idx], recipe, noise)
    assert held_out_loss() < 0.9 * before


@pytest.mark.training
def test_the_script_trains_a_digit_model_end_to_end(tmp_path, local_hub):
    """`train.py` on a slice of real MNIST: a conditional model, exported with metrics, figures and a card, and
    published by `--push-to-hub` to a Hub-compatible endpoint."""
    cfg = config("mnist_cond_ae_2")
    cfg["output_dir"] = str(tmp_path / "run")
    cfg["data"].update(limit=1024, eval_limit=256)
    cfg["train"].update(max_epochs=2, checkpoint_every_steps=0)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, **local_hub.env(tmp_path / "train-cache")}
    proc = subprocess.run([sys.executable, str(REPO / "training" / "train.py"), "--config", str(path),
                           "--push-to-hub", "latent-lab/cond-test"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    folder = tmp_path / "run" / "model"
    record = json.loads((folder / "training_log.json").read_text())
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    assert record["history"][1]["validation"]["loss"] < record["history"][0]["validation"]["loss"]
    metrics = record["test_metrics"]
    assert metrics["test_images"] == 10_000 and 0 < metrics["test_bce"] < 0.7
    for fig in ("latent_scatter.png", "latent_histograms.png", "reconstructions.png", "samples.png"):
        assert (folder / fig).is_file()
    card = (folder / "README.md").read_text()
    assert "CC BY-SA 3.0" in card and "latent_scatter.png" in card and "train.py --config" in card
    from huggingface_hub import ModelCard

    assert ModelCard.load(folder / "README.md").data.license == "cc-by-sa-3.0"
    assert load_pretrained(str(folder)).conditional
    pulled = load_pretrained("latent-lab/cond-test")  # from the local Hub, through the real client
    assert pulled.conditional and all(torch.equal(a, b) for a, b in
                                      zip(pulled.state_dict().values(), load_pretrained(str(folder)).state_dict().values()))  # fmt: skip


# --- analysis helpers ------------------------------------------------------------------------------------------------
def test_noise_is_seeded_clipped_and_of_the_asked_amount():
    x = torch.full((4, 1, 28, 28), 0.5)
    g1, g2 = add_noise(x, "gaussian", 0.2, seed=1), add_noise(x, "gaussian", 0.2, seed=1)
    assert torch.equal(g1, g2) and 0 <= g1.min() and g1.max() <= 1 and abs(g1.std().item() - 0.2) < 0.02
    sp = add_noise(x, "salt_and_pepper", 0.1, seed=0)
    changed = (sp != 0.5).float().mean().item()
    assert abs(changed - 0.1) < 0.01 and set(sp.unique().tolist()) == {0.0, 0.5, 1.0}
    with pytest.raises(ValueError):
        add_noise(x, "speckle", 0.1)


def test_corrupt_gives_each_image_one_of_the_corruptions():
    from latentlab.analysis import corrupt

    x = torch.full((600, 1, 8, 8), 0.5)
    kinds = [{"kind": "none", "level": 0.0}, {"kind": "gaussian", "level": 0.3}, {"kind": "salt_and_pepper", "level": 0.5}]
    out = corrupt(x, kinds, torch.Generator().manual_seed(0))
    assert torch.equal(out, corrupt(x, kinds, torch.Generator().manual_seed(0)))  # reproducible by the generator
    flat = out.flatten(1)
    clean = (flat == 0.5).all(1)
    salted = ((flat == 0) | (flat == 1) | (flat == 0.5)).all(1) & ~clean
    gaussian = ~clean & ~salted
    for share in (clean, salted, gaussian):
        assert 0.25 < share.float().mean() < 0.42  # about a third each
    assert torch.equal(x, torch.full_like(x, 0.5))  # the input is not touched


def test_a_denoising_batch_encodes_the_corrupted_input_and_scores_the_clean_image():
    model = DenseAutoencoder(image_shape=(1, 8, 8), z_dim=4).eval()
    clean = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    noisy = add_noise(clean, "gaussian", 0.3, seed=1)
    mse = AutoencoderObjective()
    loss = mse(model, {"image": clean, "input": noisy})["mse"]
    with torch.no_grad():
        expected = torch.nn.functional.mse_loss(model.decode(model.encode(noisy).mode()), clean)
    torch.testing.assert_close(loss, expected)
    assert not torch.allclose(loss, mse(model, {"image": clean})["mse"])


def test_the_novelty_score_is_the_error_at_the_scale_of_strokes():
    from latentlab.analysis import NOVELTY_BLUR, novelty_scores, reconstruction_errors

    torch.manual_seed(0)
    model = DenseAutoencoder(image_shape=(1, 12, 12), z_dim=3).eval()
    x = torch.rand(4, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        diff = model.decode(model.encode(x).mode()) - x
    assert NOVELTY_BLUR == 1.0
    k = torch.exp(-torch.arange(-3.0, 4.0) ** 2 / 2)
    k = (k[:, None] * k[None, :] / k.sum() ** 2)[None, None]
    scores = novelty_scores(model, x)
    torch.testing.assert_close(scores, torch.nn.functional.conv2d(diff, k, padding=3).pow(2).flatten(1).mean(1))
    plain = reconstruction_errors(model, x)  # the reconstruction MSE itself
    torch.testing.assert_close(plain, diff.pow(2).flatten(1).mean(1))
    assert (scores < plain).all()  # pixel-fine differences are averaged out


def test_a_folder_with_a_retired_config_key_loads_and_says_so_once(tmp_path, caplog):
    import json
    import logging

    model = DenseAutoencoder(image_shape=(1, 12, 12), z_dim=3).eval()
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "error_blur": 1.0}))
    with caplog.at_level(logging.INFO, logger="latentlab.models.base"):
        loaded = DenseAutoencoder.from_pretrained(tmp_path)
    said = [r.getMessage() for r in caplog.records if "error_blur" in r.getMessage()]
    assert len(said) == 1 and "ignoring error_blur" in said[0], said
    assert not hasattr(loaded, "error_blur")
    with pytest.raises(TypeError):
        DenseAutoencoder(error_blur=1.0)  # not an argument any more


def test_normal_cdf_and_ppf_invert_each_other():
    p = torch.tensor([0.02, 0.5, 0.975])
    assert torch.allclose(torch.as_tensor(normal_cdf(normal_ppf(p))), p.double(), atol=1e-6)
    assert abs(float(normal_ppf(torch.tensor(0.975))) - 1.959964) < 1e-5


def test_scatter_clicks_map_back_to_latents():
    pts = torch.randn(200, 2).numpy()
    plot = scatter_plot(pts, (torch.arange(200) % 10).numpy(), [str(i) for i in range(10)], "t",
                        extent=(-3, 3, -2, 2))  # fmt: skip
    assert isinstance(plot, LatentPlot)
    left, top, right, bottom = plot.axes_box
    assert plot.to_latent(left, bottom) == pytest.approx((-3, -2))
    assert plot.to_latent(right, top) == pytest.approx((3, 2))
    assert plot.to_latent((left + right) / 2, (top + bottom) / 2) == pytest.approx((0, 0), abs=1e-6)
    assert plot.image.size == (640, 560)
    # the marker: to_pixel inverts to_latent; the cross is drawn on a copy, centred on the point, clamped to the axes
    assert plot.to_latent(*plot.to_pixel(1.25, -0.5)) == pytest.approx((1.25, -0.5))
    def rgb(image):
        return np.asarray(image.convert("RGB"), dtype=np.int16)

    marked = rgb(plot.with_marker(1.25, -0.5))
    changed = np.argwhere(np.abs(marked - rgb(plot.image)).sum(axis=2) > 0)
    px, py = plot.to_pixel(1.25, -0.5)
    assert abs(changed[:, 1].mean() - px) < 1.5 and abs(changed[:, 0].mean() - py) < 1.5
    assert (marked == 0).all(axis=2).any()  # black strokes
    assert (marked == 255).all(axis=2).any()  # white edges
    # the palette keeps the rendered figure (a PNG of it encodes fast): nearly every pixel as matplotlib drew it
    import matplotlib.pyplot as plt

    from latentlab.analysis import figure_to_image

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter(pts[:, 0], pts[:, 1], c=np.arange(200) % 10, cmap="tab10", alpha=0.6, s=30)
    figure = figure_to_image(fig)
    kept = LatentPlot.from_rgb(figure, (-3, 3, -2, 2), (0, 0, 400, 300)).image
    assert plot.image.mode == kept.mode == "P" and np.abs(rgb(kept) - rgb(figure)).mean() < 0.5
    outside = np.argwhere(np.abs(rgb(plot.with_marker(50.0, 0.0)) - rgb(plot.image)).sum(axis=2) > 0)
    assert abs(outside[:, 1].mean() - right) < 1.5  # clamped to the right edge of the axes


def test_an_uploaded_drawing_becomes_an_mnist_style_digit():
    from PIL import Image, ImageDraw

    drawing = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(drawing).line([(150, 20), (150, 180)], fill="black", width=14)  # a "1", black on white
    digit = digit_from_pil(drawing)
    assert digit.shape == (1, 28, 28) and digit.max() > 0.9
    assert digit[0, :, :4].max() == 0 and digit[0, :4].max() == 0  # white on black, centred with a margin
    cols = digit[0].sum(0)
    assert abs(float((cols * torch.arange(28)).sum() / cols.sum()) - 14) < 1.0
    assert digit_from_pil(Image.new("L", (28, 28), 255)).max() == 0  # blank stays blank


def test_digit_samples_save_and_load(tmp_path):
    data = load_mnist("fashion-mnist", "test").subset(slice(0, 50))
    data.save(tmp_path / "s.safetensors")
    back = DigitData.load(tmp_path / "s.safetensors")
    assert torch.equal(back.images, data.images) and torch.equal(back.labels, data.labels)
    assert back.class_names == data.class_names
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    from latentlab.data import DataError

    with pytest.raises(DataError, match="not a digit sample file"):
        DigitData.load(tmp_path / "bad.safetensors")


# --- the shipped models ---------------------------------------------------------------------------------------------
SHIPPED_NAMES = sorted(BUNDLED_DIGIT_MODELS)


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_shipped_folders_load_strictly_and_carry_their_figures(name):
    folder = SHIPPED / name
    model = load_pretrained(str(folder))
    record = json.loads((folder / "training_log.json").read_text())
    assert record["name"] == name and record["command"].startswith("python training/train.py --config training/configs/")
    card = (folder / "README.md").read_text()
    license_text = "MIT" if name.startswith("fashion") else "CC BY-SA 3.0"
    assert license_text in card
    for fig in record["test_metrics"]["figures"]:
        assert (folder / fig["file"]).is_file() and f"]({fig['file']})" in card
    expected = {"latent_histograms.png"} | ({"latent_scatter.png"} if model.z_dim == 2 else {"latent_tsne.png"})
    if model.variational and model.z_dim == 2:  # the decoded grid over the prior's quantiles needs a 2-d plane
        expected |= {"latent_grid.png", "latent_pvalues.png"}
    assert expected <= {f["file"] for f in record["test_metrics"]["figures"]}


def test_shipped_dense_autoencoder_detects_novel_digits():
    from sklearn.metrics import roc_auc_score

    from latentlab.analysis import novelty_scores

    model = load_pretrained(str(SHIPPED / "mnist-dense-ae-digit0"))
    test = load_mnist("mnist", "test")  # the real 10,000 test digits
    errors = novelty_scores(model, test.float_images())
    auc = roc_auc_score((test.labels != 0).numpy(), errors.numpy())
    assert auc > 0.9
    per_digit = torch.stack([errors[test.labels == d].mean() for d in range(10)])
    assert per_digit.argmin() == 0  # the training digit is reconstructed best


@pytest.mark.parametrize("name, clean_floor, noisy_floor", [("mnist-dense-ae-digit0", 0.95, None),
                                                             ("mnist-denoising-ae-digit0", 0.95, 0.9)])  # fmt: skip
def test_novelty_auc_on_clean_and_noisy_test_digits(name, clean_floor, noisy_floor):
    """ROC AUC of "not a 0" from the reconstruction error, on the 10,000 real test digits clean, with Gaussian noise
    σ 0.3 and with 10 % salt-and-pepper (the numbers are printed; the plain model fails under noise, see its card)."""
    from latentlab.analysis import novelty_report

    test = load_mnist("mnist", "test")
    report = novelty_report(load_pretrained(str(SHIPPED / name)), test.float_images(), test.labels, [0])
    print(f"{name}: AUC clean {report['auc']:.3f}, gaussian {report['auc_gaussian']:.3f}, "
          f"salt-and-pepper {report['auc_salt_and_pepper']:.3f}")
    assert report["auc"] >= clean_floor
    if noisy_floor is not None:
        assert report["auc_gaussian"] >= noisy_floor and report["auc_salt_and_pepper"] >= noisy_floor
    recorded = json.loads((SHIPPED / name / "metrics.json").read_text())["novelty"]
    assert recorded["auc_gaussian"] == pytest.approx(report["auc_gaussian"], abs=1e-6)  # the card's numbers are these


@pytest.fixture(scope="module")
def mnist_classifier():
    """The judge of ``training/evaluate_conditional.py`` (an MLP trained here on the real MNIST training set,
    independent of the models under test), as the cards' numbers were measured."""
    from latentlab.training.evaluate_conditional import train_judge

    net, accuracy = train_judge()
    assert accuracy > 0.96, f"the judge itself is too weak: {accuracy:.3f}"
    return net


def style_codes(model, n=500):
    from latentlab.directions import posterior_means

    test = load_mnist("mnist", "test").subset(slice(0, n))
    # the styles of n real test digits of every class
    return posterior_means(model, test.float_images(), labels=test.labels, progress=False)


@pytest.mark.parametrize("name", ["mnist-cond-ae-2", "mnist-cond-ae-5", "mnist-cond-vae-2", "mnist-cond-vae-5"])
def test_conditional_models_draw_every_digit_from_the_central_latent(name, mnist_classifier):
    """From the mean code of real test digits — where the app's sliders start — the judge reads every asked label."""
    model = load_pretrained(str(SHIPPED / name))
    centre = style_codes(model).mean(0, keepdim=True).repeat(10, 1)
    with torch.no_grad():
        assert mnist_classifier(model.decode(centre, torch.arange(10))).argmax(1).tolist() == list(range(10))


def asked_digit_shares(model, classifier, n=500) -> list[float]:
    """The latents of ``n`` real test digits (their styles), each decoded as every label: per label, the share the
    judge reads as the asked digit (:func:`latentlab.analysis.asked_label_accuracy`)."""
    from latentlab.analysis import asked_label_accuracy

    test = load_mnist("mnist", "test").subset(slice(0, n))
    return asked_label_accuracy(model, classifier, test.float_images(), test.labels)


@pytest.mark.parametrize("name", ["mnist-cond-vae-2", "mnist-cond-vae-5"])
def test_conditional_vae_draws_the_asked_digit_in_borrowed_styles(name, mnist_classifier):
    """Issue 15's measure: 500 real test styles × 10 labels; the conditional VAE draws the asked digit ≥ 95 % of the
    time, where the plain conditional AE of the same latent size draws it far less often (printed beside it)."""
    vae = asked_digit_shares(load_pretrained(str(SHIPPED / name)), mnist_classifier)
    ae = asked_digit_shares(load_pretrained(str(SHIPPED / name.replace("-vae-", "-ae-"))), mnist_classifier)
    print(f"{name}: {sum(vae) / 10:.3f} {[round(a, 3) for a in vae]}; plain AE: {sum(ae) / 10:.3f}")
    assert sum(vae) / 10 >= 0.95, [round(a, 3) for a in vae]
    assert sum(vae) / 10 > sum(ae) / 10
    for folder, measured in ((SHIPPED / name, vae), (SHIPPED / name.replace("-vae-", "-ae-"), ae)):
        recorded = json.loads((folder / "conditional_evaluation.json").read_text())  # the card's numbers
        assert recorded["mean"] == pytest.approx(sum(measured) / 10, abs=0.02)
        assert f"Drawn as asked: {100 * recorded['mean']:.1f} %" in (folder / "README.md").read_text()


def test_two_d_conditional_autoencoder_draws_the_asked_digit_in_borrowed_styles(mnist_classifier):
    """The latents of 500 real test digits of every class, each decoded as every label: on average over the labels
    the judge reads the asked one (the share per label is printed; wide styles make poor 1s). The 5-d model does not
    pass this: its latent carries the class, so it draws the source digit — see its card."""
    shares = asked_digit_shares(load_pretrained(str(SHIPPED / "mnist-cond-ae-2")), mnist_classifier)
    print("share drawn as asked, digits 0-9:", [round(a, 3) for a in shares])
    assert sum(shares) / 10 > 0.8, [round(a, 3) for a in shares]
