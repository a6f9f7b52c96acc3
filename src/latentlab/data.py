"""Datasets as compact uint8 tensors: CelebA faces (Hub id or local Parquet, decoded once into a cache) and
MNIST / Fashion-MNIST (the original IDX gzip files, or a Hub id); and any image collection ``datasets`` reads,
decoded on the fly (:func:`load_images`).

CelebA

Local layout (the ``datasets`` Image layout, as in ``../shared/data/celeba_hq/hq64/``)::

    <dir>/train-00000-of-00002.parquet, <dir>/train-00001-of-00002.parquet,
    <dir>/validation-00000-of-00001.parquet, <dir>/test-00000-of-00001.parquet

with an ``image`` column and the 40 CelebA attribute columns (−1/1 as in ``list_attr_celeba.txt``, or 0/1).
The same :func:`load_celeba` accepts a Hub dataset id with those columns (``datasets.load_dataset(id, split=…)``).
"""

from __future__ import annotations

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


class ImageTensors:
    """Shared behaviour of the uint8 datasets: ``images`` (N, C, S, S) uint8 plus per-row ``targets``."""

    images: torch.Tensor

    @property
    def targets(self) -> torch.Tensor:  # pragma: no cover - defined by each dataset
        raise NotImplementedError

    def __len__(self) -> int:
        return self.images.shape[0]

    def uint8_images(self, index=slice(None)) -> torch.Tensor:
        """(n, C, S, S) uint8 for ``index`` (a slice, list or index tensor)."""
        return self.images[index]

    def float_images(self, index=slice(None)) -> torch.Tensor:
        """(n, C, S, S) float32 in [0, 1] for ``index`` (an int, slice, list or index tensor)."""
        return self.uint8_images(index).float().div_(255.0)

    def to_dataset(self) -> torch.utils.data.TensorDataset:
        """A ``TensorDataset`` of (uint8 image, target) rows for a ``DataLoader``."""
        return torch.utils.data.TensorDataset(self.images, self.targets)


@dataclass
class FaceData(ImageTensors):
    """Decoded faces of one split, kept as compact uint8 tensors.

    Attributes:
        images: uint8 tensor (N, 3, S, S), RGB, 0–255.
        attributes: uint8 tensor (N, 40), 0/1, columns in ``attribute_names`` order.
        attribute_names: the 40 CelebA attribute names.
        image_ids: source image ids (e.g. CelebA file names), length N.
    """

    images: torch.Tensor
    attributes: torch.Tensor
    attribute_names: tuple[str, ...]
    image_ids: list[str]

    @property
    def targets(self) -> torch.Tensor:
        return self.attributes


