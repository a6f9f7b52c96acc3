"""Face operations on images: the layer between the app and the model/latent ops.

:class:`FaceLab` turns uploads into 64×64 face tensors (found and aligned by
:mod:`latentlab.alignment` when it has an aligner), runs the VAE (channels_last; bf16 autocast where the CPU or
GPU has bf16 units — 2–5× faster than fp32 there, at most a grey level of difference — and fp32 elsewhere, where
emulated bf16 is ~10× slower) and returns PIL images. Everything numeric is delegated to the model (any
:class:`~latentlab.models.Autoencoder` VAE: the project's :class:`~latentlab.models.ResNetAutoencoder`, the book's
:class:`~latentlab.models.ConvAutoencoder`) and :mod:`latentlab.latent`.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import torch
from PIL import Image

from . import latent
from .alignment import AlignedFace, FaceAligner
from .images import face_crop, grid_image, pil_to_tensor, save_gif, tensor_to_pil
from .models import Autoencoder, load_autoencoder, parse_model_ref, resolve_file
from .pivotal import PivotalTuning, pivotal_tuning
from .prior import PRIOR_KINDS


def bf16_is_fast(device: torch.device) -> bool:
    """Whether bf16 autocast speeds up ``device``: a CUDA GPU with bf16 support, or a CPU with native bf16 units
    (AVX-512 BF16 / AMX, as oneDNN reports them). An AVX2-only CPU emulates bf16 and runs ~10× slower than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


# one pivotal tuning at a time in this process: two at once share the CPU cores (or the GPU) and each then takes
# longer than both one after the other (on 2 cores, oversubscribed threads made a 3 s tuning take 20 s)
_TUNING_SLOT = threading.Lock()


class PersonalizedDecoders:
    """A bounded, thread-safe cache of personalised models (:func:`~latentlab.pivotal.pivotal_tuning`), keyed by
    the exact pixels of the faces they were tuned on and the tuning settings.

    The key is a SHA-256 of the aligned crops' bytes: the same photo and face number give the same crop, so the
    same key, whoever sends it; two different photos never share an entry. The least recently used entry is
    dropped beyond ``capacity``. An entry is stored only once its tuning has finished: a tuning that fails or is
    interrupted stores nothing (its caller gets the error; callers waiting for it tune again themselves).
    Calls for a key being tuned wait for that tuning instead of starting another, and tunings of different keys run
    one at a time in the process (queued, not sharing the cores).

    Args:
        capacity: entries kept (≥ 0; 0 keeps none). One entry of the shipped 64-px face VAE holds a decoder copy,
            ≈ 4.3 MB of float32 weights (5.0 MiB of process memory with its inference caches, measured by
            benchmarks/pivotal_tuning.py).
    """

    def __init__(self, capacity: int = 16):
        if capacity < 0:
            raise ValueError(f"capacity must be ≥ 0, got {capacity}")
        self.capacity = capacity
        self._entries: OrderedDict[str, Autoencoder] = OrderedDict()
        self._running: dict[str, Future] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(images: torch.Tensor, settings: PivotalTuning) -> str:
        """The cache key of ``images`` (B, C, S, S) tuned with ``settings``: 64 hex characters."""
        h = hashlib.sha256(repr(settings).encode())
        h.update(repr(tuple(images.shape)).encode())
        h.update(images.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        return h.hexdigest()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, tune: Callable[[], Autoencoder]) -> Autoencoder:
        """The entry for ``key``, made by ``tune()`` when it is not cached or being made by another call (``tune``
        must not call :meth:`get`). A call that waited for another's tuning which failed tunes itself: one user's
        cancelled request is not another's error."""
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
                running = self._running.get(key)
                if running is None:
                    running = self._running[key] = Future()
                    break
            try:
                return running.result()
            except Exception:  # noqa: BLE001 - that call's failure: try again (this caller's own tuning next)
                continue
        try:
            with _TUNING_SLOT:
                model = tune()
        except BaseException as err:
            with self._lock:
                del self._running[key]
            running.set_exception(err)
            raise
        with self._lock:
            del self._running[key]
            if self.capacity:
                self._entries[key] = model
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
        running.set_result(model)
        return model


