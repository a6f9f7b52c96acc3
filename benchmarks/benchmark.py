"""The project's measurement harness, in one run: the face VAE's training images/s three ways, each digit model's
training images/s (with each row's peak memory), the model latency of the app's operations, and the served app as
users meet it — cold start of ``python app.py``, p50/p95 latency of each API through ``gradio_client`` and as the web
page calls it (:class:`PageClient`), the server's peak memory. Each training row runs in its own subprocess so thread pools and caches do not leak between rows.

    python benchmarks/benchmark.py [--steps 30] [--out benchmarks/results.json]

Rows:
- ``keras seed``: the book's own Keras code (Generative Deep Learning, 2nd ed., ch. 3, 64-px CelebA VAE) on
  TensorFlow CPU — only when ``tensorflow`` is installed (``pip install -e '.[bench-keras]'``), else skipped with a note;
- ``pytorch fp32 eager``: a plain PyTorch loop, fp32, NCHW, on the shipped config's model;
- ``shipped``: the training path of ``training/train.py`` (its ``build_run`` and ``train_step`` under accelerate,
  with the precision and memory format of ``training/configs/celeba_vae_64.yaml``);
- one ``shipped`` row per digit model config (``training/configs/<name>.yaml``: its batch size, real training images).

The PyTorch rows train the shipped architecture (``training/configs/celeba_vae_64.yaml``) with Adam(5e-4), batch
128, on the same real CelebA-HQ 64-px training images; the Keras row is the book's model as published (≈0.49 M
parameters). Served: ``app.py`` started as a subprocess on 127.0.0.1 (cold start = process start until
it serves), then each API called with the example faces through ``gradio_client`` and through :class:`PageClient`
(one session, the queue's event stream, the output files downloaded: what a browser tab waits for); peak memory is the server
process's peak resident set (``VmHWM``). Latency: median (p50) and p95 over repeated calls of :class:`latentlab.faces.FaceLab` on the
bundled model — morph of 16 frames (two faces encoded + 16 decoded), one attribute edit, a 36-face sample — and of
:class:`latentlab.digits.DigitLab` on the bundled digit models — a latent-plane decode (with its marked scatter plot),
a 10-frame interpolation, a conditional generation (all ten digits), a novelty score. Alignment: an upload found,
landmarked and cropped (:class:`latentlab.alignment.FaceAligner`) at 800×600 and 4000×3000.

    python benchmarks/benchmark.py --only latency alignment served   # re-measure just those rows
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _images(n: int, source: str):
    from latentlab.data import load_celeba

    return load_celeba(source, "train", limit=n).images  # uint8 (n, 3, 64, 64)


def row_keras(steps: int, warmup: int, batch_size: int, source: str) -> dict:
    """The book's model and train_step, as published (Keras 3 on TensorFlow)."""
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras import layers

    images = _images(batch_size * (steps + warmup), source).permute(0, 2, 3, 1).numpy().astype("float32") / 255.0

    class Sampling(layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            eps = tf.random.normal(shape=(tf.shape(z_mean)[0], tf.shape(z_mean)[1]))  # = K.random_normal
            return z_mean + tf.exp(0.5 * z_log_var) * eps

    inp = layers.Input(shape=(64, 64, 3))
    x = inp
    for _ in range(5):
        x = layers.Conv2D(64, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU()(x)
    shape_before = x.shape[1:]
    x = layers.Flatten()(x)
    z_mean, z_log_var = layers.Dense(200)(x), layers.Dense(200)(x)
    encoder = keras.Model(inp, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])])
    din = layers.Input(shape=(200,))
    x = layers.Dense(int(np.prod(shape_before)))(din)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape(shape_before)(x)
    for _ in range(5):
        x = layers.Conv2DTranspose(64, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU()(x)
    decoder = keras.Model(din, layers.Conv2DTranspose(3, 3, strides=1, padding="same", activation="sigmoid")(x))

    class VAE(keras.Model):
        def __init__(self, encoder, decoder, beta=2000.0):
            super().__init__()
            self.encoder, self.decoder, self.beta = encoder, decoder, beta

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            return z_mean, z_log_var, self.decoder(z)

        def train_step(self, data):
            with tf.GradientTape() as tape:
                z_mean, z_log_var, reconstruction = self(data, training=True)
                mse = tf.reduce_mean(tf.square(data - reconstruction), axis=-1)  # = losses.mean_squared_error
                reconstruction_loss = tf.reduce_mean(self.beta * mse)
                kl_loss = tf.reduce_mean(
                    tf.reduce_sum(-0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var)), axis=1)
                )
                total_loss = reconstruction_loss + kl_loss
            grads = tape.gradient(total_loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return {"loss": total_loss}

    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0005))

    class Clock(keras.callbacks.Callback):  # wall time at the end of every batch: steady state, no tracing/setup
        def on_train_batch_end(self, batch_index, logs=None):
            ends.append(time.perf_counter())

    ends: list[float] = []
    vae.fit(images, batch_size=batch_size, epochs=1, verbose=0, shuffle=False, callbacks=[Clock()])
    seconds = ends[-1] - ends[warmup - 1]  # the `steps` batches after the warm-up ones
    return {"images_per_second": batch_size * steps / seconds, "note": f"tensorflow {tf.__version__}"}


