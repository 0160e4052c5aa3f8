"""Labels and filters templates use, so every user-visible word passes through Babel."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale, pgettext

from models.clients import mask_id_number


def portal_language() -> str:
    """The portal's language code for the current request: `zh_CN` or `en`.

    Babel canonicalises zh_CN to zh_Hans_CN; translations/zh_Hans_CN is a link to the zh_CN catalog.
    """
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def N_(message: str) -> str:
    """Mark a message for the catalog where it is defined; it is translated where it is shown."""
    return message


def request_translations():
    """The request's catalog, looked up once per request rather than once per string."""
    from flask import g
    from flask_babel import get_translations

    translations = g.get("_portal_translations")
    if translations is None:
        translations = g._portal_translations = get_translations()
    return translations


def dash(value):
    """Empty values show as an em dash, never as 'None'."""
    return "—" if value is None or value == "" else value


# One pattern per language for every date and time a page shows (docs/GLOSSARY.md): tables stay narrow
# and a screen never mixes 2027年2月22日 with 2027-03-18. Times are shown in China time (Babel converts
# from the stored UTC with BABEL_DEFAULT_TIMEZONE).
DATE_PATTERNS = {"zh_CN": "yyyy-MM-dd", "en": "yyyy-MM-dd"}
DATETIME_PATTERNS = {"zh_CN": "yyyy-MM-dd HH:mm", "en": "yyyy-MM-dd HH:mm"}


def fmt_date(value):
    """A date (or a datetime's China-time date, or an ISO date kept in stored figures) in the language's one
    date pattern; None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    pattern = DATE_PATTERNS[portal_language()]
    if isinstance(value, datetime):
        return format_datetime(value, pattern)
    if not isinstance(value, date):
        return value
    # The ISO pattern is the date's own isoformat: lists show thousands of dates, so Babel is skipped there.
    return value.isoformat() if pattern == "yyyy-MM-dd" else format_date(value, pattern)


def fmt_datetime(value, seconds: bool = False):
    """A stored UTC time in China time, in the language's one pattern (to the second where a log needs it)."""
    if value is None:
        return "—"
    return format_datetime(value, DATETIME_PATTERNS[portal_language()] + (":ss" if seconds else ""))


def money(value, cents: bool = True) -> str:
    """An amount in yuan through Babel: `¥1,234,567.89` in English, `1,234,567.89元` in Chinese.

    The digits are grouped by Babel for the request's locale; where the currency goes is the catalog's
    word (pgettext "money"), so each language writes it its own way. None shows as a dash.
    """
    if value is None or value == "":
        return "—"
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    digits = format_decimal(abs(amount), format="#,##0.00" if cents else "#,##0")
    shown = pgettext("money", "¥%(amount)s", amount=digits)
    return f"-{shown}" if amount < 0 else shown


def percent(ratio) -> str:
    """A ratio (0.8500) as a percentage through Babel, to one decimal (85.0 %); None as a dash."""
    if ratio is None or ratio == "":
        return "—"
    return format_percent(ratio if isinstance(ratio, Decimal) else Decimal(str(ratio)), "#,##0.0 %")


def iso_date(value):
    return "" if value is None else value.isoformat()


FILTERS = {"dash": dash, "date": fmt_date, "datetime": fmt_datetime, "iso": iso_date, "mask_id": mask_id_number,
           "money": money, "percent": percent}
