import json
import shutil

import pytest
import safetensors
import safetensors.torch
import torch

from latentlab import AttributeDirections, CheckpointError, ConvAutoencoder, DirectionsMismatchError, LatentMismatchError, latent
from latentlab.directions import DIRECTIONS_NAME
from latentlab.objectives import AutoencoderObjective


def test_book_architecture_shapes_dtypes_ranges():
    vae = ConvAutoencoder().eval()  # the book's defaults
    assert vae.z_dim == 200
    assert 480_000 < vae.num_parameters() < 500_000  # ≈0.49 M, as the book's summary
    x = torch.rand(5, 3, 64, 64)
    posterior = vae.encode(x)
    assert posterior.mean.shape == posterior.logvar.shape == (5, 200)
    assert posterior.mean.dtype == torch.float32
    assert torch.equal(posterior.mode(), posterior.mean)
    assert posterior.kl().shape == (5,) and (posterior.kl() >= 0).all()
    images = vae.decode(posterior.sample())
    assert images.shape == (5, 3, 64, 64) and images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    out = vae(x, sample_posterior=False)
    assert torch.equal(out.z, posterior.mean)


def test_the_books_loss_is_weighted_mse_plus_kl(tiny_vae):
    """The fixed-variance objective: w · MSE + β · KL (the book's w = 2000, β = 1; β > 1 weighs the KL term)."""
    x = torch.rand(4, 3, 32, 32)
    book, compressed = AutoencoderObjective(reconstruction_weight=2000.0), AutoencoderObjective(reconstruction_weight=2000.0, beta=3.0)
    losses = book(tiny_vae, {"image": x}, generator=torch.Generator().manual_seed(1))
    out = tiny_vae(x, generator=torch.Generator().manual_seed(1))
    mse = ((out.reconstruction - x) ** 2).mean()
    kl = (0.5 * (out.posterior.mean**2 + out.posterior.logvar.exp() - 1 - out.posterior.logvar).sum(1)).mean()
    torch.testing.assert_close(losses["mse"], mse)
    torch.testing.assert_close(losses["kl"], kl)
    torch.testing.assert_close(losses["loss"], 2000.0 * mse + kl)
    more = compressed(tiny_vae, {"image": x}, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(more["loss"], 2000.0 * mse + 3.0 * kl)


def test_bad_shapes_and_configs_raise(tiny_vae):
    with pytest.raises(ValueError, match=r"expected images of shape \(B, 3, 32, 32\)"):
        tiny_vae.encode(torch.rand(2, 3, 64, 64))
    with pytest.raises(ValueError, match=r"expected latents of shape \(B, 12\)"):
        tiny_vae.decode(torch.rand(2, 13))
    with pytest.raises(ValueError, match="not divisible"):
        ConvAutoencoder(image_size=48, hidden_channels=[8] * 5)


def test_save_and_load_round_trip_is_bit_exact(tiny_vae, tmp_path):
    tiny_vae.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["z_dim"] == 12
    loaded = ConvAutoencoder.from_pretrained(str(tmp_path))
    assert loaded.image_size == 32 and loaded.z_dim == 12
    a, b = tiny_vae.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    x = torch.rand(3, 3, 32, 32)
    assert torch.equal(tiny_vae(x, sample_posterior=False).reconstruction, loaded(x, sample_posterior=False).reconstruction)


def test_channels_last_model_saves_plain_tensors(tiny_vae, tmp_path):
    fingerprint = tiny_vae.weights_fingerprint()
    tiny_vae.to(memory_format=torch.channels_last).save_pretrained(tmp_path)
    assert ConvAutoencoder.from_pretrained(str(tmp_path)).weights_fingerprint() == fingerprint


@pytest.mark.parametrize("tamper", ["extra_tensor", "missing_tensor", "wrong_shape", "truncated", "no_config", "no_weights"])
def test_tampered_checkpoint_fails_loudly(tiny_vae, tmp_path, tamper):
    tiny_vae.save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    state = safetensors.torch.load_file(str(weights))
    if tamper == "extra_tensor":
        state["decoder.extra"] = torch.zeros(3)
        safetensors.torch.save_file(state, str(weights))
    elif tamper == "missing_tensor":
        del state["mean_head.weight"]
        safetensors.torch.save_file(state, str(weights))
    elif tamper == "wrong_shape":
        state["mean_head.bias"] = torch.zeros(7)
        safetensors.torch.save_file(state, str(weights))
    elif tamper == "truncated":
        weights.write_bytes(weights.read_bytes()[:500])
    elif tamper == "no_config":
        (tmp_path / "config.json").unlink()
    elif tamper == "no_weights":
        weights.unlink()
        torch.save(state, tmp_path / "pytorch_model.bin")  # a pickle beside it must not be used
    with pytest.raises(CheckpointError):
        ConvAutoencoder.from_pretrained(str(tmp_path))


def test_config_that_does_not_match_weights_fails(tiny_vae, tmp_path):
    tiny_vae.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["z_dim"] = 13
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not load strictly"):
        ConvAutoencoder.from_pretrained(str(tmp_path))


def test_a_config_without_model_type_is_refused_by_name(tiny_vae, tmp_path):
    from latentlab import load_pretrained

    tiny_vae.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    del config["model_type"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="has no model_type"):
        ConvAutoencoder.from_pretrained(str(tmp_path))
    with pytest.raises(CheckpointError, match="no model_type in config.json"):
        load_pretrained(str(tmp_path))


def test_lenient_loading_is_refused(tiny_vae, tmp_path):
    tiny_vae.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="strictly"):
        ConvAutoencoder.from_pretrained(str(tmp_path), strict=False)


