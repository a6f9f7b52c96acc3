"""Compare attribute-direction estimators of one face model on the validation split, judged by the attribute classifier.

The command line of :mod:`latentlab.training.compare_directions` (its docstring: usage and options)."""

from latentlab.training.compare_directions import main

if __name__ == "__main__":
    main()
