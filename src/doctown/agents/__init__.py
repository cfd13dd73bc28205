"""For coding agents: packs served over the Model Context Protocol (`doctown mcp`).

`answers` turns questions into compact text over a pack; `server` exposes them as MCP tools
with the official SDK. The SDK is the `mcp` extra, imported only here.
"""