def _directions_for(model: ConvAutoencoder, names=("Smiling", "Male")) -> AttributeDirections:
    torch.manual_seed(3)
    z = torch.randn(50, model.z_dim)
    labels = torch.randint(0, 2, (50, len(names)))
    vectors, n_pos, n_neg = latent.attribute_directions(z, labels)
    return AttributeDirections(tuple(names), vectors, n_pos, n_neg, model.latent_fingerprint())


def test_directions_survive_the_round_trip(tiny_vae, tmp_path):
    directions = _directions_for(tiny_vae)
    tiny_vae.set_attribute_directions(directions)
    tiny_vae.save_pretrained(tmp_path)
    assert (tmp_path / DIRECTIONS_NAME).is_file()
    loaded = ConvAutoencoder.from_pretrained(str(tmp_path)).attribute_directions
    assert loaded.names == ("Smiling", "Male")
    assert torch.equal(loaded.vectors, directions.vectors)
    assert torch.equal(loaded["Male"], directions.vectors[1])
    assert torch.equal(loaded.positive_count + loaded.negative_count, torch.tensor([50, 50]))
    assert (loaded.method, loaded.shrinkage) == ("mean_difference", 0.0)
    with pytest.raises(KeyError, match="unknown attribute 'Bald'"):
        loaded["Bald"]


def test_directions_files_record_their_estimator(tiny_vae, tmp_path):
    plain = _directions_for(tiny_vae)
    z, labels = torch.randn(50, tiny_vae.z_dim, generator=torch.Generator().manual_seed(3)), torch.randint(0, 2, (50, 2))
    vectors, n_pos, n_neg = latent.attribute_directions(z, labels, "regression", 0.5)
    mean_differences = latent.attribute_directions(z, labels)[0]
    ridge = AttributeDirections(plain.names, vectors, n_pos, n_neg, plain.latent_fingerprint, "regression", 0.5,
                                mean_differences)  # fmt: skip
    ridge.save(tmp_path / "ridge.safetensors")
    loaded = AttributeDirections.load(tmp_path / "ridge.safetensors", expected_fingerprint=plain.latent_fingerprint)
    assert (loaded.method, loaded.shrinkage) == ("regression", 0.5) and torch.equal(loaded.vectors, vectors)
    assert torch.equal(loaded.mean_differences, mean_differences)
    assert AttributeDirections.read_estimator(tmp_path / "ridge.safetensors") == ("regression", 0.5)
    # mean-difference files store their vectors once; the vectors are their own mean differences
    plain.save(tmp_path / "plain.safetensors")
    assert "mean_differences" not in safetensors.torch.load_file(str(tmp_path / "plain.safetensors"))
    assert torch.equal(AttributeDirections.load(tmp_path / "plain.safetensors").mean_differences, plain.vectors)
    # regression directions without their mean differences cannot decorrelate: refused when built and when loaded
    with pytest.raises(ValueError, match="need the attributes' mean differences"):
        AttributeDirections(plain.names, vectors, n_pos, n_neg, plain.latent_fingerprint, "regression", 0.5)
    with pytest.raises(ValueError, match="mean_differences must have the vectors' shape"):
        AttributeDirections(plain.names, vectors, n_pos, n_neg, plain.latent_fingerprint, "regression", 0.5,
                            mean_differences[:1])  # fmt: skip
    with safetensors.safe_open(str(tmp_path / "ridge.safetensors"), framework="pt") as f:
        meta, tensors = dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys() if k != "mean_differences"}
    safetensors.torch.save_file(tensors, str(tmp_path / "older.safetensors"), metadata=meta)
    with pytest.raises(ValueError, match="not a valid attribute-directions file"):
        AttributeDirections.load(tmp_path / "older.safetensors")
    assert AttributeDirections.read_estimator(tmp_path / "older.safetensors") == ("regression", 0.5)  # to recompute it
    with pytest.raises(ValueError, match="unknown direction method 'lda'"):
        AttributeDirections(plain.names, vectors, n_pos, n_neg, plain.latent_fingerprint, "lda")
    # a file whose metadata names no known estimator is refused as a whole, not loaded with a guess
    tensors = safetensors.torch.load_file(str(tmp_path / "ridge.safetensors"))
    with safetensors.safe_open(str(tmp_path / "ridge.safetensors"), framework="pt") as f:
        meta = dict(f.metadata())
    safetensors.torch.save_file(tensors, str(tmp_path / "old.safetensors"), metadata={**meta, "method": "mean(z | 1) - mean(z | 0)"})
    with pytest.raises(ValueError, match="not a valid attribute-directions file"):
        AttributeDirections.load(tmp_path / "old.safetensors")


