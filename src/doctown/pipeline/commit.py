"""The HEAD commit of a work tree, read from `.git` without running git.

Running git inside a folder someone else prepared runs whatever that folder's configuration
names (`gpg.program` with `log.showSignature`, `core.fsmonitor`, ...). This reader only reads:
HEAD, the loose refs and packed-refs, and the commit object, loose or in a pack (deltas
included). Every file is opened without following a final symbolic link, must be a regular
file, and is read within a bound. Anything it does not understand (reftable refs, an object
it cannot find, a damaged file) gives no commit rather than an error: the commit only dates
and labels the pack.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

MAX_SMALL_FILE_BYTES = 64 * 1024
MAX_PACKED_REFS_BYTES = 64 * 1024 * 1024
MAX_OBJECT_BYTES = 1024 * 1024
MAX_DELTA_DEPTH = 64
MAX_SYMREF_HOPS = 5
MAX_PACKS = 1_000
_HEX = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_REF_NAME = re.compile(r"refs/[A-Za-z0-9._/+-]{1,250}")
_COMMIT, _OFS_DELTA, _REF_DELTA = 1, 6, 7
_IDX_MAGIC = b"\377tOc"


@dataclass(frozen=True)
class HeadCommit:
    """HEAD's hash, and its committer time when the commit object could be read."""

    hash: str
    time: datetime | None


class _Unreadable(Exception):
    """A git file is missing, not a regular file, too large or not what it should be."""


# What a missing, truncated or hostile file can raise while it is parsed.
_DAMAGED = (_Unreadable, OSError, ValueError, IndexError, struct.error, zlib.error)


def read_head_commit(root: Path) -> HeadCommit | None:
    """HEAD of the work tree at `root`, or None when it is not one or cannot be read."""
    try:
        repository = _Repository.at(root)
        if repository is None:
            return None
        commit = repository.head()
        if commit is None:
            return None
        try:
            when = _committer_time(repository.object(commit))
        except _DAMAGED:
            when = None
        return HeadCommit(commit, when)
    except _DAMAGED:
        return None


@dataclass(frozen=True)
class GitDirs:
    """Where a work tree's git data lives: its own directory (HEAD) and the common one (refs,
    packed-refs, objects), which differ for a linked work tree."""

    git_dir: Path
    common_dir: Path


def find_git_dirs(root: Path) -> GitDirs | None:
    """The git directories of the work tree at `root`, or None when it is not the top of one."""
    try:
        repository = _Repository.at(root)
    except _DAMAGED:
        return None
    return GitDirs(repository.git_dir, repository.common_dir) if repository else None


