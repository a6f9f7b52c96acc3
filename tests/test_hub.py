"""Publishing and pulling, end to end: `training/push_to_hub.py` and `from_pretrained` run the real huggingface_hub
client against the Hub-compatible endpoint of `tests/hub_server.py` (the `local_hub` fixture, on 127.0.0.1)."""

import os
import pickle
import re
import shutil
import subprocess
import sys

import pytest
import safetensors.torch
import torch
from huggingface_hub import HfApi

from latentlab import ModelNotFoundError, load_autoencoder, load_pretrained
from latentlab.faces import FaceLab
from latentlab.models import parse_model_ref

from .conftest import REPO, serve_app
from .hub_server import set_offline

from latentlab.training.model_card import card_is_generated, render_model_card  # noqa: E402
from latentlab.training.push_to_hub import PublishError, push_folder  # noqa: E402

FOLDERS = sorted(p for p in (REPO / "pretrained").iterdir() if (p / "config.json").is_file())


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name


def remote_text(repo_id: str, filename: str, revision: str | None = None) -> str:
    path = HfApi().hf_hub_download(repo_id, filename, revision=revision, force_download=True)
    return open(path, encoding="utf-8").read()


def copy_folder(name: str, tmp_path) -> "os.PathLike":
    dst = tmp_path / name
    shutil.copytree(REPO / "pretrained" / name, dst)
    return dst


def test_every_bundled_model_is_published_as_one_commit_and_pulled_back_bit_exact(local_hub):
    api = HfApi()
    for folder in FOLDERS:
        repo_id = f"latent-lab/{folder.name}"
        info = push_folder(folder, repo_id)
        commits = api.list_repo_commits(repo_id)
        assert len(commits) == 2 and commits[0].commit_id == info.oid  # the Hub's initial commit + ours
        local_files = {p.name for p in folder.iterdir() if p.is_file()}
        assert set(api.list_repo_files(repo_id)) == local_files | {".gitattributes"}
        card = remote_text(repo_id, "README.md")
        assert card == render_model_card(folder, repo_id) == (folder / "README.md").read_text(encoding="utf-8")
        pulled, local = load_pretrained(repo_id), load_pretrained(str(folder))
        assert type(pulled) is type(local)
        assert_same_weights(pulled, local)
        if getattr(local, "attribute_directions", None) is not None:  # face VAE only
            assert torch.equal(pulled.attribute_directions.vectors, local.attribute_directions.vectors)
    # the weights travelled as safetensors, byte for byte
    weights = HfApi().hf_hub_download("latent-lab/celeba-vae-64", "model.safetensors")
    assert open(weights, "rb").read() == (REPO / "pretrained" / "celeba-vae-64" / "model.safetensors").read_bytes()


def test_revisions_pin_weights_and_branches_leave_main_alone(local_hub, tmp_path):
    folder = copy_folder("mnist-conv-ae-28", tmp_path)
    original = load_pretrained(str(folder))
    first = push_folder(folder, "latent-lab/ae").oid

    changed = load_pretrained(str(folder))
    with torch.no_grad():
        for p in changed.parameters():
            p.add_(0.01)
    changed.save_pretrained(folder)  # new weights, same record and card
    push_folder(folder, "latent-lab/ae", commit_message="Nudge the weights")
    assert HfApi().list_repo_commits("latent-lab/ae")[0].title == "Nudge the weights"

    assert_same_weights(load_pretrained("latent-lab/ae"), changed)
    assert_same_weights(load_pretrained("latent-lab/ae", revision=first), original)
    # the app's "owner/name@revision" form pins the same way
    assert parse_model_ref(f"latent-lab/ae@{first}") == ("latent-lab/ae", first)
    assert parse_model_ref(str(folder)) == (str(folder), None)

    original.save_pretrained(folder)
    push_folder(folder, "latent-lab/ae", revision="experiment")
    assert_same_weights(load_pretrained("latent-lab/ae", revision="experiment"), original)
    assert_same_weights(load_pretrained("latent-lab/ae"), changed)  # main untouched


def test_face_model_pins_a_revision_through_the_app_form(local_hub):
    info = push_folder(REPO / "pretrained" / "celeba-vae-64", "latent-lab/faces")
    lab = FaceLab.from_pretrained(f"latent-lab/faces@{info.oid}")
    assert_same_weights(lab.model, load_autoencoder(str(REPO / "pretrained" / "celeba-vae-64")))
    assert "Smiling" in lab.attribute_names and lab.model.prior is not None  # the prior travels with the weights


