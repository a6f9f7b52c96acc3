"""The local Hub (tests/hub_server.py) driven by the real, unmocked huggingface_hub client.

These pin what the rest of the suite relies on: uploads land as real commits, downloads are bit-exact, revisions
(commit sha, branch, tag) pin content, the client raises the same errors as against huggingface.co, tokens are
checked, offline mode serves from the cache once the hub is gone, and a subprocess can be pointed at the hub.
"""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    HfApi,
    RepoFile,
    RepoFolder,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from . import hub_server
from .hub_server import USER, LocalHub, git_blob_sha1, point_client_at, set_offline

local_hub = hub_server.local_hub  # the fixture (conftest.py may import it instead)


def read(path) -> bytes:
    return Path(path).read_bytes()


@pytest.fixture
def folder(tmp_path) -> Path:
    """A small model folder: JSON, ~2 MB of random bytes, a real PNG, a nested text file."""
    from PIL import Image

    root = tmp_path / "model-folder"
    (root / "images").mkdir(parents=True)
    (root / "nested" / "deep").mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"z_dim": 12, "image_size": 32}))
    (root / "model.bin").write_bytes(os.urandom(2_000_000))
    Image.frombytes("RGB", (48, 48), os.urandom(48 * 48 * 3)).save(root / "images" / "face.png")
    (root / "nested" / "deep" / "notes.txt").write_text("latent lab\n")
    return root


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_whoami_and_create_repo(local_hub):
    api = HfApi()
    assert api.whoami()["name"] == USER
    url = api.create_repo("demo")  # no namespace: the token's user, from the hub
    assert url.repo_id == f"{USER}/demo" and url.endpoint == local_hub.endpoint
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo(f"{USER}/demo")
    assert err.value.response.status_code == 409
    assert api.create_repo(f"{USER}/demo", exist_ok=True).repo_id == f"{USER}/demo"
    assert api.create_repo("latent-lab/shared").repo_id == "latent-lab/shared"  # an org of the user
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo("someone-else/demo")
    assert err.value.response.status_code == 403
    assert api.repo_exists(f"{USER}/demo") and not api.repo_exists(f"{USER}/nope")
    # like the Hub, a new repo starts with one commit holding .gitattributes
    assert api.list_repo_files(f"{USER}/demo") == [".gitattributes"]
    assert [c.title for c in api.list_repo_commits(f"{USER}/demo")] == ["initial commit"]
    api.delete_repo(f"{USER}/demo")
    assert not api.repo_exists(f"{USER}/demo")
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo(f"{USER}/demo")
    api.delete_repo(f"{USER}/demo", missing_ok=True)


def test_upload_folder_is_one_commit_and_downloads_are_bit_exact(local_hub, folder, tmp_path):
    api = HfApi()
    repo = api.create_repo("upload").repo_id
    info = api.upload_folder(repo_id=repo, folder_path=folder, commit_message="Add model files")
    expected = files_of(folder)

    commits = api.list_repo_commits(repo)
    assert [c.commit_id for c in commits][0] == info.oid and [c.title for c in commits] == ["Add model files",
                                                                                            "initial commit"]  # fmt: skip
    assert [r.method for r in local_hub.requests if r.path.endswith("/commit/main")] == ["POST"]
    assert sorted(api.list_repo_files(repo)) == sorted([".gitattributes", *expected])
    for name, data in expected.items():
        assert read(hf_hub_download(repo, name)) == data, name
    # metadata as the Hub sends it for a regular (non-LFS) file: the git blob sha1 as ETag, the commit, the size
    meta = get_hf_file_metadata(hf_hub_url(repo, "model.bin"))
    assert (meta.etag, meta.commit_hash, meta.size) == (git_blob_sha1(expected["model.bin"]), info.oid, 2_000_000)
    assert read(local_hub.root / "blobs" / meta.etag) == expected["model.bin"]  # content-addressed storage
    sizes = {s.rfilename: s.size for s in api.model_info(repo, files_metadata=True).siblings}
    assert sizes["model.bin"] == 2_000_000 and sizes["images/face.png"] == len(expected["images/face.png"])

    # snapshot_download with allow_patterns, into a fresh cache: only the matching files, bit-exact
    snap = Path(snapshot_download(repo, allow_patterns=["*.json", "images/*"], cache_dir=tmp_path / "snap"))
    assert snap.name == info.oid
    assert files_of(snap) == {k: expected[k] for k in ("config.json", "images/face.png")}
    full = Path(snapshot_download(repo, cache_dir=tmp_path / "full"))
    assert {k: v for k, v in files_of(full).items() if k != ".gitattributes"} == expected

    # uploading the same folder again changes nothing (preupload returns the remote oids): no empty commit
    assert api.upload_folder(repo_id=repo, folder_path=folder).oid == info.oid
    assert len(api.list_repo_commits(repo)) == 2