def test_directions_never_attach_to_other_weights(tiny_vae, tmp_path):
    other = ConvAutoencoder(image_size=32, hidden_channels=[8, 16, 16], z_dim=12).eval()  # same shape, other weights
    with pytest.raises(DirectionsMismatchError):
        other.set_attribute_directions(_directions_for(tiny_vae))
    # a directions file copied into another model's folder is refused at load time
    tiny_vae.set_attribute_directions(_directions_for(tiny_vae))
    tiny_vae.save_pretrained(tmp_path / "a")
    other.save_pretrained(tmp_path / "b")
    shutil.copy(tmp_path / "a" / DIRECTIONS_NAME, tmp_path / "b" / DIRECTIONS_NAME)
    with pytest.raises(DirectionsMismatchError):
        ConvAutoencoder.from_pretrained(str(tmp_path / "b"))
    # and weights trained further after the directions were computed cannot be saved with them
    with torch.no_grad():
        tiny_vae.mean_head.bias.add_(0.01)
    with pytest.raises(DirectionsMismatchError):
        tiny_vae.save_pretrained(tmp_path / "c")


def test_extras_are_bound_to_the_encoder_not_the_decoder(tiny_vae, tmp_path):
    """Directions and the prior come from posterior codes: a retrained decoder under the same encoder keeps them (the
    latent fingerprint covers the encoder side only), while any change to the encoder side refuses them."""
    tiny_vae.set_attribute_directions(_directions_for(tiny_vae))
    before = tiny_vae.latent_fingerprint(), tiny_vae.weights_fingerprint()
    with torch.no_grad():
        for p in tiny_vae.decoder.parameters():
            p.add_(0.01)
    assert tiny_vae.latent_fingerprint() == before[0] and tiny_vae.weights_fingerprint() != before[1]
    tiny_vae.save_pretrained(tmp_path / "new-decoder")  # still bound: saves, and loads strictly with its directions
    loaded = ConvAutoencoder.from_pretrained(str(tmp_path / "new-decoder"))
    assert torch.equal(loaded.attribute_directions.vectors, tiny_vae.attribute_directions.vectors)
    with torch.no_grad():
        next(tiny_vae.mean_head.parameters()).add_(0.01)
    assert tiny_vae.latent_fingerprint() != before[0]
    with pytest.raises(LatentMismatchError, match="another encoder"):
        tiny_vae.save_pretrained(tmp_path / "new-encoder")


