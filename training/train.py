"""Train any Latent Lab model with accelerate — one loop for every model, on a laptop CPU, one GPU or several.

    accelerate launch training/train.py --config training/configs/celeba_vae_64.yaml
    python training/train.py --config training/configs/celeba_vae_64.yaml            # same thing, one process
    python training/train.py --config … --resume                                      # continue the latest checkpoint
    python training/train.py --config training/configs/mnist_dense_ae_digit0.yaml    # the digit models alike
    python training/train.py --config … --push-to-hub OWNER/NAME                      # then publish the folder
    python training/train.py --config … --set model.ssim_weight=1 --output-dir runs/x  # one config value changed

The config names the model (``model.type``: ``resnet``, ``conv``, ``dense`` or ``attribute-classifier``, the rest are its
``__init__`` arguments) and the data (``data.name``: ``celeba``, ``mnist`` or ``fashion-mnist``); the loop calls
``model.compute_loss(batch)`` with ``batch = {"image": …, "label": …}`` (digits) or ``{"image": …, "attributes": …}``
(CelebA) and knows nothing else about the model. ``train.lr_schedule`` is ``constant`` (the book's) or ``cosine``.
``train.frozen: {from: FOLDER, modules: […]}`` loads those modules from a model folder and keeps them fixed (a decoder
trained under a shipped encoder); ``train.init`` (same form) loads them to fine-tune.

Each epoch: tqdm progress with images/s, the validation loss, ``images/epoch_NNN_reconstructions.png`` and
``images/epoch_NNN_samples.png``; ``accelerator.save_state`` checkpoints every ``checkpoint_every_steps`` steps and
at each epoch's end under ``<output_dir>/checkpoints``; training stops when the validation loss has not improved for
``patience`` epochs. At the end the best weights are written as a Hub-layout folder ``<output_dir>/model`` by
``save_pretrained`` — with preview images, the run's record ``training_log.json`` and a model card rendered from
``model_cards/``; face models also get the attribute directions computed on the training split (and, with a
``prior: {components: K}`` section, the Gaussian-mixture prior fitted on its posterior means), digit models the
test-set metrics and analysis figures of :mod:`latentlab.analysis`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import safetensors
import safetensors.torch
import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
from tqdm.auto import tqdm

from latentlab import latent
from latentlab.analysis import corrupt
from latentlab.data import ImageTensors, load_celeba, load_mnist
from latentlab.directions import compute_attribute_directions, posterior_means
from latentlab.prior import fit_gaussian_mixture
from latentlab.images import grid_image
from latentlab.models import Autoencoder, HubModel, model_class
from latentlab.models.base import WEIGHTS_NAME
from latentlab.models.discriminator import AdversarialObjective, PatchDiscriminator

sys.path.insert(0, str(Path(__file__).resolve().parent))  # training/, for model_card beside this script
from model_card import command_line, write_model_card  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STATE_FILE = "trainer_state.json"
NUM_PREVIEW = 32


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, type=Path, help="YAML config (see training/configs/)")
    p.add_argument("--output-dir", type=Path, help="override output_dir")
    p.add_argument("--data", help="override data.source: a local Parquet folder or a Hub dataset id")
    p.add_argument("--limit", type=int, help="override data.limit (first N training rows)")
    p.add_argument("--eval-limit", type=int, help="override data.eval_limit")
    p.add_argument("--max-epochs", type=int, help="override train.max_epochs")
    p.add_argument("--max-steps", type=int, help="stop (with a checkpoint) after this many optimiser steps in total")
    p.add_argument("--mixed-precision", choices=["no", "fp16", "bf16"], help="override train.mixed_precision")
    p.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        help="continue from a checkpoint folder, or from the latest one in <output_dir>/checkpoints",
    )
    p.add_argument("--skip-directions", action="store_true", help="do not compute attribute directions (nor the prior) at the end")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                   help="override one config value (VALUE read as YAML), e.g. --set model.ssim_weight=1; repeatable")
    p.add_argument("--push-to-hub", metavar="OWNER/NAME",
                   help="publish the exported model folder to this Hub repo (training/push_to_hub.py)")  # fmt: skip
    return p.parse_args(argv)


def load_config(args: argparse.Namespace) -> dict:
    if not args.config.is_file():
        raise SystemExit(f"config file not found: {args.config}")
    cfg = yaml.safe_load(args.config.read_text())
    flags = [("output_dir", args.output_dir), ("data.source", args.data), ("data.limit", args.limit),
             ("data.eval_limit", args.eval_limit), ("train.max_epochs", args.max_epochs),
             ("train.max_steps", args.max_steps), ("train.mixed_precision", args.mixed_precision)]  # fmt: skip
    overrides = [(key, value) for key, value in flags if value is not None]  # a flag not given changes nothing
    for override in args.overrides:  # --set SECTION.KEY=VALUE, after the named flags
        key, sep, value = override.partition("=")
        section, _, name = key.rpartition(".")
        if not sep or not name or (section and not isinstance(cfg.get(section), dict)):
            raise SystemExit(f"--set {override}: expected SECTION.KEY=VALUE with a section of {args.config} "
                             f"({', '.join(k for k, v in cfg.items() if isinstance(v, dict))})")  # fmt: skip
        overrides.append((key, yaml.safe_load(value)))
    for key, value in overrides:
        section, _, name = key.rpartition(".")
        (cfg[section] if section else cfg)[name] = str(value) if isinstance(value, Path) else value
    return cfg


@dataclass
class Adversary:
    """What adversarial training adds to a run (the config's ``adversarial`` section): the discriminator, its
    optimiser and the objective; all three live in the run's checkpoints, none in the exported model folder."""

    discriminator: torch.nn.Module
    optimizer: torch.optim.Optimizer
    objective: AdversarialObjective


def build_adversary(cfg: dict, model: HubModel) -> Adversary | None:
    """The ``adversarial`` section as an :class:`Adversary`, or None without one. The section holds the
    :class:`AdversarialObjective` fields, ``discriminator`` (:class:`PatchDiscriminator` arguments) and the
    discriminator's Adam ``learning_rate`` (default 2e-4) and ``betas`` (default [0.5, 0.9], VQGAN's). The decoder is
    the only part it trains: ``train.frozen`` must hold the encoder and the posterior heads, so the latent space, its
    attribute directions and its prior stay the source model's."""
    acfg = dict(cfg.get("adversarial") or {})
    if not acfg:
        return None
    frozen = set((cfg["train"].get("frozen") or {}).get("modules", []))
    if not isinstance(model, Autoencoder) or not {"encoder", "mean_head", "logvar_head"} <= frozen:
        raise SystemExit("adversarial: trains a VAE's decoder only; train.frozen.modules must list encoder, "
                         "mean_head and logvar_head")  # fmt: skip
    discriminator = PatchDiscriminator(model.in_channels, **(acfg.pop("discriminator", None) or {}))
    lr, betas = float(acfg.pop("learning_rate", 2e-4)), tuple(acfg.pop("betas", (0.5, 0.9)))
    try:
        objective = AdversarialObjective(**acfg)
    except TypeError as err:
        raise SystemExit(f"adversarial: {err}") from err
    if cfg["train"].get("channels_last", False):
        discriminator = discriminator.to(memory_format=torch.channels_last)
    return Adversary(discriminator, torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas), objective)


