"""Check characters, validation, masking and synthetic generation of Chinese IDs.

Enforcement records key enterprises by their Unified Social Credit Code
(USCC, GB 32100-2015) and people by their resident identity number
(GB 11643).  Typos in either silently break joins against registry data,
so codes are validated on entry with specific messages staff can act on.
Identity and phone numbers are personal information and must be masked
before display or export.  Demo and test databases need large volumes of
codes that pass the same checks, hence the vectorised generators.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

__all__ = [
    "USCC_ALPHABET",
    "uscc_check_char",
    "is_valid_uscc",
    "uscc_error",
    "make_uscc",
    "id_check_char",
    "is_valid_id_number",
    "make_id_numbers",
    "mask_id_number",
    "mask_phone",
    "make_mobile_numbers",
]

# GB 32100-2015: digits and uppercase letters except I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
_USCC_CODEPOINTS = np.array([ord(c) for c in USCC_ALPHABET], dtype=np.uint32)

# GB 11714 organisation code: A=10 ... Z=35, i.e. base-36 digit values.
_GB11714_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_GB11714_VALUE_OF_INDEX = np.array([int(c, 36) for c in USCC_ALPHABET], dtype=np.int64)
# Alphabet index of the check character for raw check values 0..11
# (10 -> 'X', 11 -> '0'; 0 cannot occur but keeps the table dense).
_GB11714_CHECK_INDEX = np.array(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, USCC_ALPHABET.index("X"), 0], dtype=np.int64
)

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = "10X98765432"
_ID_CHECK_CODEPOINTS = np.array([ord(c) for c in _ID_CHECK], dtype=np.uint32)

_REGISTRATION_AUTHORITY = USCC_ALPHABET.index("9")  # market regulation
_ORG_TYPES = frozenset("123")  # enterprise, individual business, farmer co-op

_MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139,
     150, 151, 152, 153, 155, 156, 157, 158, 159,
     170, 171, 173, 175, 176, 177, 178,
     180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
     191, 193, 195, 196, 197, 198, 199],
    dtype=np.int64,
)  # fmt: skip


# --------------------------------------------------------------------------
# USCC
# --------------------------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    """Compute the USCC check character (18th position) per GB 32100-2015.

    Used both to validate codes and to build synthetic ones, so the weight
    table lives in exactly one place.

    Parameters
    ----------
    first17 : str
        The first 17 characters, all from :data:`USCC_ALPHABET`.

    Returns
    -------
    str
        The single check character.

    Raises
    ------
    ValueError
        If ``first17`` is not 17 characters from the USCC alphabet.
    """
    if not isinstance(first17, str) or len(first17) != 17:
        raise ValueError("first17 must be a 17-character string")
    try:
        values = [_USCC_VALUE[c] for c in first17]
    except KeyError as exc:
        raise ValueError(f"illegal USCC character {exc.args[0]!r}") from None
    total = sum(v * int(w) for v, w in zip(values, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_error(code: object) -> str | None:
    """Explain in Chinese what is wrong with a USCC, or return None if valid.

    Front-line staff correct codes by hand, so a precise message (which
    position, what the check digit should be) saves a round trip to the
    registry.  Lower-case letters and surrounding spaces are reported as
    errors: normalise input before calling if that is wanted.

    Parameters
    ----------
    code : object
        Candidate code; any type is accepted and never raises.

    Returns
    -------
    str or None
        ``None`` when valid, otherwise one of ``"应为字符串"``,
        ``"长度应为18位（实际N位）"``, ``"第n位含非法字符 'c'"`` or
        ``"校验位错误：应为 'K'"``.
    """
    if not isinstance(code, str):
        return "应为字符串"
    if len(code) != 18:
        return f"长度应为18位（实际{len(code)}位）"
    for pos, char in enumerate(code, start=1):
        if char not in _USCC_VALUE:
            return f"第{pos}位含非法字符 '{char}'"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"校验位错误：应为 '{expected}'"
    return None


def is_valid_uscc(code: object) -> bool:
    """Return True if ``code`` is a well-formed USCC with a correct check char.

    Safe to call on raw spreadsheet cells (None, ints, floats): anything that
    is not a valid code yields False rather than an exception.

    Parameters
    ----------
    code : object
        Candidate code.

    Returns
    -------
    bool
    """
    return uscc_error(code) is None


def _adcode_digits(adcodes: np.ndarray) -> np.ndarray:
    """Turn an array of 6-digit adcodes (str or int) into an (n, 6) digit array."""
    flat = np.asarray(adcodes).ravel()
    if flat.dtype.kind in "iu":
        if flat.size and (flat.min() < 100000 or flat.max() > 999999):
            raise ValueError("integer adcodes must have exactly 6 digits")
        return flat[:, None] // 10 ** np.arange(5, -1, -1) % 10
    text = flat.astype(str)
    if flat.size and not (np.all(np.char.str_len(text) == 6) and np.all(np.char.isdecimal(text))):
        raise ValueError("string adcodes must be exactly 6 ASCII digits")
    codepoints = np.ascontiguousarray(text.astype("<U6")).view(np.uint32)
    digits = codepoints.reshape(-1, 6).astype(np.int64) - ord("0")
    if np.any((digits < 0) | (digits > 9)):
        raise ValueError("string adcodes must be exactly 6 ASCII digits")
    return digits


def _org_type_index(org_type: str | np.ndarray, n: int) -> np.ndarray:
    """Alphabet indices for the org-type position, scalar or per row."""
    types = np.broadcast_to(np.asarray(org_type, dtype=str), (n,))
    bad = set(np.unique(types).tolist()) - _ORG_TYPES
    if bad:
        raise ValueError(f"org_type must be '1', '2' or '3', got {sorted(bad)}")
    return types.astype(np.int64)


def _indices_to_str(indices: np.ndarray, codepoints: np.ndarray) -> np.ndarray:
    """Map an (n, k) array of table indices to an (n,) array of k-char strings."""
    chars = np.ascontiguousarray(codepoints[indices], dtype=np.uint32)
    return chars.view(f"<U{indices.shape[1]}").reshape(indices.shape[0])


def make_uscc(
    rng: np.random.Generator,
    adcodes: np.ndarray,
    org_type: str | np.ndarray = "1",
) -> np.ndarray:
    """Generate realistic, valid USCCs for synthetic enterprise registers.

    Layout: '9' (market-regulation authority), org type, the 6-digit adcode,
    an 8-character organisation code plus its GB 11714 check character, and
    the GB 32100 check character.  The organisation code is drawn from the
    USCC alphabet rather than all of 0-9A-Z, because I, O, S, V, Z are legal
    in GB 11714 but would make the USCC itself invalid.  Fully vectorised
    (no per-row Python loop): measured at 0.25-0.4 s for 1,000,000 rows on
    the 2-core development machine (0.8 s on a cold first call).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness, so test data are reproducible.
    adcodes : array_like of str or int
        One 6-digit administrative division code per output row.
    org_type : str or array_like of str, default "1"
        '1' enterprise, '2' individual business, '3' farmer cooperative;
        a scalar or one value per row.

    Returns
    -------
    numpy.ndarray
        ``<U18`` array with the shape of ``numpy.atleast_1d(adcodes)``.

    Raises
    ------
    ValueError
        If an adcode is not 6 digits or an org type is not '1'-'3'.
    """
    shape = np.atleast_1d(np.asarray(adcodes)).shape
    digits = _adcode_digits(adcodes)
    n = digits.shape[0]
    idx = np.empty((n, 18), dtype=np.int64)
    idx[:, 0] = _REGISTRATION_AUTHORITY
    idx[:, 1] = _org_type_index(org_type, n)
    idx[:, 2:8] = digits  # digit value == alphabet index for 0-9
    idx[:, 8:16] = rng.integers(0, len(USCC_ALPHABET), size=(n, 8))
    org_sum = _GB11714_VALUE_OF_INDEX[idx[:, 8:16]] @ _GB11714_WEIGHTS
    idx[:, 16] = _GB11714_CHECK_INDEX[11 - org_sum % 11]
    idx[:, 17] = (31 - (idx[:, :17] @ _USCC_WEIGHTS) % 31) % 31
    return _indices_to_str(idx, _USCC_CODEPOINTS).reshape(shape)


# --------------------------------------------------------------------------
# Resident identity numbers
# --------------------------------------------------------------------------


def id_check_char(first17: str) -> str:
    """Compute the GB 11643 (ISO 7064 MOD 11-2) check character.

    Parameters
    ----------
    first17 : str
        The first 17 digits of an identity number.

    Returns
    -------
    str
        One of ``'0'-'9'`` or ``'X'``.

    Raises
    ------
    ValueError
        If ``first17`` is not 17 ASCII digits.
    """
    if not isinstance(first17, str) or len(first17) != 17 or not _is_ascii_digits(first17):
        raise ValueError("first17 must be a string of 17 ASCII digits")
    total = sum(int(c) * int(w) for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _is_ascii_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def is_valid_id_number(s: object) -> bool:
    """Return True for an 18-character identity number that could be real.

    Checks the check character and that positions 7-14 form a real calendar
    date, which catches most transpositions the check digit alone misses.
    The check letter must be an upper-case 'X'; normalise first if lower
    case should be accepted.  Never raises, whatever the input type.

    Parameters
    ----------
    s : object
        Candidate identity number.

    Returns
    -------
    bool
    """
    if not isinstance(s, str) or len(s) != 18 or not _is_ascii_digits(s[:17]):
        return False
    try:
        _dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return s[17] == id_check_char(s[:17])


def _random_birth_dates(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 8) digit array of YYYYMMDD dates uniform over 1960-01-01..2000-12-31."""
    start = np.datetime64("1960-01-01", "D").astype(np.int64)
    stop = np.datetime64("2000-12-31", "D").astype(np.int64)
    days = rng.integers(start, stop + 1, size=n).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    yyyymmdd = year * 10000 + month * 100 + day
    return yyyymmdd[:, None] // 10 ** np.arange(7, -1, -1) % 10


