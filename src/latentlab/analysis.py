"""Measurements and pictures of a digit model's latent space (MNIST / Fashion-MNIST).

Numbers: test reconstruction error per class, the KL of a VAE, and for a model trained on some classes only
(the novelty-detection autoencoder) the ROC AUC of "not a training class" scored by the reconstruction error —
on clean test images and on noisy copies (Gaussian noise, salt-and-pepper).

Pictures (matplotlib, returned as PIL images, written as PNGs by :func:`analyse_digit_model`): latent scatter
coloured by label (2-D codes), t-SNE (scikit-learn) of higher-dimensional codes, the decoded latent grid of a
2-D model and its p-value view (``Φ(z)``, the standard normal CDF, which maps the prior N(0, 1) to uniform —
*Generative Deep Learning*, 2nd ed., ch. 3), latent histograms against N(0, 1), and per-class error bars.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: figures are rendered to images
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from .directions import posterior_means  # noqa: E402
from .images import grid_image  # noqa: E402
from .models import Autoencoder  # noqa: E402

NOISE_KINDS = ("none", "gaussian", "salt_and_pepper")
#: The noisy copies the novelty report measures (Gaussian σ and salt-and-pepper fraction, image values in [0, 1]).
REPORT_NOISE = {"gaussian": 0.3, "salt_and_pepper": 0.1}
DPI = 100


# --- numbers -----------------------------------------------------------------------------------------------------
#: σ in pixels of the Gaussian blur the reconstruction error gets before it is squared, for every model's novelty
#: score: noise is pixel-fine and strokes are not, so the score counts a wrong digit more than noise that a denoising
#: model removed. On MNIST's test set (digit-0 models, 0 = normal) it separates better than the plain MSE for both
#: bundled models. The whole test split (the cards): ROC AUC clean 0.986 vs 0.977 (dense AE); Gaussian σ 0.3 and
#: salt-and-pepper 0.906 / 0.944 vs 0.857 / 0.823 (denoising AE).
NOVELTY_BLUR = 1.0


def squared_errors(images: torch.Tensor, reconstructions: torch.Tensor, blur: float = 0.0) -> torch.Tensor:
    """Per-image mean squared error (N,) float32 between ``images`` and ``reconstructions`` (both (N, C, H, W) in
    [0, 1]), of the difference blurred by a Gaussian of ``blur`` pixels first when ``blur`` > 0."""
    diff = reconstructions.float() - images.float()
    if blur > 0:
        kernel = _gaussian_kernel(blur, images.shape[1]).to(images.device)
        diff = torch.nn.functional.conv2d(diff, kernel, padding=kernel.shape[-1] // 2, groups=images.shape[1])
    return diff.pow(2).flatten(1).mean(1)


@torch.no_grad()
def reconstruction_errors(model: Autoencoder, images: torch.Tensor, labels: torch.Tensor | None = None,
                          batch_size: int = 1000, blur: float = 0.0) -> torch.Tensor:  # fmt: skip
    """Per-image :func:`squared_errors` (N,) float32 between ``images`` (N, C, H, W) in [0, 1] and their
    reconstructions from the posterior mean (``labels`` (N,) for a conditional model)."""
    model.eval()
    cond = labels if model.conditional else None
    errs = []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size]
        lab = None if cond is None else cond[i : i + batch_size]
        errs.append(squared_errors(x, model.decode(model.encode(x, lab).mode(), lab), blur).cpu())
    return torch.cat(errs)


def novelty_scores(model: Autoencoder, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """The novelty score (N,) float32 of ``images`` (N, C, H, W) in [0, 1], the same measure for every model: the
    :func:`reconstruction_errors` after a blur of :data:`NOVELTY_BLUR` pixels (high = unlike the training data)."""
    return reconstruction_errors(model, images, labels, blur=NOVELTY_BLUR)


def _gaussian_kernel(sigma: float, channels: int) -> torch.Tensor:
    """(channels, 1, k, k) normalised Gaussian kernel, k = 2·⌈3σ⌉ + 1, for a depthwise conv2d."""
    radius = max(1, int(math.ceil(3 * sigma)))
    r = torch.arange(-radius, radius + 1, dtype=torch.float32)
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, -1, -1).contiguous()


def add_noise(images: torch.Tensor, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """A noisy copy of ``images`` (any shape, float in [0, 1]), clipped to [0, 1].

    Args:
        kind: ``"gaussian"`` (add N(0, level²) per pixel), ``"salt_and_pepper"`` (set a ``level`` fraction of
            pixels to 0 or 1, half each) or ``"none"``.
        level: σ, or the fraction of pixels, in [0, 1].
        seed: RNG seed (the same seed gives the same noise).

    Raises:
        ValueError: unknown kind or level outside [0, 1].
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {NOISE_KINDS}, got {kind!r}")
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"noise level must be in [0, 1], got {level}")
    if kind == "none" or level == 0:
        return images.clone()
    g = torch.Generator().manual_seed(seed)
    if kind == "gaussian":
        return (images + level * torch.randn(images.shape, generator=g).to(images.device)).clamp_(0, 1)
    u = torch.rand(images.shape, generator=g).to(images.device)
    out = images.clone()
    out[u < level / 2] = 0.0
    out[(u >= level / 2) & (u < level)] = 1.0
    return out