def _torch_loop(step, steps: int, warmup: int, batch_size: int, images) -> float:
    for i in range(warmup):
        step(images[i * batch_size : (i + 1) * batch_size])
    t0 = time.perf_counter()
    for i in range(warmup, warmup + steps):
        step(images[i * batch_size : (i + 1) * batch_size])
    return batch_size * steps / (time.perf_counter() - t0)


def row_fp32(steps: int, warmup: int, batch_size: int, source: str) -> dict:
    import torch

    import yaml

    from latentlab.config import parse_config
    from latentlab.models import model_class

    torch.manual_seed(0)
    images = _images(batch_size * (steps + warmup), source)
    config = parse_config(yaml.safe_load((REPO / "training" / "configs" / "celeba_vae_64.yaml").read_text()))
    model = model_class(config.model_type)(**config.model_options()).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)

    def step(u8):
        losses = config.objective(model, {"image": u8.float() / 255.0})
        losses["loss"].backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return {"images_per_second": _torch_loop(step, steps, warmup, batch_size, images), "note": f"torch {torch.__version__}"}


def row_shipped(steps: int, warmup: int, batch_size: int, source: str, config: str = "celeba_vae_64") -> dict:
    import torch
    import yaml
    from accelerate import Accelerator

    from latentlab.config import parse_config
    from latentlab.data import load_split
    from latentlab.training.train import build_run, recipe_for, train_step  # the training's own

    cfg = parse_config(yaml.safe_load((REPO / "training" / "configs" / f"{config}.yaml").read_text()))
    tcfg = cfg.train
    torch.manual_seed(0)
    if config == "celeba_vae_64":
        images, targets = _images(batch_size * (steps + warmup), source), None
    else:
        batch_size = tcfg.batch_size
        data = load_split(cfg, "train")
        idx = torch.randint(0, len(data), (batch_size * (steps + warmup),))
        images, targets = data.images[idx], data.labels[idx]
    accelerator = Accelerator(mixed_precision=tcfg.mixed_precision)
    model, optimizer = build_run(cfg, accelerator)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    recipe = recipe_for(cfg, accelerator.unwrap_model(model))
    noise = torch.Generator().manual_seed(0)
    offset = iter(range(0, len(images), batch_size))

    def step(u8):
        i = next(offset)
        labels = torch.zeros(len(u8), 40) if targets is None else targets[i : i + len(u8)]
        train_step(accelerator, model, optimizer, u8, labels, recipe, noise)

    ips = _torch_loop(step, steps, warmup, batch_size, images)
    return {"images_per_second": ips, "batch_size": batch_size,
            "note": f"mixed_precision={tcfg.mixed_precision}, channels_last={tcfg.channels_last}"}  # fmt: skip


ROWS = {"keras seed": row_keras, "pytorch fp32 eager": row_fp32, "shipped": row_shipped}


