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
import json
import re
import shlex
import sys
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from latentlab.config import parse_config
from latentlab.models.base import RECORD_NAME
from latentlab.objectives import AutoencoderObjective

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


DIGIT_DATASETS = {
    "mnist": dict(title="MNIST", hub_id="ylecun/mnist", license="cc-by-sa-3.0",
                  text="MNIST (LeCun, Cortes & Burges) is distributed under **CC BY-SA 3.0**; these weights, trained "
                       "on it, are shared under the same license."),
    "fashion-mnist": dict(title="Fashion-MNIST", hub_id="zalando-datasets/fashion_mnist", license="mit",
                          text="Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017, Zalando Research) is under the **MIT** "
                               "license; so are these weights."),
}  # fmt: skip


CELEBA_TERMS = dict(license="other", license_name="celeba-non-commercial-research",
                    license_link="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html", datasets=["CelebA-HQ"])


def conv_fields(config: dict) -> dict:
    """Template fields of a convolutional model's stages: their count and filters ("32/64/128/256")."""
    return dict(depth=len(config["hidden_channels"]), channels="/".join(map(str, config["hidden_channels"])))


def run_fields(record: dict) -> dict:
    """The template fields every card takes from the training run's record."""
    cfg = record["config"]
    return dict(
        parameters=record["parameters"],
        train_images=record["train_images"],
        command=record["command"],
        config_yaml=yaml.safe_dump(cfg, sort_keys=False).strip(),
        epochs=record["epochs"],
        steps=record["steps"],
        batch_size=cfg["train"]["batch_size"],
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


def _digit_texts(config: dict, cfg: dict) -> dict:
    """Title, description, architecture, uses and limitations of a digit model, from its ``config.json`` and the
    run's config ``cfg`` (its objective)."""
    variational, conditional = config.get("variational", False), config.get("num_classes", 0) > 0
    objective = parse_config(cfg).objective
    classes = cfg["data"].get("classes")
    if config["model_type"] == "dense":
        widths = " → ".join(map(str, [784, *config["hidden_features"]]))
        arch = (f"Dense layers {widths} → z ({config['z_dim']}{', ' + config['latent_activation'] if config.get('latent_activation') else ''}), "
                f"mirrored in the decoder, sigmoid output; {objective.reconstruction.upper()} loss.")  # fmt: skip
    else:
        arch = (f"{len(config['hidden_channels'])} × [Conv 3×3 stride 2 + {config['activation']}] with "
                f"{'/'.join(map(str, config['hidden_channels']))} filters{' + BatchNorm' if config['batch_norm'] else ''}, "
                f"a dense {'mean/logvar' if variational else 'code'} head, a mirrored transposed-conv decoder with a sigmoid "
                f"output; {objective.reconstruction.upper()} loss"
                + (f" weighted {objective.reconstruction_weight:g} against the KL term." if variational else "."))  # fmt: skip
    if conditional:
        arch += " The one-hot label is concatenated to the encoder's input and to `z` at the decoder's input."
    if classes:
        title, desc = "a novelty-detection autoencoder", (
            f"A dense autoencoder (an MLP 784 → 100 → 784 with sigmoid units) trained on the digit(s) "
            f"{classes} only: it reconstructs those well and everything else badly, so its reconstruction error is a "
            "novelty score.")  # fmt: skip
        uses = "scoring how unlike the training digit an image is, and seeing why an autoencoder fails off its data."
        limits = ("A 100-unit sigmoid bottleneck also reconstructs simple shapes of other digits (a 1) fairly well. "
                  "Noise raises every image's error, and the noise's share can swamp the digit's: compare the AUC on "
                  "noisy copies with the clean one before trusting the score on noisy inputs.")  # fmt: skip
    elif conditional:
        title, desc = f"a conditional autoencoder with a {config['z_dim']}-d latent", (
            "A conditional autoencoder: the label is given to the encoder and the decoder, so the latent is "
            "free to encode style (slant, thickness) and the decoder draws any chosen class from any `z`.")
        uses = "generating a chosen digit, and seeing what a latent encodes when the class is given separately."
        limits = ("Trained as a plain autoencoder, so its latents are not N(0, I): decoding z drawn far from the "
                  "training codes gives poor digits. Style transfers between classes only roughly.")  # fmt: skip
    elif variational:
        title, desc = f"a {config['z_dim']}-d variational autoencoder", (
            "The Fashion-MNIST VAE of *Generative Deep Learning*, 2nd ed. (D. Foster, 2023), ch. 3: its 2-d latent "
            "plane is close to N(0, I), so it can be walked and sampled.")
        uses = "walking a continuous 2-d latent plane, sampling new images, seeing the prior's role (p-value view)."
        limits = "Two latent dimensions cannot hold much detail: images are blurry class prototypes."
    else:
        title, desc = f"a convolutional autoencoder with a {config['z_dim']}-d latent", (
            "The Fashion-MNIST autoencoder of *Generative Deep Learning*, 2nd ed. (D. Foster, 2023), ch. 3."
            if cfg["data"]["name"] == "fashion-mnist" else
            "A convolutional autoencoder for MNIST (the layers are in the config).")  # fmt: skip
        uses = "seeing codes cluster by class, and interpolating between two images' codes."
        limits = ("A plain autoencoder's latent space has gaps and no prior: interpolations can pass through "
                  "non-images, and decoded random points are often not clothing/digits.")  # fmt: skip
    return dict(title=title, description=desc, architecture=arch, uses=uses, limitations=limits)


def render_digit_model_card(folder: Path, record: dict, config: dict, repo_id: str) -> ModelCard:
    """The card of an MNIST / Fashion-MNIST model, from ``training_log.json`` (incl. its test metrics)."""
    cfg = record["config"]
    dataset = DIGIT_DATASETS[cfg["data"]["name"]]
    metrics = record["test_metrics"] or {}
    name = record.get("name") or folder.name
    names = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    if cfg["data"]["name"] == "fashion-mnist":
        from latentlab.data import FASHION_MNIST_CLASSES as names
    results = [EvalResult(task_type="image-to-image", task_name="Image reconstruction", dataset_type=dataset["hub_id"],
                          dataset_name=dataset["title"], dataset_split="test", metric_type=k.removeprefix("test_"),
                          metric_name=k.replace("_", " "), metric_value=round(float(v), 6))
               for k, v in metrics.items() if k.startswith("test_") and k != "test_images"]  # fmt: skip
    novelty = metrics.get("novelty")
    if novelty:
        for key in ("auc", "auc_gaussian", "auc_salt_and_pepper"):
            results.append(EvalResult(task_type="anomaly-detection", task_name="Novelty detection",
                                      dataset_type=dataset["hub_id"], dataset_name=dataset["title"],
                                      dataset_split="test", metric_type="roc_auc",
                                      metric_name=f"ROC AUC ({key.replace('auc_', '') if key != 'auc' else 'clean'})",
                                      metric_value=round(novelty[key], 6)))  # fmt: skip
    card_data = ModelCardData(
        library_name="latentlab",
        license=dataset["license"],
        tags=["autoencoder", "vae" if config.get("variational") else "latent-space", cfg["data"]["name"],
              "latent-space", "pytorch_model_hub_mixin"],
        datasets=[dataset["hub_id"]],
        model_name=name,
        eval_results=results or None,
        **lineage(record, repo_id),
    )
    history = record["history"]
    extra_terms = [k for k in history[0]["validation"] if k != "loss"] if history else []
    card = ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "digit_autoencoder.md.j2"),
        name=name,
        repo_id=repo_id,
        **_digit_texts(config, cfg),
        dataset_title=dataset["title"],
        dataset_license_text=dataset["text"],
        image_size=config.get("image_size") or config["image_shape"][-1],
        image_shape=", ".join(map(str, config.get("image_shape") or [config["in_channels"], config["image_size"], config["image_size"]])),
        trained_classes=cfg["data"].get("classes"),
        model_type=config["model_type"],
        model_config=json.dumps(config, indent=1),
        conditional=config.get("num_classes", 0) > 0,
        z_dim=config["z_dim"],
        test_images=metrics.get("test_images", 0),
        test_rows=[(k.removeprefix("test_").replace("_", " "), f"{v:.5g}") for k, v in metrics.items()
                   if k.startswith("test_") and k != "test_images"],  # fmt: skip
        novelty=novelty,
        asked=json.loads((folder / "conditional_evaluation.json").read_text())
        if (folder / "conditional_evaluation.json").is_file() else None,
        novelty_rows=[(names[int(c)], e) for c, e in sorted((novelty or {}).get("per_class_error", {}).items(), key=lambda t: int(t[0]))],
        validation_size=cfg["data"].get("validation_size", 5000),
        **run_fields(record),
        extra_terms=extra_terms,
        figures=metrics.get("figures", []),
    )
    return card


