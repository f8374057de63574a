"""Numbers read by hand from a query string or a form: refused with a 400 that names the
parameter, never a 500.

`str.isdigit()` accepts digits `int()` refuses ("²") and `int()` accepts digits in other
scripts ("٣") and numbers no database column holds (2**63): either was a server error once.
A view that reads a number itself calls `integer_parameter` or `id_parameters`; a bad value
raises `BadParameter`, which `BadParameterMiddleware` answers with a 400 page (JSON under
the API) saying which parameter was wrong and why.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _

# The largest key or number a query string may give: PostgreSQL's bigint and SQLite's
# INTEGER are signed 64-bit.
MAX_DATABASE_INTEGER = 2**63 - 1
# Pages of a list numbered past this are refused: no list here is a million pages long.
MAX_PAGE = 1_000_000


class BadParameter(ValueError):
    """A query-string or form parameter that cannot be used, with a message for the reader."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def parse_integer(text: str, *, minimum: int, maximum: int) -> int | None:
    """`text` as an integer from `minimum` to `maximum`, or None: ASCII digits only (a
    leading minus when `minimum` is negative), at most as long as `maximum`."""
    text = text.strip()
    digits = text[1:] if text.startswith("-") and minimum < 0 else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(maximum)):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def integer_parameter(
    data: Mapping,
    name: str,
    *,
    default: int | None = None,
    minimum: int = 0,
    maximum: int = MAX_DATABASE_INTEGER,
) -> int | None:
    """The integer in `data[name]` (a QueryDict or POST), `default` when it is absent or
    empty; a value that is not a whole number in the range raises `BadParameter`."""
    text = data.get(name)
    if text is None or not str(text).strip():
        return default
    value = parse_integer(str(text), minimum=minimum, maximum=maximum)
    if value is None:
        raise BadParameter(
            name,
            _("Enter a whole number from %(minimum)d to %(maximum)d.")
            % {"minimum": minimum, "maximum": maximum},
        )
    return value


def page_parameter(data: Mapping, name: str = "page") -> int:
    """A page number (1 when absent); refused past `MAX_PAGE`."""
    return integer_parameter(data, name, default=1, minimum=1, maximum=MAX_PAGE)


def id_parameters(data, name: str) -> list[int]:
    """Every key given as `name` (it may repeat): each must be a key the database could
    hold."""
    ids = []
    for text in data.getlist(name):
        if not text.strip():
            continue
        value = parse_integer(text, minimum=1, maximum=MAX_DATABASE_INTEGER)
        if value is None:
            raise BadParameter(name, _("Give the number of a record."))
        ids.append(value)
    return ids
