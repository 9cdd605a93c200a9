"""Evidence files: decide the type from the bytes, store them by hash without loss, read photo facts.

An inspector's upload is evidence in a case, so nothing here trusts the file name or the type the
client declares, nothing is ever stored half-written, and stored bytes are never changed: thumbnails
and public copies are new files. The HTTP route and the database row live elsewhere; this module
imports no web framework.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import pillow_heif
from PIL import ExifTags, Image, ImageOps
from pyproj import Geod

from geo.errors import BadRequest, SetupError, ZhengtuError

pillow_heif.register_heif_opener()

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
HEAD_BYTES = 4096
MAX_MOOV_BYTES = 64 * 1024 * 1024  # an MP4's index is KBs to a few MB; larger is not worth reading
MAX_TOP_BOXES = 4096  # bounds the walk over a hostile file made of tiny boxes
STORED_MODE = 0o440  # stored evidence is read-only
PIL_FORMATS = ("JPEG", "PNG", "HEIF")  # only the decoders a photo may reach
SHANGHAI = ZoneInfo("Asia/Shanghai")
GEOD = Geod(ellps="WGS84")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
OFFSET_RE = re.compile(r"([+-])(\d{2}):(\d{2})")


class UnsupportedMedia(ZhengtuError):
    """The content is not a type we accept, or not one this kind of evidence may be."""

    status = 415


class TooLarge(ZhengtuError):
    """The upload is over the size cap."""

    status = 413


class HashMismatch(ZhengtuError):
    """The bytes received are not the bytes the phone hashed: altered or cut short on the way."""

    status = 422


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


@dataclass(frozen=True)
class PhotoFacts:
    """What a photo says about itself. Size is after EXIF orientation; any field may be unknown.

    ``taken_local`` is the camera clock (naive); ``taken_at`` is aware only when EXIF carries an offset.
    """

    width: int | None
    height: int | None
    lon: float | None = None
    lat: float | None = None
    taken_local: datetime | None = None
    taken_at: datetime | None = None


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


# --- photo facts ---------------------------------------------------------------------------------


def photo_facts(path: Path) -> PhotoFacts | None:
    """EXIF position (WGS 84), capture time and upright size of a photo; None if it is not a photo.

    Malformed EXIF never raises: whatever could be read is returned, the rest is None.
    """
    with Path(path).open("rb") as fh:
        media = sniff(fh.read(HEAD_BYTES))
    if media is None or media.category != "photo":
        return None
    try:
        with Image.open(path, formats=PIL_FORMATS) as im:
            width, height = im.size
            exif = im.getexif()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return PhotoFacts(None, None)
    if _safe(lambda: exif.get(ExifTags.Base.Orientation), 1) in (5, 6, 7, 8):
        width, height = height, width
    lonlat = _safe(lambda: _gps_lonlat(exif.get_ifd(ExifTags.IFD.GPSInfo)), None)
    local, aware = _safe(lambda: _taken(exif), (None, None))
    lon, lat = lonlat or (None, None)
    return PhotoFacts(width, height, lon, lat, local, aware)


def _safe(read: Any, default: Any) -> Any:
    """``read()``, or ``default`` if the EXIF behind it is malformed in any way."""
    try:
        return read()
    except Exception:  # camera firmware writes anything; a bad tag must not lose the photo
        return default


def _gps_lonlat(gps: Mapping[int, Any]) -> tuple[float, float] | None:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "NS")
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "EW")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return lon, lat


def _degrees(value: Any, ref: Any, hemispheres: str) -> float | None:
    """Signed decimal degrees from EXIF (degrees, minutes, seconds) rationals and an N/S or E/W ref.

    Without a valid ref the sign is unknown, and we do not guess it.
    """
    ref_text = _text(ref).upper()
    if value is None or ref_text not in (hemispheres[0], hemispheres[1]):
        return None
    parts = value if isinstance(value, tuple | list) else (value,)
    numbers = [_rational(p) for p in parts[:3]]
    if not numbers or not all(math.isfinite(n) and n >= 0 for n in numbers):
        return None
    degrees = sum(n / 60**i for i, n in enumerate(numbers))
    return -degrees if ref_text == hemispheres[1] else degrees


def _rational(part: Any) -> float:
    if isinstance(part, tuple | list) and len(part) == 2:
        return part[0] / part[1] if part[1] else math.nan
    return float(part)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip("\x00 \t")


def _taken(exif: Image.Exif) -> tuple[datetime | None, datetime | None]:
    """DateTimeOriginal with OffsetTimeOriginal, else DateTime with OffsetTime."""
    sub = _safe(lambda: exif.get_ifd(ExifTags.IFD.Exif), {})
    pairs = ((ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal),
             (ExifTags.Base.DateTime, ExifTags.Base.OffsetTime))
    for stamp_tag, offset_tag in pairs:
        local = _exif_time(sub.get(stamp_tag) or exif.get(stamp_tag))
        if local is not None:
            offset = _exif_offset(sub.get(offset_tag) or exif.get(offset_tag))
            return local, (local.replace(tzinfo=offset) if offset else None)
    return None, None


def _exif_time(value: Any) -> datetime | None:
    text = _text(value)[:19]
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _exif_offset(value: Any) -> timezone | None:
    match = OFFSET_RE.fullmatch(_text(value))
    if match is None or int(match[2]) > 14 or int(match[3]) > 59:
        return None
    minutes = int(match[2]) * 60 + int(match[3])
    return timezone(timedelta(minutes=-minutes if match[1] == "-" else minutes))


# --- derived images ------------------------------------------------------------------------------


def make_thumbnail(path: Path, dest: Path, size: int = 320) -> Path:
    """A JPEG at most ``size`` pixels on its longer side, upright, without EXIF."""
    with _upright(path, draft=(size, size)) as im:
        im.thumbnail((size, size), Image.Resampling.LANCZOS)
        _save_jpeg(_bare_rgb(im), Path(dest), quality=85, icc=im.info.get("icc_profile"))
    return Path(dest)


def public_copy(path: Path, dest: Path) -> Path:
    """The photo's pixels, upright and full size, as JPEG quality 90 with no EXIF, XMP or comment.

    For showing evidence outside the case file: the position and the camera are not published.
    The copy is read back and deleted if any metadata survived.
    """
    with _upright(path) as im:
        _save_jpeg(_bare_rgb(im), Path(dest), quality=90, icc=im.info.get("icc_profile"), subsampling=0)
    with Image.open(dest, formats=("JPEG",)) as check:
        leaked = len(check.getexif()) or {"exif", "xmp", "comment"} & check.info.keys()
    if leaked:
        Path(dest).unlink(missing_ok=True)
        raise ZhengtuError("公开副本未能去除元数据 / metadata survived in the public copy", detail=str(leaked))
    return Path(dest)


def _upright(path: Path, draft: tuple[int, int] | None = None) -> Image.Image:
    """The decoded photo with EXIF orientation applied (HEIC is already upright from pillow-heif)."""
    with Path(path).open("rb") as fh:
        media = sniff(fh.read(HEAD_BYTES))
    if media is None or media.category != "photo":
        raise UnsupportedMedia("文件内容不是照片 / content is not a photo", detail=str(path))
    try:
        with Image.open(path, formats=PIL_FORMATS) as im:
            if draft is not None and im.format == "JPEG":
                im.draft("RGB", draft)  # decode at 1/2..1/8 scale: a thumbnail needs no more
            return ImageOps.exif_transpose(im)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnsupportedMedia("照片无法解码 / the photo cannot be decoded", detail=repr(exc)) from None


def _bare_rgb(im: Image.Image) -> Image.Image:
    """A new RGB image with the same pixels and no metadata (transparency flattened onto white)."""
    bare = Image.new("RGB", im.size, "white")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bare.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
    else:
        bare.paste(im.convert("RGB"))
    return bare


def _save_jpeg(im: Image.Image, dest: Path, *, quality: int, icc: bytes | None, subsampling: int = 2) -> None:
    """Write via a temp file and a rename, so a reader never sees half a JPEG.

    ``subsampling=0`` (4:4:4) keeps full colour resolution, for copies meant to show the same pixels.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=".", suffix=".jpg.part")
    try:
        with os.fdopen(fd, "wb") as out:
            extra = {"icc_profile": icc} if icc else {}
            im.save(out, "JPEG", quality=quality, subsampling=subsampling, optimize=True, **extra)
        os.replace(name, dest)
    finally:
        Path(name).unlink(missing_ok=True)