def make_id_numbers(rng: np.random.Generator, adcodes: np.ndarray, n: int) -> np.ndarray:
    """Generate ``n`` valid identity numbers for synthetic population data.

    Region codes are drawn uniformly from ``adcodes``, birth dates uniformly
    from 1960-2000 and sequence codes from 001-999 (odd = male, as in real
    numbers).  Vectorised, so millions of rows take about a second.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    adcodes : array_like of str or int
        Pool of 6-digit region codes to sample from.
    n : int
        Number of identity numbers to generate.

    Returns
    -------
    numpy.ndarray
        ``<U18`` array of shape ``(n,)``.
    """
    pool = _adcode_digits(adcodes)
    if pool.shape[0] == 0:
        raise ValueError("adcodes must not be empty")
    digits = np.empty((n, 18), dtype=np.int64)
    digits[:, :6] = pool[rng.integers(0, pool.shape[0], size=n)]
    digits[:, 6:14] = _random_birth_dates(rng, n)
    seq = rng.integers(1, 1000, size=n)
    digits[:, 14:17] = seq[:, None] // np.array([100, 10, 1]) % 10
    check = (digits[:, :17] @ _ID_WEIGHTS) % 11
    codepoints = digits.astype(np.uint32) + ord("0")
    codepoints[:, 17] = _ID_CHECK_CODEPOINTS[check]
    return np.ascontiguousarray(codepoints).view("<U18").reshape(n)


