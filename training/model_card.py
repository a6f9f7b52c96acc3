"""Render a model folder's README.md card from what its training run recorded (``training_log.json``).

    python training/model_card.py pretrained/celeba-vae-64 [--repo-id OWNER/NAME]

The template lives in ``model_cards/``; it is rendered through ``huggingface_hub.ModelCard`` so the metadata block
is valid Hub card data (model-index with the recorded validation metrics).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

TEMPLATES = Path(__file__).resolve().parents[1] / "model_cards"


def describe_hardware(hw: dict) -> str:
    device = hw["gpu"] or f"{hw['cpu']} CPU ({hw['cpu_count']} cores)"
    return f"{device}, {hw['num_processes']} process(es), mixed precision {hw['mixed_precision']}, torch {hw['torch']}"


def write_model_card(folder: str | Path, repo_id: str | None = None) -> ModelCard:
    folder = Path(folder)
    record = json.loads((folder / "training_log.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    cfg = record["config"]
    name = record.get("name") or folder.name
    repo_id = repo_id or f"latent-lab/{name}"
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
    card_data = ModelCardData(
        library_name="latentlab",
        license="other",
        license_name="celeba-non-commercial-research",
        license_link="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
        tags=["vae", "variational-autoencoder", "celeba", "faces", "latent-space", "pytorch_model_hub_mixin"],
        pipeline_tag="unconditional-image-generation",
        datasets=["CelebA-HQ"],
        model_name=name,
        eval_results=results or None,
    )
    card = ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "celeba_vae.md.j2"),
        name=name,
        repo_id=repo_id,
        depth=len(config["hidden_channels"]),
        channels="/".join(map(str, config["hidden_channels"])),
        z_dim=config["z_dim"],
        beta=config["beta"],
        parameters=record["parameters"],
        train_images=record["train_images"],
        data_source=cfg["data"]["source"],
        command=record["command"],
        config_yaml=yaml.safe_dump(cfg, sort_keys=False).strip(),
        epochs=record["epochs"],
        steps=record["steps"],
        batch_size=cfg["train"]["batch_size"],
        best_epoch=record["best_epoch"],
        stopped=record["stopped"],
        train_minutes=f"{record['train_seconds'] / 60:.1f}",
        hardware=describe_hardware(record["hardware"]),
        history=history,
    )
    card.save(folder / "README.md")
    return card


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repo-id")
    args = parser.parse_args()
    write_model_card(args.folder, args.repo_id)
    print(f"wrote {args.folder / 'README.md'}")
