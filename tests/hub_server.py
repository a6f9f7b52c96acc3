"""A local, file-backed Hugging Face Hub for tests: the real ``huggingface_hub`` client runs against it unmocked.

This machine cannot reach huggingface.co, yet the project's Hub code (create repo, upload, ``hf_hub_download``,
``snapshot_download``, ``from_pretrained``, revisions, offline cache) must run for real in tests. :class:`LocalHub`
serves the subset of the Hub's HTTP API that ``huggingface_hub`` 2.4.0 uses for those flows, on 127.0.0.1 at a free
port, from a background thread (standard library ``ThreadingHTTPServer``); point the client at it with
``HF_ENDPOINT`` (a subprocess: :meth:`LocalHub.env`) or in-process with the :func:`local_hub` fixture.

Implemented (model, dataset and space repos; ``{type}s`` is ``models``/``datasets``/``spaces``)::

    GET    /api/whoami-v2                               user name + orgs (valid token required)
    GET    /api/agent-harnesses                         empty registry (the client's user-agent builder asks)
    POST   /api/validate-yaml                           README.md metadata check: always valid
    POST   /api/repos/create    DELETE /api/repos/delete       (409 + "url" if it exists, as the Hub does)
    GET    /api/{type}s/{ns}/{name}[/revision/{rev}]    repo_info / model_info (siblings; ?blobs=true, ?expand=...)
    GET    /api/{type}s/{ns}/{name}/tree/{rev}[/{path}] list_repo_tree / list_repo_files (?recursive), one page
    POST   /api/{type}s/{ns}/{name}/paths-info/{rev}    get_paths_info (form or JSON "paths")
    GET    /api/{type}s/{ns}/{name}/refs                branches + tags
    GET    /api/{type}s/{ns}/{name}/commits/{rev}       list_repo_commits, newest first, one page
    POST   /api/{type}s/{ns}/{name}/preupload/{rev}     every file "regular" (never LFS/Xet) + the current blob oid
    POST   /api/{type}s/{ns}/{name}/commit/{rev}        NDJSON: header (parentCommit → 412 if stale), file,
                                                        deletedFile, deletedFolder; lfsFile and create_pr → 400
    POST|DELETE /api/{type}s/{ns}/{name}/branch/{branch}   POST /tag/{rev}, DELETE /tag/{tag}
    HEAD|GET /[datasets/|spaces/]{ns}/{name}/resolve/{rev}/{path}   the download: X-Repo-Commit, ETag (quoted git
                                                        blob sha1, like the Hub for non-LFS files), Content-Length,
                                                        Range (206)

Not implemented: LFS/Xet transfers, pull requests, file copies, .gitignore rules, gated repos, pagination (every
list is one page), ``expand`` on tree listings. Errors carry the Hub's ``X-Error-Code`` (``RepoNotFound``: 401
without a valid token, 404 with one; ``RevisionNotFound``; ``EntryNotFound``) and ``X-Error-Message``, so
``hf_raise_for_status`` raises the same exception classes as against huggingface.co. Any invalid bearer token
gets 401 "Invalid credentials in Authorization header"; writes need a token in ``hub.tokens``.

Storage under ``root`` (inspectable): ``blobs/<git blob sha1>``; ``repos/{type}s/{ns}/{name}/repo.json``
(visibility, branches, tags) and ``.../commits/<sha>.json`` (immutable: parents, title, message, date and the full
tree ``{path: {"oid", "size"}}``). A new repo gets an "initial commit" holding ``.gitattributes``, like the Hub.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

DEFAULT_TOKEN = "hf_local_test_token"
USER = "latent-lab-tester"
ORGS = ("latent-lab",)
_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA = re.compile(r"[0-9a-f]{40}")
_GITATTRIBUTES = b"".join(
    b"*.%s filter=lfs diff=lfs merge=lfs -text\n" % ext for ext in (b"bin", b"pt", b"pth", b"safetensors", b"zip")
)


class HubRequest(NamedTuple):
    """One request the hub received: ``path`` as sent (still %-encoded, no query string)."""

    method: str
    path: str
    authorized: bool  # a token from ``hub.tokens`` was sent


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers=None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.headers, self.extra = status, message, code, headers or {}, extra


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a file, which the Hub sends as the ETag of a regular (non-LFS) file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def _flag(req, name: str) -> bool:
    return req.query.get(name, [""])[-1].lower() in ("1", "true")


def _clean_path(path: str) -> str:
    path = path.strip("/")
    if not path or any(part in ("", ".", "..") for part in path.split("/")):
        raise HubError(400, f"Invalid path in repo: {path!r}")
    return path


class LocalHub:
    """The local Hub server; a context manager (``with LocalHub(tmp_path) as hub: ... hub.endpoint``).

    ``hub.token`` is a valid token (default ``"hf_local_test_token"``); add more to the set ``hub.tokens``. Every
    token belongs to ``hub.user`` (``"latent-lab-tester"``), member of ``hub.orgs``. ``hub.requests`` lists the
    :class:`HubRequest` received so far; ``hub.errors`` the tracebacks of server bugs (answered with 500).
    """

    def __init__(self, root: str | os.PathLike, *, token: str = DEFAULT_TOKEN, user: str = USER, orgs=ORGS):
        self.root = Path(root)
        self.token, self.tokens, self.user, self.orgs = token, {token}, user, list(orgs)
        self.requests: list[HubRequest] = []
        self.errors: list[str] = []
        self.endpoint: str | None = None  # "http://127.0.0.1:PORT" once started (kept after stop())
        self.port: int | None = None
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> LocalHub:
        if self._server is None:
            (self.root / "blobs").mkdir(parents=True, exist_ok=True)
            server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.daemon_threads = True
            server.hub = self  # type: ignore[attr-defined]
            self.port = server.server_address[1]
            self.endpoint = f"http://127.0.0.1:{self.port}"
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"LocalHub:{self.port}", daemon=True)  # fmt: skip
            self._server = server
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port (idempotent). Connections are one request each, so none linger."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, cache_dir: str | os.PathLike, *, offline: bool = False, token: str | bool | None = None) -> dict:
        """Environment variables for a *subprocess* that should use this hub: ``{**os.environ, **hub.env(...)}``.

        ``HF_HUB_CACHE`` is ``cache_dir``; ``HF_HOME`` is the sibling folder ``hf-home`` (so no saved login or
        Xet cache of the user is read); ``HF_TOKEN`` is ``token`` (default ``hub.token``; ``False`` → empty, i.e.
        anonymous); ``HF_HUB_OFFLINE`` is "1" or "0" (the client reads both variables at import time).
        """
        cache_dir = Path(cache_dir)
        return {
            "HF_ENDPOINT": self.endpoint,
            "HF_TOKEN": self.token if token is None or token is True else (token or ""),
            "HF_HUB_CACHE": str(cache_dir),
            "HF_HOME": str(cache_dir.parent / "hf-home"),
            "HF_HUB_OFFLINE": "1" if offline else "0",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }

    # --- storage ------------------------------------------------------------------------------------------
    def _repo_dir(self, rtype: str, repo_id: str) -> Path:
        return self.root / "repos" / f"{rtype}s" / repo_id

    @staticmethod
    def _read(path: Path) -> dict:
        return json.loads(path.read_text())

    @staticmethod
    def _write(path: Path, obj: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True))
        os.replace(tmp, path)

    def _put_blob(self, data: bytes) -> dict:
        oid = git_blob_sha1(data)
        blob = self.root / "blobs" / oid
        if not blob.exists():
            blob.write_bytes(data)
        return {"oid": oid, "size": len(data)}

    def _tree(self, rdir: Path, sha: str) -> dict:
        return self._read(rdir / "commits" / f"{sha}.json")["tree"]

    def _new_commit(self, rdir: Path, parent: str | None, tree: dict, title: str, message: str) -> str:
        commit = {"parents": [parent] if parent else [], "title": title, "message": message, "author": self.user,
                  "date": _now(), "tree": tree}  # fmt: skip
        sha = hashlib.sha1(json.dumps({**commit, "nonce": uuid.uuid4().hex}, sort_keys=True).encode()).hexdigest()
        self._write(rdir / "commits" / f"{sha}.json", commit)
        return sha

    def _open_repo(self, req, rtype: str, repo_id: str) -> tuple[Path, dict]:
        rdir = self._repo_dir(rtype, repo_id)
        meta = self._read(rdir / "repo.json") if (rdir / "repo.json").is_file() else None
        if meta is None or (meta["private"] and not req.authorized):
            raise HubError(404 if req.authorized else 401, f"Repository Not Found for {rtype} {repo_id!r}.",
                           "RepoNotFound")  # fmt: skip
        return rdir, meta

    @staticmethod
    def _resolve(rdir: Path, meta: dict, rev: str) -> str:
        for refs, prefix in ((meta["branches"], "refs/heads/"), (meta["tags"], "refs/tags/")):
            for name in (rev, rev.removeprefix(prefix)):
                if name in refs:
                    return refs[name]
        if _SHA.fullmatch(rev) and (rdir / "commits" / f"{rev}.json").is_file():
            return rev
        raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")

    @staticmethod
    def _entry(tree: dict, path: str) -> dict | None:
        """A tree-listing entry for a file or folder ``path`` of ``tree``, or None if it has neither."""
        if path in tree:
            return {"type": "file", "path": path, **tree[path]}
        inside = sorted((p, f["oid"]) for p, f in tree.items() if p.startswith(path + "/"))
        if not inside:
            return None
        return {"type": "directory", "path": path, "size": 0, "oid": hashlib.sha1(repr(inside).encode()).hexdigest()}

    # --- routing ------------------------------------------------------------------------------------------
    def handle(self, req) -> tuple[int, Any, dict]:
        """Answer one request: (status, JSON-able payload or raw bytes, extra headers)."""
        s = req.segs
        if s[:1] == ["api"]:
            if s[1:] == ["whoami-v2"] and req.method == "GET":
                return self._whoami(req)
            if s[1:] == ["validate-yaml"] and req.method == "POST":
                return 200, {"errors": [], "warnings": []}, {}
            if s[1:] == ["agent-harnesses"] and req.method == "GET":  # fetched once a day, to build the user agent
                return 200, {"standardEnvVars": [], "harnesses": {}}, {}
            if s[1:2] == ["telemetry"]:
                return 200, {}, {}
            if s[1:2] == ["repos"] and len(s) == 3:
                return self._repos(req, s[2])
            if len(s) >= 4 and s[1] in _TYPES:
                return self._api(req, _TYPES[s[1]], self._repo_id(s[2], s[3]), s[4:])
        elif req.method in ("GET", "HEAD"):
            rtype = _TYPES[s[0]] if s[:1] in (["datasets"], ["spaces"]) else "model"
            r = s[1:] if rtype != "model" else s
            if len(r) >= 5 and r[2] == "resolve":
                return self._download(req, rtype, self._repo_id(r[0], r[1]), r[3], "/".join(r[4:]))
        raise HubError(404, f"Not found: {req.method} {req.path}")

    @staticmethod
    def _repo_id(ns: str, name: str) -> str:
        if not (_NAME.fullmatch(ns) and _NAME.fullmatch(name)) or ".." in ns + name:
            raise HubError(400, f"Invalid repo id: {ns}/{name}")
        return f"{ns}/{name}"

    def _require_write(self, req) -> None:
        if not req.authorized:
            raise HubError(401, "You must be authenticated with a write token to do this.")

    def _whoami(self, req):
        if not req.authorized:
            raise HubError(401, "Invalid username or password.")
        orgs = [{"type": "org", "name": o, "fullname": o, "roleInOrg": "admin"} for o in self.orgs]
        return 200, {"type": "user", "id": "local", "name": self.user, "fullname": "Latent Lab Tester", "orgs": orgs,
                     "auth": {"type": "access_token", "accessToken": {"displayName": "local", "role": "write"}}}, {}  # fmt: skip

    def _repos(self, req, op: str):
        if (req.method, op) not in (("POST", "create"), ("DELETE", "delete")):
            raise HubError(404, f"Not found: {req.method} {req.path}")
        self._require_write(req)
        body = req.json()
        rtype = body.get("type") or "model"
        if rtype not in _URL_PREFIX:
            raise HubError(400, f"Invalid repo type: {rtype!r}")
        ns = body.get("organization") or self.user
        if ns != self.user and ns not in self.orgs:
            raise HubError(403, f"You don't have the rights to create a {rtype} under the namespace {ns!r}")
        repo_id = self._repo_id(ns, str(body.get("name")))
        rdir, url = self._repo_dir(rtype, repo_id), f"{self.endpoint}/{_URL_PREFIX[rtype]}{repo_id}"
        with self._lock:
            exists = (rdir / "repo.json").is_file()
            if op == "delete":
                if not exists:
                    raise HubError(404, f"Repository Not Found for {rtype} {repo_id!r}.", "RepoNotFound")
                shutil.rmtree(rdir)
                return 200, {}, {}
            if exists:
                raise HubError(409, f"You already created this {rtype} repo", url=url)
            private = body["visibility"] == "private" if "visibility" in body else bool(body.get("private"))
            sha = self._new_commit(rdir, None, {".gitattributes": self._put_blob(_GITATTRIBUTES)}, "initial commit", "")
            meta = {"id": uuid.uuid4().hex[:24], "private": private, "created_at": _now(), "sdk": body.get("sdk"),
                    "branches": {"main": sha}, "tags": {}}  # fmt: skip
            self._write(rdir / "repo.json", meta)
        return 200, {"url": url, "name": repo_id, "id": meta["id"]}, {}

    def _api(self, req, rtype: str, repo_id: str, rest: list[str]):
        m, action, arg = req.method, (rest[0] if rest else ""), (rest[1] if len(rest) > 1 else None)
        with self._lock:
            rdir, meta = self._open_repo(req, rtype, repo_id)
            if m == "GET" and (not rest or (action == "revision" and len(rest) == 2)):
                return self._info(req, rtype, repo_id, rdir, meta, arg or "main")
            if m == "GET" and action == "tree" and arg:
                tree = self._tree(rdir, self._resolve(rdir, meta, arg))
                return 200, self._list(tree, "/".join(rest[2:]).strip("/"), _flag(req, "recursive")), {}
            if m == "POST" and action == "paths-info" and arg:
                tree = self._tree(rdir, self._resolve(rdir, meta, arg))
                body = req.json() if req.is_json else parse_qs(req.body.decode())
                paths = [body["paths"]] if isinstance(body.get("paths"), str) else body.get("paths", [])
                return 200, [e for p in paths if (e := self._entry(tree, p.strip("/")))], {}
            if m == "GET" and action == "refs":
                def refs(kind, names):
                    return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": c} for n, c in names.items()]
                return 200, {"branches": refs("heads", meta["branches"]), "tags": refs("tags", meta["tags"]),
                             "converts": [], "pullRequests": []}, {}  # fmt: skip
            if m == "GET" and action == "commits" and arg:
                return 200, self._history(rdir, self._resolve(rdir, meta, arg)), {}
            if action in ("preupload", "commit", "branch", "tag") and arg and m in ("POST", "DELETE"):
                self._require_write(req)
                if m == "POST" and action == "preupload":
                    tree = self._tree(rdir, self._resolve(rdir, meta, arg))
                    files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                              "oid": tree.get(f["path"], {}).get("oid")} for f in req.json().get("files", [])]  # fmt: skip
                    return 200, {"files": files, "commitOid": self._resolve(rdir, meta, arg)}, {}
                if m == "POST" and action == "commit":
                    return self._commit(req, rtype, repo_id, rdir, meta, arg)
                if action == "branch":
                    return self._branch(req, rdir, meta, arg)
                if action == "tag":
                    return self._tag(req, rdir, meta, arg)
        raise HubError(404, f"Not found: {req.method} {req.path}")

    # --- endpoints ----------------------------------------------------------------------------------------
    def _info(self, req, rtype, repo_id, rdir, meta, rev):
        sha = self._resolve(rdir, meta, rev)
        commit = self._read(rdir / "commits" / f"{sha}.json")
        blobs = _flag(req, "blobs")
        siblings = [{"rfilename": p, **({"size": f["size"], "blobId": f["oid"]} if blobs else {})}
                    for p, f in sorted(commit["tree"].items())]  # fmt: skip
        info = {"_id": meta["id"], "id": repo_id, "author": repo_id.split("/")[0], "sha": sha, "private": meta["private"],
                "lastModified": commit["date"], "createdAt": meta["created_at"], "gated": False, "disabled": False,
                "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
                "usedStorage": sum(f["size"] for f in commit["tree"].values())}  # fmt: skip
        if rtype == "model":
            info["modelId"] = repo_id
        if rtype == "space":
            info["sdk"] = meta.get("sdk")
        expand = req.query.get("expand", []) + req.query.get("expand[]", [])
        if expand:  # like the Hub: only the requested properties
            info = {k: v for k, v in info.items() if k in ("_id", "id", *expand)}
        return 200, info, {}

    def _list(self, tree: dict, path: str, recursive: bool) -> list[dict]:
        if path and (self._entry(tree, path) or {}).get("type") != "directory":
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        base, names = (path + "/" if path else ""), set()
        for p in tree:
            if p.startswith(base):
                parts = p[len(base):].split("/")
                upto = range(1, len(parts) + 1) if recursive else [1]
                names.update(base + "/".join(parts[:i]) for i in upto)
        return [self._entry(tree, n) for n in sorted(names)]

    def _history(self, rdir: Path, sha: str | None) -> list[dict]:
        out = []
        while sha:
            c = self._read(rdir / "commits" / f"{sha}.json")
            out.append({"id": sha, "title": c["title"], "message": c["message"], "date": c["date"],
                        "authors": [{"user": c["author"], "avatar": None}]})  # fmt: skip
            sha = c["parents"][0] if c["parents"] else None
        return out

    def _commit(self, req, rtype, repo_id, rdir, meta, rev):
        if _flag(req, "create_pr"):
            raise HubError(400, "Pull requests (create_pr) are not supported by the local test hub.")
        branch = rev.removeprefix("refs/heads/")
        if branch not in meta["branches"]:
            self._resolve(rdir, meta, rev)  # RevisionNotFound if it does not exist at all
            raise HubError(400, f"Invalid rev id: {rev} (commits go to a branch)")
        try:
            lines = [json.loads(line) for line in req.body.splitlines() if line.strip()]
        except ValueError as err:
            raise HubError(400, f"Invalid NDJSON commit payload: {err}") from None
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "The commit payload must start with a header line.")
        header, head = lines[0].get("value", {}), meta["branches"][branch]
        if header.get("parentCommit") and not head.startswith(header["parentCommit"]):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        tree = dict(self._tree(rdir, head))
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value") or {}
            path = _clean_path(str(value.get("path", "")))
            if key == "file":
                content = value.get("content", "")
                data = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                tree[path] = self._put_blob(data)
            elif key == "deletedFile" and path in tree:
                del tree[path]
            elif key == "deletedFolder" and any(p.startswith(path + "/") for p in tree):
                tree = {p: f for p, f in tree.items() if not p.startswith(path + "/")}
            elif key in ("deletedFile", "deletedFolder"):
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            elif key == "lfsFile":
                raise HubError(400, "LFS files are not supported by the local test hub (preupload says 'regular').")
            else:
                raise HubError(400, f"Unsupported commit operation: {key!r}")
        sha = self._new_commit(rdir, head, tree, str(header.get("summary", "")), str(header.get("description", "")))
        meta["branches"][branch] = sha
        self._write(rdir / "repo.json", meta)
        url = f"{self.endpoint}/{_URL_PREFIX[rtype]}{repo_id}/commit/{sha}"
        return 200, {"success": True, "commitOid": sha, "commitUrl": url, "pullRequestUrl": None}, {}

    def _branch(self, req, rdir, meta, name):
        if req.method == "POST":
            if name in meta["branches"]:
                raise HubError(409, f"Reference already exists: refs/heads/{name}")
            start = req.json().get("startingPoint")
            meta["branches"][name] = self._resolve(rdir, meta, start) if start else meta["branches"]["main"]
        elif name == "main":
            raise HubError(403, "You cannot delete the default branch.")
        elif meta["branches"].pop(name, None) is None:
            raise HubError(404, f"Invalid rev id: {name}", "RevisionNotFound")
        self._write(rdir / "repo.json", meta)
        return 200, {}, {}

    def _tag(self, req, rdir, meta, rev_or_tag):
        if req.method == "POST":
            body = req.json()
            if body.get("tag") in meta["tags"]:
                raise HubError(409, f"Tag already exists: {body['tag']}")
            meta["tags"][str(body.get("tag"))] = self._resolve(rdir, meta, rev_or_tag)
        elif meta["tags"].pop(rev_or_tag, None) is None:
            raise HubError(404, f"Invalid rev id: {rev_or_tag}", "RevisionNotFound")
        self._write(rdir / "repo.json", meta)
        return 200, {}, {}

    def _download(self, req, rtype, repo_id, rev, path):
        with self._lock:
            rdir, meta = self._open_repo(req, rtype, repo_id)
            sha = self._resolve(rdir, meta, rev)
            file = self._tree(rdir, sha).get(path)
            if file is None:
                raise HubError(404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": sha})
            data = (self.root / "blobs" / file["oid"]).read_bytes()
        name = quote(path.rsplit("/", 1)[-1])
        headers = {"X-Repo-Commit": sha, "ETag": f'"{file["oid"]}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream",
                   "Content-Disposition": f"inline; filename*=UTF-8''{name}; filename=\"{name}\";"}  # fmt: skip
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", req.headers.get("Range", "").strip())
        if not match:
            return 200, data, headers
        start, end = int(match[1]), min(int(match[2] or len(data) - 1), len(data) - 1)
        if start >= len(data) or start > end:
            raise HubError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{len(data)}"})
        return 206, data[start : end + 1], {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers once the hub is stopped
    server_version = "LocalHub/1.0"

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    # what the hub's handlers read
    @property
    def is_json(self) -> bool:
        return "json" in self.headers.get("Content-Type", "")

    def json(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError as err:
            raise HubError(400, f"Invalid JSON body: {err}") from None

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        hub: LocalHub = self.server.hub  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        self.method = self.command
        self.query = parse_qs(url.query, keep_blank_values=True)
        self.segs = [unquote(s) for s in url.path.split("/")[1:]]
        auth = self.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        self.authorized = token in hub.tokens
        with hub._lock:
            hub.requests.append(HubRequest(self.command, url.path, self.authorized))
        try:
            self.body = self._read_body()
            if token is not None and not self.authorized:
                raise HubError(401, "Invalid credentials in Authorization header")
            status, payload, headers = hub.handle(self)
        except HubError as err:
            headers = {"X-Error-Message": err.message.encode("ascii", "backslashreplace").decode(), **err.headers}
            if err.code:
                headers["X-Error-Code"] = err.code
            status, payload = err.status, {"error": err.message, **err.extra}
        except Exception as err:  # a bug here: answer 500 and keep the traceback for the test to show
            hub.errors.append(traceback.format_exc())
            status, payload, headers = 500, {"error": f"LocalHub bug: {err!r}"}, {}
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if not isinstance(payload, bytes):
                self.send_header("Content-Type", "application/json; charset=utf-8")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


# --- pointing the in-process client at a hub ------------------------------------------------------------------
def point_client_at(hub: LocalHub, monkeypatch, cache_dir: str | os.PathLike, *, offline: bool = False) -> None:
    """Point this process's ``huggingface_hub`` at ``hub`` until ``monkeypatch`` undoes it.

    huggingface_hub 2.4.0 reads ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, ``HF_HOME``/``HF_HUB_CACHE`` into
    ``huggingface_hub.constants`` once, at import; the code then reads ``constants.X`` at call time, except:
    ``HUGGINGFACE_CO_URL_TEMPLATE`` (the ``/resolve/`` URL of ``hf_hub_url``, built from the endpoint at import)
    and the module-level ``HfApi`` behind ``huggingface_hub.create_repo``/``upload_folder``/... (its ``endpoint``
    is fixed when it is created; also ``utils._http._HUB_ORIGINS``, which only matters for redirects, and LocalHub
    sends none). Offline mode is ``constants.is_offline_mode()``, which returns
    ``constants.HF_HUB_OFFLINE``. ``HF_TOKEN`` is read from the environment on every call. So: set the
    environment (for subprocesses and env readers) *and* patch those attributes.
    """
    from huggingface_hub import constants, hf_api

    env = hub.env(cache_dir, offline=offline)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    home = Path(env["HF_HOME"])
    for name, value in {  # these drive the client: fail loudly if a huggingface_hub release renames them
        "ENDPOINT": hub.endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HUB_OFFLINE": offline,
        "HF_HUB_CACHE": env["HF_HUB_CACHE"],
    }.items():
        monkeypatch.setattr(constants, name, value)
    for name, value in {  # keep the user's home untouched (login token, Xet cache, agent registry), where present
        "HF_HOME": home,
        "HF_ASSETS_CACHE": home / "assets",
        "HF_XET_CACHE": home / "xet",
        "HF_TOKEN_PATH": home / "token",
        "HF_STORED_TOKENS_PATH": home / "stored_tokens",
        "AGENT_HARNESSES_PATH": home / ".agent_harnesses.json",
    }.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, str(value))
    monkeypatch.setattr(hf_api.api, "endpoint", hub.endpoint)


def set_offline(monkeypatch, offline: bool = True) -> None:
    """Switch the in-process client's offline mode (``HF_HUB_OFFLINE``) for the rest of the test."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture
def local_hub(tmp_path, monkeypatch):
    """A running :class:`LocalHub` (storage ``tmp_path/"hub"``) with this process's huggingface_hub pointed at
    it: endpoint, ``HF_TOKEN`` = ``hub.token``, online, cache ``tmp_path/"hf-cache"`` (``HF_HOME``
    ``tmp_path/"hf-home"``). Stopped, and the client's shared HTTP session closed, after the test."""
    from huggingface_hub.utils import close_session

    hub = LocalHub(tmp_path / "hub").start()
    try:
        point_client_at(hub, monkeypatch, tmp_path / "hf-cache")
        yield hub
    finally:
        hub.stop()
        close_session()
    assert not hub.errors, "LocalHub answered 500:\n" + "\n".join(hub.errors)
