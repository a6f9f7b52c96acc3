"""(Re)compute a model folder's attribute directions on the training split and save them into that folder.

    python training/compute_directions.py pretrained/celeba-vae-64 --method regression
    python training/compute_directions.py pretrained/celeba-vae-64-book --method mean_difference

Directions come from the posterior means of the training faces and their 40 labels
(:func:`latentlab.latent.attribute_directions`): ``mean_difference`` is the book's mean(z_mean | attr = 1) −
mean(z_mean | attr = 0) (*Generative Deep Learning*, 2nd ed., ch. 3); ``regression`` is each attribute's effect with
the other labels held fixed. Without ``--method`` the estimator recorded in the folder's current directions file is
used again. The file is bound to the folder's weights by a fingerprint.
"""

import argparse
from pathlib import Path

from latentlab import load_autoencoder
from latentlab.data import DEFAULT_CELEBA_SOURCE, load_celeba
from latentlab.directions import DIRECTIONS_NAME, AttributeDirections, compute_attribute_directions
from latentlab.latent import DIRECTION_METHODS


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a model folder written by save_pretrained")
    parser.add_argument("--data", default=DEFAULT_CELEBA_SOURCE, help="local Parquet folder or Hub dataset id")
    parser.add_argument("--split", default="train")
    parser.add_argument("--method", choices=DIRECTION_METHODS, help="the estimator (default: the folder's current one, "
                        "else mean_difference)")  # fmt: skip
    parser.add_argument("--shrinkage", type=float, help="ridge λ of the regression estimator (default: the folder's, else 0)")
    args = parser.parse_args(argv)
    target = args.folder / DIRECTIONS_NAME
    current = AttributeDirections.read_estimator(target) if target.is_file() else ("mean_difference", 0.0)
    method = args.method or current[0]
    shrinkage = args.shrinkage if args.shrinkage is not None else current[1]
    stale = target.with_suffix(".previous")
    if target.exists():  # directions of other weights would refuse to load; keep them until the new ones exist
        target.rename(stale)
    try:
        model = load_autoencoder(str(args.folder))
        data = load_celeba(args.data, args.split, image_size=model.image_size)
        directions = compute_attribute_directions(model, data, method=method, shrinkage=shrinkage)
        directions.save(target)
    except BaseException:
        if stale.exists():
            stale.rename(target)
        raise
    stale.unlink(missing_ok=True)
    print(f"wrote {target}: {len(directions.names)} {method} directions (shrinkage {shrinkage:g}) over {len(data)} faces")
