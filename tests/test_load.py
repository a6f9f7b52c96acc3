"""The served app under concurrent use: 20 gradio_client users at once on 127.0.0.1, each making 10 mixed calls
(/sample, /morph, /edit, /edit_many — the same example faces and seeds for many of them, so identical outputs are
fetched at the same time). No call may fail; the latencies are printed (the benchmark reports them properly)."""

import statistics
import threading
import time

from gradio_client import Client, handle_file

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
                for path in files:  # every file arrived whole: it decodes
                    with open(path, "rb") as f:
                        assert f.read(), f"{name}: empty file {path}"
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
