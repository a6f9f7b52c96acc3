"""Measure a face model folder on the CelebA-HQ test split and write ``evaluation.json`` into it.

The command line of :mod:`latentlab.training.evaluate` (its docstring: usage and options)."""

from latentlab.training.evaluate import main

if __name__ == "__main__":
    main()
