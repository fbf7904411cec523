"""Every CSV the site produces is written here, so no cell can run as a
formula when the file is opened in a spreadsheet (CSV injection).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote (OWASP's advice): spreadsheet programs then
show it as text. Numbers are left alone.
"""

import csv
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """Lines of a UTF-8 CSV (with a byte-order mark, so spreadsheet programs read
    it as UTF-8), for a ``StreamingHttpResponse``."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([csv_safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([csv_safe_cell(cell) for cell in row])
