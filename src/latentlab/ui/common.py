"""What every tab of the app shares: user errors shown once and logged as one line, uploads that fail with a short
message, output files written once and atomically, the check of a model name, and module callbacks bound to their
models as Gradio should see them."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import io
import logging
import os
import tempfile
import typing
from pathlib import Path

import gradio as gr
from gradio import utils as gr_utils
from PIL import Image, UnidentifiedImageError

NOT_AN_IMAGE = "That file is not an image we can read. Upload a picture (JPEG, PNG, WebP, GIF or BMP)."
URL_NOT_FETCHED = "Could not download the picture at {url}: {why}. Send the picture itself instead: upload it, or " \
                  "pass a data URL (data:image/png;base64,...)."
URL_REFUSED = "the server fetches only public http(s) addresses, not localhost or private networks"
# uploads and outputs older than 10 minutes are deleted every 2 minutes: a long-running Space keeps bounded disk
DELETE_CACHE = (120, 600)
log = logging.getLogger("latentlab.app")


# appended to the description of every tool that takes a picture (the MCP server's tool list)
FILE_INPUTS_FOR_AGENTS = (" Pictures are passed as a data URL (data:image/png;base64,...) or a public http(s) URL that"
                          " the server can download.")  # fmt: skip


class UserError(gr.Error):
    """An expected user error (no face in the photo, a file that is not an image, a value out of range): shown to
    the user as one toast (or, to an API caller, as the message itself) and logged as one line on the
    ``latentlab.app`` logger (INFO), without Gradio's traceback. Unexpected errors are not this class and keep
    theirs.

    Args:
        message: what went wrong and what to do, in one or two sentences.
        title: the toast's title.
    """

    def __init__(self, message: str, title: str = "Error"):
        super().__init__(message, title=title, print_exception=False)
        log.info("%s: %s", title, message.replace("\n", " "))


class ImageUpload(gr.Image):
    """``gr.Image`` that opens uploads itself, so a file that is not an image gets a short message (:class:`UserError`)
    instead of Gradio's 'Could not preprocess input' text; returns the PIL image untouched (any size or mode)."""

    is_template = True  # rendered by the browser as the built-in Image component (no frontend of its own)

    async def async_move_resource_to_block_cache(self, url_or_file_path):
        """Gradio's download of a picture given as a URL (by an API caller or an agent), with a short message when
        it fails: Gradio refuses local and private addresses (SSRF protection) with a generic error."""
        try:
            return await super().async_move_resource_to_block_cache(url_or_file_path)
        except Exception as err:  # noqa: BLE001 - any failure to fetch: the caller learns why in one line
            if str(url_or_file_path).startswith(("http://", "https://")):
                # Gradio's SSRF guard (safehttpx) refuses local and private hosts with "Hostname … failed validation"
                why = URL_REFUSED if "failed validation" in str(err) else str(err) or type(err).__name__
                raise UserError(URL_NOT_FETCHED.format(url=url_or_file_path, why=why), title="Not downloaded") from None
            raise

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.path is None:  # a data: URL
            try:
                return super().preprocess(payload)
            except UNREADABLE:
                raise UserError(NOT_AN_IMAGE, title="Not an image") from None
        return open_picture(payload.path)


#: What Pillow raises for a file that is not a picture it can read (or one too large to be one).
UNREADABLE = (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError)


def open_picture(path) -> Image.Image:
    """The uploaded file at ``path`` as a PIL image, decoded (any size or mode). Raises UserError(:data:`NOT_AN_IMAGE`)
    for a file that is not a picture."""
    try:
        image = Image.open(path)
        image.load()
        return image
    except UNREADABLE:
        raise UserError(NOT_AN_IMAGE, title="Not an image") from None


def refuse_non_images(image: ImageUpload, *, clear=(), cleared=()) -> gr.events.Dependency:
    """When the user puts a file into ``image`` (an upload, a paste), check that it opens as a picture first: a file
    that does not (a text file renamed .jpg) gets :data:`NOT_AN_IMAGE` once and is taken out of the box, with the
    ``clear`` components set to ``cleared`` (their empty values), instead of a broken-image icon staying there.
    Returns the event to chain what the picture is for with ``.success``."""

    def check(payload) -> None:
        path = payload.get("path") if isinstance(payload, dict) else getattr(payload, "path", None)
        if path is not None:
            open_picture(path).close()

    checked = image.input(check, [image], None, preprocess=False, api_visibility="private")
    checked.failure(lambda: (None, *cleared) if clear else None, None, [image, *clear], api_visibility="private")
    return checked


