"""What `inspect`, `query` and `search` share: terminal-safe text and the JSON shape of a symbol.

A pack is untrusted, and so is every string in it: a summary could carry escape sequences that
rewrite the terminal, or rich markup. Text from a pack is shown through `safe` and `Text`,
never as markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from doctown.docpack import Symbol

_CONTROL = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if chr(code) not in "\n\t"
}
# Bidirectional overrides can make text read differently from what it is.
_BIDI = {code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_UNSAFE = _CONTROL | _BIDI


def safe(text: str) -> str:
    """`text` with control characters and bidi overrides shown as escapes."""
    return text.translate(_UNSAFE)


def location(symbol: Symbol) -> str:
    """`file:line` when the pack knows the line, else the file."""
    if symbol.line_range is not None:
        return f"{symbol.file_path}:{symbol.line_range[0]}"
    return symbol.file_path


def display_name(symbol: Symbol) -> str:
    """The qualified name when there is one, else the name."""
    return symbol.qualified_name or symbol.name


def brief(symbol: Symbol) -> dict[str, Any]:
    """A symbol in one line's worth of JSON: for candidate lists and search results."""
    return {
        "id": symbol.id,
        "name": symbol.name,
        "qualified_name": symbol.qualified_name,
        "kind": symbol.kind,
        "location": location(symbol),
        "status": symbol.documentation.status,
        "summary": symbol.documentation.summary,
    }


def stdout_console() -> Console:
    """Where results go; highlighting is off so pack text is shown as it is."""
    return Console(highlight=False)
