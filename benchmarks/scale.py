"""Training at scale on this machine: memory when the data doubles, and one process against two.

    python benchmarks/scale.py [--out benchmarks/scale.json]

Rows:
- ``memory``: ``training/train.py`` with ``configs/own_images.yaml`` (a 32-px VAE, pictures decoded on the fly by 2
  DataLoader workers) for 60 steps and its export (posterior means of every training picture, the prior fit) on the
  CelebA-HQ training Parquet files (24,183 faces), then on a folder holding those files twice (48,366 faces). Peak
  memory = the largest peak resident set of the run's processes (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, each run
  in a fresh child of a fresh measuring process).
- ``processes``: the face VAE recipe (``configs/celeba_vae_64.yaml`` at half its widths) for 100 steps of
  global batch 64 on the CelebA-HQ faces, as one process (batch 64, 2 threads) and as two gloo processes under
  ``accelerate launch`` (batch 32 each, 1 thread each): training images/s from the run's record.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
HQ64 = REPO.parent / "shared" / "data" / "celeba_hq" / "hq64"


def peak_rss_mib(command: list[str], env: dict) -> tuple[float, str]:
    """Run ``command`` in a fresh measuring process; the largest peak RSS (MiB) of its descendants, and its output."""
    probe = ("import resource, subprocess, sys, json; p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
             "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode,"
             " (p.stdout + p.stderr)[-2000:]]))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe, *command], cwd=REPO, env=env, capture_output=True, text=True)
    kib, code, tail = json.loads(out.stdout.strip().splitlines()[-1])
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{tail}")
    return kib / 1024, tail


def memory_rows(tmp: Path) -> list[dict]:
    files = sorted(HQ64.glob("train-*.parquet"))
    once, twice = tmp / "once", tmp / "twice"
    once.mkdir()
    twice.mkdir()
    for f in files:
        shutil.copy(f, once / f.name)
        shutil.copy(f, twice / f.name)
        shutil.copy(f, twice / f"copy-{f.name}")
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    for folder, faces in ((once, 24183), (twice, 48366)):
        command = [sys.executable, "training/train.py", "--config", "training/configs/own_images.yaml",
                   "--set", f"data.source={folder}", "--set", "train.max_steps=60", "--set", "train.num_workers=2",
                   "--set", "data.validation_size=500", "--output-dir", str(tmp / f"run-{folder.name}")]  # fmt: skip
        mib, _ = peak_rss_mib(command, env)
        rows.append({"training_faces": faces - 500, "peak_rss_mib": round(mib, 1)})
        print(rows[-1], flush=True)
    return rows


def free_port() -> int:
    """A free local port (for the processes' rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_rows(tmp: Path) -> list[dict]:
    cfg = yaml.safe_load((REPO / "training/configs/celeba_vae_64.yaml").read_text())
    cfg["model"]["widths"] = [16, 32, 64, 128]
    cfg["data"].update(source=str(HQ64), limit=64 * 100, eval_limit=64)
    cfg["train"].update(max_epochs=1, checkpoint_every_steps=0, hflip=False, weights_dtype=None)

    rows = []
    for processes in (1, 2):
        cfg["train"]["batch_size"] = 64 // processes
        cfg["output_dir"] = str(tmp / f"p{processes}")
        path = tmp / f"p{processes}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        args = ["training/train.py", "--config", str(path), "--skip-directions", "--max-steps", "100"]
        if processes == 1:
            command, env = [sys.executable, *args], {**os.environ, "OMP_NUM_THREADS": "2"}
        else:
            command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                       "--num_machines", "1", "--main_process_port", str(free_port()), "--mixed_precision", "no",
                       "--dynamo_backend", "no", *args]  # fmt: skip
            env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "1"}
        subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
        record = json.loads((tmp / f"p{processes}" / "model" / "training_log.json").read_text())
        rows.append({"processes": processes, "batch_per_process": 64 // processes, "steps": record["steps"],
                     "train_seconds": record["train_seconds"],
                     "images_per_second": round(record["steps"] * 64 / record["train_seconds"], 1)})  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/scale.json")
    parser.add_argument("--only", choices=["memory", "processes"], help="measure one part, keep the other's rows")
    args = parser.parse_args(argv)
    result = json.loads(args.out.read_text()) if args.only and args.out.is_file() else {}
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    with tempfile.TemporaryDirectory() as tmp:
        for part, rows in (("memory", memory_rows), ("processes", process_rows)):
            if args.only in (None, part):
                result[part] = rows(Path(tmp))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
