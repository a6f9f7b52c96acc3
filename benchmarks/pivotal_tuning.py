"""What pivotal tuning costs and keeps, as the app runs it: the seconds to fit a decoder to one face and to a morph's
two, the served latency of an edit on a photo whose decoder is cached against an edit without tuning (one server,
one run), the cache's memory, and whether faces in photos (close-ups, greyscale photos, group photos, made from
held-out CelebA-HQ test faces by :mod:`latentlab.scenes`) come back as their people.

    pip install -e '.[eval]'            # dlib's face recognition network, for the identity rows
    python benchmarks/pivotal_tuning.py [--faces 20] [--out benchmarks/pivotal_tuning.json]

The identity of a photo's face is compared with the app's aligned crop of it (what the model is given), by dlib's
face descriptor (:class:`latentlab.evaluation.FaceDescriptors`; same person below 0.6). The test split's identity,
PSNR and edit measurements are ``training/evaluate.py --identity-only`` (docs/pivotal-tuning.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from benchmark import _status_mib, started_app  # sibling scripts: run as python benchmarks/pivotal_tuning.py
from detection import test_faces

REPO = Path(__file__).resolve().parents[1]


def tuning_seconds(faces: int) -> dict:
    """Seconds of :meth:`FaceLab.personalize` (not cached) for ``faces`` single faces and ``faces // 2`` pairs."""
    from latentlab.faces import FaceLab, PersonalizedDecoders

    lab = FaceLab.from_pretrained(str(REPO / "pretrained" / "celeba-vae-64"), personalized=PersonalizedDecoders(0))
    pictures = test_faces(faces, offset=3)
    lab.personalize(pictures[:1])  # warm-up: the first call allocates oneDNN's kernels
    single, pair = [], []
    for picture in pictures:
        start = time.perf_counter()
        lab.personalize([picture])
        single.append(time.perf_counter() - start)
    for a, b in zip(pictures[::2], pictures[1::2]):
        start = time.perf_counter()
        lab.personalize([a, b])
        pair.append(time.perf_counter() - start)
    row = {"one_face_s": {"median": statistics.median(single), "max": max(single), "n": len(single)},
           "morph_pair_s": {"median": statistics.median(pair), "max": max(pair), "n": len(pair)}}  # fmt: skip
    print(row, flush=True)
    return row


def cache_memory(entries: int = 16) -> dict:
    """The process's resident memory before and after ``entries`` faces are tuned and cached (and used once)."""
    from latentlab.faces import FaceLab, PersonalizedDecoders

    lab = FaceLab.from_pretrained(str(REPO / "pretrained" / "celeba-vae-64"),
                                  personalized=PersonalizedDecoders(entries))  # fmt: skip
    pictures = test_faces(entries + 1, offset=101)
    lab.personalize(pictures[-1:]).edit(pictures[-1], "Smiling", [1.5])  # allocations that do not grow with the cache
    lab.personalized = PersonalizedDecoders(entries)
    before = _status_mib("self", "VmRSS")
    for picture in pictures[:entries]:
        lab.personalize([picture]).edit(picture, "Smiling", [1.5])
    after = _status_mib("self", "VmRSS")
    row = {"entries": len(lab.personalized), "rss_before_mib": before, "rss_after_mib": after,
           "per_entry_mib": (after - before) / entries}  # fmt: skip
    print(row, flush=True)
    return row


def served_latency(repeats: int) -> dict:
    """``/edit`` through ``gradio_client`` on one served app: the first call with ``keep_person`` (it tunes), then
    ``repeats`` calls each on the same photo with other strengths (the decoder cached), against ``repeats`` calls
    without tuning; p50 of each."""
    from gradio_client import Client, handle_file

    face = handle_file(str(sorted((REPO / "assets" / "faces").glob("*.png"))[2]))
    with started_app() as (url, _, _):
        client = Client(url, verbose=False)

        def edit(strength, keep_person):
            start = time.perf_counter()
            client.predict(face=face, attribute="Smiling", strength=strength, keep_person=keep_person, api_name="/edit")
            return time.perf_counter() - start

        for _ in range(2):
            edit(1.0, False)  # warm-up
        plain = [edit(0.5 + 0.25 * i, False) for i in range(repeats)]
        first = edit(1.0, True)
        cached = [edit(0.5 + 0.25 * i, True) for i in range(repeats)]
    row = {"plain_p50_ms": 1000 * statistics.median(plain), "first_tuned_ms": 1000 * first,
           "cached_p50_ms": 1000 * statistics.median(cached), "repeats": repeats}  # fmt: skip
    row["cached_over_plain"] = row["cached_p50_ms"] / row["plain_p50_ms"]
    print(row, flush=True)
    return row