def render_image_model_card(folder: Path, record: dict, config: dict, repo_id: str) -> ModelCard:
    """The card of a model trained on its user's own image collection (``data.name: images``)."""
    from latentlab.directions import AttributeDirections

    cfg = record["config"]
    name = record.get("name") or folder.name
    directions = None
    if (folder / "attribute_directions.safetensors").is_file():
        directions = AttributeDirections.read(folder / "attribute_directions.safetensors").names
    card_data = ModelCardData(library_name="latentlab", license="other", model_name=name,
                              tags=["vae" if config.get("variational", True) else "autoencoder", "latent-space",
                                    "pytorch_model_hub_mixin"], pipeline_tag="unconditional-image-generation",
                              **lineage(record, repo_id))  # fmt: skip
    shape = config.get("image_shape") or [config.get("in_channels", 3), config["image_size"], config["image_size"]]
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "image_vae.md.j2"),
        name=name,
        repo_id=repo_id,
        kind="variational autoencoder" if config.get("variational", True) else "autoencoder",
        data_source=cfg["data"]["source"],
        image_size=shape[-1],
        channels=shape[0],
        model_type=config["model_type"],
        model_config=json.dumps(config, indent=1),
        z_dim=config["z_dim"],
        directions=directions,
        prior=prior_description(folder),
        **run_fields(record),
    )


