import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# Set before anything imports huggingface_hub / gradio: no network here, and nothing is sent anywhere.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from .hub_server import local_hub  # noqa: E402,F401  (fixture: a Hub-compatible endpoint on 127.0.0.1)

#: Fixtures that start the app (``python app.py``): a test using one is a ``served`` test.
SERVING_FIXTURES = {"served", "served_app", "client", "agent"}


def pytest_collection_modifyitems(config, items):
    """Markers by what a test needs (see pyproject.toml): ``browser`` (every test of test_browser.py), ``served``
    (a test that starts the app: one of :data:`SERVING_FIXTURES`, or marked where it calls :func:`serve_app`),
    ``training`` (test_training.py, or marked) — and ``slow`` for all of those. ``pytest -m "not slow"`` runs the
    rest."""
    for item in items:
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
        if SERVING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.served)
        if item.path.name == "test_training.py":
            item.add_marker(pytest.mark.training)
        if any(item.get_closest_marker(m) for m in ("browser", "served", "training")):
            item.add_marker(pytest.mark.slow)

REPO = Path(__file__).resolve().parents[1]
CELEBA_HQ = Path(os.environ.get("LATENTLAB_CELEBA", REPO.parent / "shared" / "data" / "celeba_hq" / "hq64"))
BUNDLED = REPO / "pretrained" / "celeba-vae-64"  # ours, the app's default
SHARP = REPO / "pretrained" / "celeba-vae-64-sharp"  # ours' encoder under a decoder trained against a discriminator
BOOK = REPO / "pretrained" / "celeba-vae-64-book"  # the book's recipe, to compare
FACES = sorted((REPO / "assets" / "faces").glob("*.png"))


@pytest.fixture(scope="session")
def celeba_dir() -> Path:
    if not CELEBA_HQ.is_dir():
        pytest.fail(f"the real CelebA-HQ data is required at {CELEBA_HQ} (or set LATENTLAB_CELEBA)")
    return CELEBA_HQ


@pytest.fixture
def tiny_vae():
    """A small random ConvAutoencoder (fast), in eval mode."""
    import torch

    from latentlab import ConvAutoencoder

    torch.manual_seed(0)
    return ConvAutoencoder(image_size=32, hidden_channels=[8, 16, 16], z_dim=12).eval()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(extra_env: dict[str, str] | None = None, timeout: float = 180, cwd: Path = REPO):
    """Run `python app.py` in ``cwd`` on 127.0.0.1 (the bundled models unless ``extra_env`` names others); yields
    ``(url, log)`` where ``log`` is the list of lines the app prints, growing while it serves."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1", "PYTHONUNBUFFERED": "1"}
    for var in ("LATENTLAB_FACE_MODELS", "LATENTLAB_DIGIT_MODELS", "LATENTLAB_HUB_OWNER"):
        env.pop(var, None)
    env.update(extra_env or {})
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline, log = time.time() + timeout, []
    try:
        while time.time() < deadline:
            line = proc.stdout.readline()
            log.append(line)
            if "Running on local URL" in line:
                break
            if proc.poll() is not None:
                pytest.fail("app.py exited:\n" + "".join(log) + proc.stdout.read())
        else:
            pytest.fail(f"app.py did not start within {timeout:.0f} s:\n" + "".join(log))
        # keep reading what the app prints (into ``log``): a full pipe would block the server
        threading.Thread(target=lambda: log.extend(iter(proc.stdout.readline, "")), daemon=True).start()
        yield f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def served():
    """`python app.py` on the bundled models, served on 127.0.0.1; yields ``(url, log)`` (see :func:`serve_app`)."""
    with serve_app() as (url, log):
        yield url, log


@pytest.fixture(scope="session")
def served_app(served):
    """The URL of :func:`served`."""
    return served[0]
