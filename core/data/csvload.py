"""CSV files parsed straight into float arrays, with messages that name the line and the column.

``open_csv(path)`` reads the header; the file's shape (every row has the header's number of
cells) is checked by loadtxt itself for an all-numeric file, else by counting separators in 16 MiB
blocks with NumPy, without holding any cell.
``numeric(cols)`` then parses with NumPy's C reader (``np.loadtxt``, numpy >= 1.23): an
all-numeric file once, whole, with its columns sliced; otherwise only the chosen columns after the
shape scan (text columns are allowed when unused). Measured with ``benchmarks/bench_csv.py`` on a
shared 2-core box (best of 3, target + features as data.py loads them): 222 MiB 200k x 118: 1.4 s
and 1.1x the file in peak RSS (with a text column: 2.8 s, 1.1x), where the earlier reader (every
cell a Python string) took 12.6 s and 8.4x, pyarrow 4.0 s / 3.8x, polars 2.1 s / 2.8x; 205 MiB
1M x 22: 1.9 s / 1.1x (old 12.2 s / 8.8x, pyarrow 2.2 s / 4.6x, polars 1.5 s / 2.6x). Polars was
at times faster in wall time (threads; 0.5-2.1 s across runs on this loaded box), but needs about
three times the memory and adds ~180 MB to the install (as does pyarrow); NumPy is a dependency
already and meets the target (seconds, under 3x the file in RAM), so it is the one used.
Files with quoted fields take the csv module's path (streamed, no cell kept). A bad cell is found
again with the csv module, to name its line and column.
"""

from __future__ import annotations

import csv
import stat
import warnings
from pathlib import Path

import numpy as np


def CsvError(message: str) -> ValueError:  # noqa: N802 - used like an exception class
    """data.DataError (the loaders' error for a person), looked up when raised: data imports this module."""
    from ..errors import DataError

    return DataError(message)


CHUNK = 16 * 1024 * 1024
MAX_LINE = 16 * 1024 * 1024
NL, COMMA, QUOTE, CR = 10, 44, 34, 13


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _cols(header: list[str]) -> str:
    uniq = list(dict.fromkeys(header))
    return ", ".join(uniq[:20]) + (f", ... ({len(uniq)} distinct)" if len(uniq) > 20 else "")


