"""Re-measure a digit model folder on its test split: metrics, figures and card, as ``train.py`` does at export.

    python training/analyse.py pretrained/mnist-conv-ae-28

Reads the run's config from the folder's ``training_log.json``, runs :func:`latentlab.analysis.analyse_digit_model`
on the real test split, stores the numbers as the record's ``test_metrics`` and re-renders ``README.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from latentlab.analysis import analyse_digit_model
from latentlab.config import parse_config
from latentlab.data import load_split
from latentlab.models import load_pretrained
from latentlab.models.base import RECORD_NAME

from .model_card import write_model_card


def analyse(folder: Path) -> dict:
    record = json.loads((folder / RECORD_NAME).read_text())
    config = parse_config(record["config"])
    if config.data.name == "celeba":
        raise SystemExit(f"{folder}: a face model; its measurements are not part of this script")
    classes = None if config.data.classes is None else list(config.data.classes)
    metrics = analyse_digit_model(load_pretrained(str(folder)), config.objective, load_split(config, "test"), folder,
                                  trained_classes=classes)  # fmt: skip
    record["test_metrics"] = metrics
    (folder / RECORD_NAME).write_text(json.dumps(record, indent=1))
    write_model_card(folder)
    return metrics


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    for folder in parser.parse_args(argv).folders:
        analyse(folder)
        print(f"measured {folder}")
