"""Compare face models measured by ``training/evaluate.py``, beside the PCA baseline, as JSON and a Markdown table.

    python training/compare_face_models.py celeba-vae-64-seed=pretrained/celeba-vae-64-book runs/variants/*/model \
        --pca 200 --out benchmarks/face_models.json

A folder may be given a row name as ``NAME=FOLDER`` (default: the run's name). Each folder must hold ``evaluation.json`` (from ``evaluate.py``), ``training_log.json`` and ``config.json``. A row
already in ``--out`` whose folder is not given (say, a model whose folder is gone) is kept,
so the table keeps every model ever compared. ``--pca K`` adds the linear baseline: PCA with K components fitted on
the training split (:func:`latentlab.evaluation.pca_reconstruction_mse`), measured on the same test split.
The choice rule: the best sample FID among models whose test reconstruction MSE is at most the reference's
(``--reference``; by default the row ``celeba-vae-64-seed``, the book's recipe).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from latentlab.config import parse_config
from latentlab.evaluation import edit_summary
from latentlab.models.base import RECORD_NAME
from latentlab.objectives import AutoencoderObjective

from .model_card import command_line


def objective_name(objective: AutoencoderObjective) -> str:
    """A face model's objective in a few words: ``"w·MSE + KL, w = 2000"``, ``"σ-VAE"``, ``"σ-VAE, β = 8"``."""
    if objective.decoder_variance == "fixed":
        return f"w·MSE + KL, w = {objective.reconstruction_weight:g}" + (f", β = {objective.beta:g}" if objective.beta != 1 else "")
    return "σ-VAE" if objective.beta == 1 else f"σ-VAE, β = {objective.beta:g}"


def model_row(folder: Path, name: str | None = None) -> dict:
    ev = json.loads((folder / "evaluation.json").read_text())
    record = json.loads((folder / RECORD_NAME).read_text())
    config = json.loads((folder / "config.json").read_text())
    tcfg = record["config"]["train"]
    return {
        "name": name or record.get("name") or folder.name,
        "folder": str(folder),
        "architecture": architecture(config),
        "z_dim": config["z_dim"],
        "objective": objective_name(parse_config(record["config"]).objective),
        "parameters": record["parameters"],
        "lr_schedule": tcfg.get("lr_schedule", "constant"),
        "epochs": record["epochs"],
        "best_epoch": record["best_epoch"],
        "train_minutes": round(record["train_seconds"] / 60, 1),
        "hardware": record["hardware"],
        "test_mse": ev["reconstruction"]["mse"],
        "test_psnr_db": ev["reconstruction"]["psnr_db"],
        "test_ssim": ev["reconstruction"].get("ssim"),  # measured since the sharpness terms (absent before)
        "fid_reconstructions": ev["fid"]["reconstructions"],
        "fid_samples": ev["fid"]["samples"],
        "fid_samples_normal": ev["fid"].get("samples_normal", None if "samples_prior" in ev["fid"] else ev["fid"]["samples"]),
        "fid_interpolations": ev["fid"].get("interpolations"),
        "samples_from": ev["fid"].get("samples_from", "z ~ N(0, I)"),
        "fid_images": ev["fid"]["images"],
        "kl": ev["latent"]["kl"],
        "active_units": ev["latent"]["active_units"],
        "edits": edit_summary(ev["edits"]) if "edits" in ev else None,
        "training_command": record["command"],
        "evaluation_command": ev["command"],
    }


def architecture(config: dict) -> str:
    """A short description of a face VAE's layers for the table."""
    if config.get("model_type") == "resnet":
        decoder = config.get("decoder_widths") or config["widths"]
        blocks = config.get("blocks_per_level", 1)
        decoder_blocks = config.get("decoder_blocks_per_level") or blocks
        # blocks per level are named only where they differ from the one block of every row measured before
        encoder_depth = f" × {blocks} blocks" if blocks != 1 else ""
        decoder_depth = f" × {decoder_blocks} block{'s' if decoder_blocks > 1 else ''}" if decoder_blocks != blocks else ""
        return (f"residual, {len(config['widths'])} levels {'/'.join(map(str, config['widths']))}{encoder_depth}"
                f"{', stride-2 stem' if config.get('stem_stride', 1) == 2 else ''}, upsample+conv decoder"
                f"{'' if decoder == config['widths'] else ' ' + '/'.join(map(str, decoder))}{decoder_depth}")  # fmt: skip
    return (f"{len(config['hidden_channels'])} convs {'/'.join(map(str, config['hidden_channels']))}, "
            + ("upsample+conv decoder" if config.get("upsampling") == "nearest" else "transposed-conv decoder"))


