"""Datasets as compact uint8 tensors: CelebA faces (Hub id or local Parquet, decoded once into a cache) and
MNIST / Fashion-MNIST (the original IDX gzip files, or a Hub id); and any image collection ``datasets`` reads,
decoded on the fly (:func:`load_images`).

Every split is an :class:`ImageData` (``len``, ``uint8_images``, ``float_images``, ``targets``, ``to_dataset``): held
in memory as tensors (:class:`ImageTensors`: :class:`FaceData`, :class:`DigitData`) or decoded on the fly
(:class:`ImageCollection`). One reader opens a split of a Parquet folder, file or glob, a folder of pictures or a Hub
id through ``datasets``; CelebA is that split with its 40 attribute columns as labels, decoded into memory once
(:meth:`ImageCollection.decoded`) and cached.

CelebA

Local layout (the ``datasets`` Image layout, as in ``../shared/data/celeba_hq/hq64/``)::

    <dir>/train-00000-of-00002.parquet, <dir>/train-00001-of-00002.parquet,
    <dir>/validation-00000-of-00001.parquet, <dir>/test-00000-of-00001.parquet

with an ``image`` column and the 40 CelebA attribute columns (−1/1 as in ``list_attr_celeba.txt``, or 0/1).
The same :func:`load_celeba` accepts a Hub dataset id with those columns (``datasets.load_dataset(id, split=…)``).
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch
from tqdm.auto import tqdm

from .images import face_crop

#: The 40 binary CelebA attributes (Liu et al., "Deep Learning Face Attributes in the Wild", ICCV 2015), in file order.
CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip

#: The local data folder: ``$LATENTLAB_DATA``, default ``../shared/data`` (relative to the working directory: the
#: repository root, where the commands run), holding ``celeba_hq/hq64``, ``mnist`` and ``fashion-mnist``.
DATA_ROOT = Path(os.environ.get("LATENTLAB_DATA", os.path.join("..", "shared", "data")))
#: The local CelebA-HQ 64-px Parquet files: ``$LATENTLAB_CELEBA``, default ``<DATA_ROOT>/celeba_hq/hq64``.
DEFAULT_CELEBA_SOURCE = os.environ.get("LATENTLAB_CELEBA", str(DATA_ROOT / "celeba_hq" / "hq64"))


class DataError(ValueError):
    """A data path or dataset is missing or does not have the expected layout; the message names it."""


class ImageData:
    """What every split offers, held in memory or decoded on the fly: ``len``, its pictures by row as uint8 or float
    tensors, one target per row and a ``torch`` dataset of (uint8 image, target) rows for a ``DataLoader``."""

    def __len__(self) -> int:  # pragma: no cover - defined by each dataset
        raise NotImplementedError

    @property
    def targets(self) -> torch.Tensor:  # pragma: no cover - defined by each dataset
        """Per-row targets: class labels (N,) int64, or binary attributes (N, K) uint8 0/1."""
        raise NotImplementedError

    def uint8_images(self, index=slice(None)) -> torch.Tensor:  # pragma: no cover - defined by each dataset
        """(n, C, S, S) uint8, 0–255, for ``index`` (a slice, list or index tensor); (C, S, S) for an int."""
        raise NotImplementedError

    def float_images(self, index=slice(None)) -> torch.Tensor:
        """(n, C, S, S) float32 in [0, 1] for ``index`` (a slice, list or index tensor); (C, S, S) for an int."""
        return self.uint8_images(index).float().div_(255.0)

    def to_dataset(self) -> torch.utils.data.Dataset:  # pragma: no cover - defined by each dataset
        """A dataset of (uint8 image (C, S, S), target) rows for a ``DataLoader``."""
        raise NotImplementedError


class ImageTensors(ImageData):
    """A split held in memory: ``images`` (N, C, S, S) uint8 plus per-row ``targets``."""

    images: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]

    def uint8_images(self, index=slice(None)) -> torch.Tensor:
        return self.images[index]

    def to_dataset(self) -> torch.utils.data.TensorDataset:
        return torch.utils.data.TensorDataset(self.images, self.targets)


@dataclass
class FaceData(ImageTensors):
    """Pictures of one split decoded into memory with their binary attributes: CelebA faces (:func:`load_celeba`),
    or any :class:`ImageCollection` once :meth:`~ImageCollection.decoded`.

    Attributes:
        images: uint8 tensor (N, 3, S, S), RGB, 0–255.
        attributes: uint8 tensor (N, K), 0/1, columns in ``attribute_names`` order (K = 40 for CelebA).
        attribute_names: the K attribute names (for CelebA, :data:`CELEBA_ATTRIBUTES`).
        image_ids: source image ids (e.g. CelebA file names, from an ``image_id`` column; else the row numbers as
            strings), length N.
    """

    images: torch.Tensor
    attributes: torch.Tensor
    attribute_names: tuple[str, ...]
    image_ids: list[str]

    @property
    def targets(self) -> torch.Tensor:
        return self.attributes


class ImageCollection(ImageData, torch.utils.data.Dataset):
    """Any image collection ``datasets`` reads (a folder of pictures, Parquet files, a Hub dataset), decoded on the
    fly: the rows stay in the memory-mapped Arrow table on disk, so memory does not grow with the collection, and a
    ``DataLoader``'s workers decode (centre square crop, Lanczos resize) in parallel. Only the labels are held in
    memory (N × K bytes). :meth:`decoded` turns it into a :class:`FaceData` held in memory.

    Attributes:
        dataset: the ``datasets.Dataset``: its pictures as the ``image`` column, and the ``image_id`` column when the
            source has one.
        image_size: side S of every decoded image.
        attributes: uint8 tensor (N, K), 0/1: the label columns (a class column as one attribute per class); K = 0
            without labels.
        attribute_names: the K attribute names.

    Indexing gives ``(uint8 image (3, S, S), attributes (K,))``, the rows of :meth:`to_dataset`.
    """

    def __init__(self, dataset, image_size: int, attributes: torch.Tensor, attribute_names: tuple[str, ...]):
        self.dataset, self.image_size = dataset, int(image_size)
        self.attributes, self.attribute_names = attributes, tuple(attribute_names)

    @property
    def targets(self) -> torch.Tensor:
        return self.attributes

    @property
    def image_ids(self) -> list[str]:
        """The ``image_id`` column when the source has one, else the row numbers as strings; length N."""
        if "image_id" in self.dataset.column_names:
            return list(self.dataset["image_id"])
        return [str(i) for i in range(len(self))]

    def __len__(self) -> int:
        return len(self.dataset)

    def _decode(self, pil) -> torch.Tensor:
        """(3, S, S) uint8 from a picture of any size and mode: upright RGB, centre square crop, Lanczos resize."""
        array = np.asarray(face_crop(pil, self.image_size), dtype=np.uint8)
        return torch.from_numpy(array.copy()).permute(2, 0, 1)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._decode(self.dataset[int(index)]["image"]), self.attributes[int(index)]

    def uint8_images(self, index=slice(None)) -> torch.Tensor:
        if isinstance(index, int):
            return self._decode(self.dataset[index]["image"])
        rows = range(len(self))[index] if isinstance(index, slice) else [int(i) for i in index]
        if not len(rows):
            return torch.empty((0, 3, self.image_size, self.image_size), dtype=torch.uint8)
        contiguous = isinstance(rows, range) and rows.step == 1  # a slice of the table reads fastest
        pictures = self.dataset[rows.start : rows.stop] if contiguous else self.dataset[list(rows)]
        return torch.stack([self._decode(pil) for pil in pictures["image"]])

    def to_dataset(self) -> ImageCollection:
        return self

    def decoded(self, desc: str = "decoding images", batch_size: int = 512) -> FaceData:
        """The collection decoded into memory once, ``batch_size`` pictures at a time, with a progress bar (``desc``).

        Returns:
            :class:`FaceData`: images (N, 3, S, S) uint8, these attributes, attribute names and :attr:`image_ids`.
        """
        n = len(self)
        images = torch.empty((n, 3, self.image_size, self.image_size), dtype=torch.uint8)
        with tqdm(total=n, desc=desc, unit="img", leave=False) as bar:
            for start in range(0, n, batch_size):
                images[start : start + batch_size] = self.uint8_images(slice(start, start + batch_size))
                bar.update(min(batch_size, n - start))
        return FaceData(images, self.attributes, self.attribute_names, self.image_ids)


def cache_dir() -> Path:
    """Where Latent Lab caches decoded data and features: ``$LATENTLAB_CACHE``, else ``~/.cache/latentlab``."""
    root = os.environ.get("LATENTLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "latentlab"
    )
    return Path(root)


def _looks_like_path(source: str) -> bool:
    """Hub ids are ``name`` or ``owner/name``; anything else path-like is treated as a local directory."""
    return os.path.exists(os.path.expanduser(source)) or source.startswith((".", "/", "~")) or source.count("/") > 1


def _parquet_splits(source: str, what: str, named_splits: bool) -> dict[str, list[Path]] | None:
    """The local Parquet files of ``source`` by split, found without opening them; ``None`` for a folder of pictures
    or a Hub id.

    A folder's splits come from its Parquet files' names, read by ``datasets``' own rule (``train-*.parquet``,
    ``validation-*.parquet``, ``test-*.parquet``; files named after no split are left out). When no name gives a
    split, all its files are one ``train`` split, unless ``named_splits``: then the folder has no split, and it is
    read as Parquet files even when it holds none. A Parquet file or glob is one ``train`` split.

    Raises:
        DataError: a path that does not exist, or a glob or file that names no Parquet file.
    """
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        if not files:
            return {} if named_splits else None
        from datasets.data_files import DEFAULT_PATTERNS_SPLIT_IN_FILENAME

        splits = {}
        for split, patterns in DEFAULT_PATTERNS_SPLIT_IN_FILENAME.items():  # datasets' rule, on these file names
            named = [f for f in files if any(fnmatch.fnmatchcase(f.name, p.removeprefix("**/")) for p in patterns)]
            if named:
                splits[str(split)] = named
        return splits if splits or named_splits else {"train": files}
    if "*" in source or source.endswith(".parquet"):
        files = [Path(f) for f in sorted(glob.glob(os.path.expanduser(source)))]
        if not files:
            raise DataError(f"no Parquet files at {source}")
        return {"train": files}
    if _looks_like_path(source):
        expected = "a folder of train-/validation-/test-*.parquet files" if named_splits else (
            "a folder of pictures or Parquet files, a Parquet file or glob")  # fmt: skip
        raise DataError(f"{what} not found: {source} (expected {expected}, or a Hub dataset id)")
    return None


def _choose_split(source: str, split: str, found: list[str], validation_size: int, *, parquet: bool,
                  named_splits: bool = False) -> bool:  # fmt: skip
    """Whether ``split`` is read from a collection whose only split is ``train``, its last ``validation_size`` rows
    held out as ``validation``; else ``split`` must be one of the ``found`` splits.

    Raises:
        DataError: no such split; the message lists what ``source`` has (for a folder of Parquet files, its files).
    """
    if split in ("train", "validation") and validation_size > 0 and found == ["train"]:
        return True
    if split in found:
        return False
    hint = ""
    if split == "validation" and found == ["train"] and not named_splits:
        hint = "; a single-split collection needs data.validation_size > 0 for a validation split"
    folder = Path(source).expanduser()
    if parquet and folder.is_dir():
        present = sorted(f.name for f in folder.glob("*.parquet"))
        raise DataError(f"no Parquet files for split {split!r} in {source} (expected {split}-*.parquet; found: "
                        f"{present or 'none'}{hint})")  # fmt: skip
    raise DataError(f"{source}: no split {split!r} (it has {found}{hint})")


def _read_split(source: str, split: str, *, what: str, named_splits: bool = False, validation_size: int = 0,
                limit: int | None = None):  # fmt: skip
    """One split of ``source`` as a ``datasets.Dataset``, its rows memory-mapped from the Arrow files ``datasets``
    writes: local Parquet files (:func:`_parquet_splits`), a folder of pictures (``imagefolder``: splits from its
    sub-folder or file names, else one ``train`` split) or a Hub dataset id.

    Args:
        source: the path, glob or Hub id.
        split: the split to read. A collection with only a ``train`` split gets its last ``validation_size`` rows (at
            most half) as ``"validation"``, which ``"train"`` then leaves out.
        what: names the data in error messages (e.g. ``"CelebA"``).
        named_splits: a folder must hold Parquet files named after their splits (see :func:`_parquet_splits`).
        limit: keep only the first ``limit`` rows.

    Raises:
        DataError: the source is missing, cannot be read or has no such split; one line naming the source.
    """
    import datasets

    parquet = _parquet_splits(source, what, named_splits)
    pictures = parquet is None and Path(source).expanduser().is_dir()
    kind = "local Parquet files" if parquet is not None else "a folder of pictures" if pictures else (
        "a Hub dataset id (it is not a local path)")  # fmt: skip
    if parquet is not None:
        found = sorted(parquet)
        held_out = _choose_split(source, split, found, validation_size, parquet=True, named_splits=named_splits)
        read = "train" if held_out else split
    try:
        if parquet is not None:  # only the files of the split read are converted to Arrow
            dataset = datasets.load_dataset("parquet", data_files={read: [str(f) for f in parquet[read]]}, split=read)
        elif pictures or (split in ("train", "validation") and validation_size > 0):  # every split, to see which
            folder = str(Path(source).expanduser())
            loaded = datasets.load_dataset("imagefolder", data_dir=folder) if pictures else (
                datasets.load_dataset(source))  # fmt: skip
            held_out = _choose_split(source, split, sorted(loaded), validation_size, parquet=False)
            dataset = loaded["train" if held_out else split]
        else:  # a Hub id: only the split asked for is downloaded
            held_out, dataset = False, datasets.load_dataset(source, split=split)
    except DataError:
        raise
    except Exception as err:  # datasets raises many types (not found, offline, bad files); name the source
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__  # the cause stays chained
        raise DataError(f"could not load {what} split {split!r} from {source!r} as {kind}: {first}") from err
    if held_out:
        held = min(int(validation_size), len(dataset) // 2)
        rows = range(len(dataset) - held, len(dataset)) if split == "validation" else range(len(dataset) - held)
        dataset = dataset.select(rows)
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    return dataset


def _collection(dataset, source: str, image_size: int, image_column: str = "image",
                label_columns: tuple[str, ...] | list[str] | None = None) -> ImageCollection:  # fmt: skip
    """An :class:`ImageCollection` of a split read by :func:`_read_split`: its ``image_column`` (as ``image``) and
    ``image_id`` column, with ``label_columns`` as binary attributes: a ``datasets.ClassLabel`` column as one
    attribute per class, any other column when its values are 0/1 (or bool) or −1/1, as 0/1.

    Raises:
        DataError: a column is missing, or a label column is neither binary nor a class column; ``source`` names the
            data.
    """
    import datasets

    columns = dataset.column_names
    if image_column not in columns:
        raise DataError(f"{source}: no column {image_column!r} (columns: {columns})")
    missing = [c for c in label_columns or () if c not in columns]
    if missing:
        listed = ", ".join(repr(c) for c in missing[:5]) + ("…" if len(missing) > 5 else "")
        raise DataError(f"{source}: no label column{'s' if len(missing) > 1 else ''} {listed} (columns: {columns})")
    names: list[str] = []
    labels: list[np.ndarray] = []
    table = dataset.select_columns(list(label_columns)).with_format("numpy")[:] if label_columns else {}
    for column in label_columns or ():
        values = np.asarray(table[column])
        feature = dataset.features[column]
        if isinstance(feature, datasets.ClassLabel):
            names += list(feature.names)
            labels += [(values == k).astype(np.uint8) for k in range(feature.num_classes)]
            continue
        found = set(np.unique(values).tolist())
        if not (found <= {0, 1} or found <= {-1, 1}):
            raise DataError(f"{source}: label column {column!r} is neither binary (0/1 or -1/1) nor a class column "
                            f"(values {sorted(found)[:5]})")  # fmt: skip
        names.append(column)
        labels.append((values > 0).astype(np.uint8))
    attributes = torch.from_numpy(np.stack(labels, 1) if labels else np.zeros((len(dataset), 0), np.uint8))
    ids = ["image_id"] if "image_id" in columns and image_column != "image_id" else []
    kept = dataset.select_columns([image_column, *ids])
    if image_column != "image":
        kept = kept.rename_column(image_column, "image")
    if not isinstance(kept.features["image"], datasets.Image):
        kept = kept.cast_column("image", datasets.Image())
    return ImageCollection(kept, image_size, attributes, tuple(names))


def load_images(source: str | os.PathLike, split: str = "train", *, image_size: int = 64, image_column: str = "image",
                label_columns: tuple[str, ...] | list[str] | None = None, validation_size: int = 0,
                limit: int | None = None) -> ImageCollection:  # fmt: skip
    """Load one split of an image collection through ``datasets``, to be decoded on the fly.

    Args:
        source: a folder of pictures (``imagefolder``: any layout; pictures in sub-folders get a ``label`` class
            column named after them), a folder of Parquet files (the ``datasets`` Image layout: each file's split
            from its name, ``train-*.parquet``, ``validation-*.parquet``, ``test-*.parquet``; one ``train`` split
            when the names give none), a Parquet file or glob (one ``train`` split), or a Hub dataset id.
        split: the split to read. A collection with only a ``train`` split (a folder) gets its last
            ``validation_size`` pictures as ``"validation"``, which ``"train"`` then leaves out.
        image_size: side S of the decoded square images (centre square crop, Lanczos).
        image_column: the column holding the pictures.
        label_columns: columns to learn attribute directions from: binary ones (0/1, −1/1, bool) as they are, a class
            column (e.g. a folder's ``label``) as one attribute per class; ``None``: no labels.
        limit: keep only the first ``limit`` rows.

    Returns:
        :class:`ImageCollection`: images decoded to (3, S, S) uint8, attributes (N, K) uint8 0/1.

    Raises:
        DataError: the source cannot be read, lacks a column, has no such split, or a label column is not binary.
    """
    source = os.fspath(source)
    dataset = _read_split(source, split, what="image collection", validation_size=validation_size, limit=limit)
    return _collection(dataset, f"{source} [{split}]", image_size, image_column, label_columns)


def load_celeba(
    source: str | os.PathLike = DEFAULT_CELEBA_SOURCE,
    split: str = "train",
    *,
    image_size: int = 64,
    limit: int | None = None,
    use_cache: bool = True,
) -> FaceData:
    """Load one split of CelebA faces with their 40 attributes, decoded into memory once and cached.

    Args:
        source: a local directory of ``{split}-*.parquet`` files, or a Hub dataset id (``"owner/name"``) whose rows
            have an ``image`` column and the 40 attribute columns (−1/1 or 0/1); read as :func:`load_images` reads
            them.
        split: ``"train"``, ``"validation"`` or ``"test"``.
        image_size: side S of the returned square images; other sizes are centre-cropped and resized (Lanczos).
        limit: keep only the first ``limit`` rows (a slice of the real data, for quick runs and tests).
        use_cache: reuse the decoded uint8 tensors from ``$LATENTLAB_CACHE`` (default ``~/.cache/latentlab``);
            the key covers the folder's Parquet files (paths, sizes, modification times; or the Hub dataset id),
            the split and the options.

    Returns:
        :class:`FaceData` with images (N, 3, S, S) uint8 and attributes (N, 40) uint8 0/1. Use
        ``FaceData.float_images`` for float32 in [0, 1].

    Raises:
        DataError: the directory does not exist, has no files for the split, or the data lacks required columns or
            has non-binary attributes.
    """
    source = os.fspath(source)
    folder = Path(source).expanduser()
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    # the key covers every Parquet file of a local folder (a changed file decodes the split again), or the Hub id
    stamp = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files] or [source]
    key = hashlib.sha256(json.dumps([stamp, split, image_size, limit]).encode()).hexdigest()[:24]
    cache_file = cache_dir() / f"celeba-{split}-{key}.safetensors"
    if use_cache and cache_file.is_file():  # read without opening datasets
        try:
            return _read_cache(cache_file)
        except Exception:  # a truncated cache from an interrupted run: decode again
            cache_file.unlink(missing_ok=True)

    dataset = _read_split(source, split, what="CelebA", named_splits=True, limit=limit)
    collection = _collection(dataset, f"{source} [{split}]", image_size, label_columns=CELEBA_ATTRIBUTES)
    data = collection.decoded(desc=f"decoding {source} [{split}]")
    if use_cache:
        _write_cache(cache_file, data)
    return data


def _write_cache(path: Path, data: FaceData) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    safetensors.torch.save_file(
        {"images": data.images.contiguous(), "attributes": data.attributes.contiguous()},
        str(tmp),
        metadata={"attribute_names": json.dumps(list(data.attribute_names)), "image_ids": json.dumps(data.image_ids)},
    )
    os.replace(tmp, path)  # atomic: an interrupted write never leaves a half cache behind


def _read_cache(path: Path) -> FaceData:
    with safetensors.safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        images, attributes = f.get_tensor("images"), f.get_tensor("attributes")
    return FaceData(images, attributes, tuple(json.loads(meta["attribute_names"])), json.loads(meta["image_ids"]))


# --- MNIST and Fashion-MNIST ---------------------------------------------------------------------------------

#: Class names, index = label.
MNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_DIGIT_SETS = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES}


@dataclass
class DigitData(ImageTensors):
    """One split of MNIST or Fashion-MNIST.

    Attributes:
        images: uint8 tensor (N, 1, S, S), 0 = background; S = 28, or 32 when zero-padded.
        labels: int64 tensor (N,), 0–9.
        class_names: the 10 class names, index = label.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]

    @property
    def targets(self) -> torch.Tensor:
        return self.labels

    def save(self, path: str | os.PathLike) -> None:
        """Write images, labels and class names to one safetensors file (no pickle)."""
        safetensors.torch.save_file({"images": self.images.contiguous(), "labels": self.labels}, str(path),
                                    metadata={"class_names": json.dumps(list(self.class_names))})  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike) -> "DigitData":
        """Read a file written by :meth:`save`. Raises DataError if it is missing or not such a file."""
        try:
            with safetensors.safe_open(str(path), "pt") as f:
                names = tuple(json.loads(f.metadata()["class_names"]))
                return cls(f.get_tensor("images"), f.get_tensor("labels"), names)
        except Exception as err:
            raise DataError(f"{path}: not a digit sample file written by DigitData.save ({err})") from err

    def padded(self, size: int) -> "DigitData":
        """The images zero-padded symmetrically to ``size``×``size`` (e.g. 32 for the book's models); ``self`` if
        they already have that size. Raises DataError if ``size`` is smaller or differs by an odd number."""
        extra = size - self.images.shape[-1]
        if extra < 0 or extra % 2:
            raise DataError(f"pad_to={size} must be ≥ {self.images.shape[-1]} and differ from it by an even number")
        if extra == 0:
            return self
        return DigitData(torch.nn.functional.pad(self.images, (extra // 2,) * 4), self.labels, self.class_names)

    def subset(self, index) -> "DigitData":
        """The rows selected by ``index`` (a slice, an index tensor or a boolean mask), as a new :class:`DigitData`."""
        return DigitData(self.images[index], self.labels[index], self.class_names)


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """An IDX array (LeCun's format, big-endian header) from a .gz file, checked for its magic number and size."""
    import gzip

    if not path.is_file():
        raise DataError(f"IDX file not found: {path}")
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: not a readable gzip file ({err})") from err
    header = np.frombuffer(raw[: 4 * (1 + ndim)], dtype=">u4")
    if len(header) != 1 + ndim or header[0] != magic:
        raise DataError(f"{path}: not an IDX file with magic {magic} (found {header[:1].tolist()})")
    shape = tuple(int(d) for d in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + ndim))
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path}: header says {shape} = {int(np.prod(shape))} bytes, file has {data.size}")
    return data.reshape(shape)


def load_mnist(
    name: str = "mnist", split: str = "train", source: str | os.PathLike | None = None, *, pad_to: int | None = None
) -> DigitData:
    """Load MNIST or Fashion-MNIST.

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"`` (sets the class names and the default local folder).
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000).
        source: a folder with the original ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`` files (default
            ``../shared/data/<name>``), or a Hub dataset id with ``image`` and ``label`` columns (e.g.
            ``"ylecun/mnist"``), read through ``datasets.load_dataset`` as for CelebA.
        pad_to: zero-pad the 28×28 images symmetrically to ``pad_to``×``pad_to`` (e.g. 32 for the book's models).

    Returns:
        :class:`DigitData` with images (N, 1, S, S) uint8 and labels (N,) int64.

    Raises:
        DataError: unknown name/split, missing or corrupt files, or a Hub dataset that cannot be loaded.
    """
    if name not in _DIGIT_SETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {sorted(_DIGIT_SETS)}")
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    source = os.fspath(source) if source is not None else str(DATA_ROOT / name)
    if os.path.isdir(source) or _looks_like_path(source):
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise DataError(f"{name} data directory not found: {folder}")
        prefix = "train" if split == "train" else "t10k"
        images = _read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 2051, 3)
        labels = _read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049, 1)
        if len(images) != len(labels):
            raise DataError(f"{folder}: {len(images)} images but {len(labels)} labels for split {split!r}")
        images_t = torch.from_numpy(images.copy()).unsqueeze(1)
        labels_t = torch.from_numpy(labels.astype(np.int64))
    else:
        import datasets

        try:
            dataset = datasets.load_dataset(source, split=split).with_format("numpy")
            images_t = torch.from_numpy(np.stack(dataset["image"]).astype(np.uint8)).reshape(-1, 1, 28, 28)
            labels_t = torch.from_numpy(np.asarray(dataset["label"], dtype=np.int64))
        except Exception as err:
            raise DataError(f"could not load {name} split {split!r} from Hub dataset {source!r}: {err}") from err
    data = DigitData(images_t.contiguous(), labels_t, _DIGIT_SETS[name])
    return data if pad_to is None else data.padded(pad_to)


