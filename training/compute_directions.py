"""(Re)compute a model folder's attribute directions on the training split and save them into that folder.

    python training/compute_directions.py pretrained/celeba-vae-64 [--data ../shared/data/celeba_hq/hq64]

Directions are mean(z_mean | attr = 1) − mean(z_mean | attr = 0) over the training faces (*Generative Deep
Learning*, 2nd ed., ch. 3), bound to the folder's weights by a fingerprint.
"""

import argparse
from pathlib import Path

from latentlab import load_autoencoder
from latentlab.data import DEFAULT_CELEBA_SOURCE, load_celeba
from latentlab.directions import DIRECTIONS_NAME, compute_attribute_directions


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a model folder written by save_pretrained")
    parser.add_argument("--data", default=DEFAULT_CELEBA_SOURCE, help="local Parquet folder or Hub dataset id")
    parser.add_argument("--split", default="train")
    args = parser.parse_args(argv)
    target = args.folder / DIRECTIONS_NAME
    stale = target.with_suffix(".previous")
    if target.exists():  # directions of other weights would refuse to load; keep them until the new ones exist
        target.rename(stale)
    try:
        model = load_autoencoder(str(args.folder))
        data = load_celeba(args.data, args.split, image_size=model.image_size)
        directions = compute_attribute_directions(model, data)
        directions.save(target)
    except BaseException:
        if stale.exists():
            stale.rename(target)
        raise
    stale.unlink(missing_ok=True)
    print(f"wrote {args.folder / DIRECTIONS_NAME}: {len(directions.names)} directions over {len(data)} faces")


if __name__ == "__main__":
    main()
