"""Render a model folder's README.md card from what its training run recorded (``training_log.json``).

    python training/model_card.py pretrained/celeba-vae-64 [--repo-id OWNER/NAME]

The templates live in ``latentlab/training/cards/``; it is rendered through ``huggingface_hub.ModelCard`` so the metadata block
is valid Hub card data (model-index with the recorded metrics). Every generated card ends with a stamp, an HTML
comment holding the SHA-256 of the text above it: a card whose stamp no longer matches was edited by hand (on the
Hub, say), and ``push_to_hub.py`` will not overwrite it unless asked.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import re
import shlex
import sys
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from latentlab.config import RunConfig, parse_config
from latentlab.models import model_class
from latentlab.models.base import RECORD_NAME

TEMPLATES = Path(__file__).resolve().parent / "cards"  # package data
STAMP = re.compile(r"\n*<!-- latentlab-card sha256:([0-9a-f]{64}) -->\s*$")


def command_line(script: str, argv: list[str] | None = None, launcher: str = "python") -> str:
    """The command that ran a training script, as typed from the repository root: ``LAUNCHER training/SCRIPT ARGS``,
    each part shell-quoted. Run records, reports and cards keep it, so every number names the command behind it.

    Args:
        script: the script's path (its ``__file__``); only the file name is kept (the scripts live in ``training/``).
        argv: its arguments (default ``sys.argv[1:]``, what it was run with; a ``main(argv)`` call passes its own).
        launcher: ``"python"``, or ``"accelerate launch"`` for a run started by accelerate.
    """
    return f"{launcher} {shlex.join([f'training/{Path(script).name}', *(sys.argv[1:] if argv is None else argv)])}"


def _card_digest(body: str) -> str:
    return hashlib.sha256(body.replace("\r\n", "\n").strip().encode()).hexdigest()


def stamp_card(text: str) -> str:
    """``text`` (a card, stamped or not) with a fresh stamp at its end."""
    body = STAMP.sub("", text)
    return f"{body.rstrip()}\n\n<!-- latentlab-card sha256:{_card_digest(body)} -->\n"


def card_is_generated(text: str) -> bool:
    """True when ``text`` carries a stamp that matches it: a generated card that nobody has edited since."""
    match = STAMP.search(text)
    return bool(match) and match.group(1) == _card_digest(STAMP.sub("", text))


def describe_hardware(hw: dict) -> str:
    device = hw["gpu"] or f"{hw['cpu']} CPU ({hw['cpu_count']} cores)"
    return f"{device}, {hw['num_processes']} process(es), mixed precision {hw['mixed_precision']}, torch {hw['torch']}"


#: The Hub datasets a digit model's card names, by the run's ``data.name`` (the license texts are in the template).
DIGIT_DATASETS = {"mnist": dict(title="MNIST", hub_id="ylecun/mnist", license="cc-by-sa-3.0"),
                  "fashion-mnist": dict(title="Fashion-MNIST", hub_id="zalando-datasets/fashion_mnist", license="mit")}
#: The card metadata of a model trained on CelebA-HQ: its non-commercial terms.
CELEBA_TERMS = dict(license="other", license_name="celeba-non-commercial-research",
                    license_link="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html", datasets=["CelebA-HQ"])
#: The book's CelebA recipe (*Generative Deep Learning*, 2nd ed., ch. 3): a face card lists what differs from it.
BOOK_RECIPE = {"hidden_channels": [64, 64, 64, 64, 64], "reconstruction_weight": 2000.0, "z_dim": 200,
               "upsampling": "transposed", "learning_rate": 5e-4, "batch_size": 128}  # fmt: skip


def architecture(config: dict) -> dict:
    """A folder's ``config.json`` over its model class's defaults: every architecture value as the model is built
    (a folder's config may leave a default out), plus ``image_shape`` (C, H, W) and ``image_size`` (H)."""
    parameters = inspect.signature(model_class(config["model_type"]).__init__).parameters.values()
    full = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty} | config
    shape = full.get("image_shape") or [full["in_channels"], full["image_size"], full["image_size"]]
    return full | {"image_shape": list(shape), "image_size": shape[-1]}