def checkpoint_dirs(output_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first (the trainer state is written last, so a half-written one is skipped)."""
    root = output_dir / "checkpoints"
    done = [p for p in root.glob("step_*") if (p / STATE_FILE).is_file()] if root.is_dir() else []
    return sorted(done, key=lambda p: int(p.name.split("_")[1]))


def load_data(cfg: dict, split: str) -> ImageTensors:
    """One split of the config's dataset (``data.name``) as uint8 tensors.

    Digit sets have no validation split: ``validation`` is the last ``data.validation_size`` (default 5,000) training
    images, which ``train`` then leaves out. ``data.classes`` keeps only those labels in train/validation (e.g. ``[0]``
    for the novelty autoencoder; ``test`` keeps all); ``data.limit`` / ``data.eval_limit`` keep the first N rows (quick runs).
    """
    dcfg, mcfg = cfg["data"], cfg["model"]
    name = dcfg.get("name", "celeba")
    limit = {dcfg.get("train_split", "train"): dcfg.get("limit"), dcfg.get("eval_split", "validation"): dcfg.get("eval_limit")}.get(split)
    if name == "celeba":
        return load_celeba(dcfg["source"], split, image_size=mcfg["image_size"], limit=limit)
    shape = mcfg.get("image_shape") or [mcfg.get("in_channels", 1), mcfg["image_size"], mcfg["image_size"]]
    data = load_mnist(name, "test" if split == "test" else "train", dcfg.get("source"),
                      pad_to=shape[-1] if shape[-1] != 28 else None)  # fmt: skip
    if split in ("train", "validation"):
        held_out = int(dcfg.get("validation_size", 5000))
        data = data.subset(slice(len(data) - held_out, None) if split == "validation" else slice(0, len(data) - held_out))
    if dcfg.get("classes") is not None and split != "test":  # the test split keeps every class (novelty report)
        data = data.subset(torch.isin(data.labels, torch.tensor(dcfg["classes"])))
    return data.subset(slice(0, limit)) if limit else data


def build_run(cfg: dict, accelerator: Accelerator) -> tuple[HubModel, torch.optim.Optimizer]:
    """The config's model (in ``channels_last`` if asked) and its optimiser (``train.optimizer``: ``adam``, the
    book's, or ``adamw`` with ``train.weight_decay``, default 0.01), not yet ``prepare``d."""
    mcfg = dict(cfg["model"])
    model = model_class(mcfg.pop("type", "conv"))(**mcfg)
    tcfg = cfg["train"]
    for key, freeze in (("init", False), ("frozen", True)):  # frozen last: it wins where both name a module
        if tcfg.get(key):
            load_modules(model, Path(tcfg[key]["from"]), list(tcfg[key]["modules"]), freeze=freeze, key=f"train.{key}")
    if tcfg.get("channels_last", False):
        model = model.to(memory_format=torch.channels_last)
    kind = tcfg.get("optimizer", "adam")
    if kind not in ("adam", "adamw"):
        raise ValueError(f"train.optimizer must be 'adam' or 'adamw', not {kind!r}")
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = (torch.optim.AdamW(trainable, lr=tcfg["learning_rate"], weight_decay=tcfg.get("weight_decay", 0.01))
                 if kind == "adamw" else torch.optim.Adam(trainable, lr=tcfg["learning_rate"]))  # fmt: skip
    return model, optimizer


def load_modules(model: torch.nn.Module, folder: Path, modules: list[str], freeze: bool, key: str) -> None:
    """Copy the named submodules' weights from a model folder's ``model.safetensors`` into ``model``, and freeze them
    if asked. ``train.frozen: {from: FOLDER, modules: [encoder, mean_head, logvar_head]}`` freezes: e.g. a cheaper
    decoder trained under a shipped encoder, so the latent space — and its directions and prior — stays that model's.
    ``train.init: {from: FOLDER, modules: [decoder_input, decoder]}`` only initialises: fine-tuning a shipped decoder.
    ``key`` (``"train.frozen"`` or ``"train.init"``) names the config section in error messages.

    Strict: every tensor of those modules must be in the file with the same shape, and the file may hold no other
    tensor under those names. Read with safetensors (no unpickling); cast to the model's dtype.

    Raises:
        SystemExit: the folder has no ``model.safetensors``.
        ValueError: a module name ``model`` does not have, or missing, extra or mis-shaped tensors.
    """
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise SystemExit(f"{key}.from: no {WEIGHTS_NAME} in {folder}")
    names = dict(model.named_modules())
    unknown = [m for m in modules if m not in names or not m]
    if unknown:
        raise ValueError(f"{key}.modules: {type(model).__name__} has no module {unknown}")
    ours = {k: v for k, v in model.state_dict().items() if any(k.startswith(m + ".") for m in modules)}
    with safetensors.safe_open(str(weights), framework="pt") as f:
        theirs = [k for k in f.keys() if any(k.startswith(m + ".") for m in modules)]
        missing, extra = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
        if missing or extra:
            raise ValueError(f"{key}: {weights} does not match {modules}: missing {missing}, unexpected {extra}")
        with torch.no_grad():
            for k, target in ours.items():
                t = f.get_tensor(k)
                if t.shape != target.shape:
                    raise ValueError(f"{key}: {k} is {tuple(t.shape)} in {weights}, {tuple(target.shape)} here")
                target.copy_(t.to(target.dtype))
    if freeze:
        for m in modules:
            names[m].requires_grad_(False)


def lr_scheduler(optimizer: torch.optim.Optimizer, tcfg: dict, steps_per_epoch: int) -> torch.optim.lr_scheduler.LRScheduler:
    """The learning-rate schedule of ``train.lr_schedule``: ``constant`` (the book's Adam, the default) or ``cosine``
    (linear warm-up over ``train.warmup_steps``, then cosine decay to 0 at ``max_epochs`` — Loshchilov & Hutter,
    SGDR, 2017). Stepped once per optimiser step; ``save_state`` checkpoints it with the optimiser."""
    kind = tcfg.get("lr_schedule", "constant")
    if kind == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    if kind != "cosine":
        raise ValueError(f"train.lr_schedule must be 'constant' or 'cosine', not {kind!r}")
    total, warmup = max(1, tcfg["max_epochs"] * steps_per_epoch), int(tcfg.get("warmup_steps", 0))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def to_batch(images_u8: torch.Tensor, targets: torch.Tensor, channels_last: bool) -> dict[str, torch.Tensor]:
    """A loader batch as the models' batch dict: ``image`` float in [0, 1]; ``label`` (B,) when targets are class
    labels, ``attributes`` (B, K) uint8 0/1 when they are CelebA's attributes."""
    x = images_u8.float().div_(255.0)
    batch = {"image": x.contiguous(memory_format=torch.channels_last) if channels_last else x}
    # class labels (digits) are (B,); CelebA's targets are its (B, 40) 0/1 attributes (the classifier's targets)
    batch["label" if targets.ndim == 1 else "attributes"] = targets
    return batch


def train_step(accelerator, model, optimizer, images_u8, targets, channels_last: bool, noise,
               hflip: bool = False, corruption: list[dict] | None = None,
               adversary: Adversary | None = None, step: int = 0) -> dict[str, torch.Tensor]:  # fmt: skip
    """One optimiser step on a uint8 batch: the project's training path (also timed by benchmarks/benchmark.py).
    ``hflip``: mirror a random half of the images (faces are left-right symmetric); ``corruption``: encode a
    corrupted copy and score against the clean images (a denoising autoencoder; :func:`latentlab.analysis.corrupt`).
    Both draw from ``noise``, the run's checkpointed generator, so a resumed run draws the same.
    With an ``adversary`` the decoder minimises its :class:`AdversarialObjective` instead of the model's loss (not
    before ``adversary.objective.start_step``, while the discriminator trains alone), and the discriminator takes
    one step on the same batch; ``step`` is the number of optimiser steps taken so far."""
    if hflip:
        flip = torch.rand(images_u8.shape[0], generator=noise, device=noise.device) < 0.5
        images_u8 = torch.where(flip.to(images_u8.device)[:, None, None, None], images_u8.flip(-1), images_u8)
    batch = to_batch(images_u8, targets, channels_last)
    if corruption:
        batch["input"] = corrupt(batch["image"], corruption, noise)
    unwrapped = accelerator.unwrap_model(model)
    if adversary is None:
        losses = unwrapped.compute_loss(batch, forward=model, generator=noise)
        accelerator.backward(losses["loss"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return losses
    losses, reconstruction = unwrapped.compute_loss(batch, forward=model, generator=noise, return_reconstruction=True)
    losses = {k: v.detach() for k, v in losses.items()}  # the model's own terms, reported only
    objective, discriminator = adversary.objective, adversary.discriminator
    if step >= objective.start_step:
        with accelerator.autocast():
            decoder = objective.decoder_losses(discriminator, batch["image"], reconstruction, unwrapped.last_decoder_weight())
        accelerator.backward(decoder["loss"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.update({k: v.detach() for k, v in decoder.items() if k != "loss"}, loss=decoder["objective"].detach())
    adversary.optimizer.zero_grad(set_to_none=True)  # drop what the decoder's loss left on the discriminator
    with accelerator.autocast():
        critic = objective.discriminator_losses(discriminator, batch["image"], reconstruction)
    accelerator.backward(critic["discriminator_loss"])
    adversary.optimizer.step()
    adversary.optimizer.zero_grad(set_to_none=True)
    losses.update({k: v.detach() for k, v in critic.items()})
    return losses


@torch.no_grad()
def evaluate(accelerator, model, loader, channels_last: bool, seed: int, corruption: list[dict] | None = None
             ) -> dict[str, float]:  # fmt: skip
    """Mean validation losses over the whole loader, with a fixed RNG for the posterior samples (and, for a
    denoising model, for the corruption of its inputs)."""
    unwrapped = accelerator.unwrap_model(model)
    model.eval()
    generator = torch.Generator(device=accelerator.device).manual_seed(seed)
    totals, count = {}, 0
    for images_u8, targets in loader:
        batch = to_batch(images_u8, targets, channels_last)
        if corruption:
            batch["input"] = corrupt(batch["image"], corruption, generator)
        with accelerator.autocast():
            losses = unwrapped.compute_loss(batch, generator=generator)
        n = batch["image"].shape[0]
        for k, v in losses.items():
            totals[k] = totals.get(k, 0.0) + accelerator.reduce(v.detach() * n, "sum").item()
        count += accelerator.reduce(torch.tensor(n, device=accelerator.device), "sum").item()
    model.train()
    return {k: v / count for k, v in totals.items()}


@torch.no_grad()
def save_previews(model: Autoencoder, preview: dict, prior_z: torch.Tensor, folder: Path, stem: str) -> None:
    """Originals above their reconstructions (posterior means), and decoded prior samples (for a conditional model,
    one column per class), as PNG grids."""
    model.eval()
    x, labels = preview["image"], preview.get("label") if model.conditional else None
    recon = model.decode(model.encode(x, labels).mode(), labels)
    pairs = torch.cat([x[:16], recon[:16], x[16:32], recon[16:32]])
    folder.mkdir(parents=True, exist_ok=True)
    scale = max(1, 128 // model.image_size)
    grid_image(pairs.cpu(), nrow=16, scale=scale).save(folder / f"{stem}reconstructions.png")
    if model.conditional:
        classes = torch.arange(prior_z.shape[0], device=prior_z.device) % model.num_classes
        grid_image(model.decode(prior_z, classes).cpu(), nrow=model.num_classes, scale=scale).save(folder / f"{stem}samples.png")
    else:
        grid_image(model.decode(prior_z).cpu(), nrow=8, scale=scale).save(folder / f"{stem}samples.png")


def main(argv=None) -> Path:
    args = parse_args(argv)
    cfg = load_config(args)
    tcfg, dcfg = cfg["train"], cfg["data"]
    train_split, eval_split = dcfg.get("train_split", "train"), dcfg.get("eval_split", "validation")
    output_dir = Path(cfg["output_dir"])
    channels_last = bool(tcfg.get("channels_last", False))

    accelerator = Accelerator(
        mixed_precision=tcfg.get("mixed_precision", "no"),
        project_config=ProjectConfiguration(project_dir=str(output_dir)),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )
    set_seed(tcfg["seed"])
    log = accelerator.print

    with accelerator.main_process_first():
        train_data = load_data(cfg, train_split)
        eval_data = load_data(cfg, eval_split)
    log(f"data: {len(train_data)} {train_split} / {len(eval_data)} {eval_split} images of "
        f"{dcfg.get('name', 'celeba')} from {dcfg.get('source') or 'the default folder'}")  # fmt: skip

    model, optimizer = build_run(cfg, accelerator)
    train_loader = torch.utils.data.DataLoader(train_data.to_dataset(), batch_size=tcfg["batch_size"], shuffle=True)
    eval_loader = torch.utils.data.DataLoader(eval_data.to_dataset(), batch_size=256)
    scheduler = lr_scheduler(optimizer, tcfg, len(train_loader))  # the prepared scheduler steps once per process
    model, optimizer, train_loader, eval_loader, scheduler = accelerator.prepare(model, optimizer, train_loader,
                                                                                 eval_loader, scheduler)  # fmt: skip
    adversary = build_adversary(cfg, accelerator.unwrap_model(model))
    if adversary is not None:  # prepared after the model, so save_state / load_state hold both pairs in order
        adversary.discriminator, adversary.optimizer = accelerator.prepare(adversary.discriminator, adversary.optimizer)
    unwrapped: HubModel = accelerator.unwrap_model(model)
    generative = isinstance(unwrapped, Autoencoder)  # previews, prior samples and directions are for autoencoders
    # The posterior noise has its own generator, checkpointed with the run, so a resumed run draws exactly the
    # noise the uninterrupted run would have (the global RNG is also touched by every DataLoader iterator).
    noise = torch.Generator(device=accelerator.device).manual_seed(tcfg["seed"] * 1000 + accelerator.process_index)
    noise_file = f"posterior_noise_rng_{accelerator.process_index}.safetensors"

    state = {"step": 0, "epoch": 0, "best_val_loss": math.inf, "best_epoch": None, "bad_epochs": 0,
             "history": [], "train_seconds": 0.0, "stopped": None}  # fmt: skip
    if args.resume:
        ckpts = checkpoint_dirs(output_dir)
        ckpt = Path(args.resume) if args.resume != "latest" else (ckpts[-1] if ckpts else None)
        if ckpt is None or not (ckpt / STATE_FILE).is_file():
            raise SystemExit(f"--resume: no checkpoint found ({ckpt or output_dir / 'checkpoints'})")
        accelerator.load_state(str(ckpt))
        noise.set_state(safetensors.torch.load_file(str(ckpt / noise_file))["state"])
        state = json.loads((ckpt / STATE_FILE).read_text())
        state["stopped"] = None  # a run stopped by --max-steps continues; early stopping is re-decided per epoch
        log(f"resumed from {ckpt} at step {state['step']} (epoch {state['epoch']})")

    def save_checkpoint() -> None:
        accelerator.wait_for_everyone()
        ckpt = output_dir / "checkpoints" / f"step_{state['step']:08d}"
        accelerator.save_state(str(ckpt))
        safetensors.torch.save_file({"state": noise.get_state()}, str(ckpt / noise_file))
        if accelerator.is_main_process:
            (ckpt / STATE_FILE).write_text(json.dumps(state, indent=1))
            for old in checkpoint_dirs(output_dir)[: -tcfg.get("keep_checkpoints", 2)]:
                shutil.rmtree(old, ignore_errors=True)

    preview = {k: v.to(accelerator.device) for k, v in
               to_batch(eval_data.images[:NUM_PREVIEW], eval_data.targets[:NUM_PREVIEW], False).items()}  # fmt: skip
    prior_z = latent.sample(64, unwrapped.z_dim, seed=tcfg["seed"], device=accelerator.device) if generative else None
    # Ctrl-C / SIGTERM: finish the current step, checkpoint, exit; --resume then continues from that step.
    interrupted = []

    def request_stop(signum, frame):
        if interrupted:
            raise KeyboardInterrupt  # a second Ctrl-C aborts at once
        interrupted.append(signal.Signals(signum).name)
        log(f"\n{interrupted[0]}: stopping after this step and saving a checkpoint (again to abort)")

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    steps_per_epoch = len(train_loader)
    max_steps = tcfg.get("max_steps") or math.inf
    images_dir = output_dir / "images"
    best_dir = output_dir / "best"
    model.train()

    while state["epoch"] < tcfg["max_epochs"] and state["stopped"] is None:
        epoch = state["epoch"]
        skip = state["step"] - epoch * steps_per_epoch
        train_loader.set_epoch(epoch)
        loader = accelerator.skip_first_batches(train_loader, skip) if skip > 0 else train_loader
        n_images = len(train_data) // accelerator.num_processes
        bar = tqdm(total=n_images, initial=min(skip * tcfg["batch_size"], n_images), unit="img", unit_scale=True,
                   desc=f"epoch {epoch + 1}/{tcfg['max_epochs']}", disable=not accelerator.is_local_main_process)  # fmt: skip
        t0, running = time.perf_counter(), {}
        for images_u8, targets in loader:
            losses = train_step(accelerator, model, optimizer, images_u8, targets, channels_last, noise,
                                hflip=bool(tcfg.get("hflip", False)), corruption=tcfg.get("corruption"),
                                adversary=adversary, step=state["step"])  # fmt: skip
            scheduler.step()
            state["step"] += 1
            for k, v in losses.items():
                running[k] = 0.9 * running.get(k, v.item()) + 0.1 * v.item()
            bar.update(images_u8.shape[0])
            bar.set_postfix({k: f"{v:.4g}" for k, v in running.items()})
            if state["step"] >= max_steps or interrupted:
                state["stopped"] = f"interrupted ({interrupted[0]})" if interrupted else f"max_steps={tcfg['max_steps']}"
                break
            if tcfg.get("checkpoint_every_steps") and state["step"] % tcfg["checkpoint_every_steps"] == 0:
                state["train_seconds"] += time.perf_counter() - t0
                t0 = time.perf_counter()
                save_checkpoint()
        bar.close()
        state["train_seconds"] += time.perf_counter() - t0
        if state["stopped"]:  # interrupted mid-epoch (max_steps or a signal): checkpoint, no epoch bookkeeping
            save_checkpoint()
            break

        val = evaluate(accelerator, model, eval_loader, channels_last, tcfg["seed"], tcfg.get("corruption"))
        state["epoch"] = epoch + 1
        record = {"epoch": epoch + 1, "step": state["step"], "train": running, "validation": val,
                  "train_seconds": round(state["train_seconds"], 1)}  # fmt: skip
        state["history"].append(record)
        # train.keep: "best" (the lowest validation loss; early stopping) or "last" (an adversarial run, whose
        # validation loss — the model's own objective — is not what the adversarial term improves)
        keep = tcfg.get("keep", "best")
        if keep not in ("best", "last"):
            raise SystemExit(f"train.keep must be 'best' or 'last', not {keep!r}")
        improved = keep == "last" or val["loss"] < state["best_val_loss"] - tcfg.get("min_delta", 0.0)
        terms = ", ".join(f"{k} {v:.5g}" for k, v in val.items() if k != "loss")
        log(f"epoch {epoch + 1}: train loss {running['loss']:.5g} | {eval_split} loss {val['loss']:.5g} "
            f"({terms}){' *best*' if improved else ''}")  # fmt: skip
        if accelerator.is_main_process:
            if generative:
                save_previews(unwrapped, preview, prior_z, images_dir, f"epoch_{epoch + 1:03d}_")
            if improved:
                unwrapped.save_pretrained(best_dir)
        if improved:
            state.update(best_val_loss=val["loss"], best_epoch=epoch + 1, bad_epochs=0)
        else:
            state["bad_epochs"] += 1
            if state["bad_epochs"] >= tcfg["patience"]:
                state["stopped"] = f"validation loss did not improve for {tcfg['patience']} epochs"
        model.train()
        save_checkpoint()

    if state["epoch"] >= tcfg["max_epochs"] and state["stopped"] is None:
        state["stopped"] = f"max_epochs={tcfg['max_epochs']}"
    log(f"stopped: {state['stopped']}")
    accelerator.wait_for_everyone()
    if interrupted:
        log(f"checkpoint saved at step {state['step']}; continue with --resume")
        return output_dir / "checkpoints"
    if not accelerator.is_main_process:
        return output_dir / "model"
    return export(cfg, state, args, unwrapped, train_data, preview, prior_z, best_dir, output_dir, accelerator, argv)


def module_source(section: dict | None) -> dict | None:
    """Where the modules of ``train.frozen`` or ``train.init`` came from, kept in the run's record (the source folder
    may be replaced later, e.g. by this model when it ships): that folder's name, training command, epochs and time,
    from its record, and the source's own ``frozen_from`` and ``initialized_from`` when it too was trained under a
    frozen encoder or fine-tuned from another folder (so a chain of stages still names the run that trained the
    encoder)."""
    if not section:
        return None
    source = {"folder": str(section["from"]), "modules": list(section["modules"])}
    log_file = Path(section["from"]) / "training_log.json"
    if log_file.is_file():
        record = json.loads(log_file.read_text())
        source.update({k: record.get(k) for k in ("name", "command", "epochs", "steps", "train_seconds")})
        source["best_validation"] = next((h["validation"] for h in record.get("history", [])
                                          if h["epoch"] == record.get("best_epoch")), None)  # fmt: skip
        source.update({k: record[k] for k in ("frozen_from", "initialized_from") if record.get(k)})
    return source


def prior_options(cfg: dict, count: int, split: str = "train") -> dict:
    """``fit_gaussian_mixture`` options from the config's ``prior`` section (``components``, ``seed``)."""
    pcfg = cfg.get("prior") or {}
    return {"components": int(pcfg.get("components", 10)), "seed": int(pcfg.get("seed", 0)),
            "fitted_on": f"the posterior means of {count} {cfg['data'].get('name', 'celeba')} {split} images"}  # fmt: skip


def export(cfg, state, args, unwrapped, train_data, preview, prior_z, best_dir, output_dir, accelerator, argv) -> Path:
    """Write the Hub-layout model folder from the best weights (or the last, if no epoch finished)."""
    final = type(unwrapped).from_pretrained(str(best_dir)) if (best_dir / "config.json").is_file() else unwrapped
    final = final.to(accelerator.device, memory_format=torch.contiguous_format).eval()
    if cfg["train"].get("weights_dtype"):  # e.g. float16: a smaller weights file; rounded before directions are computed
        final.set_storage_dtype(cfg["train"]["weights_dtype"])
    model_dir = output_dir / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    is_faces = cfg["data"].get("name", "celeba") == "celeba"
    generative = isinstance(final, Autoencoder)
    if is_faces and generative and not args.skip_directions:
        means = posterior_means(final, train_data)
        dcfg = cfg.get("directions") or {}  # the estimator (latentlab.latent.attribute_directions); the book's by default
        final.set_attribute_directions(compute_attribute_directions(final, train_data, means=means,
                                                                    method=dcfg.get("method", "mean_difference"),
                                                                    shrinkage=float(dcfg.get("shrinkage", 0.0))))  # fmt: skip
        if final.variational and cfg.get("prior", {}).get("components"):  # the ex-post prior of the Sample tab
            final.set_prior(fit_gaussian_mixture(means, final.latent_fingerprint(), **prior_options(cfg, len(means))))
    final.save_pretrained(model_dir)
    test_metrics = None
    if generative:
        save_previews(final, preview, prior_z, model_dir, "")
    else:  # the attribute classifier: its accuracy per attribute on the test split, into the folder and its card
        from latentlab.evaluation import classifier_metrics

        test_metrics = classifier_metrics(final.cpu(), load_data(cfg, "test"))
    if generative and not is_faces:  # digit models: test-set metrics and the analysis figures, into the folder and its card
        from latentlab.analysis import analyse_digit_model

        test_metrics = analyse_digit_model(final.cpu(), load_data(cfg, "test"), model_dir,
                                           trained_classes=cfg["data"].get("classes"))  # fmt: skip
    launcher = "accelerate launch" if os.environ.get("ACCELERATE_MIXED_PRECISION") or os.environ.get("LOCAL_RANK") else "python"
    record = {
        "name": cfg.get("name"),
        "config": cfg,
        "command": command_line(__file__, None if argv is None else list(argv), launcher),
        "epochs": state["epoch"],
        "steps": state["step"],
        "best_epoch": state["best_epoch"],
        "stopped": state["stopped"],
        "history": state["history"],
        "train_images": len(train_data),
        "test_metrics": test_metrics,
        "train_seconds": round(state["train_seconds"], 1),
        "frozen_from": module_source(cfg["train"].get("frozen")),
        **({"initialized_from": module_source(cfg["train"]["init"])} if cfg["train"].get("init") else {}),
        "parameters": final.num_parameters(),
        "hardware": {
            "device": str(accelerator.device),
            "num_processes": accelerator.num_processes,
            "mixed_precision": accelerator.mixed_precision,
            "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "torch": torch.__version__,
        },
    }
    (model_dir / "training_log.json").write_text(json.dumps(record, indent=1))
    write_model_card(model_dir)
    accelerator.print(f"model folder: {model_dir}")
    if args.push_to_hub:
        from push_to_hub import push_folder  # training/push_to_hub.py, beside this script

        push_folder(model_dir, args.push_to_hub)
    return model_dir


if __name__ == "__main__":
    main()
