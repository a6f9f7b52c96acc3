"""Training, measuring and shipping models: the library behind the command lines in ``training/``.

Each module has a ``main(argv=None)`` that ``training/<module>.py`` runs (``python training/train.py --config
training/configs/celeba_vae.yaml``), and the functions it is built from, importable like any module::

    from latentlab.training.train import train_step
    from latentlab.training.model_card import write_model_card

The model card templates are package data (``cards/``).
"""
