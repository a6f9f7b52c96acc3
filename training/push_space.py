"""Deploy this repository as a Hugging Face Space, as one commit.

The command line of :mod:`latentlab.training.push_space` (its docstring: usage and options)."""

from latentlab.training.push_space import main

if __name__ == "__main__":
    main()
