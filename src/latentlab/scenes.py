"""Synthetic photos for measuring face alignment (the tests and the benchmark use them): a real 64×64 test face, enlarged, rotated and placed
anywhere on a larger, smooth random background — with the exact map from the face's pixels to the photo's."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .alignment import similarity, transform_points


def background(size: tuple[int, int], seed: int) -> Image.Image:
    """A smooth random colour field (a 6×8 grid of random colours, bicubic-enlarged) of ``size`` = (W, H)."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(40, 215, size=(6, 8, 3), dtype=np.uint8))
    return small.resize(size, Image.Resampling.BICUBIC)


def place_face(face: Image.Image, size=(800, 600), scale: float = 4.0, angle: float = 0.0, centre=None,
               seed: int = 0) -> tuple[Image.Image, np.ndarray]:  # fmt: skip
    """Paste ``face`` into a ``size`` photo, enlarged ``scale``×, rotated ``angle`` degrees (counter-clockwise on
    screen), its centre at ``centre`` (default: the photo's centre).

    Returns:
        (photo, matrix): the RGB photo and the 2×3 map from the face's pixel coordinates to the photo's.
    """
    w, h = face.size
    centre = np.array(centre if centre is not None else (size[0] / 2, size[1] / 2), dtype=np.float64)
    # face coords → photo coords: scale and rotate about the face's centre, then move it to `centre`
    forward = similarity(scale, angle, shift=centre - np.array([w / 2, h / 2]), centre=(w / 2, h / 2))
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


def group_photo(faces: list[tuple[Image.Image, float, tuple[float, float]]], size=(1000, 700), seed: int = 0) -> Image.Image:
    """Several faces, each ``(face, scale, centre)`` as :func:`place_face` takes them, on one background: each
    placed face covers its upright bounding box."""
    photo = background(size, seed)
    for face, scale, centre in faces:
        single, m = place_face(face, size=size, scale=scale, centre=centre, seed=seed)
        corners = face_corners(face.width, m)
        mask = Image.new("L", size, 0)
        mask.paste(255, tuple(int(v) for v in np.r_[corners.min(0), corners.max(0)]))
        photo.paste(single, (0, 0), mask)
    return photo


def psnr_centre(a: Image.Image, b: Image.Image, margin: int = 8) -> float:
    """PSNR (dB) of two same-size RGB images on their central region (``margin`` px cut off each side: the central
    48×48 of a 64×64 face)."""
    x = np.asarray(a.convert("RGB"), np.float64)[margin:-margin, margin:-margin] / 255
    y = np.asarray(b.convert("RGB"), np.float64)[margin:-margin, margin:-margin] / 255
    return float(-10 * np.log10(max(((x - y) ** 2).mean(), 1e-10)))
