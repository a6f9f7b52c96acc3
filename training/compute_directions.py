"""(Re)compute a model folder's attribute directions on the training split and save them into that folder.

The command line of :mod:`latentlab.training.compute_directions` (its docstring: usage and options)."""

from latentlab.training.compute_directions import main

if __name__ == "__main__":
    main()