# --- checks against the entity -------------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on the WGS 84 ellipsoid, in metres."""
    return abs(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def flag_photo(facts: PhotoFacts | None, *, entity_lon: float, entity_lat: float, captured_at: datetime,
               max_distance_m: float = 500, max_skew_s: float = 3600) -> list[str]:
    """Reasons a reviewer should look twice at a photo: taken far away, at another time, or unknown.

    EXIF GPS is WGS 84, as is the entity. A camera clock without an offset is taken to be Beijing time,
    so ``captured_at`` (aware) is compared in Asia/Shanghai.
    """
    if captured_at.tzinfo is None or captured_at.utcoffset() is None:
        raise BadRequest("captured_at 须带时区 / captured_at must carry a time zone")
    facts = facts or PhotoFacts(None, None)
    flags = []
    if facts.lon is None or facts.lat is None:
        flags.append("no_exif_gps")
    elif distance_m(facts.lon, facts.lat, entity_lon, entity_lat) > max_distance_m:
        flags.append("exif_far_from_entity")
    if facts.taken_local is None:
        flags.append("no_exif_time")
    elif _skew_s(facts, captured_at) > max_skew_s:
        flags.append("exif_time_mismatch")
    return flags


def _skew_s(facts: PhotoFacts, captured_at: datetime) -> float:
    if facts.taken_at is not None:
        return abs((facts.taken_at - captured_at).total_seconds())
    assert facts.taken_local is not None
    local = captured_at.astimezone(SHANGHAI).replace(tzinfo=None)
    return abs((facts.taken_local - local).total_seconds())
