"""Publish a Latent Lab model folder to the Hugging Face Hub as one commit.

    python training/push_to_hub.py pretrained/celeba-vae-64 --repo-id latent-lab/celeba-vae-64
    python training/push_to_hub.py FOLDER --repo-id OWNER/NAME [--revision BRANCH] [--private]
                                   [--commit-message TEXT] [--overwrite-card]
    python training/train.py --config … --push-to-hub OWNER/NAME     # the same code, after training

What it does, in order — nothing is uploaded unless every check passes:

1. refuses pickles: any ``*.bin``/``*.pt``/``*.pth``/``*.pkl``/``*.ckpt``/… file, or any file whose bytes are a
   pickle or a ``torch.save`` archive — the folder must hold safetensors only;
2. loads the folder strictly (:func:`latentlab.models.load_pretrained`: config, weights, attribute directions);
3. renders the card from the folder's ``training_log.json`` for this repo id (``latentlab/training/cards/``; a local card edited
   by hand is uploaded as it is);
4. creates the repo if needed (and the branch ``--revision``), then uploads config, safetensors, directions, images,
   record and card as **one commit**; files the repo has but the folder no longer has are deleted in that commit,
   so the repo mirrors the folder.

The card on the Hub is replaced only when it is still the generated text (its stamp matches; see
``model_card.py``); a card edited on the Hub is kept unless ``--overwrite-card`` is given. The token comes from the
standard resolution: ``HF_TOKEN`` or the saved ``hf auth login``; ``HF_ENDPOINT`` selects another Hub.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

from huggingface_hub import CommitInfo, CommitOperationAdd, CommitOperationDelete, HfApi, get_token
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

from latentlab.models import CheckpointError, load_pretrained  # noqa: E402
from latentlab.models.base import RECORD_NAME

from .model_card import card_is_generated, render_model_card

PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".dill", ".npy", ".npz"}
CARD = "README.md"


class PublishError(RuntimeError):
    """The folder cannot be published: pickles, weights that do not load strictly, no card, or no token."""


def is_pickle(path: Path) -> bool:
    """True for a pickle by name or by content: pickle protocol 2–5 bytes, or a ``torch.save`` zip archive."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    with open(path, "rb") as f:
        head = f.read(2)
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return any(n.endswith((".pkl", "/data.pkl")) for n in z.namelist())
    return False


def folder_files(folder: Path) -> dict[str, Path]:
    """Repo path → local file for every file to publish (hidden files and ``__pycache__`` left out)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            files[rel.as_posix()] = path
    return files


def check_folder(folder: Path) -> dict[str, Path]:
    """The files to publish, after refusing pickles and weights that do not load strictly. Raises PublishError."""
    if not folder.is_dir():
        raise PublishError(f"{folder} is not a folder")
    files = folder_files(folder)
    pickles = [rel for rel, path in files.items() if is_pickle(path)]
    if pickles:
        raise PublishError(f"{folder} holds pickled files, which are never published (they run code when loaded): "
                           f"{', '.join(pickles)}. Keep weights in safetensors only.")  # fmt: skip
    try:
        load_pretrained(str(folder))
    except CheckpointError as err:
        raise PublishError(f"{folder} does not load strictly, so it is not published: {err}") from err
    return files


def card_text(folder: Path, repo_id: str) -> str:
    """The card to publish: rendered for ``repo_id`` from ``training_log.json``, or a hand-edited local card."""
    local = folder / CARD
    if local.is_file() and not card_is_generated(local.read_text(encoding="utf-8")):
        print(f"{local} was edited by hand: publishing it as it is")
        return local.read_text(encoding="utf-8")
    if not (folder / RECORD_NAME).is_file():
        raise PublishError(f"{folder} has no training_log.json to render a card from, and no {CARD}")
    return render_model_card(folder, repo_id)


def remote_card(api: HfApi, repo_id: str, revision: str | None) -> str | None:
    """The repo's current README.md text at ``revision``, or None if it has none."""
    try:
        path = api.hf_hub_download(repo_id, CARD, revision=revision, force_download=True)
    except EntryNotFoundError:
        return None
    return Path(path).read_text(encoding="utf-8")


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    revision: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
    overwrite_card: bool = False,
    token: str | None = None,
) -> CommitInfo:
    """Publish ``folder`` to the Hub repo ``repo_id`` as one commit (see the module docstring).

    Args:
        folder: a model folder written by ``save_pretrained`` / ``train.py`` (``pretrained/<name>``).
        repo_id: ``owner/name``; created (public unless ``private``) if it does not exist.
        revision: a branch to commit to (created from the default branch if needed); default: the default branch.
        commit_message: default ``Upload <folder name> with latentlab``.
        overwrite_card: replace the Hub's README.md even when it was edited on the Hub.
        token: default: ``HF_TOKEN`` or the saved login.

    Returns:
        The commit's :class:`huggingface_hub.CommitInfo` (``oid`` is the commit sha to pin with ``revision=``).

    Raises:
        PublishError: pickles in the folder, weights that do not load strictly, no card, or no token.
        huggingface_hub.errors.HfHubHTTPError: the Hub refused a request (e.g. no write access).
    """
    folder = Path(folder)
    files = check_folder(folder)
    card = card_text(folder, repo_id)
    if (token or get_token()) is None:
        raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access)")
    api = HfApi(token=token)
    url = api.create_repo(repo_id, private=private, exist_ok=True)
    if revision is not None:
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    current = remote_card(api, repo_id, revision)
    operations = [CommitOperationAdd(rel, str(path)) for rel, path in files.items() if rel != CARD]
    if current is None or current == card or overwrite_card or card_is_generated(current):
        operations.append(CommitOperationAdd(CARD, card.encode("utf-8")))
    else:
        print(f"warning: the card of {repo_id} was edited on the Hub; keeping it (use --overwrite-card to replace it)")
    stale = set(api.list_repo_files(repo_id, revision=revision)) - set(files) - {CARD, ".gitattributes"}
    operations += [CommitOperationDelete(rel) for rel in sorted(stale)]
    info = api.create_commit(
        repo_id,
        operations=operations,
        commit_message=commit_message or f"Upload {folder.name} with latentlab",
        revision=revision,
    )
    print(f"published {folder} to {url} ({len(operations)} operations): {info.commit_url}")
    return info


def main(argv: list[str] | None = None) -> CommitInfo:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="the model folder, e.g. pretrained/celeba-vae-64")
    parser.add_argument("--repo-id", required=True, help="OWNER/NAME on the Hub")
    parser.add_argument("--revision", help="branch to commit to (created if needed); default: main")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--commit-message")
    parser.add_argument("--overwrite-card", action="store_true", help="replace a card that was edited on the Hub")
    args = parser.parse_args(argv)
    try:
        return push_folder(args.folder, args.repo_id, revision=args.revision, private=args.private,
                           commit_message=args.commit_message, overwrite_card=args.overwrite_card)  # fmt: skip
    except (PublishError, HfHubHTTPError) as err:
        raise SystemExit(f"push_to_hub: {err}") from None
