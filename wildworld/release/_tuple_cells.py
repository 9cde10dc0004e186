"""Tuple cells of ``state.csv`` (``"(1.0, nan, -2e-3)"``): their spellings and their parsers.

Three parsers, one meaning:

* ``parse_tuple_cell``: one cell in Python, the reference;
* ``bulk_tuple_values``: a whole column at the cost of a few NumPy passes and one Arrow cast,
  for every cell that is a plain tuple or a missing spelling (the fast path);
* ``careful_tuple_values``: a whole column, any spelling ``parse_tuple_cell`` accepts, and the
  row of the first malformed cell (used where the bulk parse cannot vouch for a column).

A missing value is one of ``MISSING_SPELLINGS`` (any case, spaces around it ignored), as a
whole cell (every component NaN) or as a component.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import FormatError

__all__ = [
    "MISSING_SPELLINGS",
    "parse_number",
    "parse_tuple_cell",
    "bulk_tuple_values",
    "careful_tuple_values",
    "components_to_float",
    "missing_mask",
]

#: Numeric cell texts read as a missing value (compared case-insensitively).
MISSING_SPELLINGS = ("", "nan", "-nan", "+nan", "none", "null", "na", "n/a", "#n/a")
_MISSING = pa.array(list(MISSING_SPELLINGS))
_FLOAT = pa.float64()
_SPACE, _COMMA, _OPEN, _CLOSE = b" ,()"
_PLUS, _MINUS, _HASH = b"+-#"


# --------------------------------------------------------------------------- one cell


def parse_number(text: str) -> float:
    """One number or missing spelling (NaN); ``ValueError`` for anything else."""
    token = text.strip()
    if token.lower() in MISSING_SPELLINGS:
        return math.nan
    return float(token)  # accepts 1e-3, -0.0, inf, nan


def parse_tuple_cell(text: str | None, width: int | None = None) -> tuple[float, ...] | None:
    """Parse one tuple cell such as ``"(1.0, nan, -2e-3)"``.

    Returns the components as floats (missing components as NaN), ``None`` for a missing cell
    (empty, ``nan``, ``None``...), or raises ``ValueError`` for anything else. With ``width``
    the number of components must match; a missing cell is then returned as NaNs.
    """
    if text is None or text.strip().lower() in MISSING_SPELLINGS:
        return None if width is None else (math.nan,) * width
    body = text.strip()
    if not (body.startswith("(") and body.endswith(")")):
        raise ValueError(f"expected a tuple like (x, y, z), found {text!r}")
    inner = body[1:-1].strip()
    parts = inner.split(",") if inner else []
    if len(parts) > 1 and parts[-1].strip() == "":  # Python's 1-tuple spelling "(5.0,)"
        parts = parts[:-1]
    try:
        values = tuple(parse_number(part) for part in parts)
    except ValueError:
        raise ValueError(f"expected numbers inside the tuple, found {text!r}") from None
    if width is not None and len(values) != width:
        raise ValueError(f"expected {width} components, found {len(values)} in {text!r}")
    return values


def missing_mask(strings: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Which texts are missing spellings (spaces around them and case ignored)."""
    return pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(strings)), value_set=_MISSING)


def _ascii_missing_mask(strings: pa.Array) -> pa.Array:
    """``missing_mask`` with ASCII spaces and case only (no Unicode tables to consult): where
    it says missing, so does ``missing_mask``; where it does not, the bulk parse gives up and
    the careful parse decides."""
    return pc.is_in(pc.ascii_lower(pc.ascii_trim_whitespace(strings)), value_set=_MISSING)


