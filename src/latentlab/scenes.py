"""Synthetic photos for measuring face detection and alignment (the tests and ``benchmarks/detection.py`` use them):
a real 64×64 test face enlarged, rotated, foreshortened (a head turned or looking down) and placed anywhere on a
larger, smooth random background — with the exact map from the face's pixels to the photo's; close-ups (the face
filling the frame, as in a selfie); group scenes; faceless photos; and the count of faces found against the truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .alignment import similarity, transform_points


def background(size: tuple[int, int], seed: int) -> Image.Image:
    """A smooth random colour field (a 6×8 grid of random colours, bicubic-enlarged) of ``size`` = (W, H)."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(40, 215, size=(6, 8, 3), dtype=np.uint8))
    return small.resize(size, Image.Resampling.BICUBIC)


def place_face(face: Image.Image, size=(800, 600), scale: float = 4.0, angle: float = 0.0, centre=None,
               seed: int = 0, squeeze=(1.0, 1.0)) -> tuple[Image.Image, np.ndarray]:  # fmt: skip
    """Paste ``face`` into a ``size`` photo, enlarged ``scale``×, rotated ``angle`` degrees (counter-clockwise on
    screen), its centre at ``centre`` (default: the photo's centre). ``squeeze`` = (sx, sy) ≤ 1 narrows the face
    across (a head turned aside) or shortens it downwards (a head looking down) before it is rotated.

    Returns:
        (photo, matrix): the RGB photo and the 2×3 map from the face's pixel coordinates to the photo's.
    """
    w, h = face.size
    centre = np.array(centre if centre is not None else (size[0] / 2, size[1] / 2), dtype=np.float64)
    # face coords → photo coords: scale and rotate about the face's centre, then move it to `centre`
    forward = similarity(scale, angle, shift=centre - np.array([w / 2, h / 2]), centre=(w / 2, h / 2))
    squash = np.diag([float(squeeze[0]), float(squeeze[1])])  # about the face's centre, in its own frame
    forward = np.concatenate([forward[:, :2] @ squash, (forward @ [w / 2, h / 2, 1] - forward[:, :2] @ squash @ [w / 2, h / 2])[:, None]], 1)
    inverse = np.linalg.inv(np.vstack([forward, [0, 0, 1]]))[:2]
    big = face.convert("RGB").resize((w * 8, h * 8), Image.Resampling.LANCZOS)  # sample a smooth enlargement
    inv8 = np.diag([8.0, 8.0]) @ inverse
    coeffs = tuple(inv8.flatten())
    warped = big.transform(size, Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
    mask = Image.new("L", big.size, 255).transform(size, Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
    photo = background(size, seed)
    photo.paste(warped, (0, 0), mask)
    return photo, forward


def face_corners(face_size: int, matrix: np.ndarray) -> np.ndarray:
    """The face crop's corners (top-left, bottom-left, bottom-right, top-right) in the photo."""
    s = float(face_size)
    return transform_points(np.array([[0, 0], [0, s], [s, s], [s, 0]]), matrix)


def group_photo(faces: list[tuple], size=(1000, 700), seed: int = 0) -> Image.Image:
    """Several faces, each ``(face, scale, centre)`` or ``(face, scale, centre, angle, squeeze)`` as
    :func:`place_face` takes them, on one background: each placed face covers its upright bounding box."""
    return _group(faces, size, seed)[0]


def _group(faces: list[tuple], size, seed: int) -> tuple[Image.Image, list[np.ndarray]]:
    photo, matrices = background(size, seed), []
    for face, scale, centre, *pose in faces:
        angle, squeeze = (pose + [0.0, (1.0, 1.0)][len(pose):])[:2]
        single, m = place_face(face, size=size, scale=scale, angle=angle, centre=centre, seed=seed, squeeze=squeeze)
        corners = face_corners(face.width, m)
        mask = Image.new("L", size, 0)
        mask.paste(255, tuple(int(v) for v in np.r_[corners.min(0), corners.max(0)]))
        photo.paste(single, (0, 0), mask)
        matrices.append(m)
    return photo, matrices


@dataclass(frozen=True)
class PlacedFace:
    """Where a face was put in a synthetic photo: its crop's centre (x, y) and side (pixels, along the face)."""

    centre: np.ndarray
    side: float


def group_scene(faces: list[Image.Image], seed: int, size=(1600, 1000), max_angle: float = 35.0
                ) -> tuple[Image.Image, list[PlacedFace]]:  # fmt: skip
    """A group photo of ``faces`` in a row of slots, each at a random scale (crops of 150–260 px), tilted up to
    ``max_angle`` degrees either way, turned (narrowed to 60–100 % across) or looking down (shortened to 70–100 %),
    moved about its slot: ``(photo, where each face is)``."""
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(len(faces) * size[0] / size[1])))
    rows = int(np.ceil(len(faces) / cols))
    cell = np.array([size[0] / cols, size[1] / rows])
    placed, truth = [], []
    for k, face in enumerate(faces):
        scale = rng.uniform(150, min(260, 0.8 * cell.min())) / face.width
        squeeze = (rng.uniform(0.6, 1.0), 1.0) if rng.random() < 0.5 else (1.0, rng.uniform(0.7, 1.0))
        slack = np.maximum(cell - scale * face.width * 1.3, 0) / 2
        centre = (np.array([k % cols, k // cols]) + 0.5) * cell + rng.uniform(-slack, slack)
        placed.append((face, scale, tuple(centre), rng.uniform(-max_angle, max_angle), squeeze))
    photo, matrices = _group(placed, size, seed)
    for (face, scale, *_), m in zip(placed, matrices):
        truth.append(PlacedFace(transform_points(np.array([[face.width / 2, face.height / 2]]), m)[0], scale * face.width))
    return photo, truth


def close_up(face: Image.Image, fraction: float, side: int) -> Image.Image:
    """The central ``fraction`` of a face crop enlarged to ``side``×``side`` px: the face fills the frame, as in a
    selfie or a profile picture (a 64-px CelebA-HQ crop's central 60 % runs from the eyebrows to the chin)."""
    big = face.convert("RGB").resize((face.width * 8, face.height * 8), Image.Resampling.LANCZOS)
    margin = big.width * (1 - fraction) / 2
    box = tuple(round(v) for v in (margin, margin, big.width - margin, big.height - margin))
    return big.crop(box).resize((side, side), Image.Resampling.LANCZOS)


def faceless_photos(faces: list[Image.Image], clothes: list[Image.Image], count: int = 24) -> list[Image.Image]:
    """``count`` photos with no face in them, in four kinds taken in turn: a smooth random background; a face crop's
    top corner (hair, background) enlarged; its bottom strip (neck, clothes) enlarged; a rack of ``clothes``
    (e.g. Fashion-MNIST items, grey) on a background."""
    photos = []
    for i in range(count):
        kind, face = i % 4, faces[i % len(faces)]
        if kind == 0:
            photos.append(background((800, 600), 1000 + i))
        elif kind == 1:
            photos.append(face.convert("RGB").crop((0, 0, 20, 20)).resize((480, 480), Image.Resampling.BICUBIC))
        elif kind == 2:
            photos.append(face.convert("RGB").crop((8, 50, 56, 64)).resize((720, 210), Image.Resampling.BICUBIC))
        else:
            photo = background((900, 500), 2000 + i)
            for j in range(6):
                item = clothes[(6 * i + j) % len(clothes)].convert("RGB").resize((140, 140), Image.Resampling.BICUBIC)
                photo.paste(item, (20 + 145 * j, 180))
            photos.append(photo)
    return photos


def faces_found(quads: list[np.ndarray], truth: list[PlacedFace], tolerance: float = 0.35) -> tuple[int, int]:
    """``(found, false)``: how many placed faces have a detected crop square (:func:`~latentlab.alignment.crop_quad`
    corners) centred within ``tolerance`` × their side of theirs (each detection counts once), and how many
    detections match no face."""
    left = list(range(len(quads)))
    found = 0
    for face in truth:
        dist = [np.hypot(*(quads[i].mean(0) - face.centre)) for i in left]
        if dist and min(dist) <= tolerance * face.side:
            left.pop(int(np.argmin(dist)))
            found += 1
    return found, len(left)


def psnr_centre(a: Image.Image, b: Image.Image, margin: int = 8) -> float:
    """PSNR (dB) of two same-size RGB images on their central region (``margin`` px cut off each side: the central
    48×48 of a 64×64 face)."""
    x = np.asarray(a.convert("RGB"), np.float64)[margin:-margin, margin:-margin] / 255
    y = np.asarray(b.convert("RGB"), np.float64)[margin:-margin, margin:-margin] / 255
    return float(-10 * np.log10(max(((x - y) ** 2).mean(), 1e-10)))