def test_revisions_commit_sha_and_tag_pin_old_content(local_hub, tmp_path):
    api = HfApi()
    repo = api.create_repo("revisions").repo_id
    initial = api.list_repo_commits(repo)[0].commit_id
    v1 = api.upload_file(path_or_fileobj=b'{"v": 1}', path_in_repo="config.json", repo_id=repo, commit_message="v1")
    v2 = api.upload_file(path_or_fileobj=b'{"v": 2}', path_in_repo="config.json", repo_id=repo, commit_message="v2")

    assert [(c.commit_id, c.title) for c in api.list_repo_commits(repo)] == [
        (v2.oid, "v2"), (v1.oid, "v1"), (initial, "initial commit")]  # fmt: skip
    assert read(hf_hub_download(repo, "config.json")) == b'{"v": 2}'
    assert read(hf_hub_download(repo, "config.json", revision=v1.oid)) == b'{"v": 1}'
    assert api.model_info(repo, revision=v1.oid).sha == v1.oid and api.model_info(repo).sha == v2.oid

    api.create_tag(repo, tag="v1.0", revision=v1.oid, tag_message="first release")
    assert read(hf_hub_download(repo, "config.json", revision="v1.0")) == b'{"v": 1}'
    with pytest.raises(HfHubHTTPError) as err:
        api.create_tag(repo, tag="v1.0")
    assert err.value.response.status_code == 409
    api.create_tag(repo, tag="v1.0", exist_ok=True)
    refs = api.list_repo_refs(repo)
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1.0", "refs/tags/v1.0", v1.oid)]
    assert [(b.name, b.target_commit) for b in refs.branches] == [("main", v2.oid)]

    snap = Path(snapshot_download(repo, revision="v1.0", cache_dir=tmp_path / "c"))
    assert snap.name == v1.oid and read(snap / "config.json") == b'{"v": 1}'
    api.delete_tag(repo, tag="v1.0")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo, revision="v1.0")


def test_branch_upload_leaves_main_unchanged(local_hub):
    api = HfApi()
    repo = api.create_repo("branches").repo_id
    main = api.upload_file(path_or_fileobj=b"main", path_in_repo="notes.txt", repo_id=repo).oid
    api.create_branch(repo, branch="dev")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_branch(repo, branch="dev")
    assert err.value.response.status_code == 409
    api.create_branch(repo, branch="dev", exist_ok=True)

    dev = api.upload_file(path_or_fileobj=b"dev", path_in_repo="notes.txt", repo_id=repo, revision="dev").oid
    api.upload_file(path_or_fileobj=b"x", path_in_repo="dev-only.txt", repo_id=repo, revision="dev")
    assert read(hf_hub_download(repo, "notes.txt", revision="dev")) == b"dev"
    assert read(hf_hub_download(repo, "notes.txt")) == b"main"
    assert api.model_info(repo).sha == main
    assert "dev-only.txt" not in api.list_repo_files(repo) and "dev-only.txt" in api.list_repo_files(repo, revision="dev")
    assert [c.commit_id for c in api.list_repo_commits(repo, revision="dev")][1] == dev
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo, "dev-only.txt")

    with pytest.raises(RevisionNotFoundError):  # commits go to existing branches only, as on the Hub
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, revision="no-such-branch")
    initial = api.list_repo_commits(repo)[-1].commit_id
    api.create_branch(repo, branch="from-initial", revision=initial)
    assert api.list_repo_files(repo, revision="from-initial") == [".gitattributes"]
    api.delete_branch(repo, branch="dev")
    assert {b.name for b in api.list_repo_refs(repo).branches} == {"main", "from-initial"}
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo, "notes.txt", revision="dev")


