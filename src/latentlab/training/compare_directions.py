"""Compare attribute-direction estimators of one face model on the validation split, judged by the attribute classifier.

    python training/compare_directions.py pretrained/celeba-vae-64 mean_difference regression regression:1 regression:1@norm

Each estimator is ``METHOD[:SHRINKAGE][@norm]`` (:func:`latentlab.latent.attribute_directions`); ``@norm`` rescales
every row to the mean-difference direction's norm (equal displacement) instead of the estimator's own length. For
each, every one of the 40 directions is applied at strength 1 to the first ``--faces`` validation faces (added where
the judge reads the attribute as absent on the reconstruction, removed where present, as
:func:`latentlab.evaluation.edit_effects` does), and the mean over attributes and both ways of the edit success and
of the other attributes' flip rate (:func:`latentlab.evaluation.mean_edit_effects`, as in ``evaluate.py``'s summary)
is written to ``--out`` (JSON) and printed.

``--picture PATH`` also draws, for the first three validation faces and each ``--picture-attributes`` attribute, one
row per face and attribute: every estimator's edit at strengths 0, 1 and 2, side by side (``--picture-only`` skips
the measurement).

This is where an estimator is chosen: on validation faces, so the test split stays for ``training/evaluate.py``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from latentlab import AttributeClassifier, load_autoencoder
from latentlab.data import DEFAULT_CELEBA_SOURCE, load_celeba
from latentlab.directions import posterior_means
from latentlab.evaluation import _decode_and_judge, edit_effects, mean_edit_effects
from latentlab.latent import attribute_directions

from .evaluate import DEFAULT_CLASSIFIER
from .model_card import command_line


def parse_estimator(spec: str) -> tuple[str, float, bool]:
    """``"regression:0.3@norm"`` → ``("regression", 0.3, True)``."""
    spec, _, norm = spec.partition("@")
    if norm not in ("", "norm"):
        raise argparse.ArgumentTypeError(f"{spec}@{norm}: only '@norm' may follow an estimator")
    method, _, shrinkage = spec.partition(":")
    return method, float(shrinkage or 0.0), bool(norm)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a face model folder, e.g. pretrained/celeba-vae-64")
    parser.add_argument("estimators", nargs="+", help="METHOD[:SHRINKAGE][@norm], e.g. regression:1@norm")
    parser.add_argument("--data", default=DEFAULT_CELEBA_SOURCE)
    parser.add_argument("--classifier", type=Path, default=DEFAULT_CLASSIFIER)
    parser.add_argument("--faces", type=int, default=500, help="validation faces edited (the first N)")
    parser.add_argument("--train-images", type=int, help="estimate from the first N training faces (default: all)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks") / "directions.json")
    parser.add_argument("--picture", type=Path, help="also draw the estimators' edits side by side into this PNG")
    parser.add_argument("--picture-attributes", nargs="+", default=["Goatee", "Eyeglasses", "Smiling"])
    parser.add_argument("--picture-only", action="store_true", help="draw --picture, measure nothing")
    args = parser.parse_args(argv)
    if args.picture_only and not args.picture:
        parser.error("--picture-only needs --picture")
    estimators = [parse_estimator(s) for s in args.estimators]

    model = load_autoencoder(str(args.folder)).eval()
    judge = AttributeClassifier.from_pretrained(str(args.classifier)).eval()
    train = load_celeba(args.data, "train", image_size=model.image_size, limit=args.train_images)
    faces = load_celeba(args.data, "validation", image_size=model.image_size).float_images(slice(0, args.faces))
    names = list(train.attribute_names)
    if names != list(judge.attribute_names):
        raise SystemExit("the data and the classifier name different attributes")
    means = posterior_means(model, train)
    with torch.no_grad():
        z = model.encode(faces).mean.float()
    plain = attribute_directions(means, train.attributes)[0]

    def directions(method, shrinkage, norm):
        vectors = attribute_directions(means, train.attributes, method, shrinkage)[0]
        if norm:
            vectors = vectors * (plain.norm(dim=1, keepdim=True) / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12))
        return vectors

    if args.picture:
        draw(model, z[:3], [directions(*e) for e in estimators], [names.index(a) for a in args.picture_attributes],
             args.picture)  # fmt: skip
        print(f"wrote {args.picture}: rows {len(args.picture_attributes)} attributes × 3 faces; per row "
              f"{', '.join(args.estimators)} at strengths 0, 1, 2")  # fmt: skip
        if args.picture_only:
            return {}
    base = _decode_and_judge(model, judge, z, 256)
    rows = []
    for (method, shrinkage, norm), spec in zip(estimators, args.estimators):
        start = time.time()
        vectors = directions(method, shrinkage, norm)
        success, others = mean_edit_effects(edit_effects(model, judge, z, name, vectors[k], strengths=(1.0,), base=base)
                                            for k, name in enumerate(names))  # fmt: skip
        rows.append({"estimator": spec, "method": method, "shrinkage": shrinkage, "length": "mean-difference norm" if norm
                     else "own", "edit_success": success, "others_flip_rate": others,
                     "length_over_mean_difference": float((vectors.norm(dim=1) / plain.norm(dim=1).clamp_min(1e-12)).mean()),
                     "seconds": round(time.time() - start, 1)})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    report = {"model": str(args.folder), "fingerprint": model.weights_fingerprint(), "split": "validation",
              "faces": len(z), "train_images": len(train), "strength": 1.0, "command": command_line(__file__, argv),
              "estimators": rows}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    return report


@torch.no_grad()
def draw(model, z: torch.Tensor, estimators: list[torch.Tensor], attributes: list[int], path: Path) -> None:
    """One row per face and attribute: each estimator's ``z + s·d`` for s = 0, 1, 2, decoded, as a PNG grid."""
    from latentlab.images import grid_image

    rows = [model.decode(torch.stack([face + s * vectors[k] for s in (0.0, 1.0, 2.0)]))
            for face in z for k in attributes for vectors in estimators]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    grid_image(torch.cat(rows), nrow=3 * len(estimators), scale=2).save(path)
