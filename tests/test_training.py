"""The real training script, run as users run it, on slices of the real CelebA-HQ data."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import safetensors.torch
import torch
import yaml

from latentlab import ConvAutoencoder, load_autoencoder
from latentlab.config import parse_config
from latentlab.models import model_class
from latentlab.objectives import AutoencoderObjective
from latentlab.data import load_celeba

from .conftest import REPO


def test_command_line_is_what_to_type_from_the_repository_root():
    """Every record names the command behind its numbers (model_card.command_line): the script under training/,
    its arguments shell-quoted so that pasting it runs it again, and the launcher."""
    import shlex

    from latentlab.training.model_card import command_line

    argv = ["--config", "my configs/x.yaml", "--set", "name=it's"]
    line = command_line("/anywhere/training/train.py", argv)
    assert line.startswith("python training/train.py --config 'my configs/x.yaml'")
    assert shlex.split(line) == ["python", "training/train.py", *argv]
    assert command_line("train.py", [], "accelerate launch") == "accelerate launch training/train.py"
    sys.argv, saved = ["training/fit_prior.py", "pretrained/celeba-vae-64", "--limit", "300"], sys.argv
    try:  # argv None: what the script was run with
        assert command_line("fit_prior.py") == "python training/fit_prior.py pretrained/celeba-vae-64 --limit 300"
    finally:
        sys.argv = saved


def write_config(tmp_path, celeba_dir, limit=256, model=None, objective=None, **train) -> str:
    cfg = yaml.safe_load((REPO / "training" / "configs" / "celeba_vae_64.yaml").read_text())
    cfg["output_dir"] = str(tmp_path / "run")
    # the shipped recipe (residual σ-VAE, prior, 16-bit weights) at a fraction of its width, so tests run in seconds
    cfg["model"] = model if model is not None else {**cfg["model"], "widths": [8, 16, 16, 32]}
    if objective is not None:
        cfg["objective"] = objective
    cfg["data"].update(source=str(celeba_dir), limit=limit, eval_limit=64)
    cfg["train"].update(batch_size=32, mixed_precision="no", checkpoint_every_steps=0, patience=5, lr_schedule="constant",
                        warmup_steps=0)  # fmt: skip
    cfg["train"].update(train)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def train(*args: str, env: dict | None = None) -> str:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.run([sys.executable, str(REPO / "training" / "train.py"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@torch.no_grad()
def fresh_validation_loss(cfg_path, celeba_dir) -> float:
    config = parse_config(yaml.safe_load(open(cfg_path)))
    torch.manual_seed(config.train.seed)  # the script seeds the same way before building the model
    model = model_class(config.model_type)(**config.model_options()).eval()
    x = load_celeba(celeba_dir, "validation", limit=64).float_images()
    return config.objective(model, {"image": x}, generator=torch.Generator().manual_seed(0))["loss"].item()


def test_training_lowers_the_loss_and_exports_a_hub_folder(tmp_path, celeba_dir):
    cfg = write_config(tmp_path, celeba_dir, max_epochs=2, checkpoint_every_steps=4)
    out = train("--config", cfg)
    assert "img/s" in out  # tqdm progress reports throughput
    model_dir = tmp_path / "run" / "model"
    record = json.loads((model_dir / "training_log.json").read_text())
    history = record["history"]
    assert [h["epoch"] for h in history] == [1, 2] and record["steps"] == 16
    assert history[0]["validation"]["loss"] < fresh_validation_loss(cfg, celeba_dir)
    assert history[1]["validation"]["loss"] < history[0]["validation"]["loss"]
    for epoch in (1, 2):
        for kind in ("reconstructions", "samples"):
            assert (tmp_path / "run" / "images" / f"epoch_{epoch:03d}_{kind}.png").is_file()
    model = load_autoencoder(str(model_dir))  # strict, with its directions and its prior
    assert type(model).__name__ == "ResNetAutoencoder" and record["config"]["objective"]["decoder_variance"] == "optimal"
    assert not {"decoder_variance", "beta", "kl_weight"} & set(json.loads((model_dir / "config.json").read_text()))
    assert len(model.attribute_directions.names) == 40
    assert model.attribute_directions.positive_count.sum() > 0
    assert model.attribute_directions.method == "regression"  # the config's directions.method
    assert torch.isfinite(model.attribute_directions.vectors).all()
    assert model.prior.components == 10 and "256 celeba train images" in model.prior.fitted_on
    assert model.storage_dtype == torch.float16  # train.weights_dtype: float16
    assert "sigma" in history[-1]["validation"]  # the σ-VAE's decoder σ = √MSE is logged
    card = (model_dir / "README.md").read_text()
    assert "non-commercial" in card and record["command"] in card and "model-index" in card
    assert "**regression directions**" in card
    for name in ("reconstructions.png", "samples.png", "attribute_directions.safetensors", "prior.safetensors", "config.json"):
        assert (model_dir / name).is_file()


def test_resume_continues_from_the_saved_step(tmp_path, celeba_dir):
    # 256 faces / batch 32 = 8 steps an epoch; stop at step 5, resume to step 12 (across the epoch boundary);
    # with the cosine schedule, whose position must come back with the checkpoint too
    cfg = write_config(tmp_path / "a", celeba_dir, max_epochs=3, lr_schedule="cosine", warmup_steps=3)
    train("--config", cfg, "--max-steps", "5", "--skip-directions")
    ckpts = sorted((tmp_path / "a" / "run" / "checkpoints").glob("step_*"))
    assert [c.name for c in ckpts] == ["step_00000005"]
    assert json.loads((ckpts[0] / "trainer_state.json").read_text())["step"] == 5
    out = train("--config", cfg, "--resume", "--max-steps", "12", "--skip-directions")
    assert "resumed from" in out and "at step 5" in out
    resumed = tmp_path / "a" / "run" / "checkpoints" / "step_00000012"
    state = json.loads((resumed / "trainer_state.json").read_text())
    assert state["step"] == 12 and state["epoch"] == 1 and len(state["history"]) == 1

    # the same 12 steps without interruption give the same weights: resume lost nothing
    straight = write_config(tmp_path / "b", celeba_dir, max_epochs=3, lr_schedule="cosine", warmup_steps=3)
    train("--config", straight, "--max-steps", "12", "--skip-directions")
    a = safetensors.torch.load_file(str(resumed / "model.safetensors"))
    b = safetensors.torch.load_file(str(tmp_path / "b" / "run" / "checkpoints" / "step_00000012" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_a_decoder_trained_under_a_frozen_encoder_keeps_its_latent_space(tmp_path, celeba_dir):
    """train.frozen loads the encoder and posterior heads of a model folder and keeps them fixed: only the (narrower)
    decoder learns, and the exported folder's encoder, directions and prior are the source model's."""
    train("--config", write_config(tmp_path / "wide", celeba_dir, max_epochs=1))
    source = tmp_path / "wide" / "run" / "model"
    frozen = {"from": str(source), "modules": ["encoder", "mean_head", "logvar_head"]}
    narrow = {**yaml.safe_load(open(tmp_path / "wide" / "config.yaml"))["model"], "decoder_widths": [8, 8, 16, 16]}
    train("--config", write_config(tmp_path / "narrow", celeba_dir, max_epochs=1, model=narrow, frozen=frozen))
    a = safetensors.torch.load_file(str(source / "model.safetensors"))
    b = safetensors.torch.load_file(str(tmp_path / "narrow" / "run" / "model" / "model.safetensors"))
    encoder = [k for k in a if k.startswith(("encoder.", "mean_head.", "logvar_head."))]
    assert encoder and all(torch.equal(a[k], b[k]) for k in encoder)
    record = json.loads((tmp_path / "narrow" / "run" / "model" / "training_log.json").read_text())
    assert record["frozen_from"]["folder"] == str(source) and record["frozen_from"]["epochs"] == 1
    assert "The encoder of an earlier run" in (tmp_path / "narrow" / "run" / "model" / "README.md").read_text()  # the card says so
    assert b["decoder_input.weight"].shape[0] < a["decoder_input.weight"].shape[0]  # 16·4·4 rows instead of 32·4·4
    wide_model, narrow_model = load_autoencoder(str(source)), load_autoencoder(str(tmp_path / "narrow" / "run" / "model"))
    torch.testing.assert_close(narrow_model.attribute_directions.vectors, wide_model.attribute_directions.vectors)
    torch.testing.assert_close(narrow_model.prior.means, wide_model.prior.means)

    # train.init loads a decoder to fine-tune (trainable), and --set overrides config values (read as YAML): at
    # learning rate 0 the exported decoder is the source's; the run's record keeps the sharpness term asked for, and
    # config.json (the architecture) is the source's
    narrow_dir = tmp_path / "narrow" / "run" / "model"
    init = {"from": str(narrow_dir), "modules": ["decoder_input", "decoder"]}
    out = train("--config", write_config(tmp_path / "tune", celeba_dir, max_epochs=1, model=narrow, frozen=frozen, init=init),
                "--set", "train.learning_rate=0", "--set", "train.weight_decay=0", "--set", "objective.ssim_weight=1")  # fmt: skip
    tuned_dir = tmp_path / "tune" / "run" / "model"
    c = safetensors.torch.load_file(str(tuned_dir / "model.safetensors"))
    assert c.keys() == b.keys() and all(torch.equal(b[k], c[k]) for k in b)
    assert json.loads((tuned_dir / "training_log.json").read_text())["config"]["objective"]["ssim_weight"] == 1
    assert json.loads((tuned_dir / "config.json").read_text()) == json.loads((narrow_dir / "config.json").read_text())
    record = json.loads((tuned_dir / "training_log.json").read_text())
    assert record["initialized_from"]["folder"] == str(narrow_dir) and "--set objective.ssim_weight=1" in record["command"]
    # the decoder's source was itself trained under a frozen encoder: the record keeps that link, the card says both
    assert record["initialized_from"]["frozen_from"]["folder"] == str(source)
    card = (tuned_dir / "README.md").read_text()
    assert "trained further here (`train.init`)" in card and "Nothing was kept fixed" not in card

    # train.init alone fine-tunes the whole model (here with the KL weighted β = 2): nothing frozen, so the card says
    # the latent space moved; the card and the record name β, and config.json is the same as at β = 1
    whole = {"from": str(source), "modules": ["encoder", "mean_head", "logvar_head", "decoder_input", "decoder"]}
    train("--config", write_config(tmp_path / "whole", celeba_dir, max_epochs=1, init=whole),
          "--set", "objective.beta=2", "--skip-directions")  # fmt: skip
    whole_dir = tmp_path / "whole" / "run" / "model"
    assert json.loads((whole_dir / "training_log.json").read_text())["config"]["objective"]["beta"] == 2
    assert json.loads((whole_dir / "config.json").read_text()) == json.loads((source / "config.json").read_text())
    card = (whole_dir / "README.md").read_text()
    assert "Nothing was kept fixed" in card and "earlier run" not in card
    assert "the KL term is weighted **β = 2**" in card and "with no weight to tune" not in card
    source_command = json.loads((whole_dir / "training_log.json").read_text())["initialized_from"]["command"]
    assert f"trained by `{source_command}`" in card  # the card names how the fine-tuned source was trained
    # fine-tuned again from that fine-tuned folder: the record keeps the whole chain, and the card names each link
    again = {**whole, "from": str(whole_dir)}
    train("--config", write_config(tmp_path / "again", celeba_dir, max_epochs=1, init=again),
          "--set", "objective.beta=4", "--max-steps", "2", "--skip-directions")  # fmt: skip
    again_dir = tmp_path / "again" / "run" / "model"
    chain = json.loads((again_dir / "training_log.json").read_text())["initialized_from"]
    assert chain["folder"] == str(whole_dir) and chain["initialized_from"]["folder"] == str(source)
    whole_command = json.loads((whole_dir / "training_log.json").read_text())["command"]
    card = (again_dir / "README.md").read_text()
    assert f"trained by `{whole_command}`, itself fine-tuned from `" in card and f"trained by `{source_command}`" in card
    # a decoder trained under the frozen encoder of that fine-tuned folder: the frozen-encoder bullet of its card names
    # the encoder's own chain too (the same lineage macro as a fine-tune's)
    under = write_config(tmp_path / "under", celeba_dir, max_epochs=1, model=narrow, frozen={**frozen, "from": str(again_dir)})
    train("--config", under, "--max-steps", "2", "--skip-directions")
    under_record = json.loads((tmp_path / "under" / "run" / "model" / "training_log.json").read_text())
    assert under_record["frozen_from"]["initialized_from"]["folder"] == str(whole_dir)
    card = (tmp_path / "under" / "run" / "model" / "README.md").read_text()
    assert "The encoder of an earlier run" in card and f"trained by `{whole_command}`, itself fine-tuned from `" in card
    d = safetensors.torch.load_file(str(whole_dir / "model.safetensors"))
    assert any(not torch.equal(d[k], a[k]) for k in encoder)  # the encoder learned
    assert "ssim_distance" in record["history"][-1]["validation"], out[-2000:]
    proc = subprocess.run([sys.executable, str(REPO / "training" / "train.py"), "--config",
                           str(tmp_path / "tune" / "config.yaml"), "--set", "nosuch.key=1"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode != 0 and "--set nosuch.key=1" in proc.stderr

    # a source whose encoder does not fit is refused with the tensor named, before any step
    other = {**narrow, "widths": [8, 16, 16, 16]}
    proc = subprocess.run([sys.executable, str(REPO / "training" / "train.py"), "--config",
                           write_config(tmp_path / "bad", celeba_dir, model=other, frozen=frozen)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode != 0 and "train.frozen" in proc.stderr and "encoder." in proc.stderr
    proc = subprocess.run([sys.executable, str(REPO / "training" / "train.py"), "--config",
                           write_config(tmp_path / "typo", celeba_dir, model=narrow, frozen={**frozen, "modules": ["encodr"]})],
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode != 0 and "has no module ['encodr']" in proc.stderr


def test_adversarial_decoder_training_resumes_exactly_and_keeps_the_latent_space(tmp_path, celeba_dir):
    """An ``adversarial`` section trains the decoder against a patch discriminator under the frozen encoder: an
    interrupted run resumed gives the same decoder and discriminator as the straight run, the discriminator stays in
    the checkpoints, and the exported folder keeps the source's encoder, latent fingerprint, directions and prior."""
    train("--config", write_config(tmp_path / "source", celeba_dir, limit=128, max_epochs=1))
    source = tmp_path / "source" / "run" / "model"
    frozen = {"from": str(source), "modules": ["encoder", "mean_head", "logvar_head"]}
    init = {"from": str(source), "modules": ["decoder_input", "decoder"]}

    def adversarial_config(name):  # 128 faces / batch 32 = 4 steps an epoch; the decoder joins at step 2
        path = write_config(tmp_path / name, celeba_dir, limit=128, max_epochs=2, frozen=frozen, init=init, keep="last",
                            lr_schedule="cosine")  # fmt: skip
        cfg = yaml.safe_load(open(path))
        cfg["adversarial"] = {"start_step": 2, "weight": 0.5, "feature_matching_weight": 1.0, "r1_weight": 1.0,
                              "discriminator": {"widths": [8, 16]}}  # fmt: skip
        Path(path).write_text(yaml.safe_dump(cfg))
        return path

    resumed_cfg = adversarial_config("a")
    train("--config", resumed_cfg, "--max-steps", "3", "--skip-directions")
    out = train("--config", resumed_cfg, "--resume", "--max-steps", "6", "--skip-directions")
    assert "at step 3" in out
    train("--config", adversarial_config("b"), "--max-steps", "6", "--skip-directions")
    for name in ("model.safetensors", "model_1.safetensors"):  # the decoder's model, then the discriminator
        a = safetensors.torch.load_file(str(tmp_path / "a" / "run" / "checkpoints" / "step_00000006" / name))
        b = safetensors.torch.load_file(str(tmp_path / "b" / "run" / "checkpoints" / "step_00000006" / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert any(k.startswith("head.") for k in a)  # model_1 is the discriminator

    train("--config", resumed_cfg, "--resume")  # to the end: export with directions and prior
    folder = tmp_path / "a" / "run" / "model"
    record = json.loads((folder / "training_log.json").read_text())
    assert record["epochs"] == 2 and record["best_epoch"] == 2  # keep: last
    assert "adversarial" in record["history"][-1]["train"] and "discriminator_loss" in record["history"][-1]["train"]
    weights = safetensors.torch.load_file(str(folder / "model.safetensors"))
    assert not any(k.startswith(("blocks.", "head.")) for k in weights)  # no discriminator in the model folder
    tuned, original = load_autoencoder(str(folder)), load_autoencoder(str(source))
    assert tuned.latent_fingerprint() == original.latent_fingerprint()
    assert tuned.weights_fingerprint() != original.weights_fingerprint()  # the decoder learned
    torch.testing.assert_close(tuned.attribute_directions.vectors, original.attribute_directions.vectors)
    torch.testing.assert_close(tuned.prior.means, original.prior.means)
    # a discriminator over a trainable encoder is refused before any step
    cfg = yaml.safe_load(open(resumed_cfg))
    cfg["train"].pop("frozen")
    Path(resumed_cfg).write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, str(REPO / "training" / "train.py"), "--config", resumed_cfg],
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode != 0 and "train.frozen.modules must list encoder" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_data_path_is_a_clear_error(tmp_path):
    cfg = write_config(tmp_path, tmp_path / "nowhere")
    proc = subprocess.run([sys.executable, str(REPO / "training" / "train.py"), "--config", cfg], cwd=REPO,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode != 0
    assert "nowhere" in proc.stderr and "not found" in proc.stderr


@pytest.mark.parametrize("launcher", ["accelerate"])
def test_runs_under_accelerate_launch(tmp_path, celeba_dir, launcher):
    cfg = write_config(tmp_path, celeba_dir, max_epochs=1)
    proc = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
         "--mixed_precision", "bf16", "--dynamo_backend", "no",
         str(REPO / "training" / "train.py"), "--config", cfg, "--max-steps", "3", "--skip-directions"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "run" / "checkpoints" / "step_00000003" / "model.safetensors").is_file()


def test_two_process_training_matches_one_process_at_the_same_global_batch(tmp_path, celeba_dir):
    """Scale-out is real: 2 processes × batch 16 train the same model as 1 process × batch 32, each global batch
    sharded between the processes by accelerate's sampler (the same images a step, half each)."""
    from .conftest import free_port

    # A plain conv autoencoder without BatchNorm, so the two runs are the same computation up to float reduction
    # order: a VAE draws its posterior noise from a generator per process (seeded by rank), and that alone moved
    # the final validation loss of two such runs of a small conv VAE by up to 2.9 %, as much as a missing gradient
    # sync did (1-6 %); BatchNorm statistics are per process under DDP (no SyncBatchNorm). No flips (they draw from
    # that noise generator too). 512 faces = 16 global batches of 32 exactly, so no process gets a padded batch.
    model = dict(type="conv", in_channels=3, image_size=32, hidden_channels=[8, 16], z_dim=16, variational=False,
                 batch_norm=False)  # fmt: skip
    common = dict(limit=512, model=model, objective={"reconstruction": "mse"}, max_epochs=1, hflip=False,
                  learning_rate=2e-3, weights_dtype=None)  # fmt: skip
    one = write_config(tmp_path / "one", celeba_dir, batch_size=32, **common)
    two = write_config(tmp_path / "two", celeba_dir, batch_size=16, **common)  # per process: 2 × 16 = 32 a step
    # --max-steps 16 ends the one epoch at its last step, before the validation pass: the face card reads a KL from
    # the validation history, which a plain autoencoder has not; the exported weights are validated below instead.
    args = ["--skip-directions", "--max-steps", "16"]
    env = {"OMP_NUM_THREADS": "1"}
    train("--config", one, *args, env=env)
    # `accelerate launch --cpu --num_processes 2` starts ONE process (accelerate 1.x runs several CPU processes only
    # through mpirun); --multi_gpu starts 2 through torch.distributed.run, and ACCELERATE_USE_CPU makes them
    # MULTI_CPU (gloo) processes, on a machine with GPUs too.
    proc = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines",
         "1", "--main_process_port", str(free_port()), "--mixed_precision", "no", "--dynamo_backend", "no",
         str(REPO / "training" / "train.py"), "--config", two, *args],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, **env, "ACCELERATE_USE_CPU": "1", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    runs = {k: tmp_path / k / "run" / "model" for k in ("one", "two")}
    records = {k: json.loads((folder / "training_log.json").read_text()) for k, folder in runs.items()}
    assert records["one"]["hardware"]["num_processes"] == 1 and records["two"]["hardware"]["num_processes"] == 2
    assert records["two"]["command"].startswith("accelerate launch")
    assert records["one"]["steps"] == records["two"]["steps"] == 16  # each global batch of 32 sharded, not 32 each

    x = load_celeba(celeba_dir, "validation", image_size=32, limit=64).float_images()
    torch.manual_seed(42)  # train.seed, as train.py seeds before building the model: the untrained loss
    with torch.no_grad():
        mse = AutoencoderObjective()
        untrained = mse(ConvAutoencoder(**{k: v for k, v in model.items() if k != "type"}), {"image": x})["loss"].item()
        loss = {k: mse(ConvAutoencoder.from_pretrained(str(folder)).eval(), {"image": x})["loss"].item()
                for k, folder in runs.items()}  # fmt: skip
    assert loss["one"] < 0.95 * untrained  # it trained (measured: 0.0794 → 0.0694)
    # Measured: 0.06937613 (1 process) vs 0.06937615 (2 processes), 2e-7 relative apart (float reduction order,
    # amplified by Adam). Without the gradient all-reduce (accelerator.no_sync) the 2-process run ended at 0.07028,
    # 1.3 % off; 2 × 32 per process would be 8 steps, not 16. 1e-4 sits ~500x above the noise and ~130x below that.
    assert loss["two"] == pytest.approx(loss["one"], rel=1e-4)