def test_a_card_edited_on_the_hub_is_kept_unless_overwrite_card(local_hub, tmp_path):
    folder = copy_folder("fashion-vae-2", tmp_path)
    api = HfApi()
    push_folder(folder, "latent-lab/vae")
    edited = remote_text("latent-lab/vae", "README.md").replace("## Limitations", "## Limitations\n\nEdited on the Hub.")
    api.upload_file(path_or_fileobj=edited.encode(), path_in_repo="README.md", repo_id="latent-lab/vae")
    assert not card_is_generated(edited)

    (folder / "notes.txt").write_text("a new file\n")
    push_folder(folder, "latent-lab/vae")
    assert remote_text("latent-lab/vae", "README.md") == edited  # kept …
    assert "notes.txt" in api.list_repo_files("latent-lab/vae")  # … while the rest was published

    push_folder(folder, "latent-lab/vae", overwrite_card=True)
    assert remote_text("latent-lab/vae", "README.md") == render_model_card(folder, "latent-lab/vae")

    # a generated (unedited) card on the Hub is simply replaced; a card edited locally is published as it is
    local = (folder / "README.md").read_text(encoding="utf-8") + "\nA local note.\n"
    (folder / "README.md").write_text(local, encoding="utf-8")
    (folder / "notes.txt").unlink()
    push_folder(folder, "latent-lab/vae")
    assert remote_text("latent-lab/vae", "README.md") == local
    assert "notes.txt" not in api.list_repo_files("latent-lab/vae")  # the repo mirrors the folder


@pytest.mark.parametrize("bad", ["torch_save_bin", "pickle_bytes", "extra_tensor", "truncated"])
def test_pickles_and_folders_that_do_not_load_strictly_are_refused(local_hub, tmp_path, bad):
    folder = copy_folder("mnist-dense-ae-digit0", tmp_path)
    if bad == "torch_save_bin":
        torch.save(load_pretrained(str(folder)).state_dict(), folder / "pytorch_model.bin")
        expected = "pytorch_model.bin"
    elif bad == "pickle_bytes":
        (folder / "stats.dat").write_bytes(pickle.dumps({"mean": [0.0]}, protocol=4))
        expected = "stats.dat"
    elif bad == "extra_tensor":
        state = safetensors.torch.load_file(folder / "model.safetensors")
        safetensors.torch.save_file({**state, "extra": torch.zeros(3)}, folder / "model.safetensors")
        expected = "does not load strictly"
    else:
        data = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
        expected = "does not load strictly"
    with pytest.raises(PublishError, match=re.escape(expected)):
        push_folder(folder, "latent-lab/refused")
    assert not [r for r in local_hub.requests if r.method != "GET"], "nothing may be sent before the checks pass"
    with pytest.raises(ModelNotFoundError):
        load_pretrained("latent-lab/refused")


