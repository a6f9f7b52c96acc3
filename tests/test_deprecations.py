"""Deprecated names still work for one release, and each warns with the name that replaces it."""

import importlib

import pytest
import torch

import latentlab
from latentlab import AttributeDirections, ConvAutoencoder, GaussianMixturePrior, latent
from latentlab.models import AutoencoderOutput


@pytest.mark.parametrize("module, old, new, target", [
    ("latentlab", "ConvVAE", "ConvAutoencoder", ConvAutoencoder),
    ("latentlab", "VAEOutput", "AutoencoderOutput", AutoencoderOutput),
    ("latentlab.models", "ConvVAE", "ConvAutoencoder", ConvAutoencoder),
    ("latentlab.models", "VAEOutput", "AutoencoderOutput", AutoencoderOutput),
    ("latentlab.models.conv", "ConvVAE", "ConvAutoencoder", ConvAutoencoder),
    ("latentlab.models.autoencoder", "VAEOutput", "AutoencoderOutput", AutoencoderOutput),
])  # fmt: skip
def test_class_aliases_warn_and_are_the_class(module, old, new, target):
    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=new):
        assert getattr(mod, old) is target
    assert old not in getattr(mod, "__all__", ())
    with pytest.raises(AttributeError):
        getattr(mod, "NoSuchName")


def test_from_import_of_a_class_alias_warns():
    with pytest.warns(DeprecationWarning, match="ConvAutoencoder"):
        from latentlab import ConvVAE
    with pytest.warns(DeprecationWarning, match="AutoencoderOutput"):
        from latentlab.models import VAEOutput
    assert ConvVAE is ConvAutoencoder and VAEOutput is AutoencoderOutput


def test_new_names_do_not_warn(recwarn):
    from latentlab import AutoencoderOutput as A, ConvAutoencoder as C
    from latentlab.directions import posterior_means

    assert A is AutoencoderOutput and C is ConvAutoencoder and callable(posterior_means)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
    assert "ConvVAE" not in latentlab.__all__ and "VAEOutput" not in latentlab.__all__


def _directions() -> AttributeDirections:
    vectors = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return AttributeDirections(("A", "B", "C"), vectors, torch.ones(3, dtype=torch.int64),
                               torch.ones(3, dtype=torch.int64), "fingerprint")  # fmt: skip


def test_conditional_direction_is_decorrelated():
    directions = _directions()
    expected = directions.decorrelated("A", ["B"])
    with pytest.warns(DeprecationWarning, match="decorrelated"):
        old = directions.conditional("A", ["B"])
    torch.testing.assert_close(old, expected)
    with pytest.warns(DeprecationWarning, match="decorrelated"):
        old = directions.conditional("A", keep=("B",), rescale=False)
    torch.testing.assert_close(old, directions.decorrelated("A", ("B",), rescale=False))


def test_latent_codes_is_posterior_means(tiny_vae):
    from latentlab.analysis import latent_codes
    from latentlab.directions import posterior_means

    x = torch.rand(5, 3, 32, 32)
    expected = posterior_means(tiny_vae, x, 2)
    assert expected.shape == (5, tiny_vae.z_dim)
    with pytest.warns(DeprecationWarning, match="posterior_means"):
        codes = latent_codes(tiny_vae, x, None, 2)
    torch.testing.assert_close(codes, expected)
    with pytest.warns(DeprecationWarning, match="posterior_means"):
        codes = latent_codes(tiny_vae, x, batch=3)
    torch.testing.assert_close(codes, expected)


def test_sample_count_keyword_accepts_num():
    expected = latent.sample(4, 3, seed=1)
    assert torch.equal(latent.sample(count=4, z_dim=3, seed=1), expected)
    with pytest.warns(DeprecationWarning, match="'count'"):
        assert torch.equal(latent.sample(num=4, z_dim=3, seed=1), expected)
    with pytest.raises(TypeError):
        latent.sample(num=4, count=4, z_dim=3)
    with pytest.warns(DeprecationWarning, match="'count'"):
        latent.check_sample_args(num=1, temperature=1.0)


def test_prior_sample_count_keyword_accepts_num():
    prior = GaussianMixturePrior(weights=torch.ones(1, dtype=torch.float64), means=torch.zeros(1, 2, dtype=torch.float64),
                                 scale_tril=torch.eye(2, dtype=torch.float64)[None], latent_fingerprint="fingerprint")  # fmt: skip
    expected = prior.sample(3, seed=0)
    assert torch.equal(prior.sample(count=3, seed=0), expected)
    with pytest.warns(DeprecationWarning, match="'count'"):
        assert torch.equal(prior.sample(num=3, seed=0), expected)


def test_reconstruction_errors_batch_keyword(tiny_vae):
    from latentlab.analysis import reconstruction_errors

    x = torch.rand(5, 3, 32, 32)
    expected = reconstruction_errors(tiny_vae, x, batch_size=2)
    with pytest.warns(DeprecationWarning, match="'batch_size'"):
        torch.testing.assert_close(reconstruction_errors(tiny_vae, x, batch=2), expected)
