"""The served app under concurrent use: 20 gradio_client users at once on 127.0.0.1, each making 10 mixed calls
(/sample, /morph, /edit, /edit_many — the same example faces and seeds for many of them, so identical outputs are
fetched at the same time). No call may fail; the latencies are printed (the benchmark reports them properly)."""

import statistics
import threading
import time

from gradio_client import Client, handle_file
from PIL import Image

from .conftest import FACES

USERS, CALLS = 20, 10


def _calls(client: Client, user: int):
    a, b = handle_file(str(FACES[0])), handle_file(str(FACES[3 + user % 2]))  # most users pick the same two faces
    return [
        ("sample", lambda: client.predict(seed=user % 3, count=16, temperature=1.0, api_name="/sample")),
        ("morph", lambda: client.predict(face_a=a, face_b=b, frames=8, api_name="/morph")),
        ("edit", lambda: client.predict(face=a, attribute="Smiling", strength=1.5, api_name="/edit")),
        ("edit_many", lambda: client.predict(face=b, edits={"Smiling": 1.0, "Young": -1.0, "Eyeglasses": 1.5},
                                             api_name="/edit_many")),  # fmt: skip
    ]


def test_twenty_users_times_ten_calls_without_a_failure(served_app):
    errors, times = [], {}
    lock = threading.Lock()

    def user(k: int):
        try:
            client = Client(served_app, verbose=False)
        except Exception as err:  # noqa: BLE001 - every failure is counted
            with lock:
                errors.append(f"user {k}: connect: {err!r}")
            return
        calls = _calls(client, k)
        for i in range(CALLS):
            name, call = calls[(k + i) % len(calls)]
            t0 = time.perf_counter()
            try:
                outputs = call()
                files = [o for o in (outputs if isinstance(outputs, tuple) else (outputs,)) if isinstance(o, str) and "/" in o]
                assert files, f"{name} returned no file"
                for path in files:  # every file arrived whole: it decodes to a picture with pixels
                    with Image.open(path) as picture:
                        picture.load()  # raises on a truncated or corrupt file
                        assert min(picture.size) >= 64 and picture.getextrema() != ((0, 0),) * len(picture.getbands()), (name, path)
            except Exception as err:  # noqa: BLE001
                with lock:
                    errors.append(f"user {k} call {i} ({name}): {err!r}")
                continue
            with lock:
                times.setdefault(name, []).append(time.perf_counter() - t0)

    threads = [threading.Thread(target=user, args=(k,)) for k in range(USERS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - start
    report = {n: f"p50 {statistics.median(v) * 1000:.0f} ms, max {max(v) * 1000:.0f} ms, n={len(v)}" for n, v in times.items()}
    print(f"\n{USERS} users × {CALLS} calls in {wall:.1f} s: {report}")
    assert not errors, f"{len(errors)} of {USERS * CALLS} calls failed:\n" + "\n".join(errors[:20])
    assert sum(len(v) for v in times.values()) == USERS * CALLS


def _reconstruction(comparison_path: str):
    """The reconstruction panel (64×64) of /edit's first output: original | reconstruction | edit, 3× enlarged,
    2-px gaps."""

    with Image.open(comparison_path) as im:
        return im.convert("RGB").crop((68 * 3, 2 * 3, 68 * 3 + 192, 2 * 3 + 192)).resize((64, 64), Image.Resampling.NEAREST)


def test_two_users_photos_never_mix(served_app):
    """Two users edit different photos at the same time, interleaved, with the decoder fitted to each photo (the
    default): each gets their own person back, closer to their own photo than the other user's by a wide margin."""
    import numpy as np

    photos = {0: FACES[1], 1: FACES[6]}
    results, errors = {0: [], 1: []}, []
    barrier = threading.Barrier(2)

    def user(k: int):
        client = Client(served_app, verbose=False)
        barrier.wait()
        for strength in (1.0, 1.5, -1.0):  # a slider move on the same photo: the tuned decoder is reused
            try:
                comparison, *_ = client.predict(face=handle_file(str(photos[k])), attribute="Smiling",
                                                strength=strength, api_name="/edit")  # fmt: skip
                results[k].append(_reconstruction(comparison))
            except Exception as err:  # noqa: BLE001
                errors.append(f"user {k}: {err!r}")

    threads = [threading.Thread(target=user, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors

    def psnr(a, b):
        mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
        return 10 * np.log10(255**2 / mse)

    for k in (0, 1):
        own, other = Image.open(photos[k]).convert("RGB"), Image.open(photos[1 - k]).convert("RGB")
        assert len(results[k]) == 3
        for reconstruction in results[k]:
            assert psnr(reconstruction, own) > 27, f"user {k}: {psnr(reconstruction, own):.1f} dB to their own photo"
            assert psnr(reconstruction, own) > psnr(reconstruction, other) + 10