def test_file_exists_paths_info_tree_and_deletes(local_hub, folder):
    api = HfApi()
    repo = api.create_repo("files").repo_id
    first = api.upload_folder(repo_id=repo, folder_path=folder).oid
    assert api.file_exists(repo, "images/face.png") and not api.file_exists(repo, "images/none.png")
    assert not api.file_exists(f"{USER}/no-repo", "config.json")

    infos = api.get_paths_info(repo, ["config.json", "nested", "missing.txt"])
    assert [(type(i), i.path) for i in infos] == [(RepoFile, "config.json"), (RepoFolder, "nested")]
    assert infos[0].blob_id == git_blob_sha1((folder / "config.json").read_bytes())
    top = {e.path: type(e) for e in api.list_repo_tree(repo)}
    assert top == {".gitattributes": RepoFile, "config.json": RepoFile, "model.bin": RepoFile,
                   "images": RepoFolder, "nested": RepoFolder}  # fmt: skip
    assert [e.path for e in api.list_repo_tree(repo, "nested", recursive=True)] == [
        "nested/deep", "nested/deep/notes.txt"]  # fmt: skip

    api.delete_file("images/face.png", repo, commit_message="drop the face")
    assert not api.file_exists(repo, "images/face.png") and api.file_exists(repo, "images/face.png", revision=first)
    with pytest.raises(EntryNotFoundError):
        api.delete_file("images/face.png", repo)
    api.delete_folder("nested", repo)
    assert sorted(api.list_repo_files(repo)) == [".gitattributes", "config.json", "model.bin"]
    assert api.list_repo_commits(repo)[1].title == "drop the face"


def test_missing_repo_revision_and_file_raise_the_hub_errors(local_hub):
    api = HfApi()
    repo = api.create_repo("errors").repo_id
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(f"{USER}/no-such-repo", "config.json")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(f"{USER}/no-such-repo")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo, ".gitattributes", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo, revision="0" * 40)
    with pytest.raises(RemoteEntryNotFoundError):  # an EntryNotFoundError
        hf_hub_download(repo, "missing.json")
    assert not api.revision_exists(repo, "no-such-branch") and api.revision_exists(repo, "main")


def test_private_repo_needs_a_valid_token(local_hub, tmp_path):
    api = HfApi()
    repo = api.create_repo("secret", private=True).repo_id
    api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.bin", repo_id=repo)
    assert api.model_info(repo).private is True
    assert read(hf_hub_download(repo, "model.bin")) == b"weights"  # HF_TOKEN = hub.token
    assert local_hub.requests[-1] == ("GET", f"/{repo}/resolve/main/model.bin", True)

    anonymous = HfApi(token=False)
    with pytest.raises(RepositoryNotFoundError) as err:
        anonymous.model_info(repo)
    assert err.value.response.status_code == 401  # as the Hub: private looks like missing
    with pytest.raises(RepositoryNotFoundError):  # (a fresh cache: on errors the client falls back to a cached copy)
        hf_hub_download(repo, "model.bin", token=False, cache_dir=tmp_path / "anonymous")
    with pytest.raises(HfHubHTTPError) as err:  # a wrong token is refused outright, on any repo
        HfApi(token="hf_wrong").model_info(repo)
    assert err.value.response.status_code == 401 and not isinstance(err.value, RepositoryNotFoundError)
    assert anonymous.list_repo_files(api.create_repo("public").repo_id) == [".gitattributes"]