class ImageCollection(ImageTensors, torch.utils.data.Dataset):
    """Any image collection ``datasets`` reads (a folder of pictures, Parquet files, a Hub dataset), decoded on the
    fly: the rows stay in the memory-mapped Arrow table on disk, so memory does not grow with the collection, and a
    ``DataLoader``'s workers decode (centre square crop, Lanczos resize) in parallel. Only the labels are held in
    memory (N × K bytes).

    Attributes:
        dataset: the ``datasets.Dataset`` (its image column only).
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

    def __len__(self) -> int:
        return len(self.dataset)

    def _decode(self, pil) -> torch.Tensor:
        array = np.asarray(face_crop(pil, self.image_size), dtype=np.uint8)
        return torch.from_numpy(array.copy()).permute(2, 0, 1)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._decode(self.dataset[int(index)]["image"]), self.attributes[int(index)]

    def uint8_images(self, index=slice(None)) -> torch.Tensor:
        rows = range(len(self))[index] if isinstance(index, slice) else [int(i) for i in index]
        if not len(rows):
            return torch.empty((0, 3, self.image_size, self.image_size), dtype=torch.uint8)
        return torch.stack([self._decode(pil) for pil in self.dataset[list(rows)]["image"]])

    def to_dataset(self) -> ImageCollection:
        return self


def load_images(source: str | os.PathLike, split: str = "train", *, image_size: int = 64, image_column: str = "image",
                label_columns: tuple[str, ...] | list[str] | None = None, validation_size: int = 0,
                limit: int | None = None) -> ImageCollection:  # fmt: skip
    """Load one split of an image collection through ``datasets``, to be decoded on the fly.

    Args:
        source: a folder of pictures (``imagefolder``: any layout; pictures in sub-folders get a ``label`` class
            column named after them), a folder or glob of Parquet files (the ``datasets`` Image layout), or a Hub
            dataset id.
        split: the split to read. A collection with only a ``train`` split (a folder) gets its last
            ``validation_size`` pictures as ``"validation"``, which ``"train"`` then leaves out.
        image_size: side S of the decoded square images (centre square crop, Lanczos).
        image_column: the column holding the pictures.
        label_columns: columns to learn attribute directions from: binary ones (0/1, −1/1, bool) as they are, a class
            column (e.g. a folder's ``label``) as one attribute per class; ``None``: no labels.
        limit: keep only the first ``limit`` rows.

    Returns:
        :class:`ImageCollection`.

    Raises:
        DataError: the source cannot be read, lacks a column, has no such split, or a label column is not binary.
    """
    import datasets

    source = os.fspath(source)
    path = Path(source).expanduser()
    try:
        if path.is_dir() and not any(path.glob("*.parquet")):
            loaded = datasets.load_dataset("imagefolder", data_dir=str(path))
        elif path.is_dir() or "*" in source or source.endswith(".parquet"):
            files = sorted(str(f) for f in path.glob("*.parquet")) if path.is_dir() else sorted(glob.glob(os.path.expanduser(source)))
            if not files and not Path(source).is_file():
                raise DataError(f"no Parquet files at {source}")
            loaded = datasets.load_dataset("parquet", data_files=files or [source])
        elif _looks_like_path(source):
            raise DataError(f"image collection not found: {source} (a folder of pictures, Parquet files or a Hub id)")
        else:
            loaded = datasets.load_dataset(source)
    except DataError:
        raise
    except Exception as err:  # datasets raises many types (not found, offline, bad files); name the source
        raise DataError(f"could not read an image collection from {source!r}: {err}") from err
    if split in ("train", "validation") and list(loaded) == ["train"] and validation_size > 0:
        whole = loaded["train"]
        held = min(int(validation_size), len(whole) // 2)
        dataset = whole.select(range(len(whole) - held, len(whole)) if split == "validation" else range(len(whole) - held))
    elif split in loaded:
        dataset = loaded[split]
    else:
        raise DataError(f"{source}: no split {split!r} (it has {sorted(loaded)}; a single-split collection needs "
                        f"data.validation_size > 0 for a validation split)")  # fmt: skip
    if image_column not in dataset.column_names:
        raise DataError(f"{source}: no column {image_column!r} (columns: {dataset.column_names})")
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    names: list[str] = []
    columns: list[np.ndarray] = []
    for column in label_columns or ():
        if column not in dataset.column_names:
            raise DataError(f"{source}: no label column {column!r} (columns: {dataset.column_names})")
        values = np.asarray(dataset[column])
        feature = dataset.features[column]
        if isinstance(feature, datasets.ClassLabel):
            names += list(feature.names)
            columns += [(values == k).astype(np.uint8) for k in range(feature.num_classes)]
            continue
        found = set(np.unique(values).tolist())
        if not found <= {-1, 0, 1, True, False}:
            raise DataError(f"{source}: label column {column!r} is neither binary nor a class column ({sorted(found)[:5]})")
        names.append(column)
        columns.append((values > 0).astype(np.uint8))
    attributes = torch.from_numpy(np.stack(columns, 1) if columns else np.zeros((len(dataset), 0), np.uint8))
    renamed = dataset.select_columns([image_column])
    if image_column != "image":
        renamed = renamed.rename_column(image_column, "image")
    return ImageCollection(renamed.cast_column("image", datasets.Image()), image_size, attributes, tuple(names))


def cache_dir() -> Path:
    """Where Latent Lab caches decoded data and features: ``$LATENTLAB_CACHE``, else ``~/.cache/latentlab``."""
    root = os.environ.get("LATENTLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "latentlab"
    )
    return Path(root)


def _looks_like_path(source: str) -> bool:
    """Hub ids are ``name`` or ``owner/name``; anything else path-like is treated as a local directory."""
    return os.path.exists(os.path.expanduser(source)) or source.startswith((".", "/", "~")) or source.count("/") > 1


def _local_split_files(directory: Path, split: str) -> list[Path]:
    if not directory.is_dir():
        raise DataError(f"CelebA data directory not found: {directory}")
    files = sorted(directory.glob(f"{split}-*.parquet")) or sorted(directory.glob(f"{split}.parquet"))
    if not files:
        present = sorted(p.name for p in directory.glob("*.parquet"))
        raise DataError(
            f"no Parquet files for split {split!r} in {directory} (expected {split}-*.parquet; found: {present or 'none'})"
        )
    return files


def _decode(dataset, source_label: str, image_size: int) -> FaceData:
    columns = set(dataset.column_names)
    missing = [c for c in ("image", *CELEBA_ATTRIBUTES) if c not in columns]
    if missing:
        raise DataError(f"{source_label}: missing column(s) {missing[:5]}{'…' if len(missing) > 5 else ''}")
    n = len(dataset)
    images = torch.empty((n, 3, image_size, image_size), dtype=torch.uint8)
    attributes = np.empty((n, len(CELEBA_ATTRIBUTES)), dtype=np.int16)
    ids: list[str] = []
    id_column = "image_id" if "image_id" in columns else None
    row = 0
    with tqdm(total=n, desc=f"decoding {source_label}", unit="img", leave=False) as bar:
        for batch in dataset.iter(batch_size=512):
            for k, pil in enumerate(batch["image"]):
                if pil.size != (image_size, image_size) or pil.mode != "RGB":
                    pil = face_crop(pil, image_size)
                images[row + k] = torch.from_numpy(np.asarray(pil, dtype=np.uint8).copy()).permute(2, 0, 1)
            m = len(batch["image"])
            attributes[row : row + m] = np.stack([np.asarray(batch[a], dtype=np.int16) for a in CELEBA_ATTRIBUTES], 1)
            ids.extend(batch[id_column] if id_column else [str(i) for i in range(row, row + m)])
            row += m
            bar.update(m)
    values = set(np.unique(attributes).tolist())
    if values <= {-1, 1}:
        attributes = (attributes + 1) // 2
    elif not values <= {0, 1}:
        raise DataError(f"{source_label}: attribute values {sorted(values)} are neither -1/1 nor 0/1")
    return FaceData(images, torch.from_numpy(attributes.astype(np.uint8)), CELEBA_ATTRIBUTES, ids)


def load_celeba(
    source: str | os.PathLike = DEFAULT_CELEBA_SOURCE,
    split: str = "train",
    *,
    image_size: int = 64,
    limit: int | None = None,
    use_cache: bool = True,
) -> FaceData:
    """Load one split of CelebA faces with their 40 attributes.

    Args:
        source: a local directory of ``{split}-*.parquet`` files, or a Hub dataset id (``"owner/name"``) whose rows
            have an ``image`` column and the 40 attribute columns.
        split: ``"train"``, ``"validation"`` or ``"test"``.
        image_size: side S of the returned square images; other sizes are centre-cropped and resized (Lanczos).
        limit: keep only the first ``limit`` rows (a slice of the real data, for quick runs and tests).
        use_cache: reuse the decoded uint8 tensors from ``$LATENTLAB_CACHE`` (default ``~/.cache/latentlab``);
            the key covers file paths, sizes and modification times (or the Hub dataset fingerprint) and the options.

    Returns:
        :class:`FaceData` with images (N, 3, S, S) uint8 and attributes (N, 40) uint8 0/1. Use
        ``FaceData.float_images`` for float32 in [0, 1].

    Raises:
        DataError: the directory does not exist, has no files for the split, or the data lacks required columns.
    """
    import datasets

    source = os.fspath(source)
    local = os.path.isdir(source) or _looks_like_path(source)
    if local:
        files = _local_split_files(Path(source).expanduser(), split)
        stamp = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    else:
        stamp = [source, split]
    key = hashlib.sha256(json.dumps([stamp, image_size, limit]).encode()).hexdigest()[:24]
    cache_file = cache_dir() / f"celeba-{split}-{key}.safetensors"
    if use_cache and cache_file.is_file():
        try:
            return _read_cache(cache_file)
        except Exception:  # a truncated cache from an interrupted run: decode again
            cache_file.unlink(missing_ok=True)

    try:
        if local:
            dataset = datasets.load_dataset("parquet", data_files={split: [str(f) for f in files]}, split=split)
        else:
            dataset = datasets.load_dataset(source, split=split)
    except Exception as err:  # datasets raises many types (not found, offline, bad schema); name the source
        kind = "local Parquet files" if local else "a Hub dataset id (it is not a local directory)"
        raise DataError(f"could not load CelebA split {split!r} from {source!r} as {kind}: {err}") from err
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    data = _decode(dataset, f"{source} [{split}]", image_size)
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


def load_split(config, split: str) -> ImageTensors:
    """One split of a training run's dataset as uint8 tensors.

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
