"""Re-measure a digit model folder on its test split: metrics, figures and card, as ``train.py`` does at export.

The command line of :mod:`latentlab.training.analyse` (its docstring: usage and options)."""

from latentlab.training.analyse import main

if __name__ == "__main__":
    main()
