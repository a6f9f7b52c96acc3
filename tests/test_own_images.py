"""Training on your own images: the README's two commands (pictures written to a folder, then ``train.py`` on it) run
end to end on a slice of real CelebA faces the project does not ship as a training set (the aligned CelebA set),
with and without labels; and the collection loader on its own."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard
from PIL import Image

from latentlab.data import DataError, ImageCollection, load_celeba, load_images

from .conftest import REPO

ALIGNED = REPO.parent / "shared" / "data" / "celeba" / "aligned64"


def run(*args: str, timeout: int = 600) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """300 real CelebA faces as JPEG files in a folder, written by the README's first command."""
    if not ALIGNED.is_dir():
        pytest.fail(f"the real CelebA aligned set is required at {ALIGNED}")
    folder = tmp_path_factory.mktemp("own") / "my-photos"
    out = run("training/write_images.py", str(ALIGNED), "--out", str(folder), "--count", "300")
    assert "wrote 300 pictures" in out
    return folder


@pytest.mark.served
@pytest.mark.training
def test_the_readme_commands_train_a_vae_on_a_folder_of_photos(photos, tmp_path):
    readme = (REPO / "README.md").read_text()
    assert "python training/write_images.py ../shared/data/celeba/aligned64 --out runs/my-photos" in readme
    assert "python training/train.py --config training/configs/own_images.yaml --set data.source=runs/my-photos" in readme
    out = run("training/train.py", "--config", "training/configs/own_images.yaml", "--set", f"data.source={photos}",
              "--output-dir", str(tmp_path / "run"), "--set", "train.max_epochs=1", "--set", "train.num_workers=1",
              "--set", "data.validation_size=50")  # fmt: skip
    assert "data: 250 train / 50 validation images" in out  # the folder's last pictures validate
    model = tmp_path / "run" / "model"
    # a VAE of 32-px pictures with a fitted prior and a card, and no directions: the pictures had no labels
    assert {"model.safetensors", "config.json", "prior.safetensors", "README.md", "samples.png"} <= {p.name for p in model.iterdir()}
    assert not (model / "attribute_directions.safetensors").exists()
    card = ModelCard.load(model / "README.md")
    assert card.data.library_name == "latentlab" and "no attribute directions" in card.text
    assert "of your own 32×32 images" in card.text and "(B, 3, 32, 32)" in card.text  # sizes from the model
    assert json.loads((model / "config.json").read_text())["image_size"] == 32

    # the app serves it: Morph and Sample work, Edit says why it cannot
    import gradio as gr

    from latentlab.faces import FaceLab
    from latentlab.ui.faces import _describe_face_model, edit, sample

    labs = {"mine": FaceLab.from_pretrained(model)}
    assert labs["mine"].attribute_names == () and "no attribute directions" in _describe_face_model("mine", labs["mine"])
    grid, said = sample(labs, 0, 4, 1.0)
    assert grid.size == (4 * 34 + 2, 36)  # 4 faces of 32 px, 2-px gaps
    assert "fitted on the posterior means of 250 train images" in said  # what the prior was fitted on, said once
    with pytest.raises(gr.Error, match="mine has no attribute directions"):
        edit(labs, Image.open(next(photos.iterdir())), "Smiling", 1.0, model="mine")

    # served as the README says (LATENTLAB_FACE_MODELS=<run>/model): named by its card, not by its folder "model"
    import requests
    from gradio_client import Client

    from .conftest import serve_app

    with serve_app({"LATENTLAB_FACE_MODELS": str(model)}) as (url, _):
        api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
        config = requests.get(url + "config", timeout=30).json()
    defaults = {p["parameter_name"]: p.get("parameter_default") for p in api["/sample"]["parameters"]}
    assert defaults["model"] == "own-images-vae-32"
    # its Edit tab says why it cannot edit, and its buttons cannot be pressed
    props = [c["props"] for c in config["components"]]
    assert any("own-images-vae-32 has no attribute directions" in str(p.get("value")) for p in props)
    # the page's wording comes from the model: its latent and image sizes, no CelebA terms
    text = " ".join(str(p.get("value")) + str(p.get("info")) for p in props)
    assert "64-number latent" in text and "A 32×32 picture" in text
    assert "200-number" not in text and "64×64" not in text and "CelebA-HQ (Liu" not in text
    buttons = [p for p in props if p.get("value") in ("Edit", "Apply all")]
    assert len(buttons) == 2 and not any(p.get("interactive", True) for p in buttons)


