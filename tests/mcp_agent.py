"""An MCP agent for the tests: the official ``mcp`` client (2.x, the line agents run today) over streamable HTTP.

It runs in its own virtual environment (``tests/mcp-client-requirements.txt``), apart from the app's, whose
``gradio[mcp]`` holds the server side to ``mcp`` 1.x. Usage::

    python tests/mcp_agent.py URL < calls.json > results.json

``calls.json`` is a list of ``{"tool": name, "arguments": {...}, "progress": bool}``; the output is
``{"client": version, "tools": [Tool, ...], "results": [CallToolResult, ...]}`` in the protocol's JSON field names,
one result per call, in order. ``progress`` asks the server for progress notifications (its other code path).
"""

import asyncio
import json
import sys
from importlib.metadata import version

from mcp import Client


async def talk(url: str, calls: list[dict]) -> dict:
    async def ignore(*progress):
        pass

    async with Client(url) as client:
        tools = (await client.list_tools()).tools
        results = []
        for call in calls:
            result = await client.call_tool(call["tool"], call.get("arguments", {}),
                                            progress_callback=ignore if call.get("progress") else None)
            results.append(result.model_dump(mode="json", by_alias=True, exclude_none=True))
    return {"client": version("mcp"), "tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools],
            "results": results}


if __name__ == "__main__":
    json.dump(asyncio.run(talk(sys.argv[1], json.load(sys.stdin))), sys.stdout)
