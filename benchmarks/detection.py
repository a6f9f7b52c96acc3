"""How often uploads' faces are found: close-ups, group photos with tilted and turned heads, and faceless photos,
all made from real held-out CelebA-HQ test faces (:mod:`latentlab.scenes`), through :class:`FaceAligner` exactly as
the app calls it.

    python benchmarks/detection.py [--faces 20] [--scenes 20] [--out benchmarks/detection.json]

Sets:
- ``close-up``: each test face's 64-px crop cut to its central 80 %, 70 % or 60 % (the face fills the frame as in a
  selfie or a profile picture; at 60 % from the eyebrows to the chin) and enlarged to 96–1024 px. Found = the aligned
  face's crop square is centred within 0.35 of its side of the truth's (the picture's centre);
- ``group``: scenes of 6 test faces at 150–260 px, each tilted up to ±40°, turned (narrowed to 60–100 %) or looking
  down (shortened to 70–100 %); found as above, a detection matching no face is a false face;
- ``faceless``: smooth backgrounds, enlarged hair / background corners and neck / clothes strips of face crops, racks
  of Fashion-MNIST clothes: every face found there is false.

Faces are test faces not used by the tests' fixed picks; nothing here is tuned on them beyond choosing the detector's
passes (reported in docs/face-detection-report.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SIZES = (96, 128, 192, 256, 512, 1024)
FRACTIONS = (0.8, 0.7, 0.6)


def test_faces(count: int, offset: int, source: str | None = None):
    """``count`` held-out CelebA-HQ test faces (PIL, 64×64), evenly spread over the split from ``offset``."""
    from latentlab.data import load_celeba
    from latentlab.images import tensor_to_pil

    data = load_celeba(source or str(REPO.parent / "shared/data/celeba_hq/hq64"), "test")
    step = len(data) // count
    return [tensor_to_pil(data.float_images(offset + i * step)) for i in range(count)]


def clothes(count: int):
    """``count`` Fashion-MNIST test items as PIL images (greyscale 28×28)."""
    from PIL import Image

    from latentlab.data import load_mnist

    data = load_mnist("fashion-mnist", "test", REPO.parent / "shared/data/fashion-mnist")
    return [Image.fromarray(data.images[i, 0].numpy()) for i in range(count)]


def _quads(aligner, photo):
    """The crop squares of every face :meth:`FaceAligner.align` finds in ``photo`` ([] on NoFaceError), and the
    seconds it took."""
    from latentlab.alignment import NoFaceError

    start = time.perf_counter()
    try:
        result = aligner.align(photo)
    except NoFaceError:
        return [], time.perf_counter() - start
    return [f.quad for f in result.faces], time.perf_counter() - start


def measure(faces: int, scenes: int) -> dict:
    from latentlab.alignment import FaceAligner
    from latentlab.scenes import PlacedFace, close_up, faces_found, faceless_photos, group_scene

    aligner = FaceAligner(64)
    close_faces = test_faces(faces, offset=5)
    rows, times = [], []
    for fraction in FRACTIONS:
        for side in SIZES:
            found = false = 0
            for face in close_faces:
                quads, seconds = _quads(aligner, close_up(face, fraction, side))
                times.append(seconds)
                truth = [PlacedFace(np.array([side / 2, side / 2]), side / fraction)]
                f, x = faces_found(quads, truth)
                found, false = found + f, false + x
            rows.append({"set": "close-up", "crop": f"central {fraction:.0%}", "size_px": side, "found": found,
                         "total": len(close_faces), "false_faces": false})  # fmt: skip
            print(rows[-1], flush=True)
    group_faces = test_faces(6 * scenes, offset=17)
    found = total = false = 0
    group_times = []
    for s in range(scenes):
        photo, truth = group_scene(group_faces[6 * s : 6 * s + 6], seed=s, max_angle=40.0)
        quads, seconds = _quads(aligner, photo)
        group_times.append(seconds)
        f, x = faces_found(quads, truth)
        found, total, false = found + f, total + len(truth), false + x
    rows.append({"set": "group", "crop": "6 faces, ±40° tilt, turned or looking down", "size_px": 1600,
                 "found": found, "total": total, "false_faces": false, "scenes": scenes})  # fmt: skip
    print(rows[-1], flush=True)
    empty = faceless_photos(test_faces(24, offset=29), clothes(200), count=24)
    false = sum(len(_quads(aligner, photo)[0]) for photo in empty)
    rows.append({"set": "faceless", "crop": "backgrounds, hair, clothes", "size_px": None, "found": 0,
                 "total": 0, "false_faces": false, "photos": len(empty)})  # fmt: skip
    print(rows[-1], flush=True)
    return {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "rows": rows,
        "seconds_per_photo": {"close-up_p50": float(np.median(times)), "group_1600x1000_p50": float(np.median(group_times))},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=20, help="test faces per close-up row")
    parser.add_argument("--scenes", type=int, default=20, help="group scenes of 6 faces")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/detection.json")
    args = parser.parse_args(argv)
    result = measure(args.faces, args.scenes)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
