"""Publish a Latent Lab model folder to the Hugging Face Hub as one commit.

The command line of :mod:`latentlab.training.push_to_hub` (its docstring: usage and options)."""

from latentlab.training.push_to_hub import main

if __name__ == "__main__":
    main()