def run_fields(record: dict, run: RunConfig) -> dict:
    """The template fields every card takes from the training run's record and its typed config ``run``."""
    return dict(
        parameters=record["parameters"],
        train_images=record["train_images"],
        command=record["command"],
        config_yaml=yaml.safe_dump(record["config"], sort_keys=False).strip(),
        run=run,
        data_source=run.data.source,
        epochs=record["epochs"],
        steps=record["steps"],
        batch_size=run.train.batch_size,
        best_epoch=record["best_epoch"],
        stopped=record["stopped"],
        train_minutes=f"{record['train_seconds'] / 60:.1f}",
        hardware=describe_hardware(record["hardware"]),
        history=record["history"],
    )


def lineage(record: dict, repo_id: str) -> dict:
    """The card metadata that links a fine-tune to the model it started from, from the record's chain
    (``initialized_from``, else ``frozen_from``: the folder whose weights the run loaded): ``base_model`` as the Hub
    id ``<owner of repo_id>/<its name>`` and ``base_model_relation: finetune``, which the Hub turns into a model
    tree. Empty for a model trained from scratch, and for one that started from an earlier version of its own
    repo (a Hub model cannot be its own base)."""
    source = record.get("initialized_from") or record.get("frozen_from") or {}
    if not source.get("name"):
        return {}
    base = f"{repo_id.split('/')[0]}/{source['name']}"
    return {} if base == repo_id else {"base_model": base, "base_model_relation": "finetune"}


def eval_results(task_type: str, task_name: str, dataset: tuple[str, str], split: str,
                 metrics: list[tuple[str, str, float]]) -> list[EvalResult]:  # fmt: skip
    """The model-index entries of one task measured on one dataset split: ``dataset`` is (Hub id or type, title),
    ``metrics`` (metric type, metric name, value) rows, the values rounded to 6 decimals."""
    return [EvalResult(task_type=task_type, task_name=task_name, dataset_type=dataset[0], dataset_name=dataset[1],
                       dataset_split=split, metric_type=kind, metric_name=name, metric_value=round(float(value), 6))
            for kind, name, value in metrics]  # fmt: skip


def celeba_dataset(model: dict, split: str) -> tuple[str, str]:
    """The CelebA-HQ dataset a face model's numbers were measured on, at its image size (``model``: its
    :func:`architecture`): (type, title)."""
    size = model["image_size"]
    return f"celeba-hq-{size}", f"CelebA-HQ {size}×{size} ({split} split)"


def _render(template: str, card_data: ModelCardData, folder: Path, record: dict, config: dict, repo_id: str,
            model: dict, run: RunConfig, **fields) -> ModelCard:  # fmt: skip
    """A card from ``cards/<template>`` with the fields every card has (the model's name, ``repo_id``,
    ``config.json`` as saved and ``model``, its :func:`architecture`; the run's record and typed config ``run``) and
    the card's own ``fields``."""
    return ModelCard.from_template(card_data, template_path=str(TEMPLATES / template),
                                   name=record.get("name") or folder.name, repo_id=repo_id,
                                   model_config=json.dumps(config, indent=1), model=model,
                                   model_type=model["model_type"], z_dim=model.get("z_dim"),
                                   model_class=model_class(model["model_type"]).__name__,
                                   **run_fields(record, run), **fields)  # fmt: skip


def _card_data(folder: Path, record: dict, repo_id: str, tags: list[str], **metadata) -> ModelCardData:
    """The metadata block of a card: the library, the model's name, ``tags`` (and the Hub mixin's), the lineage of
    a fine-tune, and ``metadata`` (license, datasets, eval results, pipeline tag)."""
    return ModelCardData(library_name="latentlab", model_name=record.get("name") or folder.name,
                         tags=[*tags, "pytorch_model_hub_mixin"], **metadata, **lineage(record, repo_id))


