"""The app's output files (latentlab.ui.common.OutputFiles): lossless, named by content, never rewritten."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentlab.ui.common import OutputFiles


@pytest.fixture
def picture():
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8))


@pytest.mark.parametrize("image_format", ["png", "webp"])
def test_outputs_are_lossless_and_reused_by_content(tmp_path, picture, image_format):
    out = OutputFiles(tmp_path)
    wrapped = out.files(lambda seed: (picture, f"seed {seed}"), image_format=image_format)
    path, text = wrapped(3)
    assert text == "seed 3" and path.endswith(f".{image_format}")
    stored = Image.open(path)
    assert stored.format == image_format.upper() and stored.convert("RGB").tobytes() == picture.tobytes()
    before = Path(path).stat().st_ino
    again, _ = wrapped(4)
    assert again == path and Path(path).stat().st_ino == before  # the same picture: the file is reused, not rewritten
    other = np.asarray(picture).copy()
    other[0, 0] ^= 1
    assert out.files(lambda: Image.fromarray(other), image_format=image_format)() != path
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no staging file left behind


def test_an_unknown_format_is_refused(tmp_path):
    with pytest.raises(KeyError):
        OutputFiles(tmp_path).files(lambda: None, image_format="gif")
