"""(Re)fit a face model folder's ex-post prior on the training split and save it into that folder.

The command line of :mod:`latentlab.training.fit_prior` (its docstring: usage and options)."""

from latentlab.training.fit_prior import main

if __name__ == "__main__":
    main()
