"""Train any Latent Lab model with accelerate — one loop for every model, on a laptop CPU, one GPU or several.

    accelerate launch training/train.py --config training/configs/celeba_vae_64.yaml
    python training/train.py --config training/configs/celeba_vae_64.yaml            # same thing, one process
    python training/train.py --config … --resume                                      # continue the latest checkpoint
    python training/train.py --config training/configs/mnist_dense_ae_digit0.yaml    # the digit models alike
    python training/train.py --config … --push-to-hub OWNER/NAME                      # then publish the folder
    python training/train.py --config … --set objective.ssim_weight=1 --output-dir runs/x  # one value changed

The config (parsed once into :class:`latentlab.config.RunConfig`; unknown keys are refused by name) names the
model (``model.type``: ``resnet``, ``conv``, ``dense`` or ``attribute-classifier``, the rest are its ``__init__``
arguments: the architecture, all that its folder records), what it minimises (the ``objective`` section,
:mod:`latentlab.objectives`) and the data (``data.name``: ``celeba``, ``mnist`` or
``fashion-mnist``); the loop calls ``objective(model, batch)`` with ``batch = {"image": …, "label": …}`` (digits) or
``{"image": …, "attributes": …}`` (CelebA) and knows nothing else about the model. ``train.lr_schedule`` is ``constant`` (the book's) or ``cosine``.
``train.frozen: {from: FOLDER, modules: […]}`` loads those modules from a model folder and keeps them fixed (a decoder
trained under a shipped encoder); ``train.init`` (same form) loads them to fine-tune. An ``adversarial`` section
trains the decoder against a patch discriminator (:mod:`latentlab.models.discriminator`), which lives in the run's
checkpoints only.

Each epoch: tqdm progress with images/s, the validation loss, ``images/epoch_NNN_reconstructions.png`` and
``images/epoch_NNN_samples.png``; ``accelerator.save_state`` checkpoints every ``checkpoint_every_steps`` steps and
at each epoch's end under ``<output_dir>/checkpoints``; training stops when the validation loss has not improved for
``patience`` epochs. At the end the kept weights (``train.keep``: the best validation epoch, or the last) are written
as a Hub-layout folder ``<output_dir>/model`` by ``save_pretrained`` — with preview images, the run's record
``training_log.json`` and a model card rendered from ``latentlab/training/cards/``; face models also get the attribute directions
computed on the training split (and, with a ``prior`` section, the Gaussian-mixture prior fitted on its posterior
means), digit models the test-set metrics and analysis figures of :mod:`latentlab.analysis`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
from tqdm.auto import tqdm

from latentlab import latent
from latentlab.analysis import corrupt
from latentlab.config import ConfigError, ModuleSource, RunConfig, TrainConfig, parse_config
from latentlab.data import ImageData, load_split
from latentlab.directions import compute_attribute_directions, posterior_means
from latentlab.images import grid_image
from latentlab.models import Autoencoder, HubModel, model_class
from latentlab.models.base import RECORD_NAME, WEIGHTS_NAME, TrainedOn
from latentlab.models.discriminator import AdversarialObjective, PatchDiscriminator
from latentlab.prior import fit_gaussian_mixture

from .model_card import command_line, write_model_card

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
                   help="override one config value (VALUE read as YAML), e.g. --set objective.ssim_weight=1; repeatable")
    p.add_argument("--push-to-hub", metavar="OWNER/NAME",
                   help="publish the exported model folder to this Hub repo (training/push_to_hub.py)")  # fmt: skip
    return p.parse_args(argv)


def load_config(args: argparse.Namespace) -> dict:
    """The config file as a dict, with the command line's overrides applied: what the run's record keeps
    (:func:`latentlab.config.parse_config` turns it into the typed config the run uses)."""
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


@dataclass(frozen=True)
class Recipe:
    """How the loop turns a batch into losses (:func:`recipe_for`): the objective (``objective(model, batch, …)``,
    :mod:`latentlab.objectives`), the batch's memory format, left-right flips, the corruption of a denoising
    autoencoder's inputs and, for a decoder trained against a discriminator, the adversary."""

    objective: Callable[..., Any]
    channels_last: bool = False
    hflip: bool = False
    corruption: tuple[dict, ...] | None = None
    adversary: Adversary | None = None


