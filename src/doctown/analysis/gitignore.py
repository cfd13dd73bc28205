""".gitignore patterns, matched in time linear in the path for each pattern.

Ignore files come from the repository, so a pattern is hostile input: translated naively to
a regular expression, `a*a*a*a*a*a*a*ab` backtracks exponentially. Here each `*` gives up
its choice once the next fixed piece is found (the leftmost place is always a right place
for a glob, whose pieces between stars have a fixed length), through atomic groups, and
`**` segments are matched by the same rule over path segments. A line that is not a valid
pattern raises InvalidPatternError, so the caller can skip it and say so.

Semantics follow git: `#` comments, `!` negation, a trailing `/` for folders only, a slash
at the start or in the middle anchors the pattern to its file's folder, `*` and `?` never
match `/`, `[...]` classes (with `!`/`^` and POSIX names), `\\` escapes, `**/`, `/**/`, and
a trailing `/**` for everything inside a folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_PATTERN_CHARS = 512

# Git's POSIX classes, as the ASCII sets they name.
_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


class InvalidPatternError(ValueError):
    """A line of an ignore file that is not a pattern git could match."""


class _GlobStar:
    """`**` as a whole segment: any number of path segments (zero or more)."""


GLOBSTAR: Final = _GlobStar()
_ANY_SEGMENT = re.compile(r"[^/]+")

Segment = re.Pattern[str] | _GlobStar


@dataclass(frozen=True)
class IgnorePattern:
    """One pattern of an ignore file, ready to match paths relative to that file's folder."""

    line: str
    negated: bool
    directory_only: bool
    anchored: bool
    segments: tuple[Segment, ...]

    def matches(self, path: str, *, is_dir: bool) -> bool:
        """Whether the pattern matches `path` (relative, `/`-separated, no trailing slash)."""
        if self.directory_only and not is_dir:
            return False
        if not self.anchored:
            name = path.rpartition("/")[2]
            segment = self.segments[0]
            return isinstance(segment, re.Pattern) and segment.fullmatch(name) is not None
        return _match_segments(self.segments, path.split("/"))


def parse_pattern(line: str) -> IgnorePattern | None:
    """The pattern on one line of an ignore file; None for blank lines and comments."""
    text = line.rstrip("\n").rstrip("\r")
    text = _strip_trailing_spaces(text)
    if not text or text.startswith("#"):
        return None
    if len(text) > MAX_PATTERN_CHARS:
        raise InvalidPatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    directory_only = text.endswith("/") and not text.endswith("\\/")
    if directory_only:
        text = text.rstrip("/")
    if not text:
        raise InvalidPatternError("an empty pattern")
    anchored = "/" in text
    text = text.removeprefix("/")
    if not anchored:
        return IgnorePattern(line, negated, directory_only, False, (_compile_segment(text),))
    parts = text.split("/")
    segments: list[Segment] = []
    for index, part in enumerate(parts):
        if part == "**":
            if index == len(parts) - 1:  # `dir/**`: everything inside, not the folder itself
                segments.append(_ANY_SEGMENT)
            if not segments or segments[-1] is not GLOBSTAR:
                segments.append(GLOBSTAR)
        elif part:
            segments.append(_compile_segment(part))
        else:
            raise InvalidPatternError("an empty path segment ('//')")
    return IgnorePattern(line, negated, directory_only, True, tuple(segments))


def _strip_trailing_spaces(text: str) -> str:
    """Trailing spaces are dropped unless escaped with a backslash."""
    end = len(text)
    while end and text[end - 1] == " " and not (end >= 2 and text[end - 2] == "\\"):
        end -= 1
    return text[:end]


def _compile_segment(glob: str) -> re.Pattern[str]:
    """A regular expression for one segment's glob, with each star's choice made atomic.

    `C0*C1*...*Ck` becomes `C0(?>[^/]*?C1)...(?>[^/]*?Ck-1)[^/]*Ck`: each middle piece is
    taken at its leftmost place and never reconsidered, so matching costs at most the
    length of the name times the length of the pattern.
    """
    pieces: list[list[str]] = [[]]
    position = 0
    while position < len(glob):
        char = glob[position]
        if char == "*":
            while position < len(glob) and glob[position] == "*":
                position += 1
            pieces.append([])
            continue
        if char == "?":
            pieces[-1].append("[^/]")
        elif char == "[":
            regex, position = _character_class(glob, position)
            pieces[-1].append(regex)
            continue
        elif char == "\\":
            if position + 1 == len(glob):
                raise InvalidPatternError("a trailing backslash escapes nothing")
            position += 1
            pieces[-1].append(re.escape(glob[position]))
        else:
            pieces[-1].append(re.escape(char))
        position += 1
    chunks = ["".join(piece) for piece in pieces]
    if len(chunks) == 1:
        return re.compile(chunks[0], re.DOTALL)
    middle = "".join(f"(?>[^/]*?{chunk})" for chunk in chunks[1:-1] if chunk)
    return re.compile(f"{chunks[0]}{middle}[^/]*{chunks[-1]}", re.DOTALL)


def _character_class(glob: str, start: int) -> tuple[str, int]:
    """The regex for the class `[...]` that opens at `start`, and the index after it."""
    position = start + 1
    negated = position < len(glob) and glob[position] in "!^"
    if negated:
        position += 1
    members: list[str] = []
    first = True
    while True:
        if position >= len(glob):
            raise InvalidPatternError("a '[' class is never closed")
        char = glob[position]
        if char == "]" and not first:
            position += 1
            break
        first = False
        if glob.startswith("[:", position):
            end = glob.find(":]", position + 2)
            name = glob[position + 2 : end] if end != -1 else ""
            if name not in _POSIX_CLASSES:
                raise InvalidPatternError(f"unknown character class '[:{name}:]'")
            members.append(_POSIX_CLASSES[name])
            position = end + 2
            continue
        if char == "\\" and position + 1 < len(glob):
            position += 1
            char = glob[position]
        if position + 2 < len(glob) and glob[position + 1] == "-" and glob[position + 2] != "]":
            low, high = char, glob[position + 2]
            if high == "\\" and position + 3 < len(glob):
                high = glob[position + 3]
                position += 1
            if low > high:
                raise InvalidPatternError(f"the range '{low}-{high}' is reversed")
            members.append(f"{re.escape(low)}-{re.escape(high)}")
            position += 3
            continue
        members.append(re.escape(char))
        position += 1
    body = "".join(members)
    # A class never matches '/', negated or not.
    return (f"[^/{body}]" if negated else f"(?:(?!/)[{body}])"), position


def _match_segments(pattern: tuple[Segment, ...], parts: list[str]) -> bool:
    """Whether path segments `parts` match `pattern`, `**` being any number of segments.

    The classic wildcard algorithm over segments: on a mismatch, only the latest `**` takes
    one more segment, so the work is bounded by segments times pattern length.
    """
    p = t = 0
    star, mark = -1, 0
    while t < len(parts):
        if p < len(pattern) and pattern[p] is GLOBSTAR:
            star, mark = p, t
            p += 1
        elif p < len(pattern) and _segment_matches(pattern[p], parts[t]):
            p += 1
            t += 1
        elif star != -1:
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    while p < len(pattern) and pattern[p] is GLOBSTAR:
        p += 1
    return p == len(pattern)


def _segment_matches(segment: Segment, part: str) -> bool:
    return isinstance(segment, re.Pattern) and segment.fullmatch(part) is not None