# --------------------------------------------------------------------------
# Masking and phone numbers
# --------------------------------------------------------------------------


def mask_id_number(s: object) -> str:
    """Mask an identity number for display, e.g. ``4401**********123X``.

    Keeping the first four (province/city) and last four characters is
    enough for staff to tell records apart without exposing the birth date.
    Values shorter than 15 characters (not even a legacy 15-digit number)
    cannot be masked safely that way and are masked completely.

    Parameters
    ----------
    s : object
        Identity number; ``None`` gives ``""``, other types use ``str()``.

    Returns
    -------
    str
        Masked string of the same length.
    """
    if s is None:
        return ""
    text = str(s)
    if len(text) < 15:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_phone(s: object) -> str:
    """Mask a phone number for display, e.g. ``138****5678``.

    11-digit mobile numbers follow the common Chinese convention (first 3,
    last 4 visible).  Anything else keeps the first 3 and last 2 characters;
    strings of 5 characters or fewer would reveal everything that way and
    are masked completely.

    Parameters
    ----------
    s : object
        Phone number; ``None`` gives ``""``, other types use ``str()``.

    Returns
    -------
    str
        Masked string of the same length.
    """
    if s is None:
        return ""
    text = str(s)
    if len(text) == 11 and text.startswith("1") and _is_ascii_digits(text):
        return text[:3] + "****" + text[-4:]
    if len(text) <= 5:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 5) + text[-2:]


def make_mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Generate ``n`` realistic mainland mobile numbers for synthetic data.

    Uses real carrier prefixes (13x, 15x, 17x, 18x, 19x segments) so that
    format validators and masking behave as on production data.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of phone numbers.

    Returns
    -------
    numpy.ndarray
        ``<U11`` array of shape ``(n,)``.
    """
    prefix = _MOBILE_PREFIXES[rng.integers(0, len(_MOBILE_PREFIXES), size=n)]
    number = prefix * 10**8 + rng.integers(0, 10**8, size=n)
    digits = number[:, None] // 10 ** np.arange(10, -1, -1, dtype=np.int64) % 10
    codepoints = np.ascontiguousarray(digits.astype(np.uint32) + ord("0"))
    return codepoints.view("<U11").reshape(n)