def test_writes_without_a_valid_token_are_refused(local_hub):
    api = HfApi()
    repo = api.create_repo("guarded").repo_id
    before = api.list_repo_commits(repo)
    for client in (HfApi(token=False), HfApi(token="hf_wrong")):
        with pytest.raises(HfHubHTTPError) as err:
            client.create_repo("intruder")
        assert err.value.response.status_code == 401
        with pytest.raises(HfHubHTTPError) as err:
            client.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo)
        assert err.value.response.status_code == 401
        with pytest.raises(HfHubHTTPError) as err:
            client.create_branch(repo, branch="b")
        assert err.value.response.status_code == 401
    assert api.list_repo_commits(repo) == before and not api.repo_exists(f"{USER}/intruder")
    refused = [r for r in local_hub.requests if not r.authorized]
    assert {r.path for r in refused} >= {"/api/repos/create", f"/api/models/{repo}/preupload/main"}


def test_stale_parent_commit_is_refused_with_412(local_hub):
    api = HfApi()
    repo = api.create_repo("conflict").repo_id
    first = api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=repo).oid
    head = api.upload_file(path_or_fileobj=b"2", path_in_repo="a.txt", repo_id=repo).oid
    op = [CommitOperationAdd("a.txt", b"3")]
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit(repo, op, commit_message="stale", parent_commit=first)
    assert err.value.response.status_code == 412 and "A commit has happened since" in str(err.value)
    api.create_commit(repo, [CommitOperationAdd("a.txt", b"3")], commit_message="fresh", parent_commit=head)
    assert read(hf_hub_download(repo, "a.txt")) == b"3"


def test_dataset_repos(local_hub, tmp_path):
    api = HfApi()
    repo = api.create_repo("faces", repo_type="dataset").repo_id
    api.upload_file(path_or_fileobj=b"a,b\n1,2\n", path_in_repo="data/train.csv", repo_id=repo, repo_type="dataset")
    assert read(hf_hub_download(repo, "data/train.csv", repo_type="dataset")) == b"a,b\n1,2\n"
    snap = Path(snapshot_download(repo, repo_type="dataset", cache_dir=tmp_path / "c"))
    assert read(snap / "data" / "train.csv") == b"a,b\n1,2\n"
    with pytest.raises(RepositoryNotFoundError):  # same name, other type
        api.model_info(repo)


def test_offline_mode_serves_the_cache_after_the_hub_stops(local_hub, monkeypatch):
    api = HfApi()
    repo = api.create_repo("offline").repo_id
    api.upload_file(path_or_fileobj=b'{"a": 1}', path_in_repo="config.json", repo_id=repo)
    api.upload_file(path_or_fileobj=b"never fetched", path_in_repo="other.txt", repo_id=repo)
    config, snap = hf_hub_download(repo, "config.json"), snapshot_download(repo, allow_patterns=["*.json"])

    # HF_HUB_OFFLINE=1: the client sends nothing and answers from the cache (revision "main" via refs/main)
    set_offline(monkeypatch)
    sent = len(local_hub.requests)
    assert hf_hub_download(repo, "config.json") == config
    assert snapshot_download(repo, allow_patterns=["*.json"]) == snap
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download(repo, "other.txt")
    with pytest.raises(OfflineModeIsEnabled):
        api.model_info(repo)
    assert len(local_hub.requests) == sent

    # ... and still once the hub is gone
    local_hub.stop()
    assert read(hf_hub_download(repo, "config.json")) == b'{"a": 1}'
    assert snapshot_download(repo, allow_patterns=["*.json"]) == snap