def photos(faces: int, figure: Path | None = None) -> list[dict]:
    """Same-person rates of the plain and the tuned reconstruction for faces found in photos: a close-up (the
    central 70 % of the face enlarged to 512 px), a greyscale photo (the face 4× in an 800×600 grey picture), and
    group photos (6 faces each, tilted up to ±40°). ``figure``: a PNG of one photo of each kind, a row each: the
    photo | the aligned face | the model's reconstruction | the tuned one | tuned, Smiling +1.5 | tuned, Smiling −1.5."""

    from latentlab.alignment import FaceAligner
    from latentlab.evaluation import FaceDescriptors, identity_distances, same_person
    from latentlab.faces import FaceLab, PersonalizedDecoders
    from latentlab.images import pil_to_tensor
    from latentlab.scenes import close_up, group_scene, place_face

    lab = FaceLab.from_pretrained(str(REPO / "pretrained" / "celeba-vae-64"), aligner=FaceAligner(64),
                                  personalized=PersonalizedDecoders(0))  # fmt: skip
    describe = FaceDescriptors()
    people = test_faces(faces, offset=41)
    kinds = {
        "close-up (central 70 %, 512 px)": [close_up(f, 0.7, 512) for f in people],
        "greyscale photo (800×600)": [place_face(f.convert("L").convert("RGB"), scale=4.0, seed=i)[0].convert("L")
                                      for i, f in enumerate(people)],  # fmt: skip
    }
    groups = [group_scene(test_faces(6, offset=59 + 6 * s), seed=s, max_angle=40.0)[0] for s in range(max(1, faces // 6))]
    rows, shown = [], []
    for kind, pictures in [*kinds.items(), ("group photo (6 faces, ±40° tilt)", groups)]:
        crops, plain, tuned = [], [], []
        for picture in pictures:
            found = lab.prepare(picture)
            numbers = range(len(found.faces)) if kind.startswith("group") else [0]
            for k in numbers:
                aligned = found.choose(picture, k) if k else found
                crops.append(pil_to_tensor(aligned.crop))
                plain.append(lab.edit(aligned, "Smiling", [0.0])[1][0])
                _, decoded = lab.personalize([aligned]).edit(aligned, "Smiling", [0.0, 1.5, -1.5])
                tuned.append(decoded[0])
                if len(shown) < len(rows) + 1 and k == (1 if kind.startswith("group") else 0):
                    shown.append((picture, [crops[-1], plain[-1], *decoded]))
        reference = describe(torch.stack(crops))
        row = {"photos": kind, "faces": len(crops),
               "plain": same_person(identity_distances(reference, describe(torch.stack(plain)))),
               "tuned": same_person(identity_distances(reference, describe(torch.stack(tuned))))}  # fmt: skip
        rows.append(row)
        print(row, flush=True)
    if figure is not None:
        _photo_figure(shown, figure)
    return rows


def _photo_figure(shown: list, path: Path, cell: int = 160) -> None:
    """One row per ``(photo, faces)``: the photo fitted in a cell, then each face (3, S, S) enlarged to the cell."""
    from PIL import Image

    from latentlab.images import tensor_to_pil

    gap = 6
    columns = 1 + len(shown[0][1])
    sheet = Image.new("RGB", (columns * (cell + gap) - gap, len(shown) * (cell + gap) - gap), "white")
    for r, (photo, faces) in enumerate(shown):
        thumb = photo.convert("RGB").copy()
        thumb.thumbnail((cell, cell))
        sheet.paste(thumb, ((cell - thumb.width) // 2, r * (cell + gap) + (cell - thumb.height) // 2))
        for c, face in enumerate(faces, start=1):
            sheet.paste(tensor_to_pil(face).resize((cell, cell), Image.Resampling.LANCZOS), (c * (cell + gap), r * (cell + gap)))
    sheet.save(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=20, help="test faces for the timing and the photo rows")
    parser.add_argument("--repeats", type=int, default=10, help="served calls of each kind")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/pivotal_tuning.json")
    parser.add_argument("--figure", type=Path, default=REPO / "docs/screenshots/keep-the-person.png",
                        help="the photo rows' picture")
    args = parser.parse_args(argv)
    result = {"machine": f"{platform.machine()}, {platform.processor() or '?'}, {torch.get_num_threads()} threads, "
                         f"torch {torch.__version__}",
              "tuning": tuning_seconds(args.faces), "cache_memory": cache_memory(),
              "served_edit": served_latency(args.repeats), "photos": photos(args.faces, args.figure)}  # fmt: skip
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