def recipe_for(config: RunConfig, model: HubModel, adversary: Adversary | None = None) -> Recipe:
    """The :class:`Recipe` of a run's config for ``model`` (the objective checked against it)."""
    tcfg = config.train
    try:
        config.objective.check(model)
    except ValueError as err:
        raise ConfigError(f"objective: {err}") from err
    return Recipe(config.objective, tcfg.channels_last, tcfg.hflip, tcfg.corruption, adversary)


def build_adversary(config: RunConfig, model: HubModel) -> Adversary | None:
    """The ``adversarial`` section as an :class:`Adversary`, or None without one. The decoder is the only part it
    trains (:func:`latentlab.config.parse_config` checks that ``train.frozen`` holds the encoder and the posterior
    heads), so the latent space, its attribute directions and its prior stay the source model's."""
    acfg = config.adversarial
    if acfg is None:
        return None
    if not isinstance(model, Autoencoder):  # the config checked that the encoder side is frozen
        raise SystemExit(f"adversarial: trains an autoencoder's decoder, not a {type(model).__name__}")
    discriminator = PatchDiscriminator(model.in_channels, **acfg.discriminator)
    if config.train.channels_last:
        discriminator = discriminator.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=acfg.learning_rate, betas=acfg.betas)
    return Adversary(discriminator, optimizer, acfg.objective)


