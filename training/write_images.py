"""Write the pictures of an image collection into a folder of files: a stand-in for a folder of your own photos

The command line of :mod:`latentlab.training.write_images` (its docstring: usage and options)."""

from latentlab.training.write_images import main

if __name__ == "__main__":
    main()
