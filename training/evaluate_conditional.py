"""Does a conditional digit model draw the digit it is asked for? Measured in real styles, by an independent judge.

The command line of :mod:`latentlab.training.evaluate_conditional` (its docstring: usage and options)."""

from latentlab.training.evaluate_conditional import main

if __name__ == "__main__":
    main()
