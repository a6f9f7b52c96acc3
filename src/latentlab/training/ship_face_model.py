"""Ship a measured face-model variant as a bundled model: copy its folder under the product name, draw the card's
sample picture from its prior and re-render its card.

    python training/ship_face_model.py runs/variants/seed-beta20k/model            # → pretrained/celeba-vae-64
    python training/ship_face_model.py runs/variants/adversarial/model --extras-from pretrained/celeba-vae-64-mse

The folder must load strictly (weights, config and attribute directions) and carry ``evaluation.json`` from
``training/evaluate.py``. Its ``training_log.json`` keeps the command that really trained it; only the model's name
changes (the variant's name is kept as ``variant`` and the card says so). ``--extras-from`` takes the attribute
directions and the prior from another folder of the same latent space (a decoder trained under that folder's frozen
encoder), so both models use the very same files; a folder of another latent space is refused.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from latentlab import load_autoencoder
from latentlab.images import grid_image
from latentlab.models.base import RECORD_NAME

from .model_card import write_model_card

FILES = ("config.json", "model.safetensors", "attribute_directions.safetensors", RECORD_NAME, "evaluation.json",
         "reconstructions.png", "samples.png")  # fmt: skip
OPTIONAL = ("prior.safetensors",)  # a VAE's ex-post prior (training/fit_prior.py), when it has one
EXTRAS = ("attribute_directions.safetensors", "prior.safetensors")  # bound to the latent space, not the decoder
SAMPLES_SEED = 42  # the training configs' seed, which the samples at export use too


def write_samples(folder: Path) -> None:
    """``samples.png``: 64 faces decoded from the folder's prior (N(0, I) without one), 8 × 8 at 2× size."""
    import torch

    from latentlab import latent

    model = load_autoencoder(str(folder))
    z = (model.prior.sample(64, seed=SAMPLES_SEED).float() if model.prior is not None
         else latent.sample(64, model.z_dim, seed=SAMPLES_SEED))  # fmt: skip
    with torch.no_grad():
        grid_image(model.decode(z), nrow=8, scale=max(1, 128 // model.image_size)).save(folder / "samples.png")


def ship(folder: Path, name: str = "celeba-vae-64", to: Path | None = None, extras_from: Path | None = None) -> Path:
    """Copy ``folder`` to ``to`` (default ``pretrained/<name>``) as the model ``name``; returns the new folder.
    ``extras_from``: a folder whose attribute directions and prior replace the copied ones (same latent space).

    Raises:
        SystemExit: a file is missing or the folder does not load strictly.
        LatentMismatchError: ``extras_from`` holds another latent space's extras.
    """
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise SystemExit(f"ship: {folder} lacks {', '.join(missing)} (train it, then run training/evaluate.py on it)")
    load_autoencoder(str(folder))  # strict: raises CheckpointError / DirectionsMismatchError
    to = to or Path("pretrained") / name
    staging = to.with_name(to.name + ".shipping")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for f in FILES + tuple(f for f in OPTIONAL if (folder / f).is_file()):
        shutil.copy2(folder / f, staging / f)
    for f in EXTRAS if extras_from else ():
        shutil.copy2(extras_from / f, staging / f)
    record = json.loads((staging / RECORD_NAME).read_text())
    if record.get("name") != name:
        record["variant"], record["name"] = record.get("name"), name
    (staging / RECORD_NAME).write_text(json.dumps(record, indent=1))
    write_samples(staging)  # strict load: the extras must belong to these weights' latent space
    write_model_card(staging)
    load_autoencoder(str(staging))
    shutil.rmtree(to, ignore_errors=True)  # replace only once the new folder is complete
    staging.rename(to)
    return to


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a variant's model folder, measured by evaluate.py")
    parser.add_argument("--name", default="celeba-vae-64")
    parser.add_argument("--to", type=Path, help="destination folder (default: pretrained/<name>)")
    parser.add_argument("--extras-from", type=Path, help="take attribute directions and prior from this folder "
                        "(same encoder)")  # fmt: skip
    args = parser.parse_args(argv)
    print(f"shipped {args.folder} as {ship(args.folder, args.name, args.to, args.extras_from)}")