def test_push_needs_a_token(local_hub, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(PublishError, match="HF_TOKEN"):
        push_folder(REPO / "pretrained" / "mnist-conv-ae-28", "latent-lab/no-token")


def test_offline_mode_reads_the_cache_and_unknown_models_say_what_was_tried(local_hub, monkeypatch):
    for name in ("celeba-vae-64", "mnist-dense-ae-digit0"):
        push_folder(REPO / "pretrained" / name, f"latent-lab/{name}")
    online = {name: load_pretrained(f"latent-lab/{name}") for name in ("celeba-vae-64", "mnist-dense-ae-digit0")}

    with pytest.raises(ModelNotFoundError, match="does not exist, or is private") as err:
        load_pretrained("latent-lab/no-such-model")
    assert local_hub.endpoint in str(err.value) and "no such folder" in str(err.value)
    with pytest.raises(ModelNotFoundError, match="no such branch, tag or commit"):
        load_pretrained("latent-lab/celeba-vae-64", revision="v9")

    local_hub.stop()
    set_offline(monkeypatch)
    for name, model in online.items():  # the digit model has no directions file: the cache knows it is absent
        assert_same_weights(load_pretrained(f"latent-lab/{name}"), model)
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE=1") as err:
        load_pretrained("latent-lab/no-such-model")
    assert "latent-lab/no-such-model" in str(err.value) and "Download it once while online" in str(err.value)


def test_private_repo_needs_the_token_to_pull(local_hub, monkeypatch, tmp_path):
    push_folder(REPO / "pretrained" / "mnist-conv-ae-28", "latent-lab/secret", private=True)
    assert HfApi().model_info("latent-lab/secret").private
    assert load_pretrained("latent-lab/secret", cache_dir=tmp_path / "a").z_dim == 28
    monkeypatch.setenv("HF_TOKEN", "")
    with pytest.raises(ModelNotFoundError, match="HF_TOKEN"):
        load_pretrained("latent-lab/secret", cache_dir=tmp_path / "b")


def test_push_to_hub_command_line(local_hub, tmp_path):
    env = {**os.environ, **local_hub.env(tmp_path / "cli-cache")}
    cmd = [sys.executable, str(REPO / "training" / "push_to_hub.py")]
    folder = REPO / "pretrained" / "fashion-conv-ae-2"
    proc = subprocess.run([*cmd, str(folder), "--repo-id", "latent-lab/cli", "--private", "--commit-message", "v1"],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "published" in proc.stdout and HfApi().model_info("latent-lab/cli").private
    assert HfApi().list_repo_commits("latent-lab/cli")[0].title == "v1"
    assert_same_weights(load_pretrained("latent-lab/cli"), load_pretrained(str(folder)))

    bad = copy_folder("fashion-conv-ae-2", tmp_path)
    (bad / "optimizer.pt").write_bytes(b"\x80\x04")
    proc = subprocess.run([*cmd, str(bad), "--repo-id", "latent-lab/cli"], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 1 and proc.stderr.startswith("push_to_hub:") and "optimizer.pt" in proc.stderr


def test_readme_from_pretrained_example_runs(local_hub):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- the from_pretrained example.*?-->\n```python\n(.*?)```", readme, flags=re.S).group(1)
    for name in ("celeba-vae-64", "fashion-vae-2"):
        push_folder(REPO / "pretrained" / name, f"latent-lab/{name}")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO.parent, capture_output=True, text=True,
                          env={**os.environ, **local_hub.env(local_hub.root.parent / "readme-cache")}, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ConvAutoencoder", "2", "(2,", "3,", "64,", "64)"]


def test_readme_local_python_examples_run():
    """Every other Python block of the README runs as written from the repository root, on the bundled folders."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "latent-lab/" not in b]
    assert blocks, "the README has a local Python example"
    for code in blocks:
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]


def test_the_app_pulls_every_model_from_the_hub(local_hub, tmp_path, served_app):
    """`LATENTLAB_HUB_OWNER` alone points the served app at the Hub repos; it answers exactly as on the bundled
    folders."""
    from gradio_client import Client

    for folder in FOLDERS:
        push_folder(folder, f"latent-lab/{folder.name}")
    before = len(local_hub.requests)
    env = {**local_hub.env(tmp_path / "app-cache"), "LATENTLAB_HUB_OWNER": "latent-lab"}
    with serve_app(env) as (url, log):
        assert ("face models: latent-lab/celeba-vae-64, latent-lab/celeba-vae-64-sharp, latent-lab/celeba-vae-64-book"
                in "".join(log))
        pulled = {r.path for r in local_hub.requests[before:] if r.method == "GET" and "/resolve/" in r.path}
        for folder in FOLDERS:
            if folder.name == "celeba-attribute-classifier":  # the evaluation's judge; the app does not load it
                assert not any("celeba-attribute-classifier" in path for path in pulled)
                continue
            assert f"/latent-lab/{folder.name}/resolve/main/model.safetensors" in pulled, folder.name
            assert f"/latent-lab/{folder.name}/resolve/main/config.json" in pulled
        hub_app, bundled_app = Client(url, verbose=False), Client(served_app, verbose=False)
        for args, api in [((0, 16, 1.0), "/sample"), (("fashion-vae-2", 0.5, -1.0, 0), "/plane")]:
            a, b = hub_app.predict(*args, api_name=api), bundled_app.predict(*args, api_name=api)
            first_a, first_b = (a[0], b[0]) if isinstance(a, (list, tuple)) else (a, b)
            assert open(first_a, "rb").read() == open(first_b, "rb").read(), api
    assert (tmp_path / "app-cache" / "models--latent-lab--celeba-vae-64").is_dir()  # the client's cache layout


@pytest.mark.served
def test_the_repository_deploys_as_a_space_that_serves(local_hub, tmp_path):
    """`training/push_space.py` uploads the tracked files as a Gradio Space; a snapshot of that Space alone (its own
    src/, models and assets; no ../shared) serves the app."""
    from gradio_client import Client
    from huggingface_hub import SpaceCard, snapshot_download

    from latentlab.training.push_space import push_space, tracked_files

    push_space("latent-lab/latent-lab", root=REPO)
    files = set(HfApi().list_repo_files("latent-lab/latent-lab", repo_type="space"))
    assert set(tracked_files(REPO)) <= files and {"app.py", "requirements.txt", "README.md"} <= files
    assert not any(f.startswith((".venv", "runs/")) for f in files)
    space = snapshot_download("latent-lab/latent-lab", repo_type="space", local_dir=tmp_path / "space")
    assert SpaceCard.load(os.path.join(space, "README.md")).data.sdk == "gradio"
    with serve_app({"PYTHONPATH": os.path.join(space, "src")}, cwd=space) as (url, _):
        grid, _ = Client(url, verbose=False).predict(0, 4, 1.0, api_name="/sample")
        from PIL import Image

        with Image.open(grid) as picture:
            assert picture.size == (4 * 66 + 2, 68)  # four 64-px faces decoded by the deployed copy
