"""Train any Latent Lab model with accelerate — one loop for every model, on a laptop CPU, one GPU or several.

The command line of :mod:`latentlab.training.train` (its docstring: usage and options)."""

from latentlab.training.train import main

if __name__ == "__main__":
    main()
