"""The served app as an MCP server, talked to by the official ``mcp`` Python client over streamable HTTP, as an LLM
agent would: the tools are listed with their descriptions, and sample and edit_many return pictures."""

import asyncio
import base64
import io

import pytest
from PIL import Image

from .conftest import FACES

mcp = pytest.importorskip("mcp", reason="the MCP client comes with gradio[mcp]")
from mcp.client.streamable_http import streamable_http_client  # noqa: E402


def _images(result) -> list[Image.Image]:
    """The pictures of an MCP tool result (its ``image`` contents, base64 PNG / WebP)."""
    return [Image.open(io.BytesIO(base64.b64decode(c.data))) for c in result.content if c.type == "image"]


def test_an_agent_lists_the_tools_and_gets_faces_from_two_of_them(served_app):
    face = "data:image/png;base64," + base64.b64encode(FACES[3].read_bytes()).decode()

    async def ignore(*progress):
        pass

    async def talk():
        async with streamable_http_client(served_app + "gradio_api/mcp/") as (read, write, _):
            async with mcp.ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                sampled = await session.call_tool("sample", {"seed": 5, "count": 4, "temperature": 0.8})
                edited = await session.call_tool("edit_many", {"face": face, "edits": {"Smiling": 1.5, "Young": -1}})
                refused = await session.call_tool("edit_many", {"face": face, "edits": {"Sunglasses": 1}})
                # an agent that asks for progress reports: the server's other path gives the same pictures
                followed = await session.call_tool("sample", {"seed": 5, "count": 4, "temperature": 0.8},
                                                   progress_callback=ignore)
        return {t.name: t for t in tools}, sampled, edited, refused, followed

    tools, sampled, edited, refused, followed = asyncio.run(talk())
    faces = {"morph", "edit", "edit_many", "align", "sample"}
    digits = {"plane", "interpolate", "generate", "compare_conditional", "novelty"}
    assert faces | digits <= set(tools), sorted(tools)
    assert "preview_upload" not in tools and "pick_face" not in tools  # the page's own events are not tools
    # every tool says what it does and what each argument is, with the served models named
    edit_many = tools["edit_many"]
    assert edit_many.description.startswith("Edit several attributes of one face at once")
    properties = edit_many.inputSchema["properties"]
    assert {"face", "edits", "keep", "independent", "model", "face_number"} <= set(properties)
    assert "celeba-vae-64 (default)" in properties["model"]["description"]
    assert all(tools[name].description for name in faces | digits)

    assert not sampled.isError and not edited.isError, (sampled.content, edited.content)
    [grid] = _images(sampled)
    assert grid.size == (4 * 66 + 2, 68)  # 4 faces of 64 px in a row, 2-px gaps
    edited_face, comparison = _images(edited)
    assert edited_face.size == (192, 192) and comparison.size == ((3 * 66 + 2) * 3, 68 * 3)
    assert any("Sampled from" in c.text for c in sampled.content if c.type == "text")  # the line naming the prior
    assert refused.isError and "Unknown attribute(s): Sunglasses" in str(refused.content)
    assert [im.tobytes() for im in _images(followed)] == [grid.tobytes()]


def test_every_tool_works_at_both_ends_of_every_range_it_states(served_app):
    """Each tool the server lists, called with every numeric argument at each end of the range its own description
    states ("a to b"), the others at their defaults (a picture: an example face as a data URL): no call fails.
    Then what the descriptions promise beyond ranges: optional inputs left out, integer choices as integers,
    every output an image or plain text, and a picture URL the server may not fetch refused in one clear line."""
    import json
    import re

    face = "data:image/png;base64," + base64.b64encode(FACES[3].read_bytes()).decode()

    def base_arguments(schema):
        arguments = {}
        for name, spec in schema["properties"].items():
            if spec.get("format", "").startswith("Gradio File Input") and name in schema.get("required", []):
                arguments[name] = face
            elif name in schema.get("required", []) or "default" not in spec:
                arguments[name] = spec["enum"][0] if "enum" in spec else {"integer": 0, "number": 0}.get(spec.get("type"))
        return {k: v for k, v in arguments.items() if v is not None}

    async def walk():
        calls = []
        async with streamable_http_client(served_app + "gradio_api/mcp/") as (read, write, _):
            async with mcp.ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                for tool in tools:
                    schema = tool.inputSchema
                    for name, spec in schema["properties"].items():
                        stated = re.search(r"(-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)", spec.get("description", ""))
                        if stated is None:
                            continue
                        for end in (float(stated[1]), float(stated[2])):
                            value = int(end) if spec.get("type") == "integer" or end.is_integer() else end
                            arguments = {**base_arguments(schema), name: value}
                            if name == "edits":  # a mapping of strengths: the range is each strength's
                                arguments[name] = {"Smiling": value}
                            result = await session.call_tool(tool.name, arguments)
                            calls.append((tool.name, arguments, result))
                extra = {
                    "novelty without an upload": await session.call_tool("novelty", {}),
                    "compare_conditional, z_dim 5": await session.call_tool("compare_conditional", {"index": 1, "z_dim": 5}),
                    "edit": await session.call_tool("edit", {"face": face, "keep_person": False}),
                    "local URL": await session.call_tool("edit", {"face": served_app + "gradio_api/file=x.png"}),
                }
        return {t.name: t for t in tools}, calls, extra

    tools, calls, extra = asyncio.run(walk())
    assert len(calls) >= 30 and {name for name, *_ in calls} >= {"morph", "edit", "sample", "interpolate", "novelty"}
    failed = [(name, json.dumps({k: v for k, v in args.items() if v != face}), str(r.content)[:200])
              for name, args, r in calls if r.isError]  # fmt: skip
    assert not failed, failed
    for name, _, result in calls:  # every output an image or plain text, never a Python object's repr
        assert all(c.type == "image" or not c.text.lstrip().startswith(("(", "[", "{'")) for c in result.content), name
    for name, result in list(extra.items())[:3]:
        assert not result.isError, (name, result.content)
    assert len(_images(extra["edit"])) == 4  # comparison, sweep, and the before / after pair as two pictures
    assert extra["local URL"].isError and "public http(s) addresses" in str(extra["local URL"].content)
    assert all("upload_file_to_gradio" not in t.description for t in tools.values())