def render_model_card(folder: str | Path, repo_id: str | None = None) -> str:
    """The stamped card text of a model folder, from its ``training_log.json`` and ``config.json``: the face
    VAE's card, the attribute classifier's (by ``model_type``), or a digit model's (chosen by the run's ``data.name``). ``repo_id`` (default
    ``latent-lab/<name>``) is the id its "How to use" section loads. Raises FileNotFoundError without a
    ``training_log.json``."""
    folder = Path(folder)
    if not (folder / RECORD_NAME).is_file():
        raise FileNotFoundError(f"{folder} has no training_log.json: its card cannot be generated from a record")
    record = json.loads((folder / RECORD_NAME).read_text())
    repo_id = repo_id or f"latent-lab/{record.get('name') or folder.name}"
    config = json.loads((folder / "config.json").read_text())
    if record["config"]["data"].get("name") == "images":
        card = render_image_model_card(folder, record, config, repo_id)
    elif record["config"]["data"].get("name", "celeba") != "celeba":
        card = render_digit_model_card(folder, record, config, repo_id)
    elif config.get("model_type") == "attribute-classifier":
        card = render_classifier_card(folder, record, config, repo_id)
    else:
        card = render_face_model_card(folder, record, config, repo_id)
    return stamp_card(str(card))


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


SEED_RECIPE = {"hidden_channels": [64, 64, 64, 64, 64], "reconstruction_weight": 2000.0, "z_dim": 200,
               "upsampling": "transposed"}  # fmt: skip