def render_digit_model_card(folder: Path, record: dict, config: dict, repo_id: str, model: dict, run: RunConfig
                            ) -> ModelCard:  # fmt: skip
    """The card of an MNIST / Fashion-MNIST model, from ``training_log.json`` (incl. its test metrics)."""
    from latentlab.data import FASHION_MNIST_CLASSES, MNIST_CLASSES

    data_name = run.data.name
    dataset = DIGIT_DATASETS[data_name]
    class_names = FASHION_MNIST_CLASSES if data_name == "fashion-mnist" else MNIST_CLASSES
    metrics = record["test_metrics"] or {}
    tests = {k.removeprefix("test_"): v for k, v in metrics.items() if k.startswith("test_") and k != "test_images"}
    novelty = metrics.get("novelty")
    noise = {"auc": "clean", "auc_gaussian": "gaussian", "auc_salt_and_pepper": "salt_and_pepper"}
    where = (dataset["hub_id"], dataset["title"])
    results = eval_results("image-to-image", "Image reconstruction", where, "test",
                           [(k, f"test {k}".replace("_", " "), v) for k, v in tests.items()])
    if novelty:
        results += eval_results("anomaly-detection", "Novelty detection", where, "test",
                                [("roc_auc", f"ROC AUC ({noise[k]})", novelty[k]) for k in noise])
    card_data = _card_data(folder, record, repo_id,
                           ["autoencoder", "vae" if model["variational"] else "latent-space", data_name, "latent-space"],
                           license=dataset["license"], datasets=[dataset["hub_id"]], eval_results=results or None)
    history = record["history"]
    asked = folder / "conditional_evaluation.json"
    return _render(
        "digit_autoencoder.md.j2", card_data, folder, record, config, repo_id, model, run,
        data_name=data_name,
        dataset_title=dataset["title"],
        inputs=math.prod(model["image_shape"]),
        image_shape=", ".join(map(str, model["image_shape"])),
        trained_classes=run.data.classes and list(run.data.classes),
        conditional=model["num_classes"] > 0,
        test_images=metrics.get("test_images", 0),
        test_rows=[(k.replace("_", " "), f"{v:.5g}") for k, v in tests.items()],
        novelty=novelty,
        asked=json.loads(asked.read_text()) if asked.is_file() else None,
        novelty_rows=[(class_names[int(c)], e) for c, e in
                      sorted((novelty or {}).get("per_class_error", {}).items(), key=lambda t: int(t[0]))],  # fmt: skip
        extra_terms=[k for k in history[0]["validation"] if k != "loss"] if history else [],
        figures=metrics.get("figures", []),
    )


def render_image_model_card(folder: Path, record: dict, config: dict, repo_id: str, model: dict, run: RunConfig
                            ) -> ModelCard:  # fmt: skip
    """The card of a model trained on its user's own image collection (``data.name: images``)."""
    from latentlab.directions import DIRECTIONS_NAME, AttributeDirections

    directions = None
    if (folder / DIRECTIONS_NAME).is_file():
        directions = AttributeDirections.read(folder / DIRECTIONS_NAME).names
    variational = model["variational"]
    card_data = _card_data(folder, record, repo_id, ["vae" if variational else "autoencoder", "latent-space"],
                           license="other", pipeline_tag="unconditional-image-generation")
    return _render("image_vae.md.j2", card_data, folder, record, config, repo_id, model, run,
                   kind="variational autoencoder" if variational else "autoencoder",
                   directions=directions, prior=prior_description(folder))  # fmt: skip


def render_model_card(folder: str | Path, repo_id: str | None = None) -> str:
    """The stamped card text of a model folder, from its ``training_log.json`` and ``config.json``: the face
    VAE's card, the attribute classifier's (by ``model_type``), or a digit model's (chosen by the run's
    ``data.name``). ``repo_id`` (default ``latent-lab/<name>``) is the id its "How to use" section loads. Raises
    FileNotFoundError without a ``training_log.json``."""
    folder = Path(folder)
    if not (folder / RECORD_NAME).is_file():
        raise FileNotFoundError(f"{folder} has no {RECORD_NAME}: its card cannot be generated from a record")
    record = json.loads((folder / RECORD_NAME).read_text())
    repo_id = repo_id or f"latent-lab/{record.get('name') or folder.name}"
    config = json.loads((folder / "config.json").read_text())
    run = parse_config(record["config"])
    if run.data.name == "images":
        render = render_image_model_card
    elif run.data.name != "celeba":
        render = render_digit_model_card
    elif config["model_type"] == "attribute-classifier":
        render = render_classifier_card
    else:
        render = render_face_model_card
    return stamp_card(str(render(folder, record, config, repo_id, architecture(config), run)))


def write_model_card(folder: str | Path, repo_id: str | None = None) -> Path:
    """Render the card (:func:`render_model_card`) into ``folder/README.md``; returns its path."""
    path = Path(folder) / "README.md"
    path.write_text(render_model_card(folder, repo_id), encoding="utf-8")
    return path


