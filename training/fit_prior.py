"""(Re)fit a face model folder's ex-post prior on the training split and save it into that folder.

    python training/fit_prior.py pretrained/celeba-vae-64 [--components 10] [--data ../shared/data/celeba_hq/hq64]

A full-covariance Gaussian mixture over the posterior means of the training faces (Ghosh et al., "From Variational
to Deterministic Autoencoders", ICLR 2020), fitted with scikit-learn and bound to the folder's weights by a
fingerprint (:mod:`latentlab.prior`). ``training/train.py`` does the same at export when the config has a
``prior`` section; this script fits one for a folder trained before, or with another number of components.
"""

import argparse
import time
from pathlib import Path

from latentlab import load_autoencoder
from latentlab.data import DEFAULT_CELEBA_SOURCE, load_celeba
from latentlab.directions import posterior_means
from latentlab.prior import PRIOR_NAME, fit_gaussian_mixture


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a VAE folder written by save_pretrained")
    parser.add_argument("--data", default=DEFAULT_CELEBA_SOURCE, help="local Parquet folder or Hub dataset id")
    parser.add_argument("--split", default="train")
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model = load_autoencoder(str(args.folder))
    if not model.variational:
        raise SystemExit(f"fit_prior: {args.folder} is a plain autoencoder; the prior is for a VAE's latent space")
    data = load_celeba(args.data, args.split, image_size=model.image_size)
    means = posterior_means(model, data)
    prior = fit_gaussian_mixture(means, model.weights_fingerprint(), components=args.components, seed=args.seed,
                                 fitted_on=f"the posterior means of {len(means)} celeba {args.split} images")
    target = args.folder / PRIOR_NAME
    prior.save(target)
    load_autoencoder(str(args.folder))  # the folder still loads strictly, the new prior bound to its weights
    print(f"wrote {target}: {prior.describe()} ({time.perf_counter() - start:.0f} s)")
    return target


if __name__ == "__main__":
    main()