def face_architecture(config: dict, objective: AutoencoderObjective) -> str:
    """One paragraph on a face VAE's architecture (its ``config.json``) and its run's ``objective``."""
    if config.get("model_type") == "resnet":
        widths = config["widths"]
        first = config["image_size"] // config.get("stem_stride", 1)
        sizes = "/".join(str(first // 2**i) for i in range(len(widths)))
        dec = config.get("decoder_blocks_per_level") or config["blocks_per_level"]
        dec_widths = config.get("decoder_widths") or widths
        mirrored = ("a mirrored decoder" if list(dec_widths) == list(widths) else
                    f"a narrower decoder ({'/'.join(map(str, reversed(dec_widths)))} channels from 4 px up; the decoder "
                    "runs once per output face, so it sets the cost of a morph or a sample)")  # fmt: skip
        text = (f"A residual VAE (`ResNetAutoencoder`): a {'stride-2 ' if config.get('stem_stride', 1) == 2 else ''}stem "
                f"convolution, then {config['blocks_per_level']} pre-activation residual block(s) (GroupNorm + SiLU + "
                f"Conv 3×3, twice) per level at {sizes} px with {'/'.join(map(str, widths))} channels, stride-2 "
                f"convolutions between levels, dense `mean`/`logvar` heads with a **{config['z_dim']}-d latent**; "
                f"{mirrored} ({dec} block(s) per level, nearest-neighbour upsampling + Conv 3×3, no transposed "
                "convs) with a sigmoid output (the layout of the latent-diffusion autoencoder, Rombach et al. 2022, "
                "without attention and with a vector latent).")  # fmt: skip
    else:
        text = (f"The CelebA VAE of *Generative Deep Learning*, 2nd ed. (David Foster, O'Reilly 2023), chapter 3, "
                f"re-implemented in PyTorch: {len(config['hidden_channels'])} × [Conv 3×3 stride 2 + BatchNorm + LeakyReLU] "
                f"with {'/'.join(map(str, config['hidden_channels']))} filters, dense `mean`/`logvar` heads with a "
                f"**{config['z_dim']}-d latent**, a mirrored "
                f"{'transposed-conv' if config.get('upsampling', 'transposed') == 'transposed' else 'nearest-upsampling + conv'} "
                "decoder with a sigmoid output.")  # fmt: skip
    if objective.decoder_variance == "optimal":
        beta = objective.beta
        text += (" **Objective: the σ-VAE** (Rybkin, Daniilidis & Levine, ICML 2021): a Gaussian decoder whose shared "
                 "variance is set to its maximum-likelihood value, the batch MSE, at every step; loss = D/2 · (log 2πσ² + 1) "
                 "+ KL, the negative ELBO in nats per image" + (", with no weight to tune." if beta == 1 else
                 f"; here the KL term is weighted **β = {beta:g}** (a β-VAE's β, Higgins et al., ICLR 2017), "
                 "asking for a more compressed latent, so the loss is no longer the negative ELBO."))  # fmt: skip
        terms = [f"{w:g} · D/2 · log({name}) ({source})" for name, w, source in (
                 ("1 − SSIM", objective.ssim_weight, "Wang et al. 2004"),
                 ("focal frequency loss", objective.focal_frequency_weight, "Jiang et al., ICCV 2021")) if w]  # fmt: skip
        if terms:
            text += f" Sharpness terms added to it, each calibrated like the MSE term: {' + '.join(terms)}."
    else:
        text += (f" Loss = w · MSE + KL with w = {objective.reconstruction_weight:g} (the book's `BETA`, a weight on the "
                 "reconstruction term)." if objective.beta == 1 else
                 f" Loss = w · MSE + β · KL with w = {objective.reconstruction_weight:g}, β = {objective.beta:g}.")
    return text


def recipe_changes(config: dict, tcfg: dict, objective: AutoencoderObjective) -> list[str]:
    """How a face VAE's recipe differs from the book's (empty for the book's recipe itself)."""
    if config.get("model_type") == "resnet":
        changes = ["the objective: the σ-VAE's calibrated Gaussian decoder instead of 2000 · mean MSE + KL — the book's "
                   "weight of 2000 is a decoder with σ ≈ 1.75 on pixels in [0, 1], so its KL term wins and every face comes back as "
                   "nearly the same average face",
                   "the architecture: GroupNorm/SiLU residual blocks and nearest-upsampling decoder instead of five "
                   "BatchNorm/LeakyReLU convs of 64 filters (GroupNorm makes each face independent of its batch)"]  # fmt: skip
        if tcfg.get("optimizer", "adam") == "adamw":
            changes.append(f"AdamW (lr {tcfg['learning_rate']:g}, weight decay {tcfg.get('weight_decay', 0.01):g}) "
                           f"with batch {tcfg['batch_size']} instead of Adam 5e-4 with batch 128")  # fmt: skip
        if tcfg.get("lr_schedule", "constant") != "constant":
            changes.append(f"a {tcfg['lr_schedule']} learning-rate schedule over {tcfg['max_epochs']} epochs")
        if tcfg.get("hflip"):
            changes.append("horizontal flips of the training faces")
        changes.append("samples from a Gaussian mixture fitted to the training posterior means (Ghosh et al. 2020) "
                       "instead of N(0, I), which this model's aggregate posterior no longer fills")  # fmt: skip
        return changes
    changes = []
    if list(config["hidden_channels"]) != SEED_RECIPE["hidden_channels"]:
        changes.append(f"filters {'/'.join(map(str, config['hidden_channels']))} instead of the book's 64/64/64/64/64")
    if config["z_dim"] != SEED_RECIPE["z_dim"]:
        changes.append(f"a {config['z_dim']}-d latent instead of 200")
    if objective.reconstruction_weight != SEED_RECIPE["reconstruction_weight"]:
        changes.append(f"a reconstruction weight of {objective.reconstruction_weight:g} instead of 2000")
    if config.get("upsampling", "transposed") != "transposed":
        changes.append("nearest-neighbour upsampling + 3×3 convs instead of stride-2 transposed convs")
    if tcfg.get("lr_schedule", "constant") != "constant":
        changes.append(f"a {tcfg['lr_schedule']} learning-rate schedule over {tcfg['max_epochs']} epochs")
    return changes


def prior_description(folder: Path) -> str | None:
    """What the folder's ``prior.safetensors`` is, in words (``None`` without one)."""
    if not (folder / "prior.safetensors").is_file():
        return None
    from latentlab.prior import GaussianMixturePrior

    return GaussianMixturePrior.load(folder / "prior.safetensors").describe()


def render_face_model_card(folder: Path, record: dict, config: dict, repo_id: str) -> ModelCard:
    """The card of a CelebA face VAE, from ``training_log.json``."""
    cfg = record["config"]
    name = record.get("name") or folder.name
    history = record["history"]
    best = next((h for h in history if h["epoch"] == record["best_epoch"]), history[-1] if history else None)
    results = []
    if best is not None:
        for metric, value in [("loss", best["validation"]["loss"]), ("mse", best["validation"]["mse"]),
                              ("kl", best["validation"]["kl"])]:  # fmt: skip
            results.append(EvalResult(task_type="image-to-image", task_name="Image reconstruction",
                                      dataset_type="celeba-hq-64", dataset_name="CelebA-HQ 64×64 (validation split)",
                                      dataset_split="validation", metric_type=metric,
                                      metric_name=f"validation {metric}", metric_value=round(float(value), 6)))  # fmt: skip
    evaluation = None
    if (folder / "evaluation.json").is_file():  # written by training/evaluate.py
        evaluation = json.loads((folder / "evaluation.json").read_text())
        rec, fids, lat = evaluation["reconstruction"], evaluation["fid"], evaluation["latent"]
        for metric, name_, value in [("mse", "test reconstruction MSE", rec["mse"]),
                                     ("psnr", "test reconstruction PSNR (dB)", rec["psnr_db"]),
                                     ("fid", f"FID of reconstructions ({fids['images']} images)", fids["reconstructions"]),
                                     ("fid", f"FID of samples from {'its prior' if 'samples_prior' in fids else 'N(0, I)'} "
                                             f"({fids['images']} images)", fids["samples"]),
                                     *([("fid", f"FID of samples from N(0, I) ({fids['images']} images)",
                                         fids["samples_normal"])] if "samples_prior" in fids and "samples_normal" in fids else []),
                                     *([("fid", f"FID of morph midpoints ({fids['images']} images)", fids["interpolations"])]
                                       if "interpolations" in fids else []),
                                     ("kl", "test KL (nats)", lat["kl"]),
                                     ("active_units", "active latent units", lat["active_units"])]:  # fmt: skip
            results.append(EvalResult(task_type="image-to-image", task_name="Image reconstruction and generation",
                                      dataset_type="celeba-hq-64", dataset_name="CelebA-HQ 64×64 (test split)",
                                      dataset_split="test", metric_type=metric, metric_name=name_,
                                      metric_value=round(float(value), 6)))  # fmt: skip
    edits = (evaluation or {}).get("edits")
    edit_tables = edit_table_rows(edits) if edits else None
    if edit_tables:
        for metric, name_, value in [("edit_success", "attribute-edit success at strength 1 (mean of 40, add and remove)",
                                      edit_tables["mean_success"]),
                                     ("others_flip_rate", "other attributes flipped by an edit at strength 1 (mean)",
                                      edit_tables["mean_others_flip_rate"])]:  # fmt: skip
            results.append(EvalResult(task_type="image-to-image", task_name="Attribute editing",
                                      dataset_type="celeba-hq-64", dataset_name="CelebA-HQ 64×64 (test split)",
                                      dataset_split="test", metric_type=metric, metric_name=name_,
                                      metric_value=round(float(value), 6)))  # fmt: skip
    card_data = ModelCardData(
        library_name="latentlab",
        **CELEBA_TERMS,
        tags=["vae", "variational-autoencoder", "celeba", "faces", "latent-space", "pytorch_model_hub_mixin"],
        pipeline_tag="unconditional-image-generation",
        model_name=name,
        eval_results=results or None,
        **lineage(record, repo_id),
    )
    card = ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "celeba_vae.md.j2"),
        name=name,
        repo_id=repo_id,
        architecture=face_architecture(config, parse_config(cfg).objective),
        title=("the book's convolutional VAE of 64×64 faces" if config.get("model_type") != "resnet" else
               "a residual σ-VAE of 64×64 faces with an adversarially trained decoder" if cfg.get("adversarial") else
               "a residual σ-VAE of 64×64 faces"),  # fmt: skip
        adversarial=adversarial_fields(cfg.get("adversarial")),
        model_class="ResNetAutoencoder" if config.get("model_type") == "resnet" else "ConvAutoencoder",
        z_dim=config["z_dim"],
        changes=recipe_changes(config, cfg["train"], parse_config(cfg).objective),
        prior=prior_description(folder),
        smiling=(edits or {}).get("rates", {}).get("Smiling"),
        variant=record.get("variant"),
        frozen=record.get("frozen_from"),
        init=record.get("initialized_from"),
        evaluation=evaluation,
        edits=edit_tables,
        data_source=cfg["data"]["source"],
        directions=directions_method(folder),
        **run_fields(record),
    )
    return card


