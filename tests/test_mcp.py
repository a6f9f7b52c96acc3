"""The served app as an MCP server, talked to as an LLM agent would: by the official ``mcp`` client (the 2.x line,
in its own virtual environment: ``tests/mcp_agent.py``) over streamable HTTP. The tools are listed with their
descriptions, every tool works across the ranges it states, and the pictures arrive as pictures."""

import base64
import io
import json
import re
import subprocess
import venv

import pytest
from PIL import Image

from .conftest import FACES, REPO

FACE = "data:image/png;base64," + base64.b64encode(FACES[3].read_bytes()).decode()


@pytest.fixture(scope="module")
def agent(served_app, tmp_path_factory):
    """Call the served app's MCP tools with the current ``mcp`` client: ``agent(calls)`` takes a list of
    ``{"tool", "arguments", "progress"}`` and returns ``(tools by name, results)`` as the protocol's JSON."""
    env = tmp_path_factory.mktemp("mcp-client")
    venv.create(env, with_pip=True)
    python = str(env / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "-r", str(REPO / "tests" / "mcp-client-requirements.txt")],
                   check=True, capture_output=True)  # fmt: skip

    def call(calls: list[dict]) -> tuple[dict, list[dict]]:
        done = subprocess.run([python, str(REPO / "tests" / "mcp_agent.py"), served_app + "gradio_api/mcp/"],
                              input=json.dumps(calls), capture_output=True, text=True, timeout=900)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout)
        assert out["client"].startswith("2."), out["client"]
        return {t["name"]: t for t in out["tools"]}, out["results"]

    return call


def _images(result: dict) -> list[Image.Image]:
    """The pictures of an MCP tool result (its ``image`` contents, base64 PNG / WebP)."""
    return [Image.open(io.BytesIO(base64.b64decode(c["data"]))) for c in result["content"] if c["type"] == "image"]


def _text(result: dict) -> str:
    return "\n".join(c["text"] for c in result["content"] if c["type"] == "text")


def test_an_agent_lists_the_tools_and_gets_faces_from_two_of_them(agent):
    sample = {"tool": "sample", "arguments": {"seed": 5, "count": 4, "temperature": 0.8}}
    tools, (sampled, edited, refused, followed) = agent([
        sample,
        {"tool": "edit_many", "arguments": {"face": FACE, "edits": {"Smiling": 1.5, "Young": -1}}},
        {"tool": "edit_many", "arguments": {"face": FACE, "edits": {"Sunglasses": 1}}},
        # an agent that asks for progress reports: the server's other path gives the same pictures
        {**sample, "progress": True},
    ])  # fmt: skip
    faces = {"morph", "edit", "edit_many", "align", "sample"}
    digits = {"plane", "interpolate", "generate", "compare_conditional", "novelty"}
    assert faces | digits <= set(tools), sorted(tools)
    assert "preview_upload" not in tools and "pick_face" not in tools  # the page's own events are not tools
    # every tool says what it does and what each argument is, with the served models named
    edit_many = tools["edit_many"]
    assert edit_many["description"].startswith("Edit several attributes of one face at once")
    properties = edit_many["inputSchema"]["properties"]
    assert {"face", "edits", "keep", "independent", "model", "face_number"} <= set(properties)
    assert "celeba-vae-64 (default)" in properties["model"]["description"]
    assert all(tools[name]["description"] for name in faces | digits)

    assert not sampled.get("isError") and not edited.get("isError"), (sampled, edited)
    [grid] = _images(sampled)
    assert grid.size == (4 * 66 + 2, 68)  # 4 faces of 64 px in a row, 2-px gaps
    edited_face, comparison = _images(edited)
    assert edited_face.size == (192, 192) and comparison.size == ((3 * 66 + 2) * 3, 68 * 3)
    assert "Sampled from" in _text(sampled)  # the line naming the prior
    assert refused.get("isError") and "Unknown attribute(s): Sunglasses" in _text(refused)
    assert [im.tobytes() for im in _images(followed)] == [grid.tobytes()]


def test_every_tool_works_at_both_ends_of_every_range_it_states(agent, served_app):
    """Each tool the server lists, called with every numeric argument at each end of the range its own description
    states ("a to b"), the others at their defaults (a picture: an example face as a data URL): no call fails.
    Then what the descriptions promise beyond ranges: optional inputs left out, integer choices as integers,
    every output an image or plain text, and a picture URL the server may not fetch refused in one clear line."""

    def base_arguments(schema):
        arguments = {}
        for name, spec in schema["properties"].items():
            if spec.get("format", "").startswith("Gradio File Input") and name in schema.get("required", []):
                arguments[name] = FACE
            elif name in schema.get("required", []) or "default" not in spec:
                arguments[name] = spec["enum"][0] if "enum" in spec else {"integer": 0, "number": 0}.get(spec.get("type"))
        return {k: v for k, v in arguments.items() if v is not None}

    tools, _ = agent([])
    calls = []
    for tool in tools.values():
        schema = tool["inputSchema"]
        for name, spec in schema["properties"].items():
            stated = re.search(r"(-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)", spec.get("description", ""))
            if stated is None:
                continue
            for end in (float(stated[1]), float(stated[2])):
                value = int(end) if spec.get("type") == "integer" or end.is_integer() else end
                arguments = {**base_arguments(schema), name: value}
                if name == "edits":  # a mapping of strengths: the range is each strength's
                    arguments[name] = {"Smiling": value}
                calls.append({"tool": tool["name"], "arguments": arguments})
    extra = {
        "novelty without an upload": {"tool": "novelty", "arguments": {}},
        "compare_conditional, z_dim 5": {"tool": "compare_conditional", "arguments": {"index": 1, "z_dim": 5}},
        "edit": {"tool": "edit", "arguments": {"face": FACE, "keep_person": False}},
        "local URL": {"tool": "edit", "arguments": {"face": served_app + "gradio_api/file=x.png"}},
    }
    _, results = agent(calls + list(extra.values()))
    extra = dict(zip(extra, results[len(calls):]))
    results = results[: len(calls)]

    assert len(calls) >= 30 and {call["tool"] for call in calls} >= {"morph", "edit", "sample", "interpolate", "novelty"}
    failed = [(call["tool"], json.dumps({k: v for k, v in call["arguments"].items() if v != FACE}), _text(r)[:200])
              for call, r in zip(calls, results) if r.get("isError")]  # fmt: skip
    assert not failed, failed
    for call, result in zip(calls, results):  # every output an image or plain text, never a Python object's repr
        texts = [c["text"] for c in result["content"] if c["type"] == "text"]
        assert not any(t.lstrip().startswith(("(", "[", "{'")) for t in texts), call["tool"]
    for name, result in list(extra.items())[:3]:
        assert not result.get("isError"), (name, result["content"])
    assert len(_images(extra["edit"])) == 4  # comparison, sweep, and the before / after pair as two pictures
    assert extra["local URL"].get("isError") and "public http(s) addresses" in _text(extra["local URL"])
    assert all("upload_file_to_gradio" not in t["description"] for t in tools.values())