class NumberMapping(gr.JSON):
    """``gr.JSON`` for a mapping name → number (e.g. attribute → strength), whose API schema says so: Gradio's own
    is ``{"type": {}}``, which no JSON Schema validator accepts, so an MCP client refuses every value. Its API
    takes the mapping or its JSON text."""

    is_template = True  # rendered by the browser as the built-in JSON component

    def api_info(self) -> dict:
        return {"anyOf": [{"type": "object", "additionalProperties": {"type": "number"}}, {"type": "string"}],
                "description": "a mapping name → number, or its JSON text"}  # fmt: skip


class Choice(gr.Radio):
    """``gr.Radio`` whose API schema gives its choices' own JSON type: Gradio's says ``"type": "string"`` whatever
    the choices are, so an agent's integer is refused as "not of type 'string'" and its string as "not one of"."""

    is_template = True  # rendered by the browser as the built-in Radio component

    def api_info(self) -> dict:
        values = [value for _, value in self.choices]
        kinds = {bool: "boolean", int: "integer", float: "number", str: "string"}
        kind = sorted({kinds.get(type(v), "string") for v in values}) or ["string"]
        return {"enum": values, "title": "Radio", "type": kind[0] if len(kind) == 1 else kind}


class OutputFiles:
    """The app's output pictures as files, each written once and atomically, named by its content.

    Why: Gradio saves a returned PIL image by rewriting ``<cache>/<hash>/image.png`` in place; when two visitors get
    the same picture at once (the same example faces), one request's file is rewritten while it is being sent and the
    download breaks ("Too little data for declared Content-Length"). Here each picture is encoded once, written to a
    temporary name and renamed into place (``os.replace``: a reader keeps the file it opened), and an existing file
    with the same content is reused, never rewritten. The folder lies inside Gradio's cache folder, so Gradio serves
    the files as they are and its ``delete_cache`` removes them with its own.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else Path(gr_utils.get_upload_folder()) / "latentlab"

    def write(self, data: bytes, name: str) -> str:
        """Store ``data`` as ``<root>/<sha256>/<name>``; returns the path (an existing copy is reused)."""
        folder = self.root / hashlib.sha256(data).hexdigest()[:40]
        path = folder / name
        if path.is_file():
            with contextlib.suppress(OSError):
                os.utime(path)  # delete_cache ages files by their time: a reused file starts again
            return str(path)
        folder.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
        return str(path)

    #: How each output format is encoded: lossless, at the encoder's fastest setting. For 36 sampled faces, lossless
    #: WebP (libwebp method 0) took about 60% of the time of PNG at ``compress_level=1``, into a file ~20% smaller.
    FORMATS = {"png": ("PNG", {"compress_level": 1}), "webp": ("WEBP", {"lossless": True, "method": 0, "quality": 0})}

    def image(self, image: Image.Image, image_format: str = "png", name: str = "image") -> str:
        """Store a PIL image as ``<name>.<image_format>`` (a key of :attr:`FORMATS`; KeyError otherwise)."""
        kind, options = self.FORMATS[image_format]
        buffer = io.BytesIO()
        image.save(buffer, kind, **options)
        return self.write(buffer.getvalue(), f"{name}.{image_format}")

    def files(self, fn, image_format: str = "png"):
        """Wrap a callback so every PIL image it returns (alone, or in a pair for an ImageSlider) is stored as a file
        of ``image_format`` (``"png"`` or ``"webp"``, both lossless; same signature, for the API). Raises KeyError
        for another format."""
        if image_format not in self.FORMATS:  # refused when wrapping, not at the first call
            raise KeyError(f"image_format must be one of {sorted(self.FORMATS)}, got {image_format!r}")
        store = functools.partial(self.image, image_format=image_format)

        def stored(value):  # a picture, or a pair of pictures (an ImageSlider's)
            if isinstance(value, Image.Image):
                return store(value)
            if isinstance(value, tuple) and value and all(isinstance(v, Image.Image) for v in value):
                return tuple(store(v) for v in value)
            return value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            return tuple(stored(r) for r in result) if isinstance(result, tuple) else stored(result)

        return wrapper


def ranges(limits: dict[str, tuple[float, float]]) -> dict[str, str]:
    """Each range of ``limits`` as the text a description states ("2 to 32"), under the same key: an endpoint's
    description states the range that its slider and :func:`check_range` accept, from one declaration."""
    return {key: f"{low:g} to {high:g}" for key, (low, high) in limits.items()}


def check_range(name: str, value: float, limits: tuple[float, float]) -> None:
    """UserError unless ``value`` lies in ``limits`` = (low, high), naming the input ``name``."""
    low, high = limits
    if not low <= value <= high:
        raise UserError(f"{name} must be between {low:g} and {high:g}, got {value:g}")


def choose(name: str, names: list[str], what: str) -> str:
    """``name`` if it is one of ``names``, else a UserError naming them (``what``: the kind of model)."""
    if name not in names:
        raise UserError(f"Pick one of the {what} models: {', '.join(names)} (got {name!r}).")
    return name


def _bind(fn, *args, fills: dict[str, str] | None = None):
    """``fn`` with its first arguments fixed to ``args`` (e.g. the labs), as Gradio should see it: the signature of
    the remaining parameters (the API's parameter names and defaults), ``fn``'s name (which names the endpoints
    without an ``api_name``) and its type hints, resolved (Gradio finds a ``gr.SelectData`` parameter by its hint).

    With ``fills``, ``fn`` is an endpoint and its docstring is the endpoint's description, on the API page and as the
    MCP server's tool description: written in Gradio's form (a description, then ``Args:`` and ``Returns:`` with one
    line per item), each ``<key>`` of ``fills`` replaced by its text (the served models, sizes, ranges). Without,
    the bound function has no docstring (an event of the page, not described to API callers).
    """
    bound = functools.partial(fn, *args)
    bound.__name__ = bound.__qualname__ = fn.__name__
    bound.__module__ = fn.__module__
    bound.__doc__ = None if fills is None else describe(fn, fills)
    bound.__annotations__ = typing.get_type_hints(fn)
    return bound


def describe(fn, fills: dict[str, str]) -> str:
    """Endpoint ``fn``'s description: its docstring without the indentation, each ``<key>`` of ``fills`` written
    out (see :func:`_bind`)."""
    doc = inspect.cleandoc(fn.__doc__ or "")
    for key, text in fills.items():
        doc = doc.replace(f"<{key}>", text)
    return doc


def mcp_tools_return_every_output() -> None:
    """Make the MCP server return each output of a queued endpoint as its own content (an image as an image, each
    picture of a before / after pair as an image), and describe picture inputs as this server takes them.

    Gradio 6.31's MCP server, when the agent sends no progress token, wraps the gradio_client result of a queued
    endpoint in a list (``[job.result()]``); an endpoint with several outputs returns a tuple, so the agent gets one
    text holding the tuple's repr instead of its pictures. With a progress token the server takes the event's output
    list and is right. This replaces that one method so both paths give the output list; it does nothing where the
    method is not there (another Gradio).
    """
    try:
        from anyio.to_thread import run_sync
        from gradio.mcp import GradioMCPServer
    except ImportError:  # pragma: no cover - gradio without its [mcp] extra
        return
    if not hasattr(GradioMCPServer, "_execute_tool_without_progress"):  # pragma: no cover - another Gradio
        return

    async def without_progress(self, job) -> list:
        result = await run_sync(job.result)
        return list(result) if isinstance(result, tuple) else [result]

    GradioMCPServer._execute_tool_without_progress = without_progress
    # Gradio tells agents to use an upload_file_to_gradio tool that this server does not list; say what works
    GradioMCPServer._file_data_tool_description = property(lambda self: FILE_INPUTS_FOR_AGENTS)
    if getattr(GradioMCPServer.postprocess_output_data, "latentlab_flattens", False):
        return
    one_by_one = GradioMCPServer.postprocess_output_data

    def pictures_of_a_pair_one_by_one(self, data, root_url):
        """An output that is a pair of files (an ImageSlider's before / after) becomes two outputs, so the agent
        gets two images instead of the text of a Python list."""
        from gradio_client import utils as client_utils

        flat = []
        for output in data:
            files = isinstance(output, (list, tuple)) and output and all(map(client_utils.is_file_obj_with_meta, output))
            flat.extend(output) if files else flat.append(output)
        return one_by_one(self, flat, root_url)

    pictures_of_a_pair_one_by_one.latentlab_flattens = True
    GradioMCPServer.postprocess_output_data = pictures_of_a_pair_one_by_one