class CsvFile:
    """A CSV with a header row; columns become numbers only where a model needs them.

    An all-numeric file is parsed once, whole (loadtxt checks every row's cell count itself), and the
    chosen columns are sliced from it; a file with text columns, quotes or a bad row takes the checked
    path: a block-wise shape scan, then only the chosen columns."""

    def __init__(self, path: str, header: list[str], skip: int):
        self.path, self.header, self.skip = path, header, skip  # path: as the person gave it, for messages
        self.file = path  # what is read: a spooled copy for a pipe or a device
        self.quoted, self.blanks, self._n_rows = False, None, None
        self._all, self._mixed, self._finite = None, False, None

    @property
    def n_rows(self) -> int:
        if self._n_rows is None:
            self._check()
        return self._n_rows

    def _check(self) -> None:
        """The shape scan: CsvError at the first row whose cell count differs from the header's."""
        p, n = Path(self.file), len(self.header)
        try:
            with p.open("rb") as fh:
                for _ in range(self.skip):
                    fh.readline()
                rows, self.quoted, self.blanks = _scan(fh, n, self.skip + 1, self.path)
            if self.quoted:
                rows = _scan_quoted(p, n, self.skip, self.path)
        except UnicodeDecodeError:
            raise CsvError(f"{self.path}: not a text CSV file.") from None
        except csv.Error as e:
            raise CsvError(f"{self.path}: not a readable CSV file ({e}).") from None
        self._n_rows = rows

    def _whole(self) -> np.ndarray | None:
        """Every column as float64 if the file is all numbers and well formed, else None (once)."""
        if self._all is None and not self._mixed:
            try:
                a = self._loadtxt(None, np.float64)
            except (ValueError, IndexError):  # text, a bad cell, a ragged row, not UTF-8: the checked path
                a = None
            if a is None or a.shape[1] != len(self.header) or len(a) == 0:
                self._mixed = True
                return None
            self._all, self._n_rows = a, len(a)
            self._finite = np.isfinite(a).all(axis=0)  # per column, once for every numeric() call
        return self._all

    def numeric(self, cols: list[int], role: str = "feature") -> np.ndarray:
        """The chosen columns as float64 [n_rows, len(cols)]; errors name the line, the column and what to do."""
        whole = self._whole()
        if whole is not None:
            run = len(cols) > 0 and list(cols) == list(range(cols[0], cols[0] + len(cols)))
            values = whole[:, cols[0]:cols[0] + len(cols)] if run else whole[:, cols]  # a run of columns: a view
            if self._finite[cols].all():
                return values
        else:
            values = self._columns(cols, role)
        bad = ~np.isfinite(values)
        if bad.any():
            i, k = np.argwhere(bad)[0]
            raise CsvError(f"{self.path}: line {self._line_of(i)}, column '{self.header[cols[k]]}' (#{cols[k]}) is "
                           f"{values[i, k]} (missing or infinite). Every {role} cell must be a finite number.")
        return values

    def _columns(self, cols: list[int], role: str) -> np.ndarray:
        n = self.n_rows  # the shape scan first: a ragged row is named before any cell is parsed
        try:
            if self.quoted:
                values = np.array([[float(r[j]) for j in cols] for r in self._rows()], dtype=np.float64)
            else:
                values = self._loadtxt(cols, np.float64)
        except UnicodeDecodeError:
            raise CsvError(f"{self.path}: not a text CSV file (a line is not UTF-8).") from None
        except (ValueError, IndexError):
            try:
                why = self._find_bad(cols, role)
            except UnicodeDecodeError:
                why = f"{self.path}: not a text CSV file (a line is not UTF-8)."
            raise CsvError(why) from None
        return values.reshape(n, len(cols))

    def text(self, col: int) -> list[str]:
        if self.blanks is None:  # the shape scan has not run yet: whether the file has quotes is unknown
            self._check()
        try:
            if self.quoted:
                return [r[col].strip() for r in self._rows()]
            return [str(s).strip() for s in self._loadtxt([col], str).reshape(-1)]
        except UnicodeDecodeError:
            raise CsvError(f"{self.path}: not a text CSV file (a line is not UTF-8).") from None

    def _loadtxt(self, cols: list[int], dtype) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # blank lines: numpy says it skips them
            return np.loadtxt(self.file, delimiter=",", skiprows=self.skip, usecols=cols, dtype=dtype, ndmin=2,
                              comments=None, encoding="utf-8", quotechar='"')

    def _rows(self):
        """(physical line number, cells) of every data row, streamed by the csv module."""
        with open(self.file, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for _ in range(self.skip):
                next(reader, None)
            for r in reader:
                if r:
                    yield r

    def _numbered(self):
        line = self.skip
        with open(self.file, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for _ in range(self.skip):
                next(reader, None)
            for r in reader:
                line = reader.line_num
                if r:
                    yield line, r

    def _line_of(self, i: int) -> int:
        if self.blanks == 0 and not self.quoted:
            return self.skip + 1 + int(i)
        for k, (line, _) in enumerate(self._numbered()):
            if k == i:
                return line
        return -1

    def _find_bad(self, cols: list[int], role: str) -> str:
        for line, r in self._numbered():
            for j in cols:
                if j >= len(r) or not _is_number(r[j]):
                    return self._bad_cell(line, r, j, role)
        return f"{self.path}: a {role} cell could not be read as a number."

    def _bad_cell(self, line: int, row: list[str], j: int, role: str) -> str:
        cell = row[j] if j < len(row) else ""
        where = f"{self.path}: line {line}, column '{self.header[j]}' (#{j})"
        if not cell.strip():
            return f"{where} is empty. Every {role} cell must be a number; fill or remove that row."
        first = [r for _, r in zip(range(50), self._rows())]
        if not any(j < len(r) and _is_number(r[j]) for r in first):
            return (f"{where} = {cell!r}: the column holds text, but it is used as a {role}. Leave it out "
                    f"(add '{self.header[j]}' to [data] drop, or name the features you want).")
        return f"{where} = {cell!r} is not a number. Every {role} cell must be numeric; fix or remove that row."


def open_csv(path: str | Path) -> CsvFile:
    """Check a CSV file and read its header. Errors name the file and the line."""
    p = Path(path)
    if not str(path):
        raise CsvError("No CSV file given: pass one with --data PATH.")
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CsvError(f"{p}: no such file.") from None
    except OSError as e:
        raise CsvError(f"{p}: cannot be read ({e.strerror or e}).") from None
    if stat.S_ISDIR(st.st_mode):
        raise CsvError(f"{p}: is a folder, not a CSV file.")
    spool = None if stat.S_ISREG(st.st_mode) else _spool(p)  # a pipe or a device: read it once, into a file
    try:
        with open(spool.name if spool else p, "rb") as fh:
            header, skip = _header(fh, p)
            if not any(line.strip() for line in _lines(fh, p)):
                raise CsvError(f"{p}: has a header but no data rows.")
    except UnicodeDecodeError:
        raise CsvError(f"{p}: not a text CSV file.") from None
    except csv.Error as e:
        raise CsvError(f"{p}: not a readable CSV file ({e}).") from None
    f = CsvFile(str(p), header, skip)
    if spool:
        f.file, f._spool = spool.name, spool  # the temp file goes when the CsvFile does
    return f


MAX_SPOOL = 4 * 1024**3


def _spool(p: Path):
    """Copy a pipe's or a device's bytes (``--data /dev/stdin``, ``<(zcat x.gz)``) into a temp file, at
    most MAX_SPOOL of them (``/dev/zero`` does not run forever)."""
    import tempfile

    tmp = tempfile.NamedTemporaryFile(prefix="dltui-", suffix=".csv")  # noqa: SIM115 - lives with the CsvFile
    n = 0
    with open(p, "rb") as src:
        while block := src.read(1024 * 1024):
            n += len(block)
            why = ("holds NUL bytes" if b"\0" in block else f"gives more than {MAX_SPOOL // 2**30} GiB"
                   if n > MAX_SPOOL else "")
            if why:
                tmp.close()
                raise CsvError(f"{p}: a pipe or device that {why}; not a CSV file dltui reads.")
            tmp.write(block)
    tmp.flush()
    return tmp


def _lines(fh, p: Path):
    """Lines as bytes, each at most MAX_LINE long (a huge file without newlines is not read whole)."""
    while True:
        raw = fh.readline(MAX_LINE + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE:
            raise CsvError(f"{p}: a line is longer than {MAX_LINE // 2**20} MiB; not a CSV file dltui reads.")
        yield raw


def _header(fh, p: Path) -> tuple[list[str], int]:
    skip = 0
    for raw in _lines(fh, p):
        skip += 1
        text = raw.decode("utf-8-sig" if skip == 1 else "utf-8")
        if text.strip("\r\n"):
            row = next(csv.reader([text]))
            if row:
                return [h.strip() for h in row], skip
    raise CsvError(f"{p}: the file is empty.")


def _scan(fh, n_cols: int, first_line: int, p: str) -> tuple[int, bool, int]:
    """(data rows, has quotes, blank lines) after the header; CsvError at the first row whose number of
    cells differs from the header's. Counts separators per line in blocks; no cell is kept."""
    line, rows, blanks = first_line, 0, 0
    carry_commas, carry_len, prev = 0, 0, 0
    while True:
        chunk = fh.read(CHUNK)
        if not chunk:
            break
        a = np.frombuffer(chunk, np.uint8)
        if (a == QUOTE).any():
            return 0, True, 0
        nl = np.flatnonzero(a == NL)
        if len(nl):
            commas = np.searchsorted(np.flatnonzero(a == COMMA), nl)
            per = np.diff(commas, prepend=0)
            per[0] += carry_commas
            lengths = np.diff(nl, prepend=-1) - 1
            lengths[0] += carry_len
            before = np.where(nl > 0, a[np.maximum(nl - 1, 0)], prev)
            blank = (lengths - (before == CR)) == 0
            wrong = ~blank & (per != n_cols - 1)
            if wrong.any():
                k = int(np.argmax(wrong))
                raise CsvError(f"{p}: line {line + k} has {per[k] + 1} cells but the header has {n_cols} columns.")
            rows += int((~blank).sum())
            blanks += int(blank.sum())
            line += len(nl)
            tail = a[nl[-1] + 1:]
            carry_commas, carry_len = int((tail == COMMA).sum()), len(tail)
        else:
            carry_commas += int((a == COMMA).sum())
            carry_len += len(a)
        prev = int(a[-1])
    if carry_len - (prev == CR) > 0:
        if carry_commas != n_cols - 1:
            raise CsvError(f"{p}: line {line} has {carry_commas + 1} cells but the header has {n_cols} columns.")
        rows += 1
    return rows, False, blanks


def _scan_quoted(file: Path, n_cols: int, skip: int, p: str) -> int:
    rows = 0
    with open(file, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for _ in range(skip):
            next(reader, None)
        for r in reader:
            if not r:
                continue
            if len(r) != n_cols:
                raise CsvError(f"{p}: line {reader.line_num} has {len(r)} cells but the header has {n_cols} columns.")
            rows += 1
    return rows


def column_keys(header: list[str]) -> list[list]:
    """[name, occurrence] for each column, so repeated names (day 1..5) stay distinct."""
    seen: dict[str, int] = {}
    keys = []
    for h in header:
        keys.append([h, seen.get(h, 0)])
        seen[h] = seen.get(h, 0) + 1
    return keys
