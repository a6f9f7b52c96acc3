"""Write the pictures of an image collection into a folder of files: a stand-in for a folder of your own photos
(the README's "train on your own images" example writes CelebA faces this way), or an export of any collection.

    python training/write_images.py ../shared/data/celeba/aligned64 --out runs/my-photos --count 2000

SOURCE is what ``latentlab.data.load_images`` reads: a folder of Parquet files (the ``datasets`` Image layout), a
Parquet glob, a folder of pictures or a Hub dataset id. The pictures are written as they are stored (no resizing),
as ``00000.jpg``, ``00001.jpg``, … (JPEG quality 95) or PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from latentlab.data import DataError, load_images
from latentlab.images import to_rgb


def write_images(source: str, out: Path, count: int | None = None, split: str = "train", image_format: str = "jpg") -> int:
    """Write the first ``count`` pictures (all when ``None``) of ``source``'s ``split`` into ``out``; returns how
    many. Raises DataError when the source cannot be read, FileExistsError when ``out`` already holds pictures."""
    collection = load_images(source, split, limit=count)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob(f"*.{image_format}")):
        raise FileExistsError(f"{out} already holds .{image_format} files: choose an empty folder")
    for i in tqdm(range(len(collection)), desc=f"writing {out}", unit="img"):
        picture = to_rgb(collection.dataset[i]["image"])
        picture.save(out / f"{i:05d}.{image_format}", **({"quality": 95} if image_format == "jpg" else {}))
    return len(collection)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a folder of Parquet files or pictures, a Parquet glob, or a Hub dataset id")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write into (created)")
    parser.add_argument("--count", type=int, default=None, help="how many pictures (default: all)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--format", dest="image_format", choices=["jpg", "png"], default="jpg")
    args = parser.parse_args(argv)
    try:
        written = write_images(args.source, args.out, args.count, args.split, args.image_format)
    except (DataError, FileExistsError) as err:
        raise SystemExit(f"write_images: {err}") from None
    print(f"wrote {written} pictures to {args.out}")