def edit_table_rows(edits: dict) -> dict:
    """The card's tables from ``evaluation.json``'s ``edits`` (see ``latentlab.evaluation.attribute_edit_report``):
    one row per attribute (success adding / removing at each strength, the other attributes' flip rate and the most
    moved one at strength 1) and one per decorrelation case (plain vs decorrelated direction)."""
    def at(result, strength, way):
        return next((r for r in result["rows"] if r["strength"] == strength and r["way"] == way), None)

    def pct(row, key="success"):
        return "—" if row is None or not row["faces"] else f"{100 * row[key]:.0f}%"

    strengths = edits["strengths"]
    attributes = []
    for name, result in edits["attributes"].items():
        cells = [pct(at(result, s, way)) for way in ("add", "remove") for s in strengths]
        add1 = at(result, 1.0, "add") or at(result, strengths[0], "add")
        moved = add1["most_moved"][0] if add1 and add1["faces"] else None
        attributes.append({"name": name, "without": result["faces_without"], "with": result["faces_with"], "cells": cells,
                           "others": pct(add1, "others_flip_rate"),
                           "most_moved": f"{moved[0]} (mean \\|Δp\\| {moved[1]:.2f})" if moved else "—"})  # fmt: skip
    cases = []
    for case in edits["decorrelation"]:
        for kind in ("plain", "decorrelated"):
            res = case[kind]
            rows = [r for r in res["rows"] if r["strength"] == 1.0 and r["faces"]]
            kept = [w["flip_rate"] for r in rows for w in r["watched"].values()]
            cases.append({"target": case["target"], "keep": ", ".join(case["keep"]), "kind": kind,
                          "add": pct(at(res, 1.0, "add")), "remove": pct(at(res, 1.0, "remove")),
                          "kept_flips": f"{100 * sum(kept) / len(kept):.0f}%" if kept else "—",
                          "others": f"{100 * sum(r['others_flip_rate'] for r in rows) / len(rows):.1f}%" if rows else "—"})  # fmt: skip
    from latentlab.evaluation import edit_summary  # torch and matplotlib: only for cards that show edits

    summary = edit_summary(edits, 1.0)
    return {
        "images": edits["images"], "strengths": strengths, "classifier": edits.get("classifier"),
        "command": edits.get("command"),
        "attributes": attributes, "cases": cases,
        "mean_success": summary["edit_success"], "mean_others_flip_rate": summary["others_flip_rate"],
        "per_face_success": summary["per_face"]["edit_success"],
        "per_face_others_flip_rate": summary["per_face"]["others_flip_rate"],
    }  # fmt: skip


def prior_description(folder: Path) -> str | None:
    """What the folder's ``prior.safetensors`` is, in words (``None`` without one)."""
    if not (folder / "prior.safetensors").is_file():
        return None
    from latentlab.prior import GaussianMixturePrior

    return GaussianMixturePrior.load(folder / "prior.safetensors").describe()