@pytest.mark.training
def test_labels_from_sub_folders_give_attribute_directions(photos, tmp_path):
    """A folder with one sub-folder per class: its ``label`` column becomes one attribute per class."""
    folder = tmp_path / "labelled"
    for i, path in enumerate(sorted(photos.iterdir())[:120]):
        (folder / ("left" if i % 2 else "right")).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / ("left" if i % 2 else "right") / path.name)
    run("training/train.py", "--config", "training/configs/own_images.yaml", "--set", f"data.source={folder}",
        "--set", "data.label_columns=[label]", "--set", "data.validation_size=20", "--output-dir", str(tmp_path / "run"),
        "--set", "train.max_epochs=1", "--set", "train.num_workers=0")  # fmt: skip
    from latentlab.directions import AttributeDirections

    directions = AttributeDirections.read(tmp_path / "run" / "model" / "attribute_directions.safetensors")
    assert directions.names == ("left", "right") and directions.vectors.shape == (2, 64)
    assert "left, right" in (tmp_path / "run" / "model" / "README.md").read_text()


def test_a_parquet_collection_is_decoded_on_the_fly_with_its_binary_labels(celeba_dir):
    collection = load_images(celeba_dir / "test-00000-of-00001.parquet", "train", image_size=32,
                             label_columns=["Smiling", "Male"], limit=100)  # fmt: skip
    assert isinstance(collection, ImageCollection) and len(collection) == 100
    assert collection.dataset.cache_files  # rows stay in the Arrow file on disk, memory-mapped
    faces = load_celeba(celeba_dir, "test", image_size=32, limit=100)
    names = faces.attribute_names
    expected = faces.attributes[:, [names.index("Smiling"), names.index("Male")]]
    assert collection.attribute_names == ("Smiling", "Male") and torch.equal(collection.attributes, expected)
    image, target = collection[3]
    assert image.dtype == torch.uint8 and image.shape == (3, 32, 32) and torch.equal(target, expected[3])
    assert torch.equal(collection.uint8_images(slice(0, 5)), faces.images[:5])  # the same resize as the face loader
    batch = next(iter(torch.utils.data.DataLoader(collection.to_dataset(), batch_size=8, num_workers=2)))
    assert batch[0].shape == (8, 3, 32, 32) and np.array_equal(batch[0][3].numpy(), image.numpy())


def test_bad_collections_get_clear_errors(tmp_path, celeba_dir):
    with pytest.raises(DataError, match="image collection not found"):
        load_images(tmp_path / "nowhere")
    with pytest.raises(DataError, match="no label column 'Sunglasses'"):
        load_images(celeba_dir / "test-00000-of-00001.parquet", "train", label_columns=["Sunglasses"], limit=5)
    with pytest.raises(DataError, match="no column 'picture'"):
        load_images(celeba_dir / "test-00000-of-00001.parquet", "train", image_column="picture", limit=5)
    with pytest.raises(DataError, match="no split 'validation'"):
        load_images(celeba_dir / "test-00000-of-00001.parquet", "validation", limit=5)


def test_a_parquet_folder_gives_each_split_its_own_files(celeba_dir):
    """CelebA-HQ's folder holds train-, validation- and test-*.parquet files: each split reads its own files only."""
    faces = load_celeba(celeba_dir, "test")
    test = load_images(celeba_dir, "test", label_columns=["Smiling", "Male"])
    assert len(test) == 2824 and test.image_ids == faces.image_ids
    names = faces.attribute_names
    assert torch.equal(test.attributes, faces.attributes[:, [names.index("Smiling"), names.index("Male")]])
    assert torch.equal(test.uint8_images(slice(0, 4)), faces.images[:4])
    assert [len(load_images(celeba_dir, split)) for split in ("train", "validation")] == [24183, 2993]
    with pytest.raises(DataError, match=r"no Parquet files for split 'extra'.*test-00000-of-00001\.parquet"):
        load_images(celeba_dir, "extra")


def test_celeba_needs_parquet_files_named_after_their_split(tmp_path):
    """A folder whose Parquet file names give no split is one train split of an image collection, but not CelebA's
    layout: load_celeba says which files it found."""
    from latentlab.data import _parquet_splits

    folder = tmp_path / "3"
    folder.mkdir()
    for name in ("part-00000.parquet", "part-00001.parquet"):
        (folder / name).write_bytes(b"")
    assert [f.name for f in _parquet_splits(str(folder), "image collection", named_splits=False)["train"]] == [
        "part-00000.parquet", "part-00001.parquet"]
    # CelebA's reader needs files named after their split: a folder of unnamed ones has no split at all
    assert _parquet_splits(str(tmp_path / "3"), "CelebA", named_splits=True) == {}
    with pytest.raises(DataError, match=r"no Parquet files for split 'train'.*part-00000\.parquet"):
        load_celeba(tmp_path / "3", "train")
