"""Reading the files the linkage commands take: CSV in whatever encoding the source system
wrote (UTF-8 with or without BOM, GBK/GB18030 — detected with charset-normalizer) and Excel
``.xlsx`` (openpyxl, read-only). Every value comes back as text; blanks become "".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError

# charset-normalizer names the Chinese encodings it finds gb2312 / gbk / gb18030; GB18030 is
# the superset of the other two, so reading with it never loses a character the others have.
_CHINESE = {"gb2312", "gbk", "gb18030", "hz"}
_DELIMITERS = (",", "\t", ";", "|")


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: Sequence[dict[str, str]] | CsvRows
    encoding: str = ""


class CsvRows:
    """The rows of a CSV file, read from disk each time they are iterated: a million-row file
    is prepared row by row instead of sitting in memory as a million dicts."""

    def __init__(self, path: Path, encoding: str, delimiter: str, columns: list[str]) -> None:
        self.path, self.encoding, self.delimiter, self.columns = path, encoding, delimiter, columns
        self._count: int | None = None

    def __iter__(self) -> Iterator[dict[str, str]]:
        columns = self.columns
        count = 0
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)  # the header
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    count += 1
                    yield {
                        column: (cells[i].strip() if i < len(cells) else "")
                        for i, column in enumerate(columns)
                    }
        self._count = count

    def column_values(self, names: list[str]) -> dict[str, list[str]]:
        """The cells of some columns, without a dict per row (a whole file's worth)."""
        positions = [self.columns.index(name) for name in names]
        values: list[list[str]] = [[] for _name in names]
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)  # the header
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                width = len(cells)
                for position, column in zip(positions, values, strict=True):
                    column.append(cells[position].strip() if position < width else "")
        self._count = len(values[0]) if values else None
        return dict(zip(names, values, strict=True))

    def __len__(self) -> int:
        if self._count is None:
            for _row in self:
                pass
        return self._count or 0


def _file_error(path: Path, message: str) -> ApplicationError:
    return ApplicationError(
        _("Cannot read %(path)s: %(error)s") % {"path": path.name, "error": message},
        field="file",
        code="file",
    )


def detect_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return "gb18030"
    encoding = best.encoding.lower().replace("-", "").replace("_", "")
    return "gb18030" if encoding in _CHINESE else best.encoding


def _read_csv(path: Path, data: bytes) -> Table:
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise _file_error(path, str(exc)) from exc
    del data
    # The header line decides the delimiter: it has no quoted commas, unlike an address cell.
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(first_line, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(name.strip() for name in header):
        raise _file_error(path, _("the file is empty."))
    del text
    columns = [name.strip() for name in header]
    return Table(
        columns=columns, rows=CsvRows(path, encoding, delimiter, columns), encoding=encoding
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # Excel stores 13812345678 as a float; "13812345678.0" would match nothing.
        return str(int(value))
    return str(value).strip()


def _read_xlsx(path: Path) -> Table:
    import openpyxl  # type: ignore[import-untyped]  # openpyxl ships no type information

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors alike
        raise _file_error(path, str(exc)) from exc
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = next(values, None)
        if not header:
            raise _file_error(path, _("the file is empty."))
        columns = [_cell_text(name) for name in header]
        rows = []
        for cells in values:
            texts = [_cell_text(cell) for cell in cells]
            if any(texts):
                rows.append(
                    {c: (texts[i] if i < len(texts) else "") for i, c in enumerate(columns)}
                )
    finally:
        workbook.close()
    return Table(columns=columns, rows=rows, encoding="xlsx")


def read_table(path: Path) -> Table:
    """The header and rows of a CSV or .xlsx file."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _file_error(path, exc.strerror or str(exc)) from exc
    return _read_csv(path, data)