def components_to_float(strings: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Texts of numbers -> float64, every missing spelling NaN; Arrow's error for anything else."""
    trimmed = pc.utf8_trim_whitespace(strings)
    missing = pc.is_in(pc.utf8_lower(trimmed), value_set=_MISSING)
    values = pc.cast(pc.if_else(missing, pa.scalar(None, pa.string()), trimmed), _FLOAT)
    return values.to_numpy()


# --------------------------------------------------------------------------- bulk (fast)


def _string_parts(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (into the data buffer) and data bytes of a string array, zero-copy."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8))


def _component_array(data: pa.Buffer, bounds: np.ndarray, missing: np.ndarray) -> pa.StringArray:
    """A zero-copy string array over ``data``: ``bounds`` holds, per component, its start and
    end offset, followed by the data buffer's end; the components become the odd entries
    (valid unless ``missing``) and the delimiters between them the even, null, entries."""
    n_components = (len(bounds) - 2) // 2
    if len(missing):
        valid = np.zeros(2 * n_components + 1, dtype=bool)
        valid[1::2] = True
        valid[2 * missing + 1] = False
        validity = np.packbits(valid, bitorder="little")
    else:
        validity = np.full((2 * n_components + 1 + 7) // 8, 0b10101010, dtype=np.uint8)  # odd entries valid
    return pa.StringArray.from_buffers(2 * n_components + 1, pa.py_buffer(bounds), data, pa.py_buffer(validity))


def _is_letter(byte: np.ndarray) -> np.ndarray:
    return ((byte | 0x20) - ord("a")).astype(np.uint8) < 26  # ASCII letters, either case


def _missing_components(data: np.ndarray, buffer: pa.Buffer, bounds: np.ndarray, last: int) -> np.ndarray:
    """Flat indices of the components that are missing spellings. Those start with a letter,
    "#", or a sign and a letter (or are empty): only those few are compared with the list."""
    component_starts, component_ends = bounds[1:-1:2], bounds[2:-1:2]
    head = data[component_starts]  # an empty component's is the delimiter after it
    after_sign = data[np.minimum(component_starts + 1, last - 1)]
    wordy = _is_letter(head) | (head == _HASH) | (((head == _PLUS) | (head == _MINUS)) & _is_letter(after_sign))
    wordy |= component_starts == component_ends
    candidates = np.flatnonzero(wordy)
    if not len(candidates):
        return candidates
    texts = _component_array(buffer, bounds, candidates[:0]).take(pa.array(2 * candidates + 1))
    return candidates[_ascii_missing_mask(texts).to_numpy(zero_copy_only=False)]


def bulk_tuple_values(array: pa.Array, width: int) -> np.ndarray | None:
    """Every cell of a text column of tuples as an ``(n, width)`` float64 block, or ``None``
    when this parse cannot vouch for every cell (the careful parse then decides).

    Vouched for: cells ``(x, y, ...)`` with exactly ``width - 1`` commas, at most one space
    after ``(`` or a comma, and components Arrow parses as numbers or that are missing
    spellings; and whole cells that are missing spellings. The components are located from
    the comma positions in the column's bytes and parsed by one Arrow cast of a zero-copy
    string array over those bytes, so nothing is copied or run per cell in Python. Anything
    else (a stray parenthesis or character ends up inside a component and fails the cast)
    returns ``None``; no value can shift between cells.
    """
    if width < 2 or not pa.types.is_string(array.type) or array.null_count:
        return None
    n_rows = len(array)
    offsets, data = _string_parts(array)
    first, last = int(offsets[0]), int(offsets[-1])
    starts, ends = offsets[:-1], offsets[1:]
    if last == first:  # every cell empty: missing
        return np.full((n_rows, width), np.nan)
    is_tuple = (ends > starts) & (data[np.minimum(starts, last - 1)] == _OPEN) & (data[np.maximum(ends - 1, first)] == _CLOSE)
    n_tuples = int(np.count_nonzero(is_tuple))
    rows = None
    if n_tuples < n_rows:  # the other cells must be missing spellings (which hold no comma)
        if not pc.all(_ascii_missing_mask(array.filter(pa.array(~is_tuple)))).as_py():
            return None
        if n_tuples == 0:
            return np.full((n_rows, width), np.nan)
        rows = np.flatnonzero(is_tuple)
        starts, ends = starts[rows], ends[rows]
    commas = np.flatnonzero(data[first:last] == _COMMA)
    if len(commas) != n_tuples * (width - 1):
        return None
    # bounds: the first offset, then (start, end) of every component, then the last offset -
    # the offsets of the string array whose odd entries are the components. A component starts
    # after "(" or a comma and ends at the next comma or ")".
    bounds = np.empty(2 * n_tuples * width + 2, dtype=np.int32)
    bounds[0], bounds[-1] = first, last
    pairs = bounds[1:-1].reshape(n_tuples, width, 2)
    pairs[:, 0, 0] = starts + 1
    pairs[:, -1, 1] = ends - 1
    pairs[:, :-1, 1] = commas.reshape(n_tuples, width - 1)
    if first:  # (a combined column's bytes start at 0)
        pairs[:, :-1, 1] += first
    # The commas are sorted and the cells consecutive: if every tuple's first comma lies after
    # its "(" and its last before its ")", every tuple has exactly width - 1 commas.
    if not (np.all(pairs[:, 0, 1] > starts) and np.all(pairs[:, -2, 1] < ends - 1)):
        return None
    np.add(pairs[:, :-1, 1], 1, out=pairs[:, 1:, 0])
    component_starts = pairs[..., 0]
    component_starts += data[component_starts] == _SPACE  # Python writes ", "
    if np.any(pairs[:, -1, 0] == pairs[:, -1, 1]):  # "(1.0, 2.0,)" is Python's shorter tuple: let the careful parse decide
        return None
    # Arrow's cast reads nan, NaN and -nan itself (Python writes nan): only when it refuses a
    # component are the other missing spellings (None, null, empty, ...) looked for.
    buffer = array.buffers()[2]
    missing = commas[:0]
    try:
        parsed = pc.cast(_component_array(buffer, bounds, missing), _FLOAT)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        missing = _missing_components(data, buffer, bounds, last)
        if not len(missing):
            return None
        try:
            parsed = pc.cast(_component_array(buffer, bounds, missing), _FLOAT)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    # Null entries hold unspecified values: only the valid odd ones are read, missing ones set NaN.
    values = np.frombuffer(parsed.buffers()[1], dtype=np.float64)[parsed.offset + 1 : parsed.offset + len(parsed) : 2]
    nan = np.flatnonzero(np.isnan(values))
    # Arrow also reads "nan(...)", which Python refuses: a NaN longer than "-nan" hides a stray "(".
    if len(nan) and np.any(bounds[2 * nan + 2] - bounds[2 * nan + 1] > 4):
        return None
    nan = np.union1d(nan, missing) if len(missing) else nan  # every one the same NaN, as the careful parse gives
    values = values.reshape(n_tuples, width)
    if rows is None:
        block = values.copy()
        block.reshape(-1)[nan] = np.nan
    else:
        block = np.empty((n_rows, width))
        block[~is_tuple] = np.nan
        block[rows] = values
        block[rows[nan // width], nan % width] = np.nan
    return block


# --------------------------------------------------------------------------- careful


def _parse_cells(path: Path, cells: Sequence[str | None], column: str, width: int, row_ids: np.ndarray) -> np.ndarray:
    """Cell by cell with ``parse_tuple_cell`` (the reference): slow, used only when the bulk
    parse cannot vouch for a column. Raises ``FormatError`` naming the first bad cell."""
    out = np.empty((len(cells), width))
    for position, text in enumerate(cells):
        try:
            out[position] = parse_tuple_cell(text, width)
        except ValueError as exc:
            raise FormatError(str(exc), path=path, row=int(row_ids[position]), column=column) from None
    return out


def careful_tuple_values(path: Path, column: pa.Array, name: str, width: int) -> np.ndarray:
    """A text column of tuples -> ``(n, width)`` float64, any spelling ``parse_tuple_cell``
    accepts; ``FormatError`` naming the row (0-based frame index) and column of a bad cell."""
    n_rows = len(column)
    if pa.types.is_null(column.type):
        return np.full((n_rows, width), np.nan)
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    present = ~pc.fill_null(missing_mask(column), True).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(present)
    cells = column.filter(pa.array(present)) if len(rows) != n_rows else column
    block = np.full((n_rows, width), np.nan)
    if len(rows) == 0:
        return block
    cells = pc.utf8_trim_whitespace(cells)
    offsets, data = _string_parts(cells)
    chunk = data[offsets[0] : offsets[-1]]
    starts = offsets[:-1] - offsets[0]
    ends = offsets[1:] - offsets[0]
    well_formed = bool(np.all(ends > starts)) and bool(
        np.all(chunk[starts] == _OPEN) and np.all(chunk[np.maximum(ends - 1, 0)] == _CLOSE)
    )

    def per_cell(byte: str) -> np.ndarray:
        counts = np.concatenate([[0], np.cumsum(chunk == ord(byte))])
        return counts[ends] - counts[starts]

    # exactly one "(" and one ")" (the ends), width - 1 commas, no line breaks inside
    well_formed = well_formed and bool(
        np.all(per_cell(",") == width - 1) and np.all(per_cell("(") == 1) and np.all(per_cell(")") == 1)
        and not np.any(per_cell("\n")) and not np.any(per_cell("\r"))
    )
    components = None
    if well_formed:  # one Arrow parse of the cells as lines of width fields
        lut = np.arange(256, dtype=np.uint8)
        lut[_OPEN] = ord("\n")
        lut[_CLOSE] = _SPACE
        names = [str(i) for i in range(width)]
        try:
            parsed = pcsv.read_csv(
                io.BytesIO(lut[chunk].tobytes()),
                read_options=pcsv.ReadOptions(column_names=names),
                parse_options=pcsv.ParseOptions(quote_char=False),
                convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}),
            )
            if parsed.num_rows == len(rows):
                components = [components_to_float(parsed.column(i)) for i in range(width)]
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            components = None
    if components is None:
        block[rows] = _parse_cells(path, cells.to_pylist(), name, width, rows)
    else:
        block[rows] = np.stack(components, axis=1)
    return block