class FaceLab:
    """A face VAE ready for morphing, attribute editing and sampling.

    Args:
        model: a trained VAE (:class:`~latentlab.models.Autoencoder`, with attribute directions for :meth:`edit`
            and, optionally, an ex-post prior for :meth:`sample`).
        precision: ``"auto"`` (default: bf16 autocast where :func:`bf16_is_fast`, else fp32), ``"bf16"`` or ``"fp32"``.
        device: where to run (``"cpu"`` by default; ``"cuda"`` works the same).
        aligner: how photos become the model's input: a :class:`~latentlab.alignment.FaceAligner` finds the face
            and crops it as CelebA-HQ was cropped (the app uses one); ``None`` (default) takes a centre square crop,
            right for pictures that are already aligned crops.
    """

    def __init__(self, model: Autoencoder, precision: str = "auto", device: str | torch.device = "cpu",
                 aligner: FaceAligner | None = None, personalized: PersonalizedDecoders | None = None):  # fmt: skip
        if precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', got {precision!r}")
        self.device = torch.device(device)
        self.model = model.to(self.device, memory_format=torch.channels_last).eval()
        self.precision = ("bf16" if bf16_is_fast(self.device) else "fp32") if precision == "auto" else precision
        self.aligner = aligner
        self.personalized = personalized if personalized is not None else PersonalizedDecoders()
        self.name: str | None = None  # its name, as its card says (from_pretrained)
        self.datasets: tuple[str, ...] = ()  # what it was trained on, as its card says (from_pretrained)

    @classmethod
    def from_pretrained(cls, ref: str | Path, *, revision: str | None = None, **kwargs) -> "FaceLab":
        """Load a face VAE folder or Hub repo (``owner/name`` or ``owner/name@revision``) strictly, with its
        directions and prior (the class comes from ``config.json``), and wrap it; ``kwargs`` go to :class:`FaceLab`.
        Whether the decoder was trained against a discriminator is read from the model's ``config.json``
        (``trained_on``, :class:`~latentlab.models.TrainedOn`); :attr:`name` (the card's ``model-index`` name,
        else the folder's or repo's last path component) and :attr:`datasets` from its card's metadata.
        Raises ModelNotFoundError / CheckpointError (see :func:`~latentlab.models.load_autoencoder`)."""
        model_id, ref_revision = parse_model_ref(ref)
        model = load_autoencoder(model_id, revision=revision or ref_revision)
        lab = cls(model, **kwargs)
        card = resolve_file(model_id, "README.md", revision=revision or ref_revision)
        data = None
        if card:
            from huggingface_hub import ModelCard

            data = ModelCard.load(card).data
            lab.datasets = tuple(data.datasets or ())
        # a run's <output_dir>/model folder is named by its card (the run's name), not as "model"
        lab.name = (data.model_name if data else None) or Path(model_id).name
        return lab

    # --- properties ---------------------------------------------------------------------------------------
    @property
    def image_size(self) -> int:
        return self.model.image_size

    @property
    def adversarial_decoder(self) -> bool:
        """Its decoder was trained against a discriminator (the model's ``config.json``, ``trained_on``)."""
        return self.model.trained_on is not None and self.model.trained_on.adversarial_decoder

    @property
    def default_prior(self) -> str:
        """``"mixture"`` when the folder has a fitted prior (:mod:`latentlab.prior`), else ``"normal"``."""
        return "mixture" if self.model.prior is not None else "normal"

    def describe_prior(self, prior: str | None = None) -> str:
        """What :meth:`sample` draws from for ``prior`` (default: :attr:`default_prior`), in words."""
        prior = prior or self.default_prior
        return self.model.prior.describe() if prior == "mixture" and self.model.prior is not None else "N(0, I)"

    @property
    def attribute_names(self) -> tuple[str, ...]:
        directions = self.model.attribute_directions
        return directions.names if directions is not None else ()

    # --- tensors in, tensors out ----------------------------------------------------------------------------
    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def prepare(self, photo: Image.Image, face: int = 0) -> AlignedFace:
        """The model's view of a photo: with an :attr:`aligner`, face number ``face`` (0 = the largest) found and
        aligned as CelebA-HQ (see :mod:`latentlab.alignment`); without one, the centre square crop.

        Returns:
            :class:`~latentlab.alignment.AlignedFace` whose ``crop`` is S×S RGB (S = :attr:`image_size`).

        Raises:
            NoFaceError: the aligner finds no face (or not that many).
        """
        if self.aligner is None:
            return AlignedFace(face_crop(photo, self.image_size), [], None)
        return self.aligner.align(photo, face, size=self.image_size)

    def to_tensor(self, faces: list[Image.Image | AlignedFace]) -> torch.Tensor:
        """(B, 3, S, S) float32 in [0, 1] from B faces: a PIL image goes through :meth:`prepare` (its largest face);
        an :class:`~latentlab.alignment.AlignedFace` (what :meth:`prepare` returns) is taken as the model's input as
        it is, without another detection.

        Raises:
            ValueError: an AlignedFace whose crop is not S×S RGB (aligned for a model of another size).
        """
        return torch.stack([pil_to_tensor(self._model_input(f)) for f in faces]).to(self.device)

    def _model_input(self, face: Image.Image | AlignedFace) -> Image.Image:
        """The S×S RGB crop the model encodes for one face (see :meth:`to_tensor`)."""
        if not isinstance(face, AlignedFace):
            return self.prepare(face).crop
        if face.crop.size != (self.image_size, self.image_size) or face.crop.mode != "RGB":
            raise ValueError(f"an aligned face for this model is a {self.image_size}×{self.image_size} RGB crop, "
                             f"got {face.crop.width}×{face.crop.height} {face.crop.mode}")  # fmt: skip
        return face.crop

    @torch.inference_mode()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Posterior means (B, z_dim) float32 of images (B, 3, S, S) in [0, 1]."""
        with self._autocast():
            return self.model.encode(images.contiguous(memory_format=torch.channels_last)).mode().float()

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) float32 in [0, 1] from latents (B, z_dim)."""
        with self._autocast():
            return self.model.decode(z.to(self.device)).float()

    # --- pivotal tuning ----------------------------------------------------------------------------------------
    def personalize(self, faces: list[Image.Image | AlignedFace], settings: PivotalTuning = PivotalTuning(),
                    progress: Callable[[int, int], None] | None = None) -> "FaceLab":  # fmt: skip
        """This lab over a decoder fitted to ``faces`` (pivotal tuning, :func:`~latentlab.pivotal.pivotal_tuning`):
        their reconstructions, edits and morphs keep the people, in the same latent space with the same attribute
        directions and prior.

        One decoder is tuned on all ``faces`` together (a morph's two ends). The result is cached in
        :attr:`personalized` by the faces' pixels and ``settings``: the same faces again cost nothing more.

        Args:
            faces: photos or AlignedFaces, as :meth:`to_tensor` takes them.
            settings: the tuning (:class:`~latentlab.pivotal.PivotalTuning`; defaults: the app's).
            progress: ``progress(step, steps)`` during a tuning (not called on a cached result).

        Returns:
            a :class:`FaceLab` with the same aligner and precision over the personalised model (its own cache
            empty: it is not personalised further).
        """
        images = self.to_tensor(faces)
        key = self.personalized.key(images, settings)
        with torch.inference_mode(False):
            tuned = self.personalized.get(key, lambda: pivotal_tuning(self.model, images.clone(), settings,
                                                                      progress=progress))  # fmt: skip
        lab = copy.copy(self)  # the same device, precision and aligner; the tuned model is already in place
        lab.model, lab.personalized = tuned, PersonalizedDecoders(0)
        return lab

    # --- the three operations of the app ----------------------------------------------------------------------
    def morph(self, face_a: Image.Image | AlignedFace, face_b: Image.Image | AlignedFace, frames: int = 8,
              method: str = "linear") -> torch.Tensor:  # fmt: skip
        """Decoded frames (frames, 3, S, S) of the interpolation between two faces' posterior means.

        Each face is a photo, which goes through :meth:`prepare` (its largest face), or an AlignedFace that
        :meth:`prepare` made, used as it is (see :meth:`to_tensor`). Frame 0 and frame ``frames − 1`` are the
        reconstructions of ``face_a`` and ``face_b``.
        """
        z = self.encode(self.to_tensor([face_a, face_b]))
        return self.decode(latent.morph(z[0], z[1], frames, method))

    def edit(self, face: Image.Image | AlignedFace, attribute: str, strengths, keep=()
             ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Move a face along one attribute direction, optionally decorrelated from attributes to keep.

        Args:
            face: any PIL image (through :meth:`prepare`), or an AlignedFace, used as it is (``prepare(photo, k)``
                for another face than the largest; see :meth:`to_tensor`).
            attribute: one of :attr:`attribute_names`.
            strengths: a float or a list of floats (multiples of the direction vector; negative removes).
            keep: attribute names whose mean differences are projected out of ``attribute``'s direction
                (:meth:`AttributeDirections.decorrelated`; InterFaceGAN's "conditional manipulation"), e.g.
                ``("Male",)`` for blond hair without a change of gender; empty for the plain direction.

        Returns:
            ``(original, decoded)``: the (3, S, S) cropped input, and (len(strengths), 3, S, S) decoded edits —
            strength 0 is the plain reconstruction.

        Raises:
            KeyError: unknown attribute. ValueError: ``attribute`` in ``keep``. RuntimeError: the model has no
            attribute directions.
        """
        directions = self.model.attribute_directions
        if directions is None:
            raise RuntimeError("this model folder has no attribute_directions.safetensors")
        direction = directions.decorrelated(attribute, tuple(keep)).to(self.device)
        original = self.to_tensor([face])
        z = self.encode(original)
        s = torch.as_tensor(strengths, dtype=torch.float32).reshape(-1, 1)
        edited = latent.edit(z.expand(s.shape[0], -1), direction, s)
        return original[0], self.decode(edited)

    def edit_many(self, face: Image.Image | AlignedFace, edits: dict[str, float], keep=(), independent: bool = True
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
        """Apply several attribute edits to one face at once: ``z + Σ_a strength_a · direction_a``.

        Args:
            face: any PIL image (through :meth:`prepare`), or an AlignedFace, used as it is (see :meth:`to_tensor`).
            edits: attribute name → strength (multiples of its direction; 0 entries are dropped), e.g.
                ``{"Smiling": 1.0, "Young": -1.0, "Eyeglasses": 1.5}``.
            keep: attribute names to keep unchanged (not among ``edits``).
            independent: decorrelate each edited direction from the mean differences of the other edited and of the
                kept attributes (:func:`latentlab.latent.independent_directions`), so each strength moves only its
                own attribute; ``False`` adds the plain directions (only the kept mean differences projected out).

        Returns:
            ``(original, reconstruction, edited)``: three (3, S, S) tensors in [0, 1].

        Raises:
            KeyError: an unknown attribute. ValueError: an attribute both edited and kept, or a direction left
            with nothing to move along. RuntimeError: the model has no attribute directions.
        """
        directions = self.model.attribute_directions
        if directions is None:
            raise RuntimeError("this model folder has no attribute_directions.safetensors")
        edits = {name: float(s) for name, s in edits.items() if float(s) != 0.0}
        keep = tuple(keep)
        both = sorted(set(edits) & set(keep))
        if both:
            raise ValueError(f"{', '.join(both)} cannot be both edited and kept unchanged")
        original = self.to_tensor([face])
        z = self.encode(original)
        if edits:
            vectors = directions.stack(list(edits))
            kept = directions.stack_mean_differences(list(keep)) if keep else None
            if independent:
                moved = latent.independent_directions(vectors, kept, axes=directions.stack_mean_differences(list(edits)))
            else:
                moved = latent.project_out(vectors, kept) if kept is not None else vectors
            z = torch.cat([z, latent.edit(z, moved.to(self.device), list(edits.values()))])
        decoded = self.decode(z)
        return original[0], decoded[0], decoded[-1]

    def sample(self, count: int = 36, seed: int = 0, temperature: float = 1.0, prior: str | None = None) -> torch.Tensor:
        """``count`` new faces (count, 3, S, S), reproducible by ``seed``.

        Args:
            prior: ``"mixture"`` — the folder's Gaussian mixture fitted on the training posterior means (Ghosh et al.
                2020), its standard deviations scaled by ``temperature``; ``"normal"`` — the VAE's N(0, T² I);
                ``None`` — :attr:`default_prior`.

        Raises:
            ValueError: an unknown prior, or ``"mixture"`` for a folder without one.
        """
        prior = prior or self.default_prior
        if prior not in PRIOR_KINDS:
            raise ValueError(f"prior must be one of {PRIOR_KINDS}, got {prior!r}")
        if prior == "mixture":
            if self.model.prior is None:
                raise ValueError("this model folder has no fitted prior (prior.safetensors); use prior='normal'")
            z = self.model.prior.sample(count, seed=seed, temperature=temperature, device=self.device)
        else:
            z = latent.sample(count, self.model.z_dim, seed=seed, temperature=temperature, device=self.device)
        return self.decode(z)


def frames_to_strip(frames: torch.Tensor, scale: int = 2) -> Image.Image:
    """One row of frames (B, 3, S, S) as a PIL strip, enlarged ``scale``× (nearest neighbour)."""
    return grid_image(frames, nrow=frames.shape[0], scale=scale)


def frames_to_gif(frames: torch.Tensor, target, scale: int = 3, duration_ms: int = 90):
    """An endlessly looping forward-and-back GIF of the frames (B, 3, S, S), enlarged ``scale``× (nearest neighbour:
    crisp pixels, and ~10× cheaper than resampling), written to ``target`` (a path or a binary file object)."""
    pil = [tensor_to_pil(f) for f in frames]
    pil = [p.resize((p.width * scale, p.height * scale), Image.Resampling.NEAREST) for p in pil]
    return save_gif(pil, target, duration_ms=duration_ms)