def test_multi_gpu_accelerate_config_parses():
    from accelerate.commands.config.config_args import load_config_from_file

    path = REPO / "training" / "accelerate_multi_gpu.yaml"
    raw = yaml.safe_load(path.read_text())
    assert raw["distributed_type"] == "MULTI_GPU" and raw["compute_environment"] == "LOCAL_MACHINE"
    assert load_config_from_file(str(path)).num_processes == raw["num_processes"] > 1  # what `accelerate launch` reads


def test_ctrl_c_checkpoints_and_resume_finishes(tmp_path, celeba_dir):
    import signal
    import time

    cfg = write_config(tmp_path, celeba_dir, limit=1024, max_epochs=1)  # 32 steps: the signal lands mid-epoch
    proc = subprocess.Popen([sys.executable, str(REPO / "training" / "train.py"), "--config", cfg,
                             "--skip-directions"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    seen = b""
    deadline = time.time() + 300
    while b"epoch 1/1:" not in seen and time.time() < deadline:  # the progress bar is up: training has started
        chunk = proc.stdout.read1(4096)
        if not chunk:
            break
        seen += chunk
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    out = (seen + out).decode()
    assert proc.returncode == 0, out[-3000:]
    assert "continue with --resume" in out
    ckpts = sorted((tmp_path / "run" / "checkpoints").glob("step_*"))
    assert len(ckpts) == 1
    step = json.loads((ckpts[0] / "trainer_state.json").read_text())["step"]
    assert 0 < step < 32 and not (tmp_path / "run" / "model").exists()
    train("--config", cfg, "--resume", "--skip-directions")
    record = json.loads((tmp_path / "run" / "model" / "training_log.json").read_text())
    assert record["steps"] == 32 and record["epochs"] == 1


def test_learning_rate_schedules():
    from latentlab.config import ConfigError, TrainConfig
    from latentlab.training.train import lr_scheduler

    def lrs(train, steps_per_epoch, n):
        opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        tcfg = TrainConfig(seed=0, batch_size=8, learning_rate=1.0, **train)
        sched, out = lr_scheduler(opt, tcfg, steps_per_epoch), []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    assert lrs({"max_epochs": 2}, 5, 10) == [1.0] * 10  # constant: the book's Adam
    cosine = lrs({"max_epochs": 2, "lr_schedule": "cosine", "warmup_steps": 2}, 5, 11)
    assert cosine[:2] == [0.5, 1.0]  # linear warm-up
    assert cosine[2] == pytest.approx(1.0) and cosine[10] == pytest.approx(0.0, abs=1e-12)  # 10 steps in all
    assert all(a > b for a, b in zip(cosine[2:10], cosine[3:11]))  # decays monotonically
    assert cosine[6] == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 8)))
    with pytest.raises(ConfigError, match="lr_schedule"):
        lrs({"max_epochs": 1, "lr_schedule": "step"}, 5, 1)


def test_a_config_keeps_what_was_read_and_refuses_unknown_keys():
    from latentlab.config import ConfigError, parse_config

    raw = {"model": {"type": "dense", "z_dim": 2}, "data": {"name": "mnist"},
           "train": {"seed": 0, "batch_size": 8, "learning_rate": 1e-3, "max_epochs": 1}}  # fmt: skip
    config = parse_config(raw)
    raw["train"]["seed"] = 1  # the caller's mapping may change later: the record keeps what was parsed
    assert config.as_read["train"]["seed"] == 0 and config.train.seed == 0
    for key in ("as_read", "trainer"):  # as_read is the parsed config's own field, not a key of the file
        with pytest.raises(ConfigError, match=f"unknown key in the config: the config.{key}"):
            parse_config({**raw, key: {}})
    with pytest.raises(ConfigError, match="unknown key in train: train.epochs"):
        parse_config({**raw, "train": {**raw["train"], "epochs": 3}})


def test_ship_a_measured_variant_under_the_product_name(tmp_path):
    import shutil

    from .conftest import BUNDLED

    from latentlab.training.ship_face_model import ship

    variant = tmp_path / "variant"
    shutil.copytree(BUNDLED, variant)
    record = json.loads((variant / "training_log.json").read_text())
    record["name"] = "wide-something"
    (variant / "training_log.json").write_text(json.dumps(record))
    (tmp_path / "celeba-vae-64").mkdir()
    (tmp_path / "celeba-vae-64" / "stale.txt").write_text("replaced")
    out = ship(variant, "celeba-vae-64", tmp_path / "celeba-vae-64")
    shipped = json.loads((out / "training_log.json").read_text())
    assert shipped["name"] == "celeba-vae-64" and shipped["variant"] == "wide-something"
    assert shipped["command"] == record["command"]  # the command that really trained it
    assert not (out / "stale.txt").exists() and not (tmp_path / "celeba-vae-64.shipping").exists()
    card = (out / "README.md").read_text()
    assert "Trained as the variant `wide-something`" in card and '"latent-lab/celeba-vae-64"' in card
    assert load_autoencoder(str(out)).prior is not None  # the prior ships with the weights
    (variant / "evaluation.json").unlink()
    with pytest.raises(SystemExit, match="evaluation.json"):
        ship(variant, "celeba-vae-64", tmp_path / "again")