def render_face_model_card(folder: Path, record: dict, config: dict, repo_id: str, model: dict, run: RunConfig
                           ) -> ModelCard:  # fmt: skip
    """The card of a CelebA face VAE, from ``training_log.json`` and, where the folder has them, its test-split
    evaluation (``evaluation.json``) and attribute directions."""
    history = record["history"]
    best = next((h for h in history if h["epoch"] == record["best_epoch"]), history[-1] if history else None)
    results = []
    if best is not None:
        results += eval_results("image-to-image", "Image reconstruction", celeba_dataset(model, "validation"),
                                "validation", [(k, f"validation {k}", best["validation"][k]) for k in ("loss", "mse", "kl")])
    evaluation = None
    if (folder / "evaluation.json").is_file():  # written by training/evaluate.py
        evaluation = json.loads((folder / "evaluation.json").read_text())
        rec, fids, lat = evaluation["reconstruction"], evaluation["fid"], evaluation["latent"]
        n = fids["images"]
        fid_rows = [("reconstructions", "reconstructions"),
                    ("samples", f"samples from {'its prior' if 'samples_prior' in fids else 'N(0, I)'}"),
                    *([("samples_normal", "samples from N(0, I)")] if "samples_prior" in fids else []),
                    ("interpolations", "morph midpoints")]  # fmt: skip
        results += eval_results("image-to-image", "Image reconstruction and generation", celeba_dataset(model, "test"),
                                "test", [("mse", "test reconstruction MSE", rec["mse"]),
                                         ("psnr", "test reconstruction PSNR (dB)", rec["psnr_db"]),
                                         *[("fid", f"FID of {what} ({n} images)", fids[key])
                                           for key, what in fid_rows if key in fids],
                                         ("kl", "test KL (nats)", lat["kl"]),
                                         ("active_units", "active latent units", lat["active_units"])])  # fmt: skip
    edits = (evaluation or {}).get("edits")
    edit_tables = edit_table_rows(edits) if edits else None
    if edit_tables:
        results += eval_results("image-to-image", "Attribute editing", celeba_dataset(model, "test"), "test", [
            ("edit_success", "attribute-edit success at strength 1 (mean of 40, add and remove)", edit_tables["mean_success"]),
            ("others_flip_rate", "other attributes flipped by an edit at strength 1 (mean)",
             edit_tables["mean_others_flip_rate"])])  # fmt: skip
    card_data = _card_data(folder, record, repo_id,
                           ["vae", "variational-autoencoder", "celeba", "faces", "latent-space"], **CELEBA_TERMS,
                           pipeline_tag="unconditional-image-generation", eval_results=results or None)
    return _render(
        "celeba_vae.md.j2", card_data, folder, record, config, repo_id, model, run,
        book=BOOK_RECIPE,
        level_sizes=[model["image_size"] // model["stem_stride"] // 2**i for i in range(len(model["widths"]))]
        if config["model_type"] == "resnet" else None,
        adversarial=adversarial_fields(run),
        prior=prior_description(folder),
        smiling=(edits or {}).get("rates", {}).get("Smiling"),
        variant=record.get("variant"),
        frozen=record.get("frozen_from"),
        init=record.get("initialized_from"),
        evaluation=evaluation,
        edits=edit_tables,
        directions=directions_method(folder),
    )


def adversarial_fields(run: RunConfig) -> dict | None:
    """The card's description of a run's ``adversarial`` section: its reconstruction terms, adversarial loss and
    weight, start step, and the discriminator's widths (``None`` for a run without one)."""
    if run.adversarial is None:
        return None
    from latentlab.models.discriminator import PatchDiscriminator

    objective = run.adversarial.objective
    terms = [name for name, weight in (("L1", objective.l1_weight), ("MSE", objective.mse_weight),
                                       ("feature matching on the discriminator's hidden layers",
                                        objective.feature_matching_weight)) if weight]  # fmt: skip
    widths = inspect.signature(PatchDiscriminator).parameters["widths"].default
    return {"terms": terms, "loss": objective.loss.replace("_", "-"), "weight": f"{objective.weight:g}",
            "start_step": objective.start_step, "widths": run.adversarial.discriminator.get("widths", list(widths))}


def directions_method(folder: Path) -> dict | None:
    """``{"method", "shrinkage"}`` of the folder's attribute directions, or None when it has none."""
    from latentlab.directions import DIRECTIONS_NAME, AttributeDirections

    path = folder / DIRECTIONS_NAME
    if not path.is_file():
        return None
    method, shrinkage = AttributeDirections.read_estimator(path)
    return {"method": method, "shrinkage": shrinkage}


def render_classifier_card(folder: Path, record: dict, config: dict, repo_id: str, model: dict, run: RunConfig
                           ) -> ModelCard:  # fmt: skip
    """The card of the CelebA attribute classifier, from ``training_log.json`` (incl. its per-attribute test
    accuracy)."""
    metrics = record["test_metrics"]
    over = f"over the {len(metrics['attributes'])} attributes"
    results = eval_results("image-classification", "Face attribute classification", celeba_dataset(model, "test"),
                           "test", [("accuracy", f"mean accuracy {over}", metrics["mean_accuracy"]),
                                    ("balanced_accuracy", f"mean balanced accuracy {over}",
                                     metrics["mean_balanced_accuracy"])])  # fmt: skip
    card_data = _card_data(folder, record, repo_id, ["image-classification", "multi-label", "celeba", "face-attributes"],
                           **CELEBA_TERMS, eval_results=results, pipeline_tag="image-classification")
    return _render("attribute_classifier.md.j2", card_data, folder, record, config, repo_id, model, run,
                   metrics=metrics)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repo-id")
    args = parser.parse_args(argv)
    write_model_card(args.folder, args.repo_id)
    print(f"wrote {args.folder / 'README.md'}")
