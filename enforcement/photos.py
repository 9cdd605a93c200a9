"""Photo evidence: what a photo says about itself (EXIF GPS and time), derived images, and checks
against the entity it should show. Stored originals are never changed: thumbnails and public copies
are new files.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pillow_heif
from PIL import ExifTags, Image, ImageOps
from pyproj import Geod

from enforcement.mediatypes import HEAD_BYTES, UnsupportedMedia, sniff
from geo.errors import BadRequest, ZhengtuError

log = logging.getLogger(__name__)


pillow_heif.register_heif_opener()

PIL_FORMATS = ("JPEG", "PNG", "HEIF")  # only the decoders a photo may reach
SHANGHAI = ZoneInfo("Asia/Shanghai")
GEOD = Geod(ellps="WGS84")
OFFSET_RE = re.compile(r"([+-])(\d{2}):(\d{2})")


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
