"""One language-agnostic extractor: runs a language's query over a file and keeps the facts.

A query file (`queries/<language>.scm`) tells the extractor what each piece of syntax means
through capture names; the extractor knows no grammar. The captures it reads:

    @definition.<kind>   a symbol (class, function, struct, interface, trait, enum, ...), with
      @name              its name
      @body              where its body starts (the signature is everything before)
      @doc               its docstring, when the language puts it inside the definition
      @owner             the type a method belongs to when declared outside it
      @base              a base class, implemented interface or embedded type (repeatable)
      @return_type       its declared return type
      @modifiers         the words that spell its visibility
    @call.name           the name a call calls, with @call.receiver for `x.name(...)`
    @import              an import, with @import.module, @import.name, @import.alias, or
                         @import.default (the local name of a default import), or
                         @import.require (the name a CommonJS `require` is bound to)
    @assign.target       a name given a value, with @assign.type (declared), @assign.call
                         (the callee of a call), @assign.new (a constructed type),
                         @assign.each (a loop variable over a name or call) or @assign.ref
                         (another name); none of them means "something else"
    @return              a `return`, with what it gives back: @return.call (a call),
                         @return.new, @return.ref (a name) or @return.none; none of them
                         means "something else"
    @param.name          a parameter, with @param.type; @param.self is the instance parameter
    @field.name          an attribute of the enclosing type, with @field.type
    @impl.type           `impl Trait for Type`, with @impl.trait
    @comment             a doc comment: one directly above a definition documents it
    @attribute           an attribute or annotation that may stand between the two
    @module.doc          the file's own docstring
    @package             the package or namespace the file declares
    @export.default      the name a module exports by default
"""

from __future__ import annotations

import bisect
import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tree_sitter import Node, Parser, Query, QueryCursor

from doctown.analysis import languages
from doctown.analysis.facts import (
    MODULE_SCOPE,
    TYPE_KINDS,
    Binding,
    CallSite,
    Definition,
    FileFacts,
    ImportFact,
)

# The target of a function's return values among its bindings.
RETURNED = "<return>"
# The imported "name" of a CommonJS require: everything the module exports.
REQUIRE = "module.exports"
# Bounds on what one fact may carry: the source is untrusted and may be adversarial.
MAX_NAME_CHARS = 200
MAX_EXPRESSION_CHARS = 300
MAX_SIGNATURE_CHARS = 2_000
MAX_DOC_CHARS = 20_000

_STRING_QUOTES = re.compile(r"""^[rRbBuUfF]{0,2}("{3}|'{3}|"|')(.*)\1$""", re.DOTALL)
_COMMENT_MARKERS = re.compile(r"^\s*(///?!?|/\*\*?|\*/|\*(?!/)|#+|--)?\s?")
_WHITESPACE = re.compile(r"\s+")


def _text(source: bytes, node: Node, limit: int) -> str:
    start = node.start_byte
    end = node.end_byte
    if end - start > limit * 4:  # four bytes per character at most, in UTF-8
        end = start + limit * 4
    return source[start:end].decode("utf-8", "replace")[:limit]


def _type(source: bytes, node: Node) -> str:
    """A type as written, whitespace collapsed: `&mut Foo` keeps the space `mut` needs."""
    return " ".join(_text(source, node, MAX_EXPRESSION_CHARS).split())


def _expression(source: bytes, node: Node) -> str:
    """An expression without insignificant whitespace, so `a .b` and `a.b` read the same.

    Whitespace between two words (`new Foo`) becomes one space; elsewhere it goes.
    """
    text = _text(source, node, MAX_EXPRESSION_CHARS)
    if " " not in text and "\n" not in text and "\t" not in text:
        return text
    return _WHITESPACE.sub(_keep_word_gap, text.strip())


def _keep_word_gap(match: re.Match[str]) -> str:
    text = match.string
    before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
    return " " if (before.isalnum() or before == "_") and (after.isalnum() or after == "_") else ""


def clean_docstring(literal: str) -> str | None:
    """The text of a string literal used as a docstring, dedented."""
    match = _STRING_QUOTES.match(literal.strip())
    text = match.group(2) if match else literal
    cleaned = inspect.cleandoc(text)[:MAX_DOC_CHARS]
    return cleaned or None