def checkpoint_dirs(output_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first (the trainer state is written last, so a half-written one is skipped)."""
    root = output_dir / "checkpoints"
    done = [p for p in root.glob("step_*") if (p / STATE_FILE).is_file()] if root.is_dir() else []
    return sorted(done, key=lambda p: int(p.name.split("_")[1]))


def build_run(config: RunConfig, accelerator: Accelerator | None = None) -> tuple[HubModel, torch.optim.Optimizer]:
    """The config's model (in ``channels_last`` if asked) and its optimiser (``train.optimizer``: ``adam``, the
    book's, or ``adamw`` with ``train.weight_decay``), not yet ``prepare``d."""
    tcfg = config.train
    model = model_class(config.model_type)(**config.model_options())
    for key, source, freeze in (("init", tcfg.init, False), ("frozen", tcfg.frozen, True)):  # frozen last: it wins
        if source is not None:
            load_modules(model, Path(source.source), list(source.modules), freeze=freeze, key=f"train.{key}")
    if tcfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = (torch.optim.AdamW(trainable, lr=tcfg.learning_rate, weight_decay=tcfg.weight_decay)
                 if tcfg.optimizer == "adamw" else torch.optim.Adam(trainable, lr=tcfg.learning_rate))  # fmt: skip
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


def lr_scheduler(optimizer: torch.optim.Optimizer, tcfg: TrainConfig, steps_per_epoch: int
                 ) -> torch.optim.lr_scheduler.LRScheduler:  # fmt: skip
    """The learning-rate schedule of ``train.lr_schedule``: ``constant`` (the book's Adam, the default) or ``cosine``
    (linear warm-up over ``train.warmup_steps``, then cosine decay to 0 at ``max_epochs`` — Loshchilov & Hutter,
    SGDR, 2017). Stepped once per optimiser step; ``save_state`` checkpoints it with the optimiser. ``tcfg``: the
    typed train section (:class:`~latentlab.config.TrainConfig`, which checks the schedule's name)."""
    if tcfg.lr_schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    total, warmup = max(1, tcfg.max_epochs * steps_per_epoch), int(tcfg.warmup_steps)

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


def train_step(accelerator, model, optimizer, images_u8, targets, recipe: Recipe, noise: torch.Generator,
               step: int = 0) -> dict[str, torch.Tensor]:  # fmt: skip
    """One optimiser step on a uint8 batch: the project's training path (also timed by benchmarks/benchmark.py).

    The :class:`Recipe`'s ``hflip`` mirrors a random half of the images (faces are left-right symmetric); its
    ``corruption`` encodes a corrupted copy scored against the clean images (a denoising autoencoder;
    :func:`latentlab.analysis.corrupt`). Both draw from ``noise``, the run's checkpointed generator, so a resumed run
    draws the same. With an ``adversary`` the decoder minimises its :class:`AdversarialObjective` instead of the
    recipe's objective (not before ``adversary.objective.start_step``, while the discriminator trains alone), and the
    discriminator takes one step on the same batch; ``step`` is the number of optimiser steps taken so far."""
    adversary = recipe.adversary
    if recipe.hflip:
        flip = torch.rand(images_u8.shape[0], generator=noise, device=noise.device) < 0.5
        images_u8 = torch.where(flip.to(images_u8.device)[:, None, None, None], images_u8.flip(-1), images_u8)
    batch = to_batch(images_u8, targets, recipe.channels_last)
    if recipe.corruption:
        batch["input"] = corrupt(batch["image"], recipe.corruption, noise)
    unwrapped = accelerator.unwrap_model(model)
    if adversary is None:
        losses = recipe.objective(unwrapped, batch, forward=model, generator=noise)
        accelerator.backward(losses["loss"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return losses
    losses, reconstruction = recipe.objective(unwrapped, batch, forward=model, generator=noise, return_reconstruction=True)
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
def evaluate(accelerator, model, loader, recipe: Recipe, seed: int) -> dict[str, float]:
    """Mean validation losses (the recipe's objective) over the whole loader, with a fixed RNG for the posterior
    samples (and, for a denoising model, for the corruption of its inputs)."""
    unwrapped = accelerator.unwrap_model(model)
    model.eval()
    generator = torch.Generator(device=accelerator.device).manual_seed(seed)
    totals, count = {}, 0
    for images_u8, targets in loader:
        batch = to_batch(images_u8, targets, recipe.channels_last)
        if recipe.corruption:
            batch["input"] = corrupt(batch["image"], recipe.corruption, generator)
        with accelerator.autocast():
            losses = recipe.objective(unwrapped, batch, generator=generator)
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


class Run:
    """A training run in progress: the config, the prepared objects, the posterior-noise generator and the state
    that checkpoints carry (``state``: step, epoch, best validation loss, history, …)."""

    def __init__(self, config: RunConfig, accelerator: Accelerator, model: torch.nn.Module,
                 optimizer: torch.optim.Optimizer, scheduler, train_data: ImageData, eval_data: ImageData,
                 train_loader, eval_loader, recipe: Recipe, noise: torch.Generator):  # fmt: skip
        self.config, self.accelerator, self.model, self.optimizer, self.scheduler = (config, accelerator, model,
                                                                                     optimizer, scheduler)  # fmt: skip
        self.train_data, self.eval_data, self.train_loader, self.eval_loader = train_data, eval_data, train_loader, eval_loader
        self.recipe, self.adversary, self.noise = recipe, recipe.adversary, noise
        self.state = {"step": 0, "epoch": 0, "best_val_loss": math.inf, "best_epoch": None, "bad_epochs": 0,
                      "history": [], "train_seconds": 0.0, "stopped": None}  # fmt: skip
        self.interrupted: list[str] = []  # the signal that asked the run to stop, once one has

    @property
    def output_dir(self) -> Path:
        return Path(self.config.output_dir)

    @property
    def unwrapped(self) -> HubModel:
        return self.accelerator.unwrap_model(self.model)

    @property
    def noise_file(self) -> str:
        return f"posterior_noise_rng_{self.accelerator.process_index}.safetensors"


def start_run(config: RunConfig) -> Run:
    """Accelerator, data, model, optimiser(s), loaders and schedule, prepared; the posterior noise seeded."""
    tcfg, dcfg = config.train, config.data
    accelerator = Accelerator(
        mixed_precision=tcfg.mixed_precision,
        project_config=ProjectConfiguration(project_dir=config.output_dir),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )
    set_seed(tcfg.seed)
    with accelerator.main_process_first():
        train_data, eval_data = load_split(config, dcfg.train_split), load_split(config, dcfg.eval_split)
    accelerator.print(f"data: {len(train_data)} {dcfg.train_split} / {len(eval_data)} {dcfg.eval_split} images of "
                      f"{dcfg.name} from {dcfg.source or 'the default folder'}")  # fmt: skip
    model, optimizer = build_run(config, accelerator)
    workers = {"num_workers": tcfg.num_workers, "persistent_workers": tcfg.num_workers > 0}
    train_loader = torch.utils.data.DataLoader(train_data.to_dataset(), batch_size=tcfg.batch_size, shuffle=True,
                                               **workers)  # fmt: skip
    eval_loader = torch.utils.data.DataLoader(eval_data.to_dataset(), batch_size=256, **workers)
    scheduler = lr_scheduler(optimizer, tcfg, len(train_loader))  # the prepared scheduler steps once per process
    model, optimizer, train_loader, eval_loader, scheduler = accelerator.prepare(model, optimizer, train_loader,
                                                                                 eval_loader, scheduler)  # fmt: skip
    adversary = build_adversary(config, accelerator.unwrap_model(model))
    if adversary is not None:  # prepared after the model, so save_state / load_state hold both pairs in order
        adversary.discriminator, adversary.optimizer = accelerator.prepare(adversary.discriminator, adversary.optimizer)
    # The posterior noise has its own generator, checkpointed with the run, so a resumed run draws exactly the
    # noise the uninterrupted run would have (the global RNG is also touched by every DataLoader iterator).
    noise = torch.Generator(device=accelerator.device).manual_seed(tcfg.seed * 1000 + accelerator.process_index)
    recipe = recipe_for(config, accelerator.unwrap_model(model), adversary)
    return Run(config, accelerator, model, optimizer, scheduler, train_data, eval_data, train_loader, eval_loader,
               recipe, noise)  # fmt: skip


def resume(run: Run, checkpoint: str) -> None:
    """Load a checkpoint folder (or ``"latest"``) into the run: weights, optimisers, schedule, RNGs and state."""
    ckpts = checkpoint_dirs(run.output_dir)
    ckpt = Path(checkpoint) if checkpoint != "latest" else (ckpts[-1] if ckpts else None)
    if ckpt is None or not (ckpt / STATE_FILE).is_file():
        raise SystemExit(f"--resume: no checkpoint found ({ckpt or run.output_dir / 'checkpoints'})")
    run.accelerator.load_state(str(ckpt))
    run.noise.set_state(safetensors.torch.load_file(str(ckpt / run.noise_file))["state"])
    run.state = json.loads((ckpt / STATE_FILE).read_text())
    run.state["stopped"] = None  # a run stopped by --max-steps continues; early stopping is re-decided per epoch
    run.accelerator.print(f"resumed from {ckpt} at step {run.state['step']} (epoch {run.state['epoch']})")


def save_checkpoint(run: Run) -> None:
    """``accelerator.save_state`` plus the noise generator and the trainer state (written last: a complete
    checkpoint); only the newest ``train.keep_checkpoints`` are kept."""
    run.accelerator.wait_for_everyone()
    ckpt = run.output_dir / "checkpoints" / f"step_{run.state['step']:08d}"
    run.accelerator.save_state(str(ckpt))
    safetensors.torch.save_file({"state": run.noise.get_state()}, str(ckpt / run.noise_file))
    if run.accelerator.is_main_process:
        (ckpt / STATE_FILE).write_text(json.dumps(run.state, indent=1))
        for old in checkpoint_dirs(run.output_dir)[: -run.config.train.keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)


def stop_on_signals(run: Run) -> None:
    """Ctrl-C / SIGTERM: finish the current step, checkpoint, exit; --resume then continues from that step."""

    def request_stop(signum, frame):
        if run.interrupted:
            raise KeyboardInterrupt  # a second Ctrl-C aborts at once
        run.interrupted.append(signal.Signals(signum).name)
        run.accelerator.print(f"\n{run.interrupted[0]}: stopping after this step and saving a checkpoint (again to abort)")

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def train_epoch(run: Run) -> dict[str, float] | None:
    """One epoch (or what is left of it after a resume), checkpointing every ``checkpoint_every_steps``. Returns
    the running means of the training losses, or None when the run stopped mid-epoch (max_steps or a signal)."""
    tcfg, state, accelerator = run.config.train, run.state, run.accelerator
    epoch, steps_per_epoch = state["epoch"], len(run.train_loader)
    skip = state["step"] - epoch * steps_per_epoch
    run.train_loader.set_epoch(epoch)
    loader = accelerator.skip_first_batches(run.train_loader, skip) if skip > 0 else run.train_loader
    n_images = len(run.train_data) // accelerator.num_processes
    bar = tqdm(total=n_images, initial=min(skip * tcfg.batch_size, n_images), unit="img", unit_scale=True,
               desc=f"epoch {epoch + 1}/{tcfg.max_epochs}", disable=not accelerator.is_local_main_process)  # fmt: skip
    t0, running = time.perf_counter(), {}
    for images_u8, targets in loader:
        losses = train_step(accelerator, run.model, run.optimizer, images_u8, targets, run.recipe, run.noise,
                            step=state["step"])  # fmt: skip
        run.scheduler.step()
        state["step"] += 1
        for k, v in losses.items():
            running[k] = 0.9 * running.get(k, v.item()) + 0.1 * v.item()
        bar.update(images_u8.shape[0])
        bar.set_postfix({k: f"{v:.4g}" for k, v in running.items()})
        if state["step"] >= (tcfg.max_steps or math.inf) or run.interrupted:
            state["stopped"] = f"interrupted ({run.interrupted[0]})" if run.interrupted else f"max_steps={tcfg.max_steps}"
            break
        if tcfg.checkpoint_every_steps and state["step"] % tcfg.checkpoint_every_steps == 0:
            state["train_seconds"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            save_checkpoint(run)
    bar.close()
    state["train_seconds"] += time.perf_counter() - t0
    return None if state["stopped"] else running


def end_epoch(run: Run, running: dict[str, float], preview: dict, prior_z: torch.Tensor | None) -> None:
    """Validate, record the epoch, write its previews, keep the weights if they are the ones to keep (``train.keep``),
    decide early stopping and checkpoint."""
    tcfg, state, accelerator = run.config.train, run.state, run.accelerator
    val = evaluate(accelerator, run.model, run.eval_loader, run.recipe, tcfg.seed)
    state["epoch"] += 1
    epoch = state["epoch"]
    state["history"].append({"epoch": epoch, "step": state["step"], "train": running, "validation": val,
                             "train_seconds": round(state["train_seconds"], 1)})  # fmt: skip
    # "last": an adversarial run, whose validation loss (the model's own objective) is not what it improves
    improved = tcfg.keep == "last" or val["loss"] < state["best_val_loss"] - tcfg.min_delta
    terms = ", ".join(f"{k} {v:.5g}" for k, v in val.items() if k != "loss")
    accelerator.print(f"epoch {epoch}: train loss {running['loss']:.5g} | {run.config.data.eval_split} loss "
                      f"{val['loss']:.5g} ({terms}){' *best*' if improved else ''}")  # fmt: skip
    if accelerator.is_main_process:
        if prior_z is not None:
            save_previews(run.unwrapped, preview, prior_z, run.output_dir / "images", f"epoch_{epoch:03d}_")
        if improved:
            run.unwrapped.save_pretrained(run.output_dir / "best")
    if improved:
        state.update(best_val_loss=val["loss"], best_epoch=epoch, bad_epochs=0)
    else:
        state["bad_epochs"] += 1
        if state["bad_epochs"] >= tcfg.patience:
            state["stopped"] = f"validation loss did not improve for {tcfg.patience} epochs"
    run.model.train()
    save_checkpoint(run)


def main(argv=None) -> Path:
    args = parse_args(argv)
    raw = load_config(args)
    try:
        config = parse_config(raw)
    except ConfigError as err:
        raise SystemExit(f"{args.config}: {err}") from None
    run = start_run(config)
    if args.resume:
        resume(run, args.resume)
    preview = {k: v.to(run.accelerator.device) for k, v in
               to_batch(run.eval_data.uint8_images(slice(0, NUM_PREVIEW)), run.eval_data.targets[:NUM_PREVIEW],
                        False).items()}  # fmt: skip
    generative = isinstance(run.unwrapped, Autoencoder)  # previews, prior samples and directions are for autoencoders
    prior_z = (latent.sample(64, run.unwrapped.z_dim, seed=config.train.seed, device=run.accelerator.device)
               if generative else None)  # fmt: skip
    stop_on_signals(run)
    run.model.train()
    while run.state["epoch"] < config.train.max_epochs and run.state["stopped"] is None:
        running = train_epoch(run)
        if running is None:  # stopped mid-epoch (max_steps or a signal): checkpoint, no epoch bookkeeping
            save_checkpoint(run)
            break
        end_epoch(run, running, preview, prior_z)
    if run.state["epoch"] >= config.train.max_epochs and run.state["stopped"] is None:
        run.state["stopped"] = f"max_epochs={config.train.max_epochs}"
    run.accelerator.print(f"stopped: {run.state['stopped']}")
    run.accelerator.wait_for_everyone()
    if run.interrupted:
        run.accelerator.print(f"checkpoint saved at step {run.state['step']}; continue with --resume")
        return run.output_dir / "checkpoints"
    if not run.accelerator.is_main_process:
        return run.output_dir / "model"
    model_dir = export(run, preview, skip_directions=args.skip_directions, argv=argv)
    if args.push_to_hub:
        from .push_to_hub import push_folder

        push_folder(model_dir, args.push_to_hub)
    return model_dir


def module_source(source: ModuleSource | None) -> dict | None:
    """Where the modules of ``train.frozen`` or ``train.init`` came from, kept in the run's record (the source folder
    may be replaced later, e.g. by this model when it ships): that folder's name, training command, epochs and time,
    from its record, and the source's own ``frozen_from`` and ``initialized_from`` when it too was trained under a
    frozen encoder or fine-tuned from another folder (so a chain of stages still names the run that trained the
    encoder)."""
    if source is None:
        return None
    described = {"folder": source.source, "modules": list(source.modules)}
    log_file = Path(source.source) / RECORD_NAME
    if log_file.is_file():
        record = json.loads(log_file.read_text())
        described.update({k: record.get(k) for k in ("name", "command", "epochs", "steps", "train_seconds")})
        described["best_validation"] = next((h["validation"] for h in record.get("history", [])
                                             if h["epoch"] == record.get("best_epoch")), None)  # fmt: skip
        described.update({k: record[k] for k in ("frozen_from", "initialized_from") if record.get(k)})
    return described


def final_model(run: Run, skip_directions: bool) -> HubModel:
    """The kept weights (``<output_dir>/best``, or the last if no epoch finished) in eval mode, in the storage dtype,
    with their attribute directions and prior (face VAEs; the config's ``directions`` / ``prior`` sections)."""
    config, best_dir = run.config, run.output_dir / "best"
    final = type(run.unwrapped).from_pretrained(str(best_dir)) if (best_dir / "config.json").is_file() else run.unwrapped
    final = final.to(run.accelerator.device, memory_format=torch.contiguous_format).eval()
    if config.train.weights_dtype:  # e.g. float16: a smaller weights file; rounded before directions are computed
        final.set_storage_dtype(config.train.weights_dtype)
    if config.data.name in ("celeba", "images") and isinstance(final, Autoencoder) and not skip_directions:
        means = posterior_means(final, run.train_data)
        if run.train_data.attribute_names:  # an image collection without labels has no directions
            final.set_attribute_directions(compute_attribute_directions(final, run.train_data, means=means,
                                                                        method=config.directions.method,
                                                                        shrinkage=config.directions.shrinkage))  # fmt: skip
        if final.variational and config.prior is not None:  # the ex-post prior of the Sample tab
            dataset = "" if config.data.name == "images" else f"{config.data.name} "  # a collection: "images" says it
            fitted_on = f"the posterior means of {len(means)} {dataset}{config.data.train_split} images"
            final.set_prior(fit_gaussian_mixture(means, final.latent_fingerprint(), components=config.prior.components,
                                                 seed=config.prior.seed, fitted_on=fitted_on))  # fmt: skip
    return final


def test_metrics(config: RunConfig, final: HubModel, model_dir: Path) -> dict | None:
    """The classifier's accuracy per attribute, or a digit model's metrics and analysis figures, on the test split
    (into the folder and its card); None for face VAEs, which ``training/evaluate.py`` measures."""
    if not isinstance(final, Autoencoder):
        from latentlab.evaluation import classifier_metrics

        return classifier_metrics(final.cpu(), load_split(config, "test"))
    if config.data.name in ("mnist", "fashion-mnist"):
        from latentlab.analysis import analyse_digit_model

        return analyse_digit_model(final.cpu(), config.objective, load_split(config, "test"), model_dir,
                                   trained_classes=config.data.classes and list(config.data.classes))  # fmt: skip
    return None


def export(run: Run, preview: dict, skip_directions: bool = False, argv=None) -> Path:
    """Write the Hub-layout model folder: weights, extras, previews (samples from the model's prior when it has
    one), the run's record (with the config as read, ``config.as_read``) and the card."""
    config, state, accelerator = run.config, run.state, run.accelerator
    final = final_model(run, skip_directions)
    final.trained_on = TrainedOn(config.data.name, config.data.classes, config.adversarial is not None)
    model_dir = run.output_dir / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    final.save_pretrained(model_dir)
    if isinstance(final, Autoencoder):
        prior = getattr(final, "prior", None)
        prior_z = (prior.sample(64, seed=config.train.seed).float().to(accelerator.device) if prior is not None
                   else latent.sample(64, final.z_dim, seed=config.train.seed, device=accelerator.device))  # fmt: skip
        save_previews(final, preview, prior_z, model_dir, "")
    launcher = "accelerate launch" if os.environ.get("ACCELERATE_MIXED_PRECISION") or os.environ.get("LOCAL_RANK") else "python"
    record = {
        "name": config.name, "config": config.as_read,
        "command": command_line(__file__, None if argv is None else list(argv), launcher),
        "epochs": state["epoch"], "steps": state["step"], "best_epoch": state["best_epoch"], "stopped": state["stopped"],
        "history": state["history"], "train_images": len(run.train_data),
        "test_metrics": test_metrics(config, final, model_dir), "train_seconds": round(state["train_seconds"], 1),
        "frozen_from": module_source(config.train.frozen),
        **({"initialized_from": module_source(config.train.init)} if config.train.init else {}),
        "parameters": final.num_parameters(),
        "hardware": {
            "device": str(accelerator.device), "num_processes": accelerator.num_processes,
            "mixed_precision": accelerator.mixed_precision, "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "torch": torch.__version__,
        },
    }  # fmt: skip
    (model_dir / RECORD_NAME).write_text(json.dumps(record, indent=1))
    write_model_card(model_dir)
    accelerator.print(f"model folder: {model_dir}")
    return model_dir
