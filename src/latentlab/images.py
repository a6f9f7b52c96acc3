"""Image plumbing with Pillow and a few lines of torch: uploads → face tensors, tensors → PIL, grids, GIFs.

Tensors here are float32 in [0, 1], channels first: one image (C, H, W), a batch (B, C, H, W).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps


def to_rgb(image: Image.Image) -> Image.Image:
    """Upright RGB copy of any Pillow image: EXIF rotation applied, transparency composited on white,
    palette/greyscale/16-bit/CMYK converted; for animations (GIF, APNG) the first frame."""
    if image.mode == "RGB" and image.getexif().get(0x0112, 1) == 1 and not getattr(image, "is_animated", False):
        return image  # already upright RGB: no copy (callers never draw on it)
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        array = 255.0 * (array - array.min()) / max(float(array.max() - array.min()), 1.0)
        return Image.fromarray(array.astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def face_crop(image: Image.Image, size: int = 64) -> Image.Image:
    """Centre square crop of the largest side that fits, resized to ``size``×``size`` RGB with Lanczos.

    Matches the framing of a face photo that is roughly centred (the crop of CelebA-HQ). It finds no face: the app
    aligns uploads with :class:`~latentlab.alignment.FaceAligner`, and a FaceLab without an aligner uses this.
    """
    return ImageOps.fit(to_rgb(image), (size, size), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """(C, H, W) float32 in [0, 1] from an RGB or L image."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """PIL image from a (C, H, W) float tensor in [0, 1] (values outside are clipped); C = 1 or 3."""
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"expected (1 or 3, H, W), got {tuple(image.shape)}")
    array = (image.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """Tile a batch (B, C, H, W) into one (C, H', W') image, ``nrow`` images per row, ``padding`` px between."""
    if images.ndim != 4:
        raise ValueError(f"expected (B, C, H, W), got {tuple(images.shape)}")
    b, c, h, w = images.shape
    ncol = max(1, min(nrow, b))
    nrows = -(-b // ncol)
    grid = images.new_full((c, nrows * (h + padding) + padding, ncol * (w + padding) + padding), pad_value)
    for i in range(b):
        r, k = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[:, top : top + h, left : left + w] = images[i]
    return grid


def grid_image(images: torch.Tensor, nrow: int = 8, scale: int = 1, padding: int = 2) -> Image.Image:
    """:func:`make_grid` as a PIL image, optionally enlarged ``scale``× with nearest-neighbour (crisp pixels)."""
    pil = tensor_to_pil(make_grid(images, nrow=nrow, padding=padding))
    if scale != 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    return pil


def save_gif(frames: list[Image.Image], target, duration_ms: int = 80, boomerang: bool = True):
    """Write an endlessly looping animated GIF to ``target`` (a path, or a binary file object such as
    ``io.BytesIO``); with ``boomerang`` the frames play forward then back. Returns ``target`` (a path as ``Path``).

    All frames share one 255-colour palette (Pillow's fast octree over a mosaic of the frames, no dithering): ~10×
    faster than a palette per frame, and no colour flicker between frames.
    """
    if not frames:
        raise ValueError("no frames to write")
    rgb = [f.convert("RGB") for f in frames]
    thumb = [f if max(f.size) <= 96 else f.resize((96, max(1, round(96 * f.height / f.width)))) for f in rgb]
    mosaic = Image.new("RGB", (sum(t.width for t in thumb), max(t.height for t in thumb)))
    x = 0
    for t in thumb:
        mosaic.paste(t, (x, 0))
        x += t.width
    palette = mosaic.quantize(colors=255, method=Image.Quantize.FASTOCTREE)
    indexed = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in rgb]
    sequence = indexed + indexed[-2:0:-1] if boomerang and len(indexed) > 2 else indexed
    target = Path(target) if isinstance(target, (str, Path)) else target
    sequence[0].save(target, format="GIF", save_all=True, append_images=sequence[1:], duration=duration_ms, loop=0,
                     disposal=2, optimize=False)  # fmt: skip
    return target


def _ink(image: Image.Image) -> np.ndarray:
    """(H, W) float32 in [0, 1]: how much ink each pixel holds — greyscale, inverted if the background is light,
    the background (the median) at 0 and the darkest ink at 1."""
    grey = np.asarray(to_rgb(image).convert("L"), dtype=np.float32) / 255.0
    if np.median(grey) > 0.5:
        grey = 1.0 - grey
    grey = grey - np.median(grey)
    return np.clip(grey / max(float(grey.max()), 1e-6), 0, 1)


#: A drawing (ink on a plain background) has few pixels between the two; a photo has many. Measured: ≤ 0.104 of the
#: pixels for 500 MNIST test digits enlarged to 112 px, ≤ 0.03 for pen drawings photographed (blurred, noisy),
#: ≥ 0.19 for face photos.
DRAWING_MAX_MID_TONES = 0.15


def mid_tone_share(image: Image.Image) -> float:
    """The share (0–1) of an image's pixels that are neither background nor ink (ink level between 0.15 and 0.6, on
    the scale of :func:`digit_from_pil`): above :data:`DRAWING_MAX_MID_TONES` the image is a photo, not a drawing."""
    ink = _ink(image)
    return float(((ink > 0.15) & (ink < 0.6)).mean())


def digit_from_pil(image: Image.Image, size: int = 28) -> torch.Tensor:
    """An uploaded digit drawn or photographed in any size/colours → (1, size, size) float32 in [0, 1], MNIST-style.

    Greyscale; inverted if the background is light (MNIST digits are white on black); cropped to the ink (pixels
    above 15 % of the maximum), scaled so its longer side is 20/28 of ``size`` and centred by its centre of mass,
    as LeCun et al. normalised MNIST. A blank image gives an all-zero tensor.
    """
    grey = _ink(image)
    rows, cols = np.nonzero(grey > 0.15)
    canvas = np.zeros((size, size), dtype=np.float32)
    if len(rows) == 0:
        return torch.from_numpy(canvas)[None]
    ink = grey[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    box = max(1, round(size * 20 / 28))
    h, w = ink.shape
    scale = box / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    ink = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize(new, Image.Resampling.LANCZOS), np.float32) / 255
    ys, xs = np.indices(ink.shape)
    mass = max(float(ink.sum()), 1e-6)
    cy, cx = float((ys * ink).sum()) / mass, float((xs * ink).sum()) / mass
    top = int(round(size / 2 - cy))
    left = int(round(size / 2 - cx))
    top, left = min(max(top, 0), size - ink.shape[0]), min(max(left, 0), size - ink.shape[1])
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return torch.from_numpy(canvas)[None]