def clean_comment(lines: Iterable[str]) -> str | None:
    """The text of a doc comment without its markers (`///`, `/** */`, `*`, `#`, ...)."""
    kept = []
    for line in lines:
        stripped = line.rstrip()
        if stripped.endswith("*/"):
            stripped = stripped[:-2]
        kept.append(_COMMENT_MARKERS.sub("", stripped, count=1))
    cleaned = inspect.cleandoc("\n".join(kept)).strip()[:MAX_DOC_CHARS]
    return cleaned or None


def _signature(source: bytes, definition: Node, body: Node | None) -> str:
    end = body.start_byte if body is not None else definition.end_byte
    end = min(end, definition.start_byte + MAX_SIGNATURE_CHARS * 4)
    text = source[definition.start_byte : end].decode("utf-8", "replace")
    return text.rstrip().rstrip("{:=").rstrip()[:MAX_SIGNATURE_CHARS]


@dataclass(slots=True)
class _Draft:
    """A definition as the query's matches describe it, before it is numbered and scoped."""

    kind: str
    name: str
    start_line: int
    end_line: int
    signature: str
    docstring: str | None
    owner: str
    bases: tuple[str, ...]
    return_type: str
    modifiers: str

    def merge(self, other: _Draft) -> None:
        """Add what a second pattern over the same node saw and this one could not."""
        if other.signature:
            # Only a pattern that saw the body cut the signature short.
            self.signature = min(self.signature or other.signature, other.signature, key=len)
        self.bases = tuple(dict.fromkeys((*self.bases, *other.bases)))
        self.name = self.name or other.name
        self.docstring = self.docstring or other.docstring
        self.owner = self.owner or other.owner
        self.return_type = self.return_type or other.return_type
        self.modifiers = self.modifiers or other.modifiers


