"""Tests for data.ids: bad check digits would reject real firms or accept typos."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from data import ids

# ---------------------------------------------------------------------------
# Independent hand implementations of the published algorithms.
# ---------------------------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_W = [3, 7, 9, 10, 5, 8, 4, 2]
ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def hand_uscc_check(first17: str) -> str:
    c = 31 - sum(ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_W, strict=True)) % 31
    return ALPHABET[0 if c == 31 else c]


def hand_org_check(first8: str) -> str:
    def value(ch: str) -> int:
        return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10

    c = 11 - sum(value(ch) * w for ch, w in zip(first8, ORG_W, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def hand_id_check(first17: str) -> str:
    return "10X98765432"[sum(int(ch) * w for ch, w in zip(first17, ID_W, strict=True)) % 11]


USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


# ---------------------------------------------------------------------------
# USCC: known values
# ---------------------------------------------------------------------------


def test_published_example_is_valid():
    code = "91350100M000100Y43"
    assert hand_org_check("M000100Y") == "4"  # embedded GB 11714 code M000100Y-4
    assert hand_uscc_check(code[:17]) == "3"
    assert ids.uscc_check_char(code[:17]) == "3"
    assert ids.is_valid_uscc(code)
    assert ids.uscc_error(code) is None


@pytest.mark.parametrize("body", ["MA59ABCD", "MA5A0000", "MA59T3XK", "00000000", "MA9UWY12"])
def test_guangzhou_ma_pattern_codes(body):
    """Build 91440101MA59... style codes by hand and check the module agrees."""
    first17 = "91440101" + body + hand_org_check(body)
    assert ids.uscc_check_char(first17) == hand_uscc_check(first17)
    code = first17 + hand_uscc_check(first17)
    assert ids.is_valid_uscc(code)
    for wrong in ALPHABET.replace(code[-1], ""):
        assert not ids.is_valid_uscc(code[:-1] + wrong)


def test_check_char_31_maps_to_zero():
    # Find a body whose weighted sum is a multiple of 31 and confirm '0'.
    rng = np.random.default_rng(7)
    for _ in range(10_000):
        first17 = "".join(rng.choice(list(ALPHABET), 17))
        if sum(ALPHABET.index(c) * w for c, w in zip(first17, USCC_W, strict=True)) % 31 == 0:
            assert ids.uscc_check_char(first17) == "0"
            return
    pytest.fail("no body with sum % 31 == 0 found")


def test_uscc_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        ids.uscc_check_char("9135010")
    with pytest.raises(ValueError):
        ids.uscc_check_char("91350100M000100O4")  # letter O is not in the alphabet


def test_single_character_change_detected():
    code = "91350100M000100Y43"
    for pos in range(18):
        for ch in ALPHABET:
            if ch == code[pos]:
                continue
            mutated = code[:pos] + ch + code[pos + 1 :]
            assert not ids.is_valid_uscc(mutated), mutated


def test_adjacent_transpositions_detected():
    code = "91350100M000100Y43"
    for pos in range(17):
        swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
        if swapped != code:
            assert not ids.is_valid_uscc(swapped), swapped


# ---------------------------------------------------------------------------
# USCC: error messages and junk input
# ---------------------------------------------------------------------------


def test_uscc_error_messages():
    assert "长度应为18位" in ids.uscc_error("91350100M000100Y4")
    assert "长度应为18位" in ids.uscc_error("")
    assert ids.uscc_error("91350100M000I00Y43") == "第13位含非法字符 'I'"
    assert ids.uscc_error("91350100m000100Y43") == "第9位含非法字符 'm'"
    assert ids.uscc_error("91350100M000100Y44") == "校验位错误：应为 '3'"


@pytest.mark.parametrize(
    "junk",
    [
        None,
        0,
        91350100,
        9.1e17,
        b"91350100M000100Y43",
        ["9"] * 18,
        "",
        " " * 18,
        "91350100M000100Y43 ",
        "９1350100M000100Y43",
        object(),
    ],
)
def test_junk_returns_false(junk):
    assert ids.is_valid_uscc(junk) is False
    assert isinstance(ids.uscc_error(junk), str)


# ---------------------------------------------------------------------------
# USCC: generator
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_uscc() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2024)
    pool = np.array(["440101", "440103", "440305", "441900", "445302", "110105"])
    adcodes = rng.choice(pool, 100_000)
    return adcodes, ids.make_uscc(rng, adcodes)


def test_generated_uscc_all_valid(generated_uscc):
    adcodes, codes = generated_uscc
    assert codes.shape == (100_000,)
    assert all(ids.is_valid_uscc(str(c)) for c in codes)
    # Cross-check a sample against the hand implementation, incl. GB 11714.
    for c in codes[:2000]:
        c = str(c)
        assert USCC_RE.match(c)
        assert c[16] == hand_org_check(c[8:16])
        assert c[17] == hand_uscc_check(c[:17])


def test_generated_uscc_layout(generated_uscc):
    adcodes, codes = generated_uscc
    assert np.all(np.char.startswith(codes, "91"))
    np.testing.assert_array_equal(np.array([c[2:8] for c in codes]), adcodes)
    assert len(np.unique(codes)) > 99_990  # random org codes, practically unique


def test_make_uscc_integer_adcodes_and_per_row_org_type():
    rng = np.random.default_rng(1)
    adcodes = np.array([440101, 440305, 445302, 110105])
    types = np.array(["1", "2", "3", "2"])
    codes = ids.make_uscc(rng, adcodes, types)
    assert [c[:2] for c in codes] == ["91", "92", "93", "92"]
    assert [c[2:8] for c in codes] == ["440101", "440305", "445302", "110105"]
    assert all(ids.is_valid_uscc(str(c)) for c in codes)


def test_make_uscc_is_reproducible():
    a = ids.make_uscc(np.random.default_rng(5), np.array(["440101"] * 10))
    b = ids.make_uscc(np.random.default_rng(5), np.array(["440101"] * 10))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [np.array(["4401"]), np.array([44010]), np.array(["44010a"])])
def test_make_uscc_rejects_bad_adcodes(bad):
    with pytest.raises(ValueError):
        ids.make_uscc(np.random.default_rng(0), bad)


def test_make_uscc_rejects_bad_org_type():
    with pytest.raises(ValueError):
        ids.make_uscc(np.random.default_rng(0), np.array(["440101"]), org_type="9")


# ---------------------------------------------------------------------------
# Resident identity numbers
# ---------------------------------------------------------------------------

KNOWN_ID = "11010519491231002X"


def test_known_id_number_valid():
    assert hand_id_check(KNOWN_ID[:17]) == "X"
    assert ids.id_check_char(KNOWN_ID[:17]) == "X"
    assert ids.is_valid_id_number(KNOWN_ID)


def test_mutated_id_check_invalid():
    for ch in "0123456789":
        assert not ids.is_valid_id_number(KNOWN_ID[:17] + ch)
    assert not ids.is_valid_id_number(KNOWN_ID[:16] + "3X")


@pytest.mark.parametrize("date", ["19490230", "19491301", "19490000", "00000101", "20230229"])
def test_bad_birth_date_invalid(date):
    first17 = "110105" + date + "002"
    # Correct check char, so only the date can make it invalid.
    assert not ids.is_valid_id_number(first17 + hand_id_check(first17))


def test_leap_day_valid():
    first17 = "440101" + "20000229" + "123"
    assert ids.is_valid_id_number(first17 + hand_id_check(first17))


@pytest.mark.parametrize(
    "junk",
    [
        None,
        110105194912310020,
        "",
        "11010519491231002",
        "1101051949123100２X",
        "11010519491231002x",
        "A1010519491231002X",
        object(),
    ],
)
def test_id_junk_returns_false(junk):
    assert ids.is_valid_id_number(junk) is False


def test_id_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        ids.id_check_char("1101051949")


def test_generated_id_numbers_valid():
    rng = np.random.default_rng(11)
    pool = np.array(["440101", "440305", "445302"])
    out = ids.make_id_numbers(rng, pool, 20_000)
    assert out.shape == (20_000,)
    assert all(ids.is_valid_id_number(str(s)) for s in out)
    assert set(np.unique([s[:6] for s in out])) == set(pool)
    years = np.array([int(s[6:10]) for s in out])
    assert years.min() >= 1960 and years.max() <= 2000
    assert years.min() <= 1961 and years.max() >= 1999  # spans the range
    for s in out[:500]:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))  # real date
        assert s[17] == hand_id_check(s[:17])


# ---------------------------------------------------------------------------
# Masking and phone numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("44010119900101123X", "4401**********123X"),
        (KNOWN_ID, "1101**********002X"),
        ("440101900101123", "4401*******1123"),  # legacy 15-digit number
        ("12345", "*****"),
        ("4401011990", "**********"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(raw, masked):
    assert ids.mask_id_number(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("19912345678", "199****5678"),
        ("020-12345678", "020*******78"),
        ("02012345678", "020******78"),  # 11 digits but a landline
        ("123456", "123*56"),
        ("12345", "*****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(raw, masked):
    assert ids.mask_phone(raw) == masked


def test_make_mobile_numbers():
    rng = np.random.default_rng(3)
    nums = ids.make_mobile_numbers(rng, 50_000)
    assert nums.shape == (50_000,)
    pattern = re.compile(r"^1(3\d|5[0-35-9]|7[0135-8]|8\d|9[135-9])\d{8}$")
    assert all(pattern.match(str(n)) for n in nums)
    prefixes = {str(n)[:2] for n in nums}
    assert prefixes == {"13", "15", "17", "18", "19"}
    assert len(np.unique(nums)) > 49_900
    assert all(ids.mask_phone(str(n)) == n[:3] + "****" + n[-4:] for n in nums[:100])