def _read(path: Path, limit: int) -> bytes:
    """A regular file's bytes, refused when over `limit`; a final symbolic link is refused."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise _Unreadable(str(path)) from exc
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise _Unreadable(str(path))
        return os.read(descriptor, limit)
    finally:
        os.close(descriptor)


def _pointer(text: bytes, prefix: bytes) -> str | None:
    line = text.split(b"\n", 1)[0].strip()
    return line[len(prefix) :].strip().decode() if line.startswith(prefix) else None


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or below it, links resolved."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


# `worktree = PATH` in a submodule's git directory config: the work tree it belongs to.
_CONFIG_WORKTREE = re.compile(rb"^\s*worktree\s*=\s*(.+?)\s*$", re.MULTILINE)


def _serves(git_dir: Path, root: Path) -> bool:
    """Whether the git directory a `.git` file names belongs to the work tree at `root`.

    A `.git` file can name any folder on the machine; it is followed only to a git directory
    inside `root`, one whose `gitdir` file points back at `root/.git` (a linked work tree, as
    `git worktree add` writes it), or one whose `core.worktree` is `root` (a submodule).
    Otherwise the commit of some other repository would be read and packed."""
    if _inside(git_dir, root):
        return True
    dot_git = os.path.realpath(root / ".git")
    try:
        back = _pointer(b"gitdir:" + _read(git_dir / "gitdir", MAX_SMALL_FILE_BYTES), b"gitdir:")
        if back and os.path.realpath(git_dir / back) == dot_git:
            return True
    except _Unreadable:
        pass
    try:
        config = _read(git_dir / "config", MAX_SMALL_FILE_BYTES)
    except _Unreadable:
        return False
    found = _CONFIG_WORKTREE.search(config)
    if found is None:
        return False
    worktree = found.group(1).decode(errors="replace").strip('"')
    return os.path.realpath(git_dir / worktree) == os.path.realpath(root)


class _Repository:
    """A git directory: where HEAD lives, and the common one with refs and objects."""

    def __init__(self, git_dir: Path, common_dir: Path) -> None:
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.objects = common_dir / "objects"

    @classmethod
    def at(cls, root: Path) -> _Repository | None:
        dot_git = root / ".git"
        try:
            mode = os.lstat(dot_git).st_mode
        except OSError:
            return None
        if stat.S_ISDIR(mode):
            git_dir = dot_git
        elif stat.S_ISREG(mode):  # a linked work tree or a submodule: `gitdir: PATH`
            target = _pointer(_read(dot_git, MAX_SMALL_FILE_BYTES), b"gitdir:")
            if not target:
                return None
            git_dir = root / target
            if not _serves(git_dir, root):
                return None
        else:
            return None
        common_dir = git_dir
        try:
            common = _read(git_dir / "commondir", MAX_SMALL_FILE_BYTES).decode().strip()
        except _Unreadable:
            common = ""
        if common:
            common_dir = git_dir / common
            if not _inside(git_dir, common_dir):  # a work tree's data lives in its common dir
                return None
        return cls(git_dir, common_dir)

    def head(self) -> str | None:
        content = _read(self.git_dir / "HEAD", MAX_SMALL_FILE_BYTES)
        for _ in range(MAX_SYMREF_HOPS):
            target = _pointer(content, b"ref:")
            if target is None:
                match = _HEX.fullmatch(content.strip())
                return match.group().decode() if match else None
            if not _REF_NAME.fullmatch(target) or ".." in target.split("/"):
                return None
            found = self._ref(target)
            if found is None:
                return None
            content = found
        return None

    def _ref(self, name: str) -> bytes | None:
        """A ref's file content (a hash or a `ref:` line), from a loose file or packed-refs."""
        for base in dict.fromkeys((self.git_dir, self.common_dir)):
            try:
                return _read(base / name, MAX_SMALL_FILE_BYTES)
            except _Unreadable:
                continue
        try:
            packed = _read(self.common_dir / "packed-refs", MAX_PACKED_REFS_BYTES)
        except _Unreadable:
            return None
        wanted = name.encode()
        for line in packed.splitlines():
            value, _, ref = line.partition(b" ")
            if ref == wanted and _HEX.fullmatch(value):
                return value
        return None

    def object(self, name: str) -> bytes:
        """The content of commit `name`, loose or packed."""
        try:
            compressed = _read(self.objects / name[:2] / name[2:], MAX_OBJECT_BYTES)
        except _Unreadable:
            return self._packed(bytes.fromhex(name), depth=0)
        inflater = zlib.decompressobj()
        data = inflater.decompress(compressed, MAX_OBJECT_BYTES + 64)
        if not inflater.eof:
            raise _Unreadable(f"object {name} is damaged or too large")
        header, _, body = data.partition(b"\0")
        kind, _, size = header.partition(b" ")
        if kind != b"commit" or int(size) != len(body):
            raise _Unreadable(name)
        return body

    def _packed(self, name: bytes, *, depth: int) -> bytes:
        pack_dir = self.objects / "pack"
        try:
            indexes = sorted(n for n in os.listdir(pack_dir) if n.endswith(".idx"))[:MAX_PACKS]
        except OSError as exc:
            raise _Unreadable(str(pack_dir)) from exc
        for index in indexes:
            offset = _find_in_index(pack_dir / index, name)
            if offset is not None:
                pack = _PackReader(pack_dir / (index[: -len(".idx")] + ".pack"), self, len(name))
                return pack.read(offset, depth)
        raise _Unreadable(name.hex())