def adversarial_fields(section: dict | None) -> dict | None:
    """The card's description of a config's ``adversarial`` section (its values, with the objective's defaults)."""
    if not section:
        return None
    from latentlab.config import AdversarialConfig

    acfg = AdversarialConfig.parse(section)
    objective = acfg.objective
    terms = [name for name, weight in (("L1", objective.l1_weight), ("MSE", objective.mse_weight),
                                       ("feature matching on the discriminator's hidden layers",
                                        objective.feature_matching_weight)) if weight]  # fmt: skip
    return {"terms": terms, "loss": objective.loss.replace("_", "-"), "weight": f"{objective.weight:g}",
            "start_step": objective.start_step, "widths": acfg.discriminator.get("widths", [64, 128, 256])}


def directions_method(folder: Path) -> dict | None:
    """``{"method", "shrinkage"}`` of the folder's attribute directions, or None when it has none."""
    from latentlab.directions import DIRECTIONS_NAME, AttributeDirections

    path = folder / DIRECTIONS_NAME
    if not path.is_file():
        return None
    method, shrinkage = AttributeDirections.read_estimator(path)
    return {"method": method, "shrinkage": shrinkage}


def render_classifier_card(folder: Path, record: dict, config: dict, repo_id: str) -> ModelCard:
    """The card of the CelebA attribute classifier, from ``training_log.json`` (incl. its per-attribute test accuracy)."""
    cfg, metrics = record["config"], record["test_metrics"]
    name = record.get("name") or folder.name
    results = [EvalResult(task_type="image-classification", task_name="Face attribute classification",
                          dataset_type="celeba-hq-64", dataset_name="CelebA-HQ 64×64 (test split)", dataset_split="test",
                          metric_type=kind, metric_name=f"{label} over the {len(metrics['attributes'])} attributes",
                          metric_value=round(metrics[key], 6))
               for key, kind, label in [("mean_accuracy", "accuracy", "mean accuracy"),
                                        ("mean_balanced_accuracy", "balanced_accuracy", "mean balanced accuracy")]]  # fmt: skip
    card_data = ModelCardData(library_name="latentlab", **CELEBA_TERMS, model_name=name, eval_results=results,
                              **lineage(record, repo_id),
                              tags=["image-classification", "multi-label", "celeba", "face-attributes",
                                    "pytorch_model_hub_mixin"], pipeline_tag="image-classification")  # fmt: skip
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "attribute_classifier.md.j2"),
        name=name,
        repo_id=repo_id,
        **conv_fields(config),
        dropout=config["dropout"],
        attributes=config["attribute_names"],
        metrics=metrics,
        data_source=cfg["data"]["source"],
        **run_fields(record),
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repo-id")
    args = parser.parse_args(argv)
    write_model_card(args.folder, args.repo_id)
    print(f"wrote {args.folder / 'README.md'}")
