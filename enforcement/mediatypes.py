"""What evidence bytes are, decided from the bytes themselves (magic numbers, ISO BMFF brands).

Nothing here trusts a file name or the type a client declares.
"""

from __future__ import annotations

import codecs
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from geo.errors import ZhengtuError

log = logging.getLogger(__name__)


CHUNK = 1024 * 1024
HEAD_BYTES = 4096
MAX_MOOV_BYTES = 64 * 1024 * 1024  # an MP4's index is KBs to a few MB; larger is not worth reading
MAX_TOP_BOXES = 4096  # bounds the walk over a hostile file made of tiny boxes


class UnsupportedMedia(ZhengtuError):
    """The content is not a type we accept, or not one this kind of evidence may be."""

    status = 415


@dataclass(frozen=True)
class MediaType:
    """What the bytes are: ``category`` is one of photo, video, audio, document, note."""

    mime: str
    ext: str
    category: str

    @property
    def label(self) -> str:
        """A short name for messages, e.g. ``PDF``."""
        return self.ext.upper()


JPEG = MediaType("image/jpeg", "jpg", "photo")
PNG = MediaType("image/png", "png", "photo")
HEIC = MediaType("image/heic", "heic", "photo")
HEIF = MediaType("image/heif", "heif", "photo")
MP4 = MediaType("video/mp4", "mp4", "video")
MOV = MediaType("video/quicktime", "mov", "video")
M4A = MediaType("audio/mp4", "m4a", "audio")
AAC = MediaType("audio/aac", "aac", "audio")
PDF = MediaType("application/pdf", "pdf", "document")
NOTE = MediaType("text/plain; charset=utf-8", "txt", "note")

HEIC_BRANDS = frozenset({"heic", "heix", "hevc", "heim", "heis"})
BRANDS: Mapping[str, MediaType] = MappingProxyType({
    **dict.fromkeys(HEIC_BRANDS, HEIC), "mif1": HEIF, "msf1": HEIF,
    "M4A ": M4A, "M4B ": M4A, "qt  ": MOV,
    **dict.fromkeys(("isom", "iso2", "mp41", "mp42", "avc1", "M4V "), MP4),
})
# A compatible brand alone decides only if it is specific: AVIF files also list mif1.
COMPAT_PRIORITY = (HEIC, M4A, MP4, MOV)

ALLOWED_KINDS: Mapping[str, frozenset[str]] = MappingProxyType({
    "photo": frozenset({"photo"}),
    "video": frozenset({"video"}),
    "audio": frozenset({"audio"}),
    "document": frozenset({"document", "photo"}),  # a scanned document may be an image
    "note": frozenset({"note"}),
})
KIND_ZH = {"photo": "照片", "video": "视频", "audio": "录音", "document": "文档", "note": "文字记录"}


# --- sniffing ------------------------------------------------------------------------------------


def sniff(head: bytes) -> MediaType | None:
    """The type of content starting with ``head``, or None if it is none we accept.

    Text counts as a note only if ``head`` is the whole content (use ``sniff_file`` for files).
    """
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp" and (found := _ftyp_type(head)) is not None:
        return found
    if _is_adts(head):
        return AAC
    if head and b"\x00" not in head and _is_utf8(head):
        return NOTE
    return None


def _ftyp_type(head: bytes) -> MediaType | None:
    """ISO BMFF: the major brand decides when we know it, else a specific compatible brand."""
    size = int.from_bytes(head[:4], "big")
    if size < 16 or len(head) < 12:
        return None
    major = head[8:12].decode("latin-1")
    compatible = {head[i:i + 4].decode("latin-1") for i in range(16, min(size, len(head)) - 3, 4)}
    if major in BRANDS:
        found = BRANDS[major]
        return HEIC if found is HEIF and compatible & HEIC_BRANDS else found
    types = {BRANDS[b] for b in compatible if b in BRANDS}
    return next((t for t in COMPAT_PRIORITY if t in types), None)


def _is_adts(head: bytes) -> bool:
    """Raw AAC: ADTS sync word with layer 0 (FFF1 MPEG-4, FFF9 MPEG-2) and a real sampling index."""
    return len(head) >= 7 and head[0] == 0xFF and head[1] in (0xF1, 0xF9) and (head[2] >> 2) & 0xF < 13


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff_file(path: Path) -> MediaType | None:
    """The type of a whole file: the head's magic, text checked to the end, MP4 tracks looked at.

    An audio-only MP4 (Android recorders write brand ``mp42``) is audio, not video.
    """
    with Path(path).open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        complete = not fh.read(1)
    found = sniff(head)
    if not complete and found in (None, NOTE):
        found = NOTE if _is_text_file(path) else None
    if found in (MP4, MOV):
        handlers = _iso_handlers(path)
        if "soun" in handlers and "vide" not in handlers:
            found = M4A
    return found


def _is_text_file(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with Path(path).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _iso_handlers(path: Path) -> set[str]:
    """Handler types (``vide``, ``soun``...) of the tracks in an MP4's ``moov``; empty if unreadable."""
    with Path(path).open("rb") as fh:
        moov = _top_box(fh, b"moov")
    if moov is None:
        return set()
    return {hdlr[8:12].decode("latin-1")
            for trak in _boxes(moov, b"trak") for mdia in _boxes(trak, b"mdia") for hdlr in _boxes(mdia, b"hdlr")}


def _box_header(data: bytes, remaining: int) -> tuple[int, bytes, int] | None:
    """(size, type, header length) of the box starting ``data``; ``remaining`` bytes are left."""
    if len(data) < 8:
        return None
    size, kind, header = int.from_bytes(data[:4], "big"), data[4:8], 8
    if size == 1 and len(data) >= 16:
        size, header = int.from_bytes(data[8:16], "big"), 16
    elif size == 0:
        size = remaining
    return (size, kind, header) if header <= size <= remaining else None


def _top_box(fh: BinaryIO, wanted: bytes) -> bytes | None:
    end, pos = fh.seek(0, os.SEEK_END), 0
    for _ in range(MAX_TOP_BOXES):
        fh.seek(pos)
        box = _box_header(fh.read(16), end - pos)
        if box is None:
            return None
        size, kind, header = box
        if kind == wanted:
            return _read_at(fh, pos + header, size - header)
        pos += size
    return None


def _read_at(fh: BinaryIO, offset: int, length: int) -> bytes | None:
    if length > MAX_MOOV_BYTES:
        return None
    fh.seek(offset)
    return fh.read(length)


def _boxes(buf: bytes, wanted: bytes) -> Iterator[bytes]:
    pos = 0
    while (box := _box_header(buf[pos:pos + 16], len(buf) - pos)) is not None:
        size, kind, header = box
        if kind == wanted:
            yield buf[pos + header:pos + size]
        pos += size
