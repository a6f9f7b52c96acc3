"""Ship a measured face-model variant as a bundled model: copy its folder under the product name, draw the card's

The command line of :mod:`latentlab.training.ship_face_model` (its docstring: usage and options)."""

from latentlab.training.ship_face_model import main

if __name__ == "__main__":
    main()
