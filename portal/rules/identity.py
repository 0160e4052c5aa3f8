"""Identity documents, contact details and the cell values of onboarding files: the pure rules.

A resident ID number (居民身份证号码, GB 11643-1999) is 17 digits — a six-digit region, the birth date
YYYYMMDD, a three-digit sequence whose last digit is odd for men and even for women — and a check
character: the sum of the digits weighted 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, modulo 11, picks it from
`10X98765432`. Other documents (passport, Hong Kong/Macao and Taiwan travel permits, foreign permanent
residence card) are checked for form only.

Values from files arrive as text typed by people in Excel on Chinese Windows: full-width digits, letters,
signs and spaces (ＡＢＣ１２３－, the ideographic space) are folded to their ASCII forms and whitespace is trimmed;
dates are `YYYY-MM-DD`, or date cells of a workbook (a datetime, or an Excel serial day number).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from operator import mul

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_TYPES = ("resident_id", "passport", "hk_macau_permit", "taiwan_permit", "foreign_permanent")
SEXES = ("M", "F")

_RESIDENT = re.compile(r"[0-9]{17}[0-9X]")
# Forms of the other documents: a passport (China: E/G + 8; others: 5–20 letters and digits); the
# Mainland travel permit for Hong Kong and Macao residents (H or M + 8 or 10 digits); for Taiwan
# residents (8 or 10 digits); the foreign permanent residence ID card (3 letters + 12 digits, or 18 digits).
_FORMS = {
    "passport": re.compile(r"[A-Z0-9]{5,20}"),
    "hk_macau_permit": re.compile(r"[HM][0-9]{8}([0-9]{2})?"),
    "taiwan_permit": re.compile(r"[0-9]{8}([0-9]{2})?"),
    "foreign_permanent": re.compile(r"[A-Z]{3}[0-9]{12}|[0-9]{17}[0-9X]"),
}
_MOBILE = re.compile(r"1[0-9]{10}")
# An address by form: one @, a dotted domain, no spaces; what RFC 5321 allows in length.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,19}")
FORMULA_STARTS = ("=", "+", "-", "@")
# Excel's day 0 is 1899-12-30 (its 1900 calendar counts a 29 February that never was: serial 60).
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_FIRST, _EXCEL_LAST = 61, 2958465  # 1900-03-01 … 9999-12-31

YES = ("yes", "y", "true", "1", "是", "对")
NO = ("no", "n", "false", "0", "否", "", "不是")
SEX_WORDS = {"M": "M", "F": "F", "男": "M", "女": "F"}


# Full-width ASCII (U+FF01–U+FF5E) and the ideographic space, as a Chinese input method types them, folded to
# ASCII. Only these: a full Unicode normalisation (NFKC) would also change compatibility ideographs in names.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalise(value: object) -> str:
    """A cell's text: full-width letters, digits, signs and spaces folded to ASCII, whitespace at either end trimmed."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii():
        text = text.translate(_FULL_WIDTH)
    return text.strip()


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return ID_CHECK[sum(map(mul, map(int, first17), ID_WEIGHTS)) % 11]


def resident_id_problem(number: str, birth_date: date | None = None, sex: str | None = None) -> str | None:
    """None when `number` is a valid resident ID number agreeing with the birth date and sex given, else a code:
    `id_number_form` (not 17 digits and a check character, or no real birth date in it), `id_check_digit`,
    `id_birth_date_mismatch`, `id_sex_mismatch`. A lower-case x is read as X."""
    number = number.upper()
    if not _RESIDENT.fullmatch(number):
        return "id_number_form"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "id_number_form"
    if check_character(number[:17]) != number[17]:
        return "id_check_digit"
    if birth_date is not None and born != birth_date:
        return "id_birth_date_mismatch"
    if sex is not None and sex_of_resident_id(number) != sex:
        return "id_sex_mismatch"
    return None


def sex_of_resident_id(number: str) -> str:
    """`M` when the sequence's last digit (the 17th character) is odd, else `F`."""
    return "M" if int(number[16]) % 2 else "F"


def id_number_problem(id_type: str, number: str, birth_date: date | None = None, sex: str | None = None) -> str | None:
    """None, or the code of what is wrong with an ID number of `id_type` (form only for non-resident documents)."""
    if id_type == "resident_id":
        return resident_id_problem(number, birth_date, sex)
    pattern = _FORMS.get(id_type)
    if pattern is None or not pattern.fullmatch(number.upper()):
        return "id_number_form"
    return None


def canonical_id_number(id_type: str, number: str) -> str:
    """The number as stored: upper case (a resident ID's x is X)."""
    return number.upper()


def is_mobile(text: str) -> bool:
    """A Mainland mobile number: 11 digits starting with 1 (a +86 or 86 prefix and spaces or dashes are dropped)."""
    return _MOBILE.fullmatch(mobile_digits(text)) is not None


def mobile_digits(text: str) -> str:
    """`+86 138-0013-8000` → `13800138000`."""
    digits = re.sub(r"[\s-]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def is_email(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.fullmatch(text) is not None


def is_code(text: str) -> bool:
    """A code or number used as a key: 2–20 capital letters, digits, dash or underscore."""
    return _CODE.fullmatch(text) is not None


def looks_like_formula(text: str) -> bool:
    """Text a spreadsheet would evaluate if written to a cell as is; it is stored as text and neutralised on export."""
    return text.startswith(FORMULA_STARTS)


def excel_serial_date(serial: float) -> date | None:
    """The date an Excel serial day number stands for (a whole number of days), or None."""
    if serial != int(serial) or not _EXCEL_FIRST <= serial <= _EXCEL_LAST:
        return None
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: object) -> tuple[date | None, str | None]:
    """(date, None), (None, None) when empty, or (None, "invalid_date").

    Text must be `YYYY-MM-DD` (full-width digits are folded first); a workbook cell may hold a date, a
    datetime at midnight or a serial day number.
    """
    if value is None:
        return None, None
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
            return None, "invalid_date"
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if type(value) is str and len(value) == 10 and _ISO_DATE.fullmatch(value):  # the common case, fast
        try:
            return date(int(value[:4]), int(value[5:7]), int(value[8:])), None
        except ValueError:
            return None, "invalid_date"
    if isinstance(value, bool):
        return None, "invalid_date"
    if isinstance(value, (int, float)):
        day = excel_serial_date(value)
        return (day, None) if day else (None, "invalid_date")
    text = normalise(value)
    if not text:
        return None, None
    match = _ISO_DATE.fullmatch(text)
    if not match:
        return None, "invalid_date"
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))), None
    except ValueError:
        return None, "invalid_date"


def parse_yes_no(text: str) -> bool | None:
    """True, False (empty is no), or None when the text is neither."""
    lowered = text.lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    return None


def parse_sex(text: str, words: bool = True) -> str | None:
    """`M`/`F` (upper or lower case), and `男`/`女` when `words`; None when neither."""
    upper = text.upper()
    if upper in SEXES:
        return upper
    return SEX_WORDS.get(text) if words else None
