"""Render a model folder's README.md card from what its training run recorded (``training_log.json``).

The command line of :mod:`latentlab.training.model_card` (its docstring: usage and options)."""

from latentlab.training.model_card import main

if __name__ == "__main__":
    main()