@pytest.mark.parametrize("channels_last", [False, True])
def test_upsample_conv_equals_upsampling_then_convolving(channels_last):
    """The residual VAE's decoder never builds the upsampled tensor: the result and its gradients must be those of
    nearest ×2 upsampling followed by the 3×3 convolution."""
    from torch import nn

    from latentlab.models.resnet import upsample_conv

    torch.manual_seed(0)
    conv = nn.Conv2d(5, 7, 3, padding=1).double()
    x = torch.randn(3, 5, 4, 6, dtype=torch.float64, requires_grad=True)
    xs = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    expected = conv(nn.functional.interpolate(xs, scale_factor=2, mode="nearest"))
    got = upsample_conv(xs, conv)
    assert got.shape == (3, 7, 8, 12) and got.is_contiguous(memory_format=torch.channels_last) == channels_last
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    grad = torch.randn_like(expected)
    expected_grads = torch.autograd.grad(expected, [x, conv.weight, conv.bias], grad)
    for g, e in zip(torch.autograd.grad(got, [x, conv.weight, conv.bias], grad), expected_grads):
        torch.testing.assert_close(g, e, rtol=0, atol=1e-10)
    with torch.no_grad():  # the kernel kept for inference follows the weights
        upsample_conv(xs, conv)
        conv.weight.mul_(2.0)
        torch.testing.assert_close(upsample_conv(xs, conv), conv(nn.functional.interpolate(xs, scale_factor=2)))


def test_residual_decoder_matches_a_plain_sequential():
    """Decoder is an nn.Sequential with the same parameter names: same outputs as running its layers one by one."""
    from torch import nn

    from latentlab.models import ResNetAutoencoder

    torch.manual_seed(0)
    model = ResNetAutoencoder(image_size=32, widths=[8, 16, 16], stem_stride=2, z_dim=6).eval()
    assert isinstance(model.decoder, nn.Sequential)
    assert sum(isinstance(m, nn.Upsample) for m in model.decoder) == 3
    z = torch.randn(4, 6)
    with torch.no_grad():
        h = model.decoder_input(z).view(4, *model._bottleneck)
        plain = torch.sigmoid(nn.Sequential.forward(model.decoder, h))
        torch.testing.assert_close(model.decode(z), plain, rtol=0, atol=1e-5)


def test_a_narrower_decoder_is_a_config(tmp_path):
    """decoder_widths narrows only the decoder: same encoder and latent, fewer decoder parameters, and the folder
    records it (a cheaper morph / sample under the same latent space)."""
    from latentlab.models import ResNetAutoencoder

    torch.manual_seed(0)
    wide = ResNetAutoencoder(image_size=32, widths=[8, 16, 32], stem_stride=2, z_dim=6).eval()
    narrow = ResNetAutoencoder(image_size=32, widths=[8, 16, 32], decoder_widths=[8, 12, 16], stem_stride=2, z_dim=6)
    encoder_shapes = lambda m: {k: v.shape for k, v in m.state_dict().items() if not k.startswith("decoder")}  # noqa: E731
    assert encoder_shapes(wide) == encoder_shapes(narrow)
    count = lambda m: sum(p.numel() for n, p in m.named_parameters() if n.startswith("decoder"))  # noqa: E731
    assert count(narrow) < count(wide) / 2
    assert narrow.decode(torch.randn(3, 6)).shape == (3, 3, 32, 32)
    narrow.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["decoder_widths"] == [8, 12, 16]
    z = torch.randn(2, 6)
    torch.testing.assert_close(ResNetAutoencoder.from_pretrained(tmp_path).eval().decode(z), narrow.eval().decode(z))
    with pytest.raises(ValueError, match="decoder_widths"):
        ResNetAutoencoder(image_size=32, widths=[8, 16, 32], decoder_widths=[8, 16], stem_stride=2)


def test_conditional_projects_out_the_kept_attributes_mean_differences():
    """'Keep unchanged' holds the kept attribute's whole data axis (its mean difference) still, also for regression
    directions, whose own row of that attribute leaves part of the axis open."""
    g = torch.Generator().manual_seed(5)
    vectors, mean_differences = torch.randn(3, 8, generator=g), torch.randn(3, 8, generator=g)
    counts = torch.ones(3, dtype=torch.long)
    directions = AttributeDirections(("A", "B", "C"), vectors, counts, counts, "fp", "regression", 0.0, mean_differences)
    d = directions.decorrelated("A", ["B", "C"])
    assert (mean_differences[1:] @ d).abs().max() < 1e-5 * d.norm()
    assert (vectors[1:] @ d).abs().max() > 1e-2
    torch.testing.assert_close(d, latent.project_out(vectors[0], mean_differences[1:]))
    torch.testing.assert_close(directions.stack_mean_differences(["C", "A"]), mean_differences[[2, 0]])
    assert torch.equal(directions.decorrelated("A"), vectors[0])
    book = AttributeDirections(("A", "B", "C"), vectors, counts, counts, "fp")  # the mean difference: its own axes
    torch.testing.assert_close(book.decorrelated("A", ["B"]), latent.project_out(vectors[0], vectors[1]))