def _find_in_index(path: Path, name: bytes) -> int | None:
    """The offset of object `name` in the pack an index (version 2) describes."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
    descriptor = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        head = os.pread(descriptor, 8 + 256 * 4, 0)
        if len(head) < 8 + 256 * 4 or head[:4] != _IDX_MAGIC:
            return None
        fanout = struct.unpack(">256I", head[8:])
        count = fanout[255]
        low = fanout[name[0] - 1] if name[0] else 0
        high = fanout[name[0]]
        width = len(name)
        names_at = 8 + 256 * 4
        while low < high:  # binary search in the sorted names
            middle = (low + high) // 2
            found = os.pread(descriptor, width, names_at + middle * width)
            if found == name:
                break
            if found < name:
                low = middle + 1
            else:
                high = middle
        else:
            return None
        offsets_at = names_at + count * width + count * 4
        (offset,) = struct.unpack(">I", os.pread(descriptor, 4, offsets_at + middle * 4))
        if offset & 0x8000_0000:  # an index into the table of 8-byte offsets
            large_at = offsets_at + count * 4 + (offset & 0x7FFF_FFFF) * 8
            (offset,) = struct.unpack(">Q", os.pread(descriptor, 8, large_at))
        return int(offset)
    finally:
        os.close(descriptor)


class _PackReader:
    """Reads one object from a pack file, applying deltas."""

    def __init__(self, path: Path, repository: _Repository, width: int) -> None:
        self.path = path
        self.repository = repository
        self.width = width  # bytes in an object name: 20 for SHA-1, 32 for SHA-256

    def read(self, offset: int, depth: int) -> bytes:
        if depth > MAX_DELTA_DEPTH:
            raise _Unreadable(f"{self.path}: delta chain too long")
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
        descriptor = os.open(self.path, flags)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise _Unreadable(str(self.path))
            return self._entry(descriptor, offset, depth)
        finally:
            os.close(descriptor)

    def _entry(self, descriptor: int, offset: int, depth: int) -> bytes:
        head = os.pread(descriptor, 32, offset)
        if not head:
            raise _Unreadable(str(self.path))
        kind = (head[0] >> 4) & 7
        size, shift, position = head[0] & 15, 4, 1
        while head[position - 1] & 0x80:
            size |= (head[position] & 0x7F) << shift
            shift, position = shift + 7, position + 1
        if size > MAX_OBJECT_BYTES:
            raise _Unreadable(f"{self.path}: object too large")
        if kind == _COMMIT:
            return _inflate(descriptor, offset + position, size)
        if kind == _OFS_DELTA:
            byte = head[position]
            distance, position = byte & 0x7F, position + 1
            while byte & 0x80:
                byte = head[position]
                distance, position = ((distance + 1) << 7) | (byte & 0x7F), position + 1
            base = self._entry(descriptor, offset - distance, depth + 1)
        elif kind == _REF_DELTA:
            name = os.pread(descriptor, self.width, offset + position)
            position += self.width
            base = self.repository._packed(name, depth=depth + 1)
        else:
            raise _Unreadable(f"{self.path}: not a commit")
        return _apply_delta(base, _inflate(descriptor, offset + position, size))


def _inflate(descriptor: int, offset: int, size: int) -> bytes:
    """`size` bytes of the zlib stream that starts at `offset`."""
    inflater = zlib.decompressobj()
    out = bytearray()
    position = offset
    while len(out) < size and not inflater.eof:
        chunk = os.pread(descriptor, 64 * 1024, position)
        if not chunk:
            break
        position += len(chunk)
        out += inflater.decompress(chunk, size + 1 - len(out))
        if inflater.unconsumed_tail:
            out += inflater.decompress(inflater.unconsumed_tail, size + 1 - len(out))
    if len(out) != size:
        raise _Unreadable("a pack entry's size disagrees with its content")
    return bytes(out)


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[position]
        value |= (byte & 0x7F) << shift
        shift, position = shift + 7, position + 1
        if not byte & 0x80:
            return value, position


def _apply_delta(base: bytes, delta: bytes) -> bytes:
    source_size, position = _varint(delta, 0)
    target_size, position = _varint(delta, position)
    if source_size != len(base) or target_size > MAX_OBJECT_BYTES:
        raise _Unreadable("a delta does not fit its base")
    out = bytearray()
    while position < len(delta):
        opcode = delta[position]
        position += 1
        if opcode & 0x80:  # copy a slice of the base
            start = length = 0
            for bit in range(4):
                if opcode & (1 << bit):
                    start |= delta[position] << (8 * bit)
                    position += 1
            for bit in range(3):
                if opcode & (0x10 << bit):
                    length |= delta[position] << (8 * bit)
                    position += 1
            length = length or 0x10000
            if start + length > len(base):
                raise _Unreadable("a delta copies past its base")
            out += base[start : start + length]
        elif opcode:  # insert the next `opcode` bytes
            out += delta[position : position + opcode]
            position += opcode
        else:
            raise _Unreadable("a delta has a reserved instruction")
    if len(out) != target_size:
        raise _Unreadable("a delta's result has the wrong size")
    return bytes(out)


def _committer_time(commit: bytes) -> datetime | None:
    """The committer time of a commit object, in the committer's own time zone."""
    for line in commit.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(b"committer "):
            seconds, zone = line.rsplit(b" ", 2)[1:]
            sign = -1 if zone.startswith(b"-") else 1
            minutes = int(zone[1:3]) * 60 + int(zone[3:5])
            offset = timezone(timedelta(minutes=sign * minutes))
            return datetime.fromtimestamp(int(seconds), tz=UTC).astimezone(offset)
    return None