def load_split(config, split: str) -> ImageData:
    """One split of a training run's dataset: held in memory as uint8 tensors, or decoded on the fly (``images``).

    Args:
        config: a :class:`latentlab.config.RunConfig` (its ``data`` section and the model's image shape).
        split: ``"train"``, ``"validation"``, ``"test"`` (or the config's own split names).

    Digit sets have no validation split: ``validation`` is the last ``data.validation_size`` training images, which
    ``train`` then leaves out. ``data.classes`` keeps only those labels in train / validation (e.g. ``[0]`` for the
    novelty autoencoder; ``test`` keeps all); ``data.limit`` / ``data.eval_limit`` keep the first N rows.

    Returns:
        :class:`FaceData` (CelebA), :class:`DigitData` (MNIST / Fashion-MNIST) or :class:`ImageCollection` (``images``:
        any collection, decoded on the fly, see :func:`load_images`).

    Raises:
        DataError: the data cannot be found or read (see :func:`load_celeba`, :func:`load_mnist`).
    """
    data_cfg = config.data
    limit = {data_cfg.train_split: data_cfg.limit, data_cfg.eval_split: data_cfg.eval_limit}.get(split)
    side = config.image_shape[-1]
    if data_cfg.name == "images":
        return load_images(data_cfg.source, split, image_size=side, image_column=data_cfg.image_column,
                           label_columns=data_cfg.label_columns, validation_size=data_cfg.validation_size,
                           limit=limit)  # fmt: skip
    if data_cfg.name == "celeba":
        return load_celeba(data_cfg.source or DEFAULT_CELEBA_SOURCE, split, image_size=side, limit=limit)
    data = load_mnist(data_cfg.name, "test" if split == "test" else "train", data_cfg.source,
                      pad_to=side if side != 28 else None)  # fmt: skip
    if split in ("train", "validation"):
        held_out = int(data_cfg.validation_size)
        data = data.subset(slice(len(data) - held_out, None) if split == "validation" else slice(0, len(data) - held_out))
    if data_cfg.classes is not None and split != "test":  # the test split keeps every class (novelty report)
        data = data.subset(torch.isin(data.labels, torch.tensor(list(data_cfg.classes))))
    return data.subset(slice(0, limit)) if limit else data
