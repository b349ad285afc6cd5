"""Read a source file as a header and rows of text, whatever its format and encoding.

CSV is streamed with the ``csv`` module; ``.xlsx`` is read with openpyxl in read-only mode
(first sheet). The text encoding is detected, never asked: a UTF-8 byte-order mark or valid
UTF-8 wins, otherwise charset-normalizer chooses among UTF-8 and GB18030 (the superset of GBK
and GB2312, which Chinese Excel writes as "ANSI" CSV). Anything wrong with the file as a whole —
not text in either encoding, not a CSV or .xlsx, a file cut off in the middle of a row — raises
``FileError`` naming the row, and the importer then writes nothing but the failed batch.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
MAX_COLUMNS = 200


class FileError(ApplicationError):
    """The file as a whole cannot be imported; ``row`` is where reading stopped, if known."""

    def __init__(self, message: Any, *, row: int | None = None) -> None:
        super().__init__(message, field="file", code="bad_file")
        self.row = row


@dataclass
class Table:
    """A file's header and its record rows, read lazily: ``rows`` may raise ``FileError``."""

    kind: str  # "csv" or "xlsx"
    encoding: str  # "" for .xlsx, whose text is always Unicode
    columns: list[str]
    rows: Iterator[tuple[int, list[str]]]


def _row_of(content: bytes, position: int) -> int:
    return content[:position].count(b"\n") + 1


def detect_encoding(content: bytes) -> str:
    """The encoding of a text file: "utf-8-sig", "utf-8" or "gb18030"."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    else:
        return "utf-8"
    best = from_bytes(content, cp_isolation=["utf_8", "gb18030"]).best()
    if best is not None and best.encoding == "gb18030":
        return "gb18030"
    raise FileError(
        _(
            "Row %(row)s: the file is neither UTF-8 nor GBK/GB18030 text. "
            "Save it again as CSV UTF-8 or as an Excel .xlsx file."
        )
        % {"row": _row_of(content, utf8_error.start)},
        row=_row_of(content, utf8_error.start),
    )


def _clean_header(raw: list[str]) -> list[str]:
    columns = [str(cell or "").strip() for cell in raw]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise FileError(_("Row 1: the file has no header row with column names."), row=1)
    if len(columns) > MAX_COLUMNS:
        raise FileError(
            _("Row 1: the file has more than %(count)s columns.") % {"count": MAX_COLUMNS}, row=1
        )
    seen: set[str] = set()
    for index, column in enumerate(columns, start=1):
        if not column:
            raise FileError(
                _("Row 1: column %(index)s has no name.") % {"index": index},
                row=1,
            )
        if column in seen:
            raise FileError(
                _('Row 1: the column "%(column)s" appears twice.') % {"column": column}, row=1
            )
        seen.add(column)
    return columns


def _csv_rows(reader: Iterator[list[str]], width: int) -> Iterator[tuple[int, list[str]]]:
    row_number = 1
    pending: tuple[int, list[str]] | None = None
    try:
        for values in reader:
            row_number += 1
            if "\x00" in "".join(values):
                raise FileError(
                    _("Row %(row)s holds a NUL character: the file is not plain text.")
                    % {"row": row_number},
                    row=row_number,
                )
            if pending is not None:
                yield pending
            pending = (row_number, values)
    except csv.Error as exc:
        raise FileError(
            _(
                "Row %(row)s: the file is cut off or its quotes do not close (%(detail)s). "
                "Nothing was imported."
            )
            % {"row": row_number + 1, "detail": exc},
            row=row_number + 1,
        ) from exc
    except UnicodeDecodeError as exc:
        raise FileError(
            _("Row %(row)s: the text cannot be decoded; the file mixes encodings.")
            % {"row": row_number + 1},
            row=row_number + 1,
        ) from exc
    if pending is not None:
        last_row, values = pending
        # A last row with fewer values than the header is a file cut off mid-row: a short row
        # in the middle is the row's own fault, but at the end it means data went missing.
        if any(v.strip() for v in values) and len(values) < width:
            raise FileError(
                _(
                    "Row %(row)s: the file ends in the middle of a row (%(found)s of "
                    "%(width)s values). Nothing was imported."
                )
                % {"row": last_row, "found": len(values), "width": width},
                row=last_row,
            )
        yield pending


def _delimiter(content: bytes, encoding: str) -> str:
    """Comma, unless the header row is clearly split by tabs or semicolons (some exports)."""
    first = content[:4096].split(b"\n", 1)[0].decode(encoding, errors="ignore")
    return max(",\t;", key=first.count) if first.count(",") == 0 else ","


def read_csv(content: bytes) -> Table:
    encoding = detect_encoding(content)
    text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    # strict: a quote that never closes raises csv.Error instead of swallowing the rest.
    reader = csv.reader(text, delimiter=_delimiter(content, encoding), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileError(
            _("Row 1: the header row cannot be read (%(detail)s).") % {"detail": exc}, row=1
        ) from exc
    columns = _clean_header(header or [])
    return Table("csv", encoding, columns, _csv_rows(reader, len(columns)))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        # Excel keeps phone and licence numbers typed as numbers: 13812345678.0.
        return str(int(value))
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _xlsx_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, list[str]]]:
    for row_number, row in enumerate(rows, start=2):
        yield row_number, [_cell_text(value) for value in row]


def read_xlsx(content: bytes) -> Table:
    # Imported here: only Excel uploads pay for it. openpyxl ships no type stubs.
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileError(
            _("The Excel file is damaged or cut off and cannot be opened (%(detail)s).")
            % {"detail": exc}
        ) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    columns = _clean_header([_cell_text(v) for v in header or ()])
    return Table("xlsx", "", columns, _xlsx_rows(rows))


def read_table(*, file_name: str, content: bytes) -> Table:
    """Open a CSV or .xlsx file by its content (the name only breaks a tie)."""
    if not content.strip():
        raise FileError(_("The file is empty."))
    if content.startswith(XLSX_MAGIC):
        return read_xlsx(content)
    if content.startswith(OLE_MAGIC) or file_name.lower().endswith(".xls"):
        raise FileError(
            _("Old .xls files cannot be read; save the file as .xlsx or CSV and upload it again.")
        )
    if file_name.lower().endswith(".xlsx"):
        raise FileError(_("The Excel file is damaged or cut off and cannot be opened."))
    return read_csv(content)
