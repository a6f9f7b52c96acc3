"""(Re)fit a face model folder's ex-post prior on the training split and save it into that folder.

    python training/fit_prior.py pretrained/celeba-vae-64 [--components 10] [--data ../shared/data/celeba_hq/hq64]
    python training/fit_prior.py pretrained/celeba-vae-64 --components 5 10 20 40 --report benchmarks/prior_components.json

A full-covariance Gaussian mixture over the posterior means of the training faces (Ghosh et al., "From Variational
to Deterministic Autoencoders", ICLR 2020), fitted with scikit-learn and bound to the folder's weights by a
fingerprint (:mod:`latentlab.prior`). ``training/train.py`` does the same at export when the config has a
``prior`` section; this script fits one for a folder trained before, or with another number of components. Given
several numbers of components, it fits one mixture for each and keeps the one under which the held-out split's
posterior means are most likely (:func:`latentlab.prior.select_gaussian_mixture`); ``--report`` writes that table.
"""

import argparse
import json
import time
from pathlib import Path

from latentlab import load_autoencoder
from latentlab.data import DEFAULT_CELEBA_SOURCE, load_celeba
from latentlab.directions import posterior_means
from latentlab.prior import PRIOR_NAME, fit_gaussian_mixture, select_gaussian_mixture

from .model_card import command_line


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a VAE folder written by save_pretrained")
    parser.add_argument("--data", default=DEFAULT_CELEBA_SOURCE, help="local Parquet folder or Hub dataset id")
    parser.add_argument("--split", default="train")
    parser.add_argument("--components", type=int, nargs="+", default=[10],
                        help="the number of mixture components; several: the one with the best held-out likelihood")
    parser.add_argument("--held-out", default="validation", help="the split that chooses among several --components")
    parser.add_argument("--report", type=Path, help="write the choice among several --components here (JSON)")
    parser.add_argument("--limit", type=int, help="only the first LIMIT images of each split (a quick run)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.components) < 1:
        parser.error("--components must be ≥ 1")
    if args.limit is not None and args.limit < 2:
        parser.error("--limit must be ≥ 2")
    start = time.perf_counter()
    model = load_autoencoder(str(args.folder))
    if not model.variational:
        raise SystemExit(f"fit_prior: {args.folder} is a plain autoencoder; the prior is for a VAE's latent space")
    means = posterior_means(model, load_celeba(args.data, args.split, image_size=model.image_size, limit=args.limit))
    fitted_on = f"the posterior means of {len(means)} celeba {args.split} images"
    if len(args.components) == 1:
        prior = fit_gaussian_mixture(means, model.latent_fingerprint(), components=args.components[0], seed=args.seed,
                                     fitted_on=fitted_on)  # fmt: skip
    else:
        held_out = posterior_means(model, load_celeba(args.data, args.held_out, image_size=model.image_size,
                                                      limit=args.limit))
        candidates = "/".join(str(k) for k in args.components)
        prior, table = select_gaussian_mixture(
            means, held_out, model.latent_fingerprint(), components=args.components, seed=args.seed, progress=True,
            fitted_on=f"{fitted_on} (K of {candidates} by the log-likelihood of {len(held_out)} {args.held_out} means)")
        for row in table:
            print(f"K = {row['components']:>3}: log-likelihood per code {row['train_log_likelihood']:.1f} ({args.split}), "
                  f"{row['held_out_log_likelihood']:.1f} ({args.held_out}), {row['seconds']:.0f} s")  # fmt: skip
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(json.dumps({
                "model": args.folder.name, "weights_fingerprint": model.weights_fingerprint(),
                "command": command_line(__file__, argv),
                "train": f"{len(means)} {args.split} posterior means", "held_out": f"{len(held_out)} {args.held_out} posterior means",
                "chosen": prior.components, "candidates": table}, indent=1))  # fmt: skip
    target = args.folder / PRIOR_NAME
    prior.save(target)
    load_autoencoder(str(args.folder))  # the folder still loads strictly, the new prior bound to its encoder
    print(f"wrote {target}: {prior.describe()} ({time.perf_counter() - start:.0f} s)")
    return target
