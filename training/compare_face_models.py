"""Compare face models measured by ``training/evaluate.py``, beside the PCA baseline, as JSON and a Markdown table.

The command line of :mod:`latentlab.training.compare_face_models` (its docstring: usage and options)."""

from latentlab.training.compare_face_models import main

if __name__ == "__main__":
    main()