def pca_row(components: int, data: str) -> dict:
    from latentlab.data import load_celeba
    from latentlab.evaluation import pca_reconstruction_mse

    result = pca_reconstruction_mse(load_celeba(data, "train").images, load_celeba(data, "test").images, components)
    return {"name": f"PCA-{components} (linear baseline)", "components": components, "test_mse": result["mse"],
            "test_psnr_db": result["psnr_db"], "explained_variance": result["explained_variance"]}  # fmt: skip


def choose(rows: list[dict], reference: str) -> str | None:
    """The choice rule: the lowest sample FID among models whose test MSE is at most ``reference``'s."""
    ref = next((r for r in rows if r["name"] == reference), None)
    eligible = [r for r in rows if "fid_samples" in r and (ref is None or r["test_mse"] <= ref["test_mse"])]
    return min(eligible, key=lambda r: r["fid_samples"])["name"] if eligible else None


def markdown(rows: list[dict], chosen: str | None) -> str:
    head = ("| model | architecture | objective | params | epochs (LR) | test MSE | PSNR dB | FID images | FID recon "
            "| FID samples (its prior) | FID samples N(0, I) | FID morph midpoints | KL nats | active units "
            "| edit success @1 | other attrs flipped @1 |\n"
            "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    lines = [head]
    for r in rows:
        if "fid_samples" not in r:
            lines.append(f"| {r['name']} | {r['components']} principal components | — | — | — | {r['test_mse']:.5f} | "
                         f"{r['test_psnr_db']:.2f} |" + " — |" * 9)  # fmt: skip
            continue
        e = r.get("edits")
        success, others = (f"{e['edit_success']:.2f}", f"{e['others_flip_rate']:.3f}") if e else ("—", "—")
        mark = " **(chosen)**" if r["name"] == chosen else ""
        prior = f"{r['fid_samples']:.1f}" if "mixture" in r.get("samples_from", "") else "—"
        normal = r.get("fid_samples_normal", r["fid_samples"])  # None: not measured (evaluate.py --fid-sets)
        normal = "—" if normal is None else f"{normal:.1f}"
        interp = "—" if r.get("fid_interpolations") is None else f"{r['fid_interpolations']:.1f}"
        lines.append(
            f"| {r['name']}{mark} | {r['architecture']} | {r['objective']} | {r['parameters']:,} | {r['epochs']} ({r['lr_schedule']}) "
            f"| {r['test_mse']:.5f} | {r['test_psnr_db']:.2f} | {r.get('fid_images') or '—'} | {r['fid_reconstructions']:.1f} "
            f"| {prior} | {normal} | {interp} | {r['kl']:.1f} | {r['active_units']} | {success} | {others} |")  # fmt: skip
    return "\n".join(lines)


def main(argv=None) -> dict:
    from latentlab.data import DEFAULT_CELEBA_SOURCE

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="*", help="model folders with evaluation.json, each optionally NAME=FOLDER")
    p.add_argument("--pca", type=int, help="add the PCA baseline with this many components")
    p.add_argument("--data", default=DEFAULT_CELEBA_SOURCE)
    p.add_argument("--reference", default="celeba-vae-64-seed", help="the model whose MSE the choice must not exceed")
    p.add_argument("--out", type=Path, default=Path("benchmarks") / "face_models.json")
    args = p.parse_args(argv)
    old = json.loads(args.out.read_text()) if args.out.is_file() else {"rows": []}
    rows = {r["name"]: r for r in old["rows"]}
    for spec in args.folders:
        name, _, path = spec.rpartition("=")
        folder = Path(path)
        if not (folder / "evaluation.json").is_file():
            raise SystemExit(f"compare: {folder} has no evaluation.json; run training/evaluate.py {folder} first")
        row = model_row(folder, name or None)
        rows[row["name"]] = row
    if args.pca:
        row = pca_row(args.pca, args.data)
        rows[row["name"]] = row
    ordered = sorted(rows.values(), key=lambda r: ("fid_samples" not in r, r.get("fid_samples", 0)))
    chosen = choose(ordered, args.reference)
    result = {"command": command_line(__file__, argv), "reference": args.reference,
              "chosen": chosen, "rule": "lowest sample FID among models with test MSE <= the reference's",
              "rows": ordered, "markdown": markdown(ordered, chosen)}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(result["markdown"] + f"\n\nchosen: {chosen}\nwrote {args.out}")
    return result