def _status_mib(pid: int | str, key: str) -> float | None:
    """A memory line (``VmHWM``, ``VmRSS``) of /proc/<pid>/status in MiB (Linux); None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib(pid: int | str = "self") -> float | None:
    """Peak resident memory (``VmHWM``) of a process in MiB."""
    return _status_mib(pid, "VmHWM")


def _folder_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20 if folder.exists() else 0.0


class PageClient:
    """Calls a served Gradio app the way its web page does, with one session: for a queued event ``POST
    /gradio_api/call/<api>`` (the queue) and the event's server-sent events until ``complete``; for an event the app
    runs outside the queue (``queue=False`` in its config, as Gradio's page client checks) one ``POST
    /gradio_api/run/<api>``; then a GET of every output file — what a visitor's browser waits for.
    (``gradio_client`` 2.7 instead always joins the queue and polls its message queue with ``time.sleep(0.05)``, so
    each of its calls here costs 50–150 ms more than the server takes: see the ``gradio_floor`` rows.)

    Args:
        url: the app's root, e.g. ``http://127.0.0.1:7860/``.
    """

    def __init__(self, url: str):
        import uuid

        import httpx

        self.api = url.rstrip("/") + "/gradio_api"
        self.http = httpx.Client(timeout=120)
        self.session = uuid.uuid4().hex  # one page load = one session, as in a browser tab
        config = self.http.get(url.rstrip("/") + "/config")
        config.raise_for_status()
        self.unqueued = {d["api_name"] for d in config.json()["dependencies"] if d.get("api_name") and d.get("queue") is False}

    def upload(self, path: str | Path) -> dict:
        """Upload a file once (a visitor picking a photo) → the FileData the page then sends with each call."""
        with open(path, "rb") as f:
            response = self.http.post(f"{self.api}/upload", files=[("files", (Path(path).name, f))])
        response.raise_for_status()
        return {"path": response.json()[0], "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}

    def call(self, api_name: str, *data) -> list:
        """Run one event with positional ``data`` (every parameter of the endpoint, in order); returns its output
        values after downloading every output file. Raises RuntimeError with the app's message on an error event."""
        name = api_name.strip("/")
        if name in self.unqueued:
            response = self.http.post(f"{self.api}/run/{name}", json={"data": list(data), "session_hash": self.session})
            if response.status_code != 200:
                raise RuntimeError(f"{api_name}: {response.status_code} {response.text}")
            output = response.json()["data"]
        else:
            output = self._queued(name, list(data))
        for value in output:
            for file in value if isinstance(value, list) else [value]:  # an ImageSlider's output is a pair of files
                if isinstance(file, dict) and file.get("url"):
                    self.http.get(file["url"]).raise_for_status()
        return output

    def _queued(self, name: str, data: list) -> list:
        url = f"{self.api}/call/{name}"
        response = self.http.post(url, json={"data": data, "session_hash": self.session})
        response.raise_for_status()
        event_id, event = response.json()["event_id"], None
        with self.http.stream("GET", f"{url}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    output = json.loads(line[5:])
                    if event == "error":
                        raise RuntimeError(f"/{name}: {output}")
                    return output
        raise RuntimeError(f"/{name}: the event stream ended without a result")


def served_calls(call, face_a, face_b, photo, seeds) -> dict:
    """The served calls timed by :func:`served`, by name, each a no-argument callable: ``call(api_name, *data)``
    with every parameter of the endpoint in order (``gradio_client``'s ``predict`` or :meth:`PageClient.call`),
    the example faces ``face_a``/``face_b``, an 800×600 ``photo``, and ``seeds`` a fresh seed per /sample call.
    Morph and Edit keep the person (the default): the warm-up calls fit the decoder to the example faces, so the timed
    calls are the cached path every later call on a face takes (the tuning itself: benchmarks/pivotal_tuning.py)."""
    face = "celeba-vae-64"
    return {
        "/morph (16 frames)": lambda: call("/morph", face_a, face_b, 16, face, 1, 1, True),
        "/edit (Smiling)": lambda: call("/edit", face_a, "Smiling", 1.5, [], face, 1, True),
        "/edit (Blond_Hair, keep Male)": lambda: call("/edit", face_a, "Blond_Hair", 1.5, ["Male"], face, 1, True),
        "/edit_many (3 attributes)": lambda: call("/edit_many", face_a, {"Smiling": 1.0, "Young": -1.0, "Eyeglasses": 1.5},
                                                  [], True, face, 1, True),  # fmt: skip
        "/sample (36 faces, new seed)": lambda: call("/sample", next(seeds), 36, 1.0, face, "mixture"),
        "/align (800×600 photo)": lambda: call("/align", photo, 1, face),
        "/plane (= a plane click: decode + marked scatter)": lambda: call(
            "/plane", "fashion-vae-2", float(next(seeds) % 7) / 3 - 1, 0.5, 0),
    }


def served(repeats: int, soak_calls: int = 1000) -> dict:
    """Start ``python app.py`` (the bundled models) and time it as a user meets it, through ``gradio_client``:
    each API's p50/p95 (the example faces; /sample with a new seed each call, so nothing repeats), then a soak of
    ``soak_calls`` mixed calls with the Gradio folder's size and the server's memory sampled every 100 calls (the
    server deletes outputs older than 30 s every 15 s for this run: ``LATENTLAB_DELETE_CACHE=15,30``)."""
    import tempfile

    temp = Path(tempfile.mkdtemp(prefix="latentlab-bench-"))
    try:
        with started_app({"GRADIO_TEMP_DIR": str(temp / "gradio"), "LATENTLAB_DELETE_CACHE": "15,30"}) as app:
            return _served(*app, temp, repeats, soak_calls)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


@contextlib.contextmanager
def started_app(extra_env: dict[str, str] | None = None):
    """``python app.py`` (the bundled models) served on a free port of 127.0.0.1, offline: yields ``(url, process,
    cold_start_seconds)`` once it says it is running; stopped on exit."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1", "PYTHONUNBUFFERED": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", **(extra_env or {})}  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        for line in proc.stdout:
            if "Running on local URL" in line:
                break
        else:
            raise RuntimeError("app.py exited before serving")
        yield f"http://127.0.0.1:{port}/", proc, time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _served(url: str, proc, cold_start: float, temp: Path, repeats: int, soak_calls: int) -> dict:
    """:func:`served`'s measurements on the app at ``url`` (``proc``), its outputs under ``temp``."""
    import itertools

    from gradio_client import Client, handle_file
    from PIL import Image

    from latentlab.scenes import place_face

    client = Client(url, verbose=False)
    faces = sorted((REPO / "assets" / "faces").glob("*.png"))
    a, b = handle_file(str(faces[0])), handle_file(str(faces[3]))
    place_face(Image.open(faces[5]), size=(800, 600), scale=4.0, angle=15.0, seed=0)[0].save(temp / "photo.jpg", quality=90)
    photo = handle_file(str(temp / "photo.jpg"))
    seeds = itertools.count(1000)
    gradio = served_calls(lambda api, *data: client.predict(*data, api_name=api), a, b, photo, seeds)
    rows = time_ops(gradio, repeats, 2, "served")
    page = PageClient(url)
    page_calls = served_calls(page.call, page.upload(faces[0]), page.upload(faces[3]),
                              page.upload(temp / "photo.jpg"), seeds)  # fmt: skip
    page_rows = time_ops(page_calls, repeats, 2, "served, page protocol")
    soak = []
    ops = list(gradio.values())
    for i in range(soak_calls):
        ops[i % len(ops)]()
        if (i + 1) % 100 == 0:
            soak.append({"calls": i + 1, "gradio_folder_mib": round(_folder_mib(temp / "gradio"), 2),
                         "server_rss_mib": _status_mib(proc.pid, "VmRSS")})  # fmt: skip
    return {"cold_start_seconds": cold_start, "latency": rows, "latency_page": page_rows,
            "server_peak_rss_mib": peak_rss_mib(proc.pid),
            "soak": soak, "soak_delete_cache": "every 15 s, files older than 30 s"}  # fmt: skip


FLOOR_APP = """
import sys
import gradio as gr
from PIL import Image
with gr.Blocks() as demo:
    n, image, out = gr.Number(), gr.Image(type="pil"), gr.Number()
    gr.Button("image").click(lambda x: Image.new("RGB", (64, 64), (int(x) % 255, 0, 0)), n, image, api_name="image")
    gr.Button("number").click(lambda x: float(x) + 1, n, out, api_name="number")
demo.queue().launch(server_name="127.0.0.1", server_port=int(sys.argv[1]))
"""


def gradio_floor(repeats: int) -> list[dict]:
    """What any Gradio call costs here: a minimal Blocks app (number → number, number → 64-px image) served and
    called through ``gradio_client`` and as a web page calls it (:class:`PageClient`) — the floor under every served
    number of each way."""
    import socket

    from gradio_client import Client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})  # fmt: skip
    try:
        for line in proc.stdout:
            if "Running on local URL" in line:
                break
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        page = PageClient(f"http://127.0.0.1:{port}/")
        def calls(call):
            return {"minimal app: number → number": lambda: call("/number", 1),
                    "minimal app: number → 64-px image": lambda: call("/image", 1)}  # fmt: skip

        return (time_ops(calls(lambda api, *data: client.predict(*data, api_name=api)), repeats, 2, "served")
                + time_ops(calls(page.call), repeats, 2, "served, page protocol"))  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def served_targets(app: dict) -> dict:
    """The served p50 targets on this machine, through ``gradio_client`` and as the web page calls."""
    limits = {"/morph (16 frames)": 250, "/edit (Smiling)": 150, "/sample (36 faces, new seed)": 150,
              "/plane (= a plane click: decode + marked scatter)": 50}  # fmt: skip
    targets = {}
    for key, way in (("latency", "gradio_client"), ("latency_page", "page protocol")):
        p50 = {r["operation"]: r["p50_ms"] for r in app.get(key, [])}
        targets.update({f"served ({way}) {op} p50 ≤ {ms} ms": p50[op] <= ms for op, ms in limits.items() if op in p50})
    return targets