def corrupt(images: torch.Tensor, corruptions: list[dict], generator: torch.Generator | None = None) -> torch.Tensor:
    """A corrupted copy of a batch for denoising training (Vincent et al. 2008): each image gets one of
    ``corruptions`` (dicts ``{"kind": …, "level": …}`` as :func:`add_noise` takes them), chosen uniformly.

    Args:
        images: (B, …) float in [0, 1].
        corruptions: e.g. ``[{"kind": "gaussian", "level": 0.3}, {"kind": "salt_and_pepper", "level": 0.1}]``.
        generator: RNG for the choice and the noise (a run's checkpointed generator makes a resume exact).
    """
    if not corruptions:
        raise ValueError("corrupt needs at least one corruption")
    device = generator.device if generator is not None else images.device
    choice = torch.randint(len(corruptions), (images.shape[0],), generator=generator, device=device).to(images.device)
    out = images.clone()
    for i, c in enumerate(corruptions):
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator, device=device))
        chosen = choice == i
        if bool(chosen.any()):
            out[chosen] = add_noise(images[chosen], c["kind"], float(c["level"]), seed=seed)
    return out


def asked_label_accuracy(model: Autoencoder, judge, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """How often a conditional model draws the asked class in real styles: each image's latent (encoded with its own
    label) is decoded as every class, and ``judge`` (images → class logits) reads the drawings.

    Args:
        model: a conditional autoencoder or VAE.
        judge: a classifier trained on the real images (never on the model's outputs).
        images, labels: (N, C, H, W) in [0, 1] and (N,) — N real styles.

    Returns:
        per class, the share (0–1) of the N drawings the judge reads as that class.
    """
    if not model.conditional:
        raise ValueError("asked_label_accuracy needs a conditional model")
    with torch.no_grad():
        z = posterior_means(model, images, labels=labels, progress=False)
        return [float((judge(model.decode(z, torch.full((len(z),), c))).argmax(1) == c).float().mean())
                for c in range(model.num_classes)]  # fmt: skip


def novelty_report(model: Autoencoder, images: torch.Tensor, labels: torch.Tensor, trained_classes, seed: int = 0
                   ) -> dict:  # fmt: skip
    """How well the reconstruction error tells the training classes from the rest, on clean and noisy test images.

    Returns:
        ``{"per_class_error": {class: mean MSE}, "auc": float, "auc_gaussian": float, "auc_salt_and_pepper": float,
        "noise": REPORT_NOISE}`` — ROC AUC (scikit-learn) of the score "error" for the positive class "not one of
        ``trained_classes``" (0.5 = chance, 1 = perfect separation).
    """
    from sklearn.metrics import roc_auc_score

    novel = (~torch.isin(labels, torch.as_tensor(list(trained_classes)))).numpy()
    clean = novelty_scores(model, images, labels)
    report = {
        "per_class_error": {int(c): float(clean[labels == c].mean()) for c in labels.unique()},
        "auc": float(roc_auc_score(novel, clean.numpy())),
        "noise": dict(REPORT_NOISE),
    }
    for kind, level in REPORT_NOISE.items():
        noisy = novelty_scores(model, add_noise(images, kind, level, seed), labels)
        report[f"auc_{kind}"] = float(roc_auc_score(novel, noisy.numpy()))
    return report


# --- pictures ------------------------------------------------------------------------------------------------------
def figure_to_image(fig) -> Image.Image:
    """Render a matplotlib figure to an RGB PIL image (at its own size and dpi) and close it."""
    fig.canvas.draw()
    image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB")
    plt.close(fig)
    return image


@dataclass
class LatentPlot:
    """A scatter plot of 2-D codes and the map from its pixels back to latent coordinates (for clicks).

    Attributes:
        image: the plot as a palette image ("P"): 254 median-cut colours of the rendered figure (mean error < 0.1
            of 255) and, at :attr:`BLACK` and :attr:`WHITE`, the marker's colours. One byte a pixel: its PNG encodes
            ~8× faster than RGB, which a plane click pays every time.
        extent: (x_min, x_max, y_min, y_max) of the axes, latent units.
        axes_box: (left, top, right, bottom) of the axes area in image pixels.
    """

    image: Image.Image
    extent: tuple[float, float, float, float]
    axes_box: tuple[float, float, float, float]

    BLACK = 254  # palette indices of the marker's colours
    WHITE = 255

    @classmethod
    def from_rgb(cls, image: Image.Image, extent, axes_box) -> "LatentPlot":
        """The plot of a rendered RGB figure, reduced to :attr:`image`'s palette."""
        palette_image = image.convert("RGB").quantize(colors=254, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        palette = (palette_image.getpalette() or [])[: 254 * 3]
        palette_image.putpalette(palette + [0] * (254 * 3 - len(palette)) + [0, 0, 0, 255, 255, 255])
        return cls(palette_image, tuple(float(e) for e in extent), tuple(float(b) for b in axes_box))

    def to_latent(self, px: float, py: float) -> tuple[float, float]:
        """Latent (x, y) under image pixel (px, py) (origin top-left); points outside the axes are clamped to them."""
        left, top, right, bottom = self.axes_box
        fx = min(max((px - left) / (right - left), 0.0), 1.0)
        fy = min(max((bottom - py) / (bottom - top), 0.0), 1.0)
        x0, x1, y0, y1 = self.extent
        return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Image pixel (px, py) of latent (x, y): the inverse of :meth:`to_latent` (not clamped)."""
        left, top, right, bottom = self.axes_box
        x0, x1, y0, y1 = self.extent
        return left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top)

    def with_marker(self, x: float, y: float, size: float = 9.0) -> Image.Image:
        """A copy of the plot with a black, white-edged cross at latent (x, y), clamped to the axes — drawn with
        Pillow on the rendered plot (a few ms; redrawing the matplotlib figure takes ~100 ms)."""
        left, top, right, bottom = self.axes_box
        px, py = self.to_pixel(x, y)
        px, py = min(max(px, left), right), min(max(py, top), bottom)
        image = self.image.copy()
        draw = ImageDraw.Draw(image)
        for colour, width in ((self.WHITE, 7), (self.BLACK, 4)):
            draw.line([(px - size, py - size), (px + size, py + size)], fill=colour, width=width)
            draw.line([(px - size, py + size), (px + size, py - size)], fill=colour, width=width)
        return image


def scatter_plot(points: np.ndarray, labels: np.ndarray, class_names, title: str, xlabel: str = "z[0]",
                 ylabel: str = "z[1]", extent: tuple[float, float, float, float] | None = None) -> LatentPlot:  # fmt: skip
    """Scatter of (N, 2) ``points`` coloured by ``labels`` (N,) with a legend of ``class_names``.

    ``extent`` fixes the axes (default: the 0.5–99.5 % range of the points, padded); :meth:`LatentPlot.with_marker`
    marks a point on it (e.g. the latent the app just decoded)."""
    points = np.asarray(points, dtype=np.float64)
    if extent is None:
        lo, hi = np.percentile(points, [0.5, 99.5], axis=0)
        pad = 0.05 * (hi - lo)
        extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=DPI)
    fig.subplots_adjust(left=0.13, right=0.74, top=0.92, bottom=0.1)
    cmap = plt.get_cmap("tab10")
    for c in np.unique(labels):
        sel = labels == c
        ax.scatter(points[sel, 0], points[sel, 1], s=3, alpha=0.6, color=cmap(int(c) % 10), label=class_names[int(c)])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), markerscale=4, frameon=False)
    fig.canvas.draw()
    bbox = ax.get_window_extent()
    height = fig.canvas.get_width_height()[1]
    box = (bbox.x0, height - bbox.y1, bbox.x1, height - bbox.y0)
    return LatentPlot.from_rgb(figure_to_image(fig), extent, box)


def tsne_plot(codes: np.ndarray, labels: np.ndarray, class_names, title: str, seed: int = 0) -> Image.Image:
    """t-SNE (scikit-learn, perplexity 30, PCA init) of (N, D) codes to 2-D, as a labelled scatter."""
    from sklearn.manifold import TSNE

    embedded = TSNE(n_components=2, perplexity=30, init="pca", random_state=seed).fit_transform(np.asarray(codes))
    return scatter_plot(embedded, labels, class_names, title, "t-SNE 1", "t-SNE 2").image


@torch.no_grad()
def latent_grid(model: Autoencoder, values_x, values_y, label: int | None = None) -> torch.Tensor:
    """Decode a grid of 2-D latents: (len(values_y) · len(values_x), C, H, W) in [0, 1], rows from the top (high y)."""
    if model.z_dim != 2:
        raise ValueError(f"a latent grid needs a 2-D latent, this model has z_dim={model.z_dim}")
    ys, xs = torch.meshgrid(torch.as_tensor(list(values_y), dtype=torch.float32).flip(0),
                            torch.as_tensor(list(values_x), dtype=torch.float32), indexing="ij")  # fmt: skip
    z = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    labels = None if not model.conditional else torch.full((len(z),), int(label or 0), dtype=torch.long)
    model.eval()
    return model.decode(z, labels)


def normal_ppf(p: torch.Tensor) -> torch.Tensor:
    """Φ⁻¹(p), the standard normal quantile, for p in (0, 1)."""
    return math.sqrt(2.0) * torch.special.erfinv(2 * torch.as_tensor(p, dtype=torch.float64) - 1)


def normal_cdf(z) -> np.ndarray:
    """Φ(z), the standard normal CDF (the "p-value" of a latent coordinate), elementwise."""
    return torch.special.ndtr(torch.as_tensor(z, dtype=torch.float64)).numpy()


def histograms_plot(codes: np.ndarray, title: str, max_dims: int = 8) -> Image.Image:
    """Histograms of the first ``max_dims`` latent dimensions of (N, D) ``codes`` against the N(0, 1) density."""
    codes = np.asarray(codes)
    dims = min(codes.shape[1], max_dims)
    cols = min(dims, 4)
    rows = math.ceil(dims / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows + 0.4), dpi=DPI, squeeze=False)
    grid = np.linspace(-4, 4, 200)
    for d, ax in enumerate(axes.flat):
        if d >= dims:
            ax.axis("off")
            continue
        ax.hist(codes[:, d], bins=60, range=(-4, 4), density=True, color="#4C72B0", alpha=0.8)
        ax.plot(grid, np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi), color="black", lw=1.2, label="N(0, 1)")
        ax.set_title(f"z[{d}]", fontsize=9)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return figure_to_image(fig)


def class_error_plot(per_class_error: dict, class_names, trained_classes, title: str) -> Image.Image:
    """Bar chart of the mean novelty score (:func:`novelty_scores`) per class, training classes highlighted."""
    classes = sorted(per_class_error)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=DPI)
    colors = ["#DD8452" if c in set(trained_classes) else "#4C72B0" for c in classes]
    ax.bar([class_names[c] for c in classes], [per_class_error[c] for c in classes], color=colors)
    ax.set_ylabel("mean novelty score (test)")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45 if max(len(class_names[c]) for c in classes) > 2 else 0)
    fig.tight_layout()
    return figure_to_image(fig)


def novelty_plot(class_errors: dict, error: float, class_names, trained_classes, title: str) -> Image.Image:
    """Box plots of the test novelty scores (:func:`novelty_scores`) per class, with a red line at one image's
    ``error``."""
    classes = sorted(class_errors)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=DPI)
    boxes = ax.boxplot([class_errors[c].numpy() for c in classes], patch_artist=True, showfliers=False)
    ax.set_xticks(range(1, len(classes) + 1), [class_names[c] for c in classes])
    for c, patch in zip(classes, boxes["boxes"]):
        patch.set_facecolor("#DD8452" if c in set(trained_classes) else "#A1C9F4")
    ax.axhline(error, color="red", lw=2, label=f"this image: {error:.3g}")
    ax.set_ylabel(f"reconstruction error\n(MSE after a {NOVELTY_BLUR:g}-px blur)")
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return figure_to_image(fig)


def analyse_digit_model(model: Autoencoder, objective, test_data, folder: str | Path, trained_classes=None,
                        tsne_points: int = 2000, seed: int = 0) -> dict:  # fmt: skip
    """Measure a digit model on its test split and write its figures into ``folder``.

    Args:
        model: the trained model (on the CPU).
        objective: what it was trained with (:mod:`latentlab.objectives`): its terms on the test split are reported
            as ``test_<term>``.
        test_data: :class:`~latentlab.data.DigitData` test split (images at the model's size).
        folder: the model folder; figures are written as PNGs, the numbers into ``metrics.json``.
        trained_classes: the classes the model was trained on, if not all (turns on the novelty report).
        tsne_points: test images in the t-SNE plot.

    Returns:
        The metrics dict (also in ``metrics.json``), with a ``figures`` list of ``{"file", "caption"}``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = test_data.float_images(), test_data.labels
    names = test_data.class_names
    metrics, figures = {"test_images": len(images)}, []

    def save(image: Image.Image, file: str, caption: str) -> None:
        image.save(folder / file)
        figures.append({"file": file, "caption": caption})

    with torch.no_grad():
        totals = {}
        model.eval()
        for i in range(0, len(images), 1000):
            batch = {"image": images[i : i + 1000], "label": labels[i : i + 1000]}
            for k, v in objective(model, batch, generator=torch.Generator().manual_seed(seed + i)).items():
                totals[k] = totals.get(k, 0.0) + float(v) * len(batch["image"])
    metrics.update({f"test_{k}": v / len(images) for k, v in totals.items()})
    errors = reconstruction_errors(model, images, labels)
    metrics["test_reconstruction_mse"] = float(errors.mean())

    if trained_classes is not None:
        report = novelty_report(model, images, labels, trained_classes, seed)
        metrics["novelty"] = report
        trained = ", ".join(names[c] for c in trained_classes)
        save(class_error_plot(report["per_class_error"], names, trained_classes,
                              f"Reconstruction error per class (trained on: {trained})"),
             "class_errors.png", f"Mean test novelty score (reconstruction MSE after a {NOVELTY_BLUR:g}-px blur) "
                                 f"per class; trained on {trained} only (orange).")  # fmt: skip

    codes = posterior_means(model, images, labels=labels, progress=False)
    gen = torch.Generator().manual_seed(seed)
    subset = torch.randperm(len(images), generator=gen)[:tsne_points]
    kind = "VAE posterior means" if model.variational else "codes"
    if model.z_dim == 2:
        save(scatter_plot(codes[subset].numpy(), labels[subset].numpy(), names,
                          f"2-D latent {kind} of {len(subset)} test images").image,
             "latent_scatter.png", "Test images' 2-D latents, coloured by label.")  # fmt: skip
    else:
        save(tsne_plot(codes[subset].numpy(), labels[subset].numpy(), names,
                       f"t-SNE of {model.z_dim}-d {kind} ({len(subset)} test images)", seed),
             "latent_tsne.png", f"t-SNE (scikit-learn) of the {model.z_dim}-d latents of test images, coloured by label.")  # fmt: skip
    if model.z_dim == 2 and model.variational:
        values = torch.linspace(-2.5, 2.5, 15)
        save(grid_image(latent_grid(model, values, values), nrow=15, scale=2), "latent_grid.png",
             "Decoder outputs on a 15×15 grid of z in [−2.5, 2.5]² (top = high z[1]).")
        pvals = normal_cdf(codes[subset].numpy())
        save(scatter_plot(pvals, labels[subset].numpy(), names, "p-value view: Φ(z) of test latents",
                          "Φ(z[0])", "Φ(z[1])", extent=(0, 1, 0, 1)).image,
             "latent_pvalues.png", "The same latents through the normal CDF Φ: uniform if they followed N(0, I).")
        quantiles = normal_ppf(torch.linspace(0.02, 0.98, 15)).float()
        save(grid_image(latent_grid(model, quantiles, quantiles), nrow=15, scale=2), "latent_grid_pvalues.png",
             "Decoder outputs at evenly spaced p-values 0.02…0.98 (equal prior mass per cell).")  # fmt: skip
    save(histograms_plot(codes.numpy(), f"Latent histograms ({kind}, test) against N(0, 1)"), "latent_histograms.png",
         "Histograms of the first latent dimensions of test images, with the N(0, 1) density.")
    metrics["latent_mean"] = [round(float(v), 4) for v in codes.mean(0)[:8]]
    metrics["latent_std"] = [round(float(v), 4) for v in codes.std(0)[:8]]
    metrics["figures"] = figures
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics
