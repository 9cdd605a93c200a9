"""Tests for enforcement.media: evidence is typed by content, stored whole or not at all, and the
facts read from real camera photos (Nikon JPEG with GPS, iPhone HEIC) are exactly what they carry.
"""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops, ImageStat, TiffImagePlugin

from enforcement import media, mediatypes
from geo.errors import BadRequest
from tests.helpers import PHOTOS  # noqa: E402 - the shared real photos

HEIC_FILE = PHOTOS / "iphone_13_pro_max.HEIC"
SHANGHAI = ZoneInfo("Asia/Shanghai")
GUANGZHOU = (113.32, 23.13)
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- builders --------------------------------------------------------------------------------------


def box(kind: bytes, body: bytes = b"") -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    return box(b"ftyp", major + b"\x00\x00\x02\x00" + b"".join(compatible))


def track(handler: bytes) -> bytes:
    hdlr = box(b"hdlr", b"\x00" * 8 + handler + b"\x00" * 12 + b"\x00")
    return box(b"trak", box(b"tkhd", b"\x00" * 84) + box(b"mdia", box(b"mdhd", b"\x00" * 24) + hdlr))


def mp4(*handlers: bytes, major: bytes = b"mp42") -> bytes:
    """A minimal MP4: ftyp, a media-data box, then the index (moov) at the end as phones write it."""
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100) + b"".join(track(h) for h in handlers))
    return ftyp(major, b"isom", b"mp42") + box(b"mdat", b"\x11" * 5000) + moov


def adts(protection_absent: int = 0xF1) -> bytes:
    return bytes([0xFF, protection_absent, 0x50, 0x80, 0x02, 0x1F, 0xFC]) + b"\x21" * 20


def jpeg_bytes(size: tuple[int, int] = (60, 30), exif: Image.Exif | bytes | None = None) -> bytes:
    """Left half red, right half blue: a rotation shows where red ends up."""
    im = Image.new("RGB", size, (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def put(store: Path, data: bytes, kind: str, *, sha256: str | None = None, max_bytes: int = 50 << 20):
    return media.receive(io.BytesIO(data), store=store, max_bytes=max_bytes,
                         declared_sha256=sha256 or hashlib.sha256(data).hexdigest(), kind=kind)


def stored_files(store: Path) -> list[Path]:
    return sorted(p for p in (store / "sha256").rglob("*") if p.is_file()) if (store / "sha256").exists() else []


def temp_files(store: Path) -> list[Path]:
    return list((store / "tmp").iterdir()) if (store / "tmp").exists() else []


def dms(d: float, m: float, s: float) -> float:
    return d + m / 60 + s / 3600


# --- sniffing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", mediatypes.JPEG),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", mediatypes.PNG),
    (PDF_BYTES, mediatypes.PDF),
    (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), mediatypes.MP4),
    (ftyp(b"mp42", b"mp42", b"isom"), mediatypes.MP4),
    (ftyp(b"qt  ", b"qt  "), mediatypes.MOV),
    (ftyp(b"3gp4", b"isom", b"3gp4"), mediatypes.MP4),  # unknown major: a specific compatible brand decides
    (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), mediatypes.M4A),
    (ftyp(b"M4B ", b"M4B ", b"isom"), mediatypes.M4A),
    (ftyp(b"heic", b"mif1", b"heic"), mediatypes.HEIC),
    (ftyp(b"mif1", b"mif1", b"MiHE", b"heic"), mediatypes.HEIC),  # major mif1, compatible heic
    (ftyp(b"mif1", b"mif1"), mediatypes.HEIF),
    (ftyp(b"msf1", b"msf1", b"hevc"), mediatypes.HEIC),
    (ftyp(b"avif", b"avif", b"mif1", b"miaf"), None),  # AVIF lists mif1 too; it is not HEIC
    (b"\x00\x00\x00\x08ftypisom", None),  # ftyp box too small to hold a brand
    (adts(0xF1), mediatypes.AAC),
    (adts(0xF9), mediatypes.AAC),
    ("巡查记录：门店已整改。\nNote: fixed.".encode(), mediatypes.NOTE),
    (b"text with a \x00 NUL", None),
    (b"abcdftyp is only a word in this note", mediatypes.NOTE),
    ("乱码".encode("gbk"), None),  # not UTF-8
    (b"", None),
    (b"GIF89a\x01\x00\x01\x00", None),
])
def test_sniff_by_magic(head, expected):
    assert media.sniff(head) == expected


def test_sniff_ignores_the_name_of_a_real_photo(tmp_path):
    renamed = tmp_path / "report.pdf"
    renamed.write_bytes((PHOTOS / "DSCN0010.jpg").read_bytes())
    assert media.sniff_file(renamed) == mediatypes.JPEG
    assert media.sniff_file(HEIC_FILE) == mediatypes.HEIC


def test_long_note_is_checked_to_the_end(tmp_path):
    text = tmp_path / "note"
    # a 3-byte character straddles the sniffing window: the head alone is not valid UTF-8
    text.write_bytes(b"a" * (mediatypes.HEAD_BYTES - 1) + "整改".encode() * 1000)
    assert media.sniff(text.read_bytes()[:mediatypes.HEAD_BYTES]) is None
    assert media.sniff_file(text) == mediatypes.NOTE
    text.write_bytes("记录".encode() * 5000 + b"\x00binary tail")
    assert media.sniff_file(text) is None


def test_audio_only_mp4_is_audio(tmp_path):
    recording = tmp_path / "voice.mp4"
    recording.write_bytes(mp4(b"soun"))
    assert media.sniff(recording.read_bytes()[:64]) == mediatypes.MP4  # the brand alone says video
    assert media.sniff_file(recording) == mediatypes.M4A
    recording.write_bytes(mp4(b"vide", b"soun"))
    assert media.sniff_file(recording) == mediatypes.MP4


# --- receiving ---------------------------------------------------------------------------------------


def test_sm3_matches_gbt_32905_vector(tmp_path):
    vector = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hashlib.new("sm3", b"abc").hexdigest() == vector
    got = put(tmp_path, b"abc", "note")
    assert got.sm3 == vector
    assert got.sha256 == hashlib.sha256(b"abc").hexdigest()
    assert got.size == 3 and got.media_type == mediatypes.NOTE


def test_photo_is_stored_by_content_address(tmp_path):
    data = (PHOTOS / "DSCN0010.jpg").read_bytes()
    got = put(tmp_path, data, "photo")
    sha = hashlib.sha256(data).hexdigest()
    assert got.path == tmp_path / "sha256" / sha[:2] / sha[2:4] / f"{sha}.jpg"
    assert str(got.relpath) == f"sha256/{sha[:2]}/{sha[2:4]}/{sha}.jpg"
    assert got.path.read_bytes() == data
    assert got.size == len(data) and got.sm3 == hashlib.new("sm3", data).hexdigest()
    assert not got.deduplicated
    assert not os.access(got.path, os.W_OK) or os.geteuid() == 0  # stored read-only
    assert temp_files(tmp_path) == []


def test_heic_from_iphone_is_accepted_as_photo(tmp_path):
    data = HEIC_FILE.read_bytes()
    got = put(tmp_path, data, "photo")
    assert got.media_type == mediatypes.HEIC and got.path.suffix == ".heic"
    assert put(tmp_path, data, "document").path == got.path  # a scan may be a photo
    with pytest.raises(media.UnsupportedMedia):
        put(tmp_path, data, "video")


@pytest.mark.parametrize(("data", "detected"), [(PDF_BYTES, "PDF"), ("现场情况说明".encode(), "TXT")])
def test_renamed_non_image_declared_photo_is_refused(tmp_path, data, detected):
    upload = tmp_path / "IMG_0001.jpg"
    upload.write_bytes(data)
    store = tmp_path / "store"
    with upload.open("rb") as fh, pytest.raises(media.UnsupportedMedia) as err:
        media.receive(fh, store=store, max_bytes=1 << 20, declared_sha256=hashlib.sha256(data).hexdigest(),
                      kind="photo")
    assert err.value.status == 415
    assert "照片" in err.value.message and detected in err.value.message and "not a photo" in err.value.message
    assert stored_files(store) == [] and temp_files(store) == []


def test_unrecognised_content_is_refused(tmp_path):
    with pytest.raises(media.UnsupportedMedia) as err:
        put(tmp_path, b"GIF89a" + bytes(range(256)), "photo")
    assert err.value.status == 415
    assert stored_files(tmp_path) == [] and temp_files(tmp_path) == []


def test_kinds_accept_their_categories(tmp_path):
    assert put(tmp_path, PDF_BYTES, "document").media_type == mediatypes.PDF
    assert put(tmp_path, jpeg_bytes(), "document").media_type == mediatypes.JPEG
    assert put(tmp_path, adts() * 10, "audio").media_type == mediatypes.AAC
    assert put(tmp_path, mp4(b"soun"), "audio").media_type == mediatypes.M4A
    assert put(tmp_path, mp4(b"vide", b"soun"), "video").media_type == mediatypes.MP4
    with pytest.raises(media.UnsupportedMedia, match="检测为 M4A"):
        put(tmp_path, mp4(b"soun", major=b"isom"), "video")
    with pytest.raises(media.UnsupportedMedia):
        put(tmp_path, PDF_BYTES, "note")
    assert dict(media.ALLOWED_KINDS) == {"photo": {"photo"}, "video": {"video"}, "audio": {"audio"},
                                         "document": {"document", "photo"}, "note": {"note"}}


class EndlessStream:
    """Yields 1 MiB chunks forever, and fails the test if read long after the cap was passed."""

    def __init__(self, limit_reads: int) -> None:
        self.reads, self.limit_reads = 0, limit_reads

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        assert self.reads <= self.limit_reads, "kept reading after the size cap was passed"
        return b"\xff\xd8\xff" + b"\x00" * (n - 3)


def test_oversize_is_refused_early_and_leaves_nothing(tmp_path):
    stream = EndlessStream(limit_reads=4)
    with pytest.raises(media.TooLarge) as err:
        media.receive(stream, store=tmp_path, max_bytes=3 * media.CHUNK - 1, declared_sha256="0" * 64, kind="photo")
    assert err.value.status == 413
    assert stream.reads == 3
    assert temp_files(tmp_path) == [] and stored_files(tmp_path) == []


def test_exactly_max_bytes_is_accepted(tmp_path):
    data = jpeg_bytes()
    assert put(tmp_path, data, "photo", max_bytes=len(data)).size == len(data)
    with pytest.raises(media.TooLarge):
        put(tmp_path / "other", data, "photo", max_bytes=len(data) - 1)


def test_wrong_declared_hash_stores_nothing(tmp_path):
    data = (PHOTOS / "DSCN0021.jpg").read_bytes()
    with pytest.raises(media.HashMismatch) as err:
        put(tmp_path, data[:-10], "photo", sha256=hashlib.sha256(data).hexdigest())  # cut short in transit
    assert err.value.status == 422
    assert temp_files(tmp_path) == [] and stored_files(tmp_path) == []


@pytest.mark.parametrize("declared", ["A" * 64, "a" * 63, "g" * 64, "", " " + "a" * 64])
def test_malformed_declared_hash_is_bad_request_before_reading(tmp_path, declared):
    stream = io.BytesIO(b"abc")
    with pytest.raises(BadRequest) as err:
        media.receive(stream, store=tmp_path, max_bytes=100, declared_sha256=declared, kind="note")
    assert err.value.status == 400
    assert stream.tell() == 0


def test_unknown_kind_is_bad_request(tmp_path):
    with pytest.raises(BadRequest):
        put(tmp_path, b"abc", "selfie")


def test_same_bytes_twice_is_one_file(tmp_path):
    data = (PHOTOS / "DSCN0042.jpg").read_bytes()
    first, second = put(tmp_path, data, "photo"), put(tmp_path, data, "photo")
    assert first.path == second.path
    assert second.deduplicated and not first.deduplicated
    assert stored_files(tmp_path) == [first.path]
    assert temp_files(tmp_path) == []


def test_damaged_stored_copy_is_replaced_by_an_intact_upload(tmp_path):
    data = jpeg_bytes()
    first = put(tmp_path, data, "photo")
    first.path.chmod(0o600)
    first.path.write_bytes(data[:-1] + b"\x00")
    again = put(tmp_path, data, "photo")
    assert not again.deduplicated
    assert again.path.read_bytes() == data


def test_verify_file(tmp_path):
    got = put(tmp_path, PDF_BYTES, "document")
    assert media.verify_file(got.path, got.sha256)
    assert media.verify_file(got.path, got.sha256.upper())
    got.path.chmod(0o600)
    got.path.write_bytes(PDF_BYTES + b" ")
    assert not media.verify_file(got.path, got.sha256)
    got.path.unlink()
    assert not media.verify_file(got.path, got.sha256)


# --- photo facts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "lat", "lon", "taken"), [
    ("DSCN0010.jpg", dms(43, 28, 2.814), dms(11, 53, 6.456), datetime(2008, 10, 22, 16, 28, 39)),
    ("DSCN0021.jpg", dms(43, 28, 1.494), dms(11, 53, 4.338), datetime(2008, 10, 22, 16, 38, 20)),
    ("DSCN0042.jpg", dms(43, 27, 52.038), dms(11, 52, 53.322), datetime(2008, 10, 22, 17, 0, 7)),
])
def test_nikon_exif_gps_and_time(name, lat, lon, taken):
    facts = media.photo_facts(PHOTOS / name)
    assert facts.lat == pytest.approx(lat, abs=1e-5)
    assert facts.lon == pytest.approx(lon, abs=1e-5)
    assert facts.taken_local == taken
    assert facts.taken_at is None  # no OffsetTimeOriginal in these files
    assert (facts.width, facts.height) == (640, 480)


def test_iphone_heic_facts():
    facts = media.photo_facts(HEIC_FILE)
    assert facts.lon is None and facts.lat is None
    assert facts.taken_local == datetime(2022, 2, 16, 12, 55, 41)
    assert facts.taken_at == datetime(2022, 2, 16, 12, 55, 41, tzinfo=timezone(timedelta(hours=1)))
    assert (facts.width, facts.height) == (3024, 4032)  # stored 4032x3024, shown upright


def test_southern_and_western_refs_are_negative(tmp_path):
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "S", 2: (33.0, 51.0, 54.0), 3: "W", 4: (70.0, 40.0, 12.0)})
    path = tmp_path / "santiago.jpg"
    path.write_bytes(jpeg_bytes(exif=exif))
    facts = media.photo_facts(path)
    assert facts.lat == pytest.approx(-dms(33, 51, 54), abs=1e-9)
    assert facts.lon == pytest.approx(-dms(70, 40, 12), abs=1e-9)


def test_orientation_swaps_size(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    path.write_bytes(jpeg_bytes((60, 30), exif=exif))
    facts = media.photo_facts(path)
    assert (facts.width, facts.height) == (30, 60)
    assert facts.taken_local is None and facts.lon is None


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_malformed_exif_does_not_raise(tmp_path):
    exif = Image.Exif()
    exif[0x0132] = "0000:00:00 00:00:00"
    gps = exif.get_ifd(0x8825)
    bad = TiffImagePlugin.IFDRational(1, 0)
    gps.update({1: "X", 2: (43.0, 28.0, 2.0), 3: "E", 4: (bad, bad, bad)})
    path = tmp_path / "bad.jpg"
    path.write_bytes(jpeg_bytes(exif=exif))
    assert media.photo_facts(path) == media.PhotoFacts(60, 30)
    path.write_bytes(jpeg_bytes(exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x09\x01\x12garbage"))
    assert media.photo_facts(path) == media.PhotoFacts(60, 30)
    path.write_bytes(b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00truncated")
    assert media.photo_facts(path) == media.PhotoFacts(None, None)


def test_photo_facts_of_non_photo_is_none(tmp_path):
    path = tmp_path / "scan.jpg"
    path.write_bytes(PDF_BYTES)
    assert media.photo_facts(path) is None


# --- derived images ----------------------------------------------------------------------------------


def test_heic_thumbnail_is_upright_jpeg(tmp_path):
    out = media.make_thumbnail(HEIC_FILE, tmp_path / "thumbs" / "t.jpg")
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == (240, 320)
        assert len(im.getexif()) == 0


def test_jpeg_thumbnail_applies_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display: the red left half ends up on top
    src = tmp_path / "rotated.jpg"
    src.write_bytes(jpeg_bytes((600, 300), exif=exif))
    out = media.make_thumbnail(src, tmp_path / "t.jpg", size=100)
    with Image.open(out) as im:
        assert im.size == (50, 100)
        assert "exif" not in im.info
        red, green, blue = im.getpixel((25, 10))
        assert red > 200 and blue < 60
        red, green, blue = im.getpixel((25, 90))
        assert blue > 200 and red < 60


def test_public_copy_has_same_pixels_and_no_gps(tmp_path):
    src = PHOTOS / "DSCN0010.jpg"
    with Image.open(src) as original:
        assert original.getexif().get_ifd(0x8825)  # the source does carry GPS
        pixels = original.convert("RGB")
    out = media.public_copy(src, tmp_path / "public" / "p.jpg")
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == pixels.size
        assert len(im.getexif()) == 0 and not im.getexif().get_ifd(0x8825)
        assert not {"exif", "xmp", "comment"} & im.info.keys()
        diff = ImageStat.Stat(ImageChops.difference(im.convert("RGB"), pixels)).mean
    assert max(diff) < 4  # quality 90 at full colour resolution (4:2:0 would give 5), not another picture
    raw = out.read_bytes()
    assert b"Exif" not in raw and b"GPS" not in raw and b"NIKON" not in raw
    assert src.read_bytes() == (PHOTOS / "DSCN0010.jpg").read_bytes()


def test_public_copy_drops_comments_and_keeps_colour_profile(tmp_path):
    im = Image.new("RGB", (40, 20), (10, 120, 200))
    src = tmp_path / "commented.jpg"
    im.save(src, "JPEG", comment="位置 23.13,113.32 张三".encode(), icc_profile=b"fake-icc-profile" * 8)
    out = media.public_copy(src, tmp_path / "p.jpg")
    with Image.open(out) as copy:
        assert "comment" not in copy.info
        assert copy.info.get("icc_profile") == b"fake-icc-profile" * 8  # colour is not personal data
    assert "张三".encode() not in out.read_bytes()


def test_public_copy_of_heic_is_upright(tmp_path):
    out = media.public_copy(HEIC_FILE, tmp_path / "p.jpg")
    with Image.open(out) as im:
        assert im.size == (3024, 4032) and len(im.getexif()) == 0


def test_derived_images_refuse_non_photos(tmp_path):
    path = tmp_path / "doc.jpg"
    path.write_bytes(PDF_BYTES)
    with pytest.raises(media.UnsupportedMedia):
        media.make_thumbnail(path, tmp_path / "t.jpg")
    with pytest.raises(media.UnsupportedMedia):
        media.public_copy(path, tmp_path / "p.jpg")
    assert not (tmp_path / "t.jpg").exists() and not (tmp_path / "p.jpg").exists()


# --- flags ---------------------------------------------------------------------------------------------


def test_distance_m():
    assert media.distance_m(113.32, 23.13, 113.32, 23.13) == 0
    assert media.distance_m(0, 0, 0, 1) == pytest.approx(110_574, abs=1)  # one degree of latitude at the equator
    assert media.distance_m(113.32, 23.13, 11.885, 43.467) > 8_000_000


def test_italian_gps_is_far_from_a_guangzhou_entity():
    facts = media.photo_facts(PHOTOS / "DSCN0010.jpg")
    shot = datetime(2008, 10, 22, 16, 28, 39, tzinfo=SHANGHAI)
    assert media.flag_photo(facts, entity_lon=GUANGZHOU[0], entity_lat=GUANGZHOU[1], captured_at=shot) == [
        "exif_far_from_entity"]
    assert media.flag_photo(facts, entity_lon=facts.lon, entity_lat=facts.lat, captured_at=shot) == []
    near = media.distance_m(facts.lon, facts.lat, facts.lon + 0.005, facts.lat)  # ≈ 400 m east
    assert 300 < near < 500
    assert media.flag_photo(facts, entity_lon=facts.lon + 0.005, entity_lat=facts.lat, captured_at=shot) == []
    assert media.flag_photo(facts, entity_lon=facts.lon + 0.005, entity_lat=facts.lat, captured_at=shot,
                            max_distance_m=300) == ["exif_far_from_entity"]


def test_time_without_offset_is_compared_in_beijing_time():
    facts = media.photo_facts(PHOTOS / "DSCN0010.jpg")
    here = {"entity_lon": facts.lon, "entity_lat": facts.lat}
    utc = datetime(2008, 10, 22, 8, 28, 39, tzinfo=UTC)  # 16:28:39 in Shanghai
    assert media.flag_photo(facts, **here, captured_at=utc) == []
    assert media.flag_photo(facts, **here, captured_at=utc + timedelta(minutes=59)) == []
    assert media.flag_photo(facts, **here, captured_at=utc + timedelta(hours=2)) == ["exif_time_mismatch"]
    assert media.flag_photo(facts, **here, captured_at=utc + timedelta(hours=2), max_skew_s=3 * 3600) == []
    with pytest.raises(BadRequest):
        media.flag_photo(facts, **here, captured_at=datetime(2008, 10, 22, 16, 28, 39))


def test_time_with_offset_is_compared_as_an_instant():
    facts = media.photo_facts(HEIC_FILE)
    instant = datetime(2022, 2, 16, 11, 55, 41, tzinfo=UTC)  # 12:55:41+01:00
    flags = media.flag_photo(facts, entity_lon=GUANGZHOU[0], entity_lat=GUANGZHOU[1], captured_at=instant)
    assert flags == ["no_exif_gps"]
    late = media.flag_photo(facts, entity_lon=GUANGZHOU[0], entity_lat=GUANGZHOU[1],
                            captured_at=instant.astimezone(SHANGHAI) + timedelta(hours=3))
    assert late == ["no_exif_gps", "exif_time_mismatch"]


def test_photo_without_exif_is_flagged_for_both():
    flags = media.flag_photo(media.PhotoFacts(60, 30), entity_lon=113.32, entity_lat=23.13,
                             captured_at=datetime.now(UTC))
    assert flags == ["no_exif_gps", "no_exif_time"]
    assert media.flag_photo(None, entity_lon=113.32, entity_lat=23.13, captured_at=datetime.now(UTC)) == flags