def test_a_subprocess_uses_the_hub_through_its_environment(local_hub, tmp_path):
    api = HfApi()
    repo = api.create_repo("child", private=True).repo_id
    commit = api.upload_file(path_or_fileobj=b'{"child": true}', path_in_repo="config.json", repo_id=repo).oid
    script = ("import sys; from huggingface_hub import constants, hf_hub_download; "
              "p = hf_hub_download(sys.argv[1], 'config.json'); "
              "print(constants.ENDPOINT, constants.HF_HUB_OFFLINE, open(p).read(), p, sep='|')")  # fmt: skip
    cache = tmp_path / "child-cache"

    def run(**env_kwargs) -> list[str]:
        env = {**os.environ, **local_hub.env(cache, **env_kwargs)}
        out = subprocess.run([sys.executable, "-c", script, repo], env=env, capture_output=True, text=True,
                             timeout=60, check=True)  # fmt: skip
        return out.stdout.strip().split("|")

    endpoint, offline, content, path = run()
    assert (endpoint, offline, content) == (local_hub.endpoint, "False", '{"child": true}')
    assert Path(path).is_relative_to(cache) and f"snapshots/{commit}/" in path
    assert (("HEAD", f"/{repo}/resolve/main/config.json", True)) in local_hub.requests  # the child sent the token
    local_hub.stop()
    assert run(offline=True)[1:3] == ["True", '{"child": true}']


def test_push_to_hub_and_from_pretrained_round_trip(local_hub):
    torch = pytest.importorskip("torch")
    from huggingface_hub import PyTorchModelHubMixin

    class Tiny(torch.nn.Module, PyTorchModelHubMixin):
        def __init__(self, width: int = 4):
            super().__init__()
            self.lin = torch.nn.Linear(width, 2)

    torch.manual_seed(0)
    model = Tiny(width=3)
    first, original = model.push_to_hub(f"{USER}/tiny").oid, model.lin.weight.detach().clone()  # create_repo(exist_ok)
    with torch.no_grad():  # + upload_folder with a README.md model card
        model.lin.weight.add_(1.0)
    model.push_to_hub(f"{USER}/tiny")
    assert {"config.json", "model.safetensors", "README.md"} <= set(HfApi().list_repo_files(f"{USER}/tiny"))
    latest, old = Tiny.from_pretrained(f"{USER}/tiny"), Tiny.from_pretrained(f"{USER}/tiny", revision=first)
    assert latest.lin.in_features == 3 and torch.equal(latest.lin.weight, model.lin.weight)
    assert torch.equal(old.lin.weight, original)


def test_raw_http_contract_and_clean_stop(tmp_path, monkeypatch):
    """The headers hf_hub_download relies on, checked on the wire; stopping frees the port and the thread."""
    with LocalHub(tmp_path / "hub") as hub:
        point_client_at(hub, monkeypatch, tmp_path / "cache")
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        repo = api.create_repo("raw").repo_id
        sha = api.upload_file(path_or_fileobj=b"0123456789", path_in_repo="d/x.bin", repo_id=repo).oid

        def call(method, path, **headers):
            req = urllib.request.Request(hub.endpoint + path, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    return resp.status, resp.headers, resp.read()
            except urllib.error.HTTPError as err:
                return err.code, err.headers, err.read()

        status, headers, body = call("HEAD", f"/{repo}/resolve/main/d/x.bin")
        assert (status, body) == (200, b"")
        assert headers["ETag"] == f'"{git_blob_sha1(b"0123456789")}"' and headers["X-Repo-Commit"] == sha
        assert headers["Content-Length"] == "10" and "X-Linked-Size" not in headers
        assert call("GET", f"/{repo}/resolve/{sha}/d/x.bin", Range="bytes=3-5")[::2] == (206, b"345")
        status, headers, _ = call("GET", f"/{repo}/resolve/main/nope")
        assert (status, headers["X-Error-Code"], headers["X-Repo-Commit"]) == (404, "EntryNotFound", sha)
        assert call("GET", f"/{repo}/resolve/nope/d/x.bin")[1]["X-Error-Code"] == "RevisionNotFound"
        assert call("GET", f"/{USER}/none/resolve/main/x")[:2][0] == 401  # anonymous: 401 RepoNotFound
        port, thread = hub.port, hub._thread
    assert not thread.is_alive() and not hub.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with socket.socket() as s:  # the port is free again (SO_REUSEADDR: closed connections may be in TIME_WAIT)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
    with LocalHub(tmp_path / "hub") as again:  # the state lives on disk: a new hub on the same root serves it
        assert HfApi(endpoint=again.endpoint, token=again.token).model_info(repo).sha == sha
