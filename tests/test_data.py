import pytest
import torch

from latentlab.data import CELEBA_ATTRIBUTES, DataError, load_celeba


def test_real_celeba_hq_splits(celeba_dir):
    test = load_celeba(celeba_dir, "test")
    assert len(test) == 2824  # the official split sizes of ../shared/data/README.md
    assert test.images.shape == (2824, 3, 64, 64) and test.images.dtype == torch.uint8
    assert test.attributes.shape == (2824, 40) and set(test.attributes.unique().tolist()) == {0, 1}
    assert test.attribute_names == CELEBA_ATTRIBUTES and len(CELEBA_ATTRIBUTES) == 40
    x = test.float_images(slice(0, 8))
    assert x.dtype == torch.float32 and x.shape == (8, 3, 64, 64) and 0 <= x.min() and x.max() <= 1
    assert x.std() > 0.1  # real pictures, not blanks
    # positive counts over all 30,000 faces as documented: Smiling 14092, Blond_Hair 5126, Male 11057, Eyeglasses 1468
    splits = [test, load_celeba(celeba_dir, "validation"), load_celeba(celeba_dir, "train")]
    assert [len(s) for s in splits] == [2824, 2993, 24183]
    counts = sum(s.attributes.long().sum(0) for s in splits)
    expected = {"Smiling": 14092, "Blond_Hair": 5126, "Male": 11057, "Eyeglasses": 1468}
    assert {n: counts[CELEBA_ATTRIBUTES.index(n)].item() for n in expected} == expected


def test_cache_returns_identical_tensors(celeba_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTLAB_CACHE", str(tmp_path))
    first = load_celeba(celeba_dir, "validation", limit=100)
    assert len(list(tmp_path.glob("celeba-validation-*.safetensors"))) == 1
    second = load_celeba(celeba_dir, "validation", limit=100)
    assert torch.equal(first.images, second.images) and torch.equal(first.attributes, second.attributes)
    assert first.image_ids == second.image_ids and len(first) == 100


def test_resizes_other_image_sizes(celeba_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTLAB_CACHE", str(tmp_path))
    small = load_celeba(celeba_dir, "test", image_size=32, limit=4)
    assert small.images.shape == (4, 3, 32, 32)


def test_missing_or_malformed_paths_are_named(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(DataError, match="no-such-dir"):
        load_celeba(missing, "train")
    (tmp_path / "other.parquet").write_bytes(b"")
    with pytest.raises(DataError, match=r"no Parquet files for split 'train'.*other\.parquet"):
        load_celeba(tmp_path, "train")
    (tmp_path / "train-00000-of-00001.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match="could not load CelebA split 'train'"):
        load_celeba(tmp_path, "train", use_cache=False)


def test_hub_id_goes_through_datasets_and_fails_clearly_offline():
    # the same code path accepts a Hub dataset id; offline (as here) the error names the id
    with pytest.raises(DataError, match="some-owner/no-such-celeba"):
        load_celeba("some-owner/no-such-celeba", "train")


@pytest.mark.parametrize("name, classes", [("mnist", "0"), ("fashion-mnist", "T-shirt/top")])
def test_real_mnist_and_fashion_mnist(name, classes):
    from latentlab.data import load_mnist

    train, test = load_mnist(name, "train"), load_mnist(name, "test")
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert train.class_names[0] == classes and len(train.class_names) == 10
    assert torch.equal(torch.bincount(test.labels, minlength=10) > 0, torch.ones(10, dtype=torch.bool))
    if name == "fashion-mnist":  # documented: 6,000 / 1,000 per class, pixel mean 0.2860 (train)
        assert torch.bincount(train.labels).tolist() == [6000] * 10
        assert train.float_images().mean().item() == pytest.approx(0.2860, abs=1e-4)
    padded = load_mnist(name, "test", pad_to=32)
    assert padded.images.shape == (10000, 1, 32, 32)
    assert torch.equal(padded.images[:, :, 2:30, 2:30], test.images) and padded.images[:, :, :2].sum() == 0


def test_mnist_errors_name_the_file(tmp_path):
    from latentlab.data import load_mnist

    with pytest.raises(DataError, match="no-such"):
        load_mnist("mnist", "train", tmp_path / "no-such")
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"junk")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        load_mnist("mnist", "train", tmp_path)
    with pytest.raises(DataError, match="unknown dataset"):
        load_mnist("kmnist")