class _Extraction:
    """The facts of one file as matches arrive; `finish` puts them in scope order."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        # Keyed by span so that two patterns matching one definition merge into one symbol.
        self.definitions: dict[tuple[int, int], _Draft] = {}
        self.calls: list[tuple[int, str, str, int]] = []
        self.imports: list[tuple[int, str, str, str, int]] = []
        self.bindings: list[tuple[int, str, str, str]] = []
        self.implementations: list[tuple[str, str]] = []
        self.comments: list[tuple[int, int, str]] = []
        self.attributes: dict[int, int] = {}
        self.package = ""
        self.module_doc: str | None = None
        self.default_exports: list[str] = []

    def add(self, captures: dict[str, list[Node]]) -> None:
        source = self.source
        names = captures.get("call.name")
        if names is not None:
            # The callee's name stands for the call: same scope, same line, one node fewer.
            name = names[0]
            receiver = captures.get("call.receiver")
            self.calls.append(
                (
                    name.start_byte,
                    _text(source, name, MAX_NAME_CHARS),
                    _expression(source, receiver[0]) if receiver else "",
                    name.start_point[0] + 1,
                )
            )
            return
        if "assign.target" in captures:
            self._add_binding(captures)
            return
        if "return" in captures:
            self._add_return(captures)
            return
        for key in captures:
            if key.startswith("definition."):
                self._add_definition(key[len("definition.") :], captures)
                return
        if "import" in captures:
            self._add_import(captures)
        elif "param.name" in captures:
            # An untyped parameter still shadows outer names, though its value is unknown.
            node = captures["param.name"][0]
            declared = captures.get("param.type")
            form, value = ("type", _type(source, declared[0])) if declared else ("param", "")
            self.bindings.append(
                (node.start_byte, _text(source, node, MAX_NAME_CHARS), form, value)
            )
        elif "param.self" in captures:
            node = captures["param.self"][0]
            self.bindings.append((node.start_byte, _text(source, node, MAX_NAME_CHARS), "self", ""))
        elif "field.name" in captures:
            node = captures["field.name"][0]
            field_type = _type(source, captures["field.type"][0])
            self.bindings.append(
                (node.start_byte, _text(source, node, MAX_NAME_CHARS), "field", field_type)
            )
        elif "comment" in captures:
            for node in captures["comment"]:
                text = _text(source, node, MAX_DOC_CHARS)
                # Some grammars end a line comment after its newline, on the next line.
                row, column = node.end_point
                end = row + 1 if column else row
                self.comments.append((node.start_point[0] + 1, end, text))
        elif "attribute" in captures:
            node = captures["attribute"][0]
            self.attributes[node.end_point[0] + 1] = node.start_point[0] + 1
        elif "impl.type" in captures:
            self.implementations.append(
                (
                    _type(source, captures["impl.type"][0]),
                    _type(source, captures["impl.trait"][0]),
                )
            )
        elif "module.doc" in captures:
            self.module_doc = clean_docstring(
                _text(source, captures["module.doc"][0], MAX_DOC_CHARS)
            )
        elif "package" in captures:
            self.package = _expression(source, captures["package"][0])
        elif "export.default" in captures:
            self.default_exports.append(
                _text(source, captures["export.default"][0], MAX_NAME_CHARS)
            )

    def _add_binding(self, captures: dict[str, list[Node]]) -> None:
        source = self.source
        target = captures["assign.target"][0]
        form, value = "unknown", ""
        for key in ("assign.type", "assign.new", "assign.call", "assign.each", "assign.ref"):
            if key in captures:
                text = _type if key == "assign.type" else _expression
                form, value = key[len("assign.") :], text(source, captures[key][0])
                break
        self.bindings.append((target.start_byte, _expression(source, target), form, value))

    def _add_return(self, captures: dict[str, list[Node]]) -> None:
        if "return.none" in captures:
            return  # `return None` makes any type optional, not another type
        statement = captures["return"][0]
        for key in ("return.call", "return.new", "return.ref"):
            if key in captures:
                value = _expression(self.source, captures[key][0])
                self.bindings.append((statement.start_byte, RETURNED, key[len("return.") :], value))
                return
        self.bindings.append((statement.start_byte, RETURNED, "unknown", ""))

    def _add_import(self, captures: dict[str, list[Node]]) -> None:
        source = self.source
        statement = captures["import"][0]

        def first(key: str) -> str:
            # Whitespace is collapsed, not removed: `use a::{b as c}` needs its spaces.
            nodes = captures.get(key)
            return " ".join(_text(source, nodes[0], MAX_EXPRESSION_CHARS).split()) if nodes else ""

        # A default import binds the module's default export under a local name; a
        # CommonJS require binds whatever the module exports.
        default = first("import.default")
        required = first("import.require")
        if default:
            name, alias = "default", default
        elif required:
            name, alias = REQUIRE, required
        else:
            name, alias = first("import.name"), first("import.alias")
        self.imports.append(
            (
                statement.start_byte,
                first("import.module").strip("\"'`"),
                name,
                alias,
                statement.start_point[0] + 1,
            )
        )

    def _add_definition(self, kind: str, captures: dict[str, list[Node]]) -> None:
        source = self.source
        node = captures[f"definition.{kind}"][0]
        name_nodes = captures.get("name")
        if not name_nodes:
            return
        key = (node.start_byte, node.end_byte)
        body = captures.get("body")
        doc = captures.get("doc")
        draft = _Draft(
            kind=kind,
            name=_text(source, name_nodes[0], MAX_NAME_CHARS),
            start_line=node.start_point[0] + 1,
            end_line=node.end_point[0] + 1,
            signature=_signature(source, node, body[0] if body else None),
            docstring=clean_docstring(_text(source, doc[0], MAX_DOC_CHARS)) if doc else None,
            owner=_type(source, captures["owner"][0]) if "owner" in captures else "",
            bases=tuple(_type(source, base) for base in captures.get("base", ())),
            return_type=(
                _type(source, captures["return_type"][0]) if "return_type" in captures else ""
            ),
            modifiers=" ".join(_text(source, m, 100) for m in captures.get("modifiers", ())),
        )
        existing = self.definitions.get(key)
        if existing is None:
            self.definitions[key] = draft
        else:
            existing.merge(draft)

    def finish(self, language: str, syntax_errors: int) -> FileFacts:
        spans = sorted(self.definitions, key=lambda span: (span[0], -span[1]))
        starts = [span[0] for span in spans]
        parents: list[int] = []
        stack: list[int] = []
        for index, (start, _end) in enumerate(spans):
            while stack and spans[stack[-1]][1] <= start:
                stack.pop()
            parents.append(stack[-1] if stack else MODULE_SCOPE)
            stack.append(index)

        def scope_of(position: int) -> int:
            index = bisect.bisect_right(starts, position) - 1
            while index != MODULE_SCOPE and spans[index][1] <= position:
                index = parents[index]
            return index

        instance_parameters = {at for at, _t, form, _v in self.bindings if form == "self"}
        docs = self._doc_comments()
        definitions = []
        for index, span in enumerate(spans):
            draft = self.definitions[span]
            parent = parents[index]
            kind = draft.kind
            if kind == "function" and (
                parent != MODULE_SCOPE and self.definitions[spans[parent]].kind in TYPE_KINDS
            ):
                kind = "method"
            docstring = draft.docstring
            if docstring is None:
                docstring = docs.get(self._doc_line(draft.start_line))
            definitions.append(
                Definition(
                    kind=kind,
                    name=draft.name,
                    start_byte=span[0],
                    end_byte=span[1],
                    start_line=draft.start_line,
                    end_line=draft.end_line,
                    signature=draft.signature,
                    docstring=docstring,
                    owner=draft.owner,
                    bases=draft.bases,
                    return_type=draft.return_type,
                    modifiers=draft.modifiers,
                    parent=parent,
                )
            )
        return FileFacts(
            language=language,
            definitions=tuple(definitions),
            calls=tuple(
                CallSite(scope_of(at), name, receiver, line)
                for at, name, receiver, line in self.calls
            ),
            imports=tuple(
                ImportFact(scope_of(at), module, name, alias, line)
                for at, module, name, alias, line in self.imports
            ),
            bindings=tuple(
                Binding(scope_of(at), target, form, value)
                for at, target, form, value in self.bindings
                # The instance parameter is also a plain parameter; `self` says more.
                if not (form == "param" and at in instance_parameters)
            ),
            implementations=tuple(self.implementations),
            package=self.package,
            module_doc=self.module_doc,
            default_exports=tuple(self.default_exports),
            syntax_errors=syntax_errors,
        )

    def _doc_line(self, start_line: int) -> int:
        """The line a doc comment must end on to document a definition starting here."""
        line = start_line - 1
        while line in self.attributes:
            line = self.attributes[line] - 1
        return line

    def _doc_comments(self) -> dict[int, str | None]:
        """Contiguous comment blocks, keyed by the line each ends on."""
        blocks: dict[int, str | None] = {}
        group: list[str] = []
        last_end = -2
        for start, end, text in sorted(self.comments):
            if start != last_end + 1 and group:
                blocks[last_end] = clean_comment("\n".join(group).splitlines())
                group = []
            group.append(text.rstrip("\n"))
            last_end = end
        if group:
            blocks[last_end] = clean_comment("\n".join(group).splitlines())
        return blocks


def extract(source: bytes, language: str) -> FileFacts:
    """Parse one file and return its facts. Never executes or imports the source.

    The source is untrusted: should anything in it break the extractor, the file yields no
    facts and says why, and the rest of the repository is analysed as usual.
    """
    # A broken grammar or query is our fault, not the file's: it raises from here.
    parser = Parser(languages.grammar(language))
    query = languages.query(language)
    try:
        return _extract(parser, query, source, language)
    except (ValueError, TypeError, IndexError, KeyError, UnicodeError, RecursionError) as exc:
        return FileFacts(language, (), (), (), (), (), "", None, (), 0, type(exc).__name__)


def _extract(parser: Parser, query: Query, source: bytes, language: str) -> FileFacts:
    tree = parser.parse(source)
    cursor = QueryCursor(query)
    extraction = _Extraction(source)
    for _pattern, captures in cursor.matches(tree.root_node):
        extraction.add(captures)
    root = tree.root_node
    errors = _count_errors(root) if root.has_error else 0
    return extraction.finish(language, errors)


def _count_errors(root: Node) -> int:
    """How many syntax errors the parser recovered from (bounded: only counts top levels)."""
    return sum(1 for child in root.children if child.has_error or child.is_missing) or 1