def time_ops(ops: dict, repeats: int, warmup: int, precision: str) -> list[dict]:
    """p50 / p95 wall time in ms of each callable in ``ops`` over ``repeats`` calls, after ``warmup`` calls."""
    rows = []
    for name, op in ops.items():
        for _ in range(warmup):
            op()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            op()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        rows.append({"operation": name, "precision": precision, "p50_ms": statistics.median(times),
                     "p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))], "repeats": repeats})  # fmt: skip
    return rows


def latency(model_ids: list[str], repeats: int) -> list[dict]:
    """Model time of the face operations for each face model folder, at the precision the app picks (``auto``:
    bf16 only where the CPU has bf16 units) and, on such a CPU, fp32 too; with freed memory kept for reuse, as the
    app starts (:func:`latentlab.runtime.retain_freed_memory`)."""
    import torch
    from PIL import Image

    from latentlab.faces import FaceLab, bf16_is_fast
    from latentlab.runtime import retain_freed_memory

    retained = retain_freed_memory()
    faces = sorted((REPO / "assets" / "faces").glob("*.png"))
    a, b = Image.open(faces[0]).convert("RGB"), Image.open(faces[3]).convert("RGB")
    rows = []
    for model_id in model_ids:
        for precision in ("auto", "fp32") if bf16_is_fast(torch.device("cpu")) else ("auto",):
            lab = FaceLab.from_pretrained(model_id, precision=precision)
            ops = {
                "morph (16 frames)": lambda: lab.morph(a, b, 16),
                "edit (1 face, 1 strength)": lambda: lab.edit(a, "Smiling", 1.5),
                "sample (36 faces)": lambda: lab.sample(36, seed=0),
            }
            rows += [{"model": Path(model_id).name, **r} for r in time_ops(ops, repeats, 5, lab.precision)]
    rows.append({"torch_threads": torch.get_num_threads(), "bf16_units": bf16_is_fast(torch.device("cpu")),
                 "freed_memory_retained": retained})  # fmt: skip
    return rows


def face_targets(lat: list[dict]) -> dict:
    """The speed target: the default face model's 16-frame morph, model time, p50 ≤ 50 ms at the app's precision."""
    rows = [r for r in lat if r.get("operation") == "morph (16 frames)"]
    return {"morph_16_frames_p50_at_most_50_ms": rows[0]["p50_ms"] <= 50.0} if rows else {}


def digit_latency(repeats: int) -> list[dict]:
    from latentlab.digits import DigitLab

    names = ["fashion-vae-2", "mnist-conv-ae-28", "mnist-cond-ae-5", "mnist-dense-ae-digit0"]
    lab = DigitLab.from_pretrained([REPO / "pretrained" / n for n in names],
                                {n: REPO / "assets" / "digits" / f"{n}-test-1000.safetensors" for n in ("mnist", "fashion-mnist")})  # fmt: skip
    for m in lab.models.values():  # the app computes these once per model, at the first call
        _ = m.codes, m.errors, m.scatter if m.model.z_dim == 2 else None
    ops = {
        "plane decode + marked scatter (fashion-vae-2)": lambda: lab.plane("fashion-vae-2", 0.5, -1.0),
        "interpolate 10 frames (mnist-conv-ae-28)": lambda: lab.interpolate("mnist-conv-ae-28", 3, 2, 10),
        "generate 10 digits (mnist-cond-ae-5)": lambda: lab.generate("mnist-cond-ae-5", 7, [0.5, -0.5, 0, 1, 0]),
        "novelty score (mnist-dense-ae-digit0)": lambda: lab.novelty("mnist-dense-ae-digit0", lab.get("mnist-dense-ae-digit0").images[3]),
    }  # fmt: skip
    return time_ops(ops, repeats, 3, "fp32")


def alignment_latency(repeats: int) -> list[dict]:
    """Time of :meth:`FaceAligner.align` (detection, landmarks, crop) on a real test face placed in an 800×600 and a
    4000×3000 photo, and of a 64×64 example face (taken as aligned: no detection)."""
    from PIL import Image

    from latentlab.alignment import FaceAligner

    from latentlab.scenes import place_face

    face = Image.open(sorted((REPO / "assets" / "faces").glob("*.png"))[0]).convert("RGB")
    aligner = FaceAligner(64)
    photos = {"align 800×600 photo": place_face(face, size=(800, 600), scale=4.0, angle=15.0, seed=0)[0],
              "align 4000×3000 photo": place_face(face, size=(4000, 3000), scale=20.0, angle=15.0, seed=0)[0],
              "align 64×64 example face (as it is)": face}  # fmt: skip
    ops = {name: (lambda p=photo: aligner.align(p)) for name, photo in photos.items()}
    return time_ops(ops, repeats, 2, "fp32")


def _update_latency(result: dict, args) -> None:
    result["latency"] = latency(args.model, args.repeats)
    result.setdefault("targets", {}).update(face_targets(result["latency"]))


def _update_alignment(result: dict, args) -> None:
    result["alignment"] = alignment_latency(max(5, args.repeats // 2))


def _update_served(result: dict, args) -> None:
    result["served"] = served(max(5, args.repeats // 5))
    targets = {k: v for k, v in result.get("targets", {}).items() if not k.startswith("served ")}  # this run's only
    result["targets"] = {**targets, **served_targets(result["served"])}


def _update_floor(result: dict, args) -> None:
    result["gradio_floor"] = gradio_floor(max(10, args.repeats // 2))


PARTS = {"latency": _update_latency, "alignment": _update_alignment, "served": _update_served, "floor": _update_floor}

DIGIT_CONFIGS = ["mnist_dense_ae_digit0", "mnist_conv_ae_28", "fashion_conv_ae_2", "mnist_cond_ae_2", "mnist_cond_ae_5",
                 "fashion_vae_2"]  # fmt: skip


def main() -> None:
    from latentlab.data import DEFAULT_CELEBA_SOURCE

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30, help="timed training steps per row")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--data", default=DEFAULT_CELEBA_SOURCE)
    p.add_argument("--model", nargs="+", default=[str(REPO / "pretrained" / n) for n in ("celeba-vae-64", "celeba-vae-64-sharp", "celeba-vae-64-book")],
                   help="face model folders for the latency rows (the first is the app's default)")  # fmt: skip
    p.add_argument("--only", nargs="+", choices=list(PARTS),
                   help="measure only these parts and update their rows of --out (a quick re-run)")
    p.add_argument("--repeats", type=int, default=50, help="timed calls per latency row")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.json")
    p.add_argument("--row", choices=list(ROWS), help=argparse.SUPPRESS)  # internal: one row in this process
    p.add_argument("--config", default="celeba_vae_64", help=argparse.SUPPRESS)  # internal: the shipped row's config
    args = p.parse_args()

    if args.row:
        extra = {"config": args.config} if args.row == "shipped" else {}
        row = ROWS[args.row](args.steps, args.warmup, args.batch_size, args.data, **extra)
        print(json.dumps({**row, "peak_rss_mib": peak_rss_mib()}))
        return

    if args.only:
        result = json.loads(args.out.read_text()) if args.out.is_file() else {}
        for part in args.only:
            PARTS[part](result, args)
        args.out.write_text(json.dumps(result, indent=1))
        served_rows = result.get("served", {})
        for key, rows in (("latency", result.get("latency", [])), ("alignment", result.get("alignment", [])),
                          ("floor", result.get("gradio_floor", [])), ("served", served_rows.get("latency", [])),
                          ("served", served_rows.get("latency_page", []))):  # fmt: skip
            for r in rows:
                if "operation" in r:
                    print(f"{key:<10} {r.get('model', ''):<20} {r['operation']:<50} {r['precision']:<22} "
                          f"{r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}")  # fmt: skip
        print(f"targets: {result.get('targets')}\nwrote {args.out}")
        return

    training = []
    for name in ROWS:
        if name == "keras seed":
            try:
                import tensorflow  # noqa: F401
            except ImportError:
                training.append({"path": name, "images_per_second": None,
                                 "note": "skipped: tensorflow not installed (pip install -e '.[bench-keras]')"})  # fmt: skip
                print(f"{name}: skipped (tensorflow not installed)", flush=True)
                continue
        cmd = [sys.executable, __file__, "--row", name, "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--batch-size", str(args.batch_size), "--data", args.data]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        if proc.returncode != 0:
            training.append({"path": name, "images_per_second": None, "note": "failed: " + proc.stderr[-500:]})
        else:
            training.append({"path": name, **json.loads(proc.stdout.strip().splitlines()[-1])})
        print(f"{name}: {training[-1]['images_per_second']}", flush=True)

    digit_training = []
    for config in DIGIT_CONFIGS:
        cmd = [sys.executable, __file__, "--row", "shipped", "--config", config, "--steps", str(args.steps * 4),
               "--warmup", str(args.warmup)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        ok = proc.returncode == 0
        row = json.loads(proc.stdout.strip().splitlines()[-1]) if ok else {"images_per_second": None, "note": "failed: " + proc.stderr[-500:]}
        digit_training.append({"model": config, **row})
        print(f"{config}: {row['images_per_second']}", flush=True)

    lat = latency(args.model, args.repeats)
    lat_digits = digit_latency(args.repeats)
    aligned = alignment_latency(max(5, args.repeats // 2))
    floor = gradio_floor(max(10, args.repeats // 2))
    app = served(max(5, args.repeats // 5))
    keras = next((r["images_per_second"] for r in training if r["path"] == "keras seed"), None)
    shipped = next(r["images_per_second"] for r in training if r["path"] == "shipped")
    result = {
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "python": platform.python_version()},  # fmt: skip
        "settings": {"steps": args.steps, "warmup": args.warmup, "batch_size": args.batch_size, "model": args.model},
        "training": training,
        "digit_training": digit_training,
        "latency": lat,
        "digit_latency": lat_digits,
        "alignment": aligned,
        "gradio_floor": floor,
        "served": app,
        "targets": {
            "shipped_at_least_keras": None if keras is None or shipped is None else shipped >= keras,
            **face_targets(lat),
            **served_targets(app),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))

    print(f"\n{'training path':<22} {'images/s':>10}  note")
    for r in training + digit_training:
        ips = f"{r['images_per_second']:.0f}" if r["images_per_second"] else "—"
        mem = f"{r['peak_rss_mib']:.0f} MiB" if r.get("peak_rss_mib") else ""
        print(f"{r.get('path') or r.get('model'):<22} {ips:>10} {mem:>9}  {r['note']}")
    print(f"\n{'operation':<48} {'precision':<9} {'p50 ms':>8} {'p95 ms':>8}")
    for r in lat + lat_digits:
        if "operation" in r:
            print(f"{r.get('model', ''):<20} {r['operation']:<48} {r['precision']:<9} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}")
    print(f"\nserved app: cold start {app['cold_start_seconds']:.1f} s, server peak memory {app['server_peak_rss_mib']:.0f} MiB")
    for r in app["latency"]:
        print(f"{r['operation']:<48} {r['precision']:<9} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}")
    print(f"\ntargets: {result['targets']}\nwrote {args.out}")


if __name__ == "__main__":
    main()
