"""Deploy this repository as a Hugging Face Space, as one commit.

    python training/push_space.py --repo-id latent-lab/latent-lab [--private]

The Space is the repository's tracked files (``git ls-files``: no virtual environments, runs or caches):
``README.md`` (its front matter is the Space config: ``sdk: gradio``, ``sdk_version``, ``app_file: app.py``),
``requirements.txt`` (what the Space installs), ``app.py``, ``src/`` (imported from there), the bundled model folders
and the example assets. Set the Space's variables (e.g. ``LATENTLAB_HUB_OWNER``) in its settings to serve the
models from their Hub repos instead of the bundled folders. Files go through ``huggingface_hub``, which stores large
and binary files the way the Hub wants (no git-lfs needed). Token: ``HF_TOKEN`` or the saved login.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from huggingface_hub import CommitInfo, CommitOperationAdd, HfApi


def tracked_files(root: Path | None = None) -> list[str]:
    """The repository's tracked files (relative POSIX paths) under ``root`` (default: the working directory, the
    repository root the command runs from). Raises RuntimeError outside a git checkout."""
    root = Path.cwd() if root is None else Path(root)
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{root} is not a git checkout: {proc.stderr.decode().strip()}")
    return [f for f in proc.stdout.decode().split("\0") if f and (root / f).is_file()]


def push_space(repo_id: str, *, private: bool = False, root: Path | None = None, token: str | None = None) -> CommitInfo:
    """Create the Space ``repo_id`` (Gradio SDK) if needed and upload the tracked files of ``root`` (default: the
    working directory) as one commit."""
    root = Path.cwd() if root is None else Path(root)
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    operations = [CommitOperationAdd(f, str(root / f)) for f in tracked_files(root)]
    info = api.create_commit(repo_id, operations, commit_message="Deploy Latent Lab", repo_type="space")
    print(f"deployed {len(operations)} files to the Space {repo_id}: {info.commit_url}")
    return info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo-id", required=True, help="OWNER/NAME of the Space")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args(argv)
    push_space(args.repo_id, private=args.private)
