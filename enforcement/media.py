"""Evidence files: decide the type from the bytes, store them by hash without loss, read photo facts.

An inspector's upload is evidence in a case, so nothing here trusts the file name or the type the
client declares, nothing is ever stored half-written, and stored bytes are never changed: thumbnails
and public copies are new files. The HTTP route and the database row live elsewhere; this module
imports no web framework.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from enforcement.mediatypes import (  # noqa: F401 - re-exported: callers use media.*
    ALLOWED_KINDS,
    KIND_ZH,
    MediaType,
    UnsupportedMedia,
    sniff,
    sniff_file,
)
from enforcement.photos import (  # noqa: F401 - re-exported: callers use media.*
    PhotoFacts,
    distance_m,
    flag_photo,
    make_thumbnail,
    photo_facts,
    public_copy,
)
from geo.errors import BadRequest, SetupError, ZhengtuError

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
HEAD_BYTES = 4096
STORED_MODE = 0o440  # stored evidence is read-only
SHA256_RE = re.compile(r"[0-9a-f]{64}")




class TooLarge(ZhengtuError):
    """The upload is over the size cap."""

    status = 413


class HashMismatch(ZhengtuError):
    """The bytes received are not the bytes the phone hashed: altered or cut short on the way."""

    status = 422



@dataclass(frozen=True)
class Received:
    """A stored upload. ``deduplicated``: the same bytes were already stored, this is that file.

    The file may be shared by several evidence rows, so a caller whose transaction fails must not
    delete it; an unreferenced file is harmless and can be swept later.
    """

    path: Path
    sha256: str
    sm3: str
    size: int
    media_type: MediaType
    deduplicated: bool = False

    @property
    def relpath(self) -> PurePosixPath:
        """Where the file lives relative to the store, for the database row."""
        return PurePosixPath("sha256", self.sha256[:2], self.sha256[2:4], self.path.name)


# --- receiving -----------------------------------------------------------------------------------


def receive(stream: BinaryIO, *, store: Path, max_bytes: int, declared_sha256: str, kind: str) -> Received:
    """Store an upload under ``store/sha256/ab/cd/<sha256>.<ext>`` once it is proven whole and allowed.

    The bytes go to ``store/tmp`` first (same filesystem, so the final rename is atomic) while both
    hashes are computed; only a file whose SHA-256 matches what the phone declared and whose content
    is a type this ``kind`` accepts is moved into place. On any refusal or error the temp file is
    deleted, so the store holds whole, checked files only. Commit the database row after this returns.
    """
    allowed = _allowed(kind)
    expected = _declared(declared_sha256)
    tmp_dir = Path(store) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-", suffix=".part")
    tmp = Path(name)
    try:
        size, sha256, sm3 = _spool(stream, fd, max_bytes)
        if sha256 != expected:
            raise HashMismatch("文件校验值不符，内容在传输中被改动或不完整 / SHA-256 mismatch: upload altered or "
                               "incomplete", detail=f"declared {expected}, received {sha256} ({size} bytes)")
        media = _check_kind(sniff_file(tmp), kind, allowed)
        path, deduplicated = _place(tmp, Path(store), sha256, media.ext)
        return Received(path, sha256, sm3, size, media, deduplicated)
    finally:
        tmp.unlink(missing_ok=True)


def _allowed(kind: str) -> frozenset[str]:
    if kind not in ALLOWED_KINDS:
        raise BadRequest(f"证据类型无效：{kind!r} / invalid evidence kind (one of {', '.join(ALLOWED_KINDS)})")
    return ALLOWED_KINDS[kind]


def _declared(sha256: str) -> str:
    if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256):
        raise BadRequest("sha256 应为 64 位小写十六进制 / sha256 must be 64 lowercase hex digits")
    return sha256


def _new_sm3() -> Any:
    try:
        return hashlib.new("sm3")
    except ValueError:
        raise SetupError("本机 OpenSSL 不支持 SM3 / this OpenSSL build lacks SM3: install OpenSSL 1.1.1+") from None


def _spool(stream: BinaryIO, fd: int, max_bytes: int) -> tuple[int, str, str]:
    """Copy the stream to ``fd`` in chunks, hashing as it goes; stop at the first byte over the cap."""
    with os.fdopen(fd, "wb") as out:
        sha256, sm3, size = hashlib.sha256(), _new_sm3(), 0
        while True:
            chunk = stream.read(CHUNK)
            if chunk is None:  # a non-blocking stream; treating it as the end would cut evidence short
                raise ZhengtuError("上传流读取失败 / upload stream returned no data", detail="non-blocking stream")
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"文件超过上限 {max_bytes} 字节 / file larger than {max_bytes} bytes")
            sha256.update(chunk)
            sm3.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, sha256.hexdigest(), sm3.hexdigest()


def _check_kind(media: MediaType | None, kind: str, allowed: frozenset[str]) -> MediaType:
    if media is None:
        raise UnsupportedMedia(f"无法识别的文件内容，不能作为{KIND_ZH[kind]} / content type not recognised, "
                               f"not a {kind}")
    if media.category not in allowed:
        raise UnsupportedMedia(f"文件内容不是{KIND_ZH[kind]}（检测为 {media.label}）/ content is not a {kind} "
                               f"(detected {media.label})", detail=media.mime)
    return media


def _place(tmp: Path, store: Path, sha256: str, ext: str) -> tuple[Path, bool]:
    """Move ``tmp`` to its content address, durably; keep an existing intact copy instead."""
    final_dir = store / "sha256" / sha256[:2] / sha256[2:4]
    final = final_dir / f"{sha256}.{ext}"
    if final.exists():
        if verify_file(final, sha256):
            return final, True
        log.warning("stored evidence %s does not match its hash; replacing it with the new upload", final)
    final_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, STORED_MODE)
    os.replace(tmp, final)
    for directory in (final_dir, final_dir.parent, final_dir.parent.parent, store):
        _fsync_dir(directory)
    return final, False


def _fsync_dir(directory: Path) -> None:
    """Make a rename or a new entry in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_file(path: Path, sha256: str) -> bool:
    """Whether the file's SHA-256 is still ``sha256`` (False if the file is gone)."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return False
    return digest.hexdigest() == sha256.strip().lower()
