"""Reading and writing row files: JSONL, CSV and Parquet, streamed in batches.

Readers never hold more than one batch of rows in memory, so a scan of a 10 GB file costs what
a scan of a small one does. The format follows the file's suffix; ``-`` reads JSONL from stdin.
Every problem with the data is an :class:`~bastion.errors.InputError` that names the input, the
row (and line, for text formats) and says how to fix it.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from bastion.errors import InputError

Format = Literal["jsonl", "csv", "parquet"]
STDIN = "-"
_SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet",
}
_CSV_FIELD_LIMIT = 2**31 - 1  # texts up to the classifier's own limit must fit in one field


@dataclass(frozen=True)
class Row:
    """One input row.

    Attributes:
        number: 1-based position among the data rows (blank lines and CSV headers not counted).
        line: 1-based line where the row starts in a text file; ``None`` for Parquet.
        data: the row's fields (empty when the line could not be read).
        problem: why the line could not be read, for readers that keep going past bad lines
            (``read_batches(..., keep_bad_lines=True)``); ``None`` for a good row.
    """

    number: int
    line: int | None
    data: dict[str, Any]
    problem: str | None = None

    @property
    def where(self) -> str:
        """``row 3 (line 5)``: where to look in the file."""
        return f"row {self.number}" + (f" (line {self.line})" if self.line is not None else "")


def data_format(path: str | Path) -> Format:
    """The format of a file, from its suffix (``-`` is JSONL on stdin)."""
    if str(path) == STDIN:
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(f"file {str(path)!r}: unknown format {suffix or '(no suffix)'!r}; "
                         f"name it with one of {sorted(_SUFFIXES)}")
    return _SUFFIXES[suffix]


def read_batches(
    source: str | Path, batch_size: int = 256, *, allow_empty: bool = False,
    keep_bad_lines: bool = False,
) -> Iterator[list[Row]]:
    """Yield the rows of a JSONL, CSV or Parquet file in batches of at most ``batch_size``.

    Args:
        keep_bad_lines: a JSONL line that is not a JSON object becomes a row with ``problem``
            set (and no data) instead of an error, so a scan can record it and go on.

    Raises:
        InputError: the file is missing, unreadable, malformed, or (unless ``allow_empty``)
            has no rows.
    """
    if batch_size < 1:
        raise InputError(f"batch size {batch_size} is too small; use 1 or more")
    fmt = data_format(source)
    rows = (_jsonl_rows(str(source), keep_bad_lines=keep_bad_lines) if fmt == "jsonl"
            else {"csv": _csv_rows, "parquet": _parquet_rows}[fmt](str(source), batch_size))
    batch: list[Row] = []
    count = 0
    for row in rows:
        batch.append(row)
        count += 1
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
    if count == 0 and not allow_empty:
        raise InputError(f"input {str(source)!r} has no rows; check that it is the right file "
                         "and that it is not empty")


def _open_binary(source: str) -> IO[bytes]:
    if source == STDIN:
        return sys.stdin.buffer
    try:
        return open(source, "rb")
    except FileNotFoundError as exc:
        raise InputError(f"input {source!r} not found; check the path") from exc
    except OSError as exc:
        raise InputError(f"input {source!r} cannot be opened: {exc.strerror}") from exc


def _jsonl_rows(source: str, *, keep_bad_lines: bool = False) -> Iterator[Row]:
    stream = _open_binary(source)
    try:
        number = 0
        for line_no, raw in enumerate(stream, start=1):
            try:
                data = _read_line(raw, source, line_no)
            except InputError as exc:
                if not keep_bad_lines:
                    raise
                number += 1
                yield Row(number, line_no, {}, problem=str(exc))
                continue
            if data is not None:
                number += 1
                yield Row(number, line_no, data)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _read_line(raw: bytes, source: str, line_no: int) -> dict[str, Any] | None:
    """One JSONL line's object; ``None`` for a blank line."""
    text = _decode(raw[3:] if line_no == 1 and raw.startswith(b"\xef\xbb\xbf") else raw,
                   source, line_no)
    return _parse_json(text.rstrip("\r\n"), source, line_no) if text.strip() else None


def _decode(raw: bytes, source: str, line_no: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input {source!r} line {line_no}: not UTF-8 (byte "
                         f"0x{raw[exc.start]:02x} at column {exc.start + 1}); save the file as "
                         "UTF-8") from exc


def _parse_json(text: str, source: str, line_no: int) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"input {source!r} line {line_no} column {exc.colno}: not valid JSON "
                         f"({exc.msg}); fix or remove the line") from exc
    if not isinstance(value, dict):
        raise InputError(f"input {source!r} line {line_no}: expected a JSON object such as "
                         f'{{"text": "..."}}, got {type(value).__name__}; one object per line')
    return value


def _csv_rows(source: str, _batch_size: int) -> Iterator[Row]:
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    with io.TextIOWrapper(_open_binary(source), encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        try:
            if reader.fieldnames is None:
                return
            for number in itertools.count(1):
                start = reader.line_num + 1
                data = next(reader, None)
                if data is None:
                    return
                if None in data:
                    raise InputError(f"input {source!r} line {start}: more fields than the "
                                     "header names; quote fields that contain commas")
                yield Row(number, start, data)
        except UnicodeDecodeError as exc:
            raise InputError(f"input {source!r} near line {reader.line_num + 1}: not UTF-8; "
                             "save the file as UTF-8") from exc
        except csv.Error as exc:
            raise InputError(f"input {source!r} line {reader.line_num}: bad CSV ({exc}); fix "
                             "the line") from exc


def _parquet_rows(source: str, batch_size: int) -> Iterator[Row]:
    try:
        reader = pq.ParquetFile(source)
    except FileNotFoundError as exc:
        raise InputError(f"input {source!r} not found; check the path") from exc
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"input {source!r} is not a readable Parquet file ({exc})") from exc
    number = 0
    with reader:
        try:
            for record_batch in reader.iter_batches(batch_size=batch_size):
                for data in record_batch.to_pylist():
                    number += 1
                    yield Row(number, None, data)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"input {source!r} after row {number}: cannot read the Parquet "
                             f"data ({exc}); the file may be truncated") from exc


def count_rows(source: str | Path) -> int | None:
    """The number of rows when it is cheap to know (Parquet metadata), else ``None``."""
    if str(source) == STDIN or data_format(source) != "parquet":
        return None
    try:
        return int(pq.ParquetFile(str(source)).metadata.num_rows)
    except (pa.ArrowException, OSError):
        return None


def field_value(row: Row, name: str, source: str | Path, *, option: str | None = None) -> Any:
    """A field of a row, or an InputError naming the row and the fields it does have."""
    if name in row.data:
        return row.data[name]
    hint = f"; choose one with {option}" if option else ""
    raise InputError(f"input {str(source)!r} {row.where}: no field {name!r}; fields present: "
                     f"{sorted(map(str, row.data))}{hint}")


def field_text(row: Row, name: str, source: str | Path, *, option: str | None = None) -> str:
    """A text field of a row; InputError when it is missing or not a string."""
    value = field_value(row, name, source, option=option)
    if value is None:
        raise InputError(f"input {str(source)!r} {row.where}: field {name!r} is empty (null); "
                         "every row needs text there")
    if not isinstance(value, str):
        raise InputError(f"input {str(source)!r} {row.where}: field {name!r} is "
                         f"{type(value).__name__}, not text; every row needs a string there")
    return value


def json_line(data: dict[str, Any]) -> bytes:
    """One JSONL line. Lone surrogates survive as JSON escapes instead of failing the write."""
    text = json.dumps(data, ensure_ascii=False, default=str) + "\n"
    return text.encode("utf-8", "backslashreplace")


def write_rows(
    path: str | Path, batches: Iterable[list[dict[str, Any]]], *, schema: pa.Schema | None = None
) -> int:
    """Write batches of rows to a JSONL, CSV or Parquet file (chosen by suffix); return the count.

    Args:
        path: the file to create or replace.
        batches: the rows, batch by batch; every row has the same keys.
        schema: the Parquet schema; inferred from the first batch when not given.
    """
    fmt = data_format(path)
    try:
        if fmt == "parquet":
            return _write_parquet(Path(path), batches, schema)
        if fmt == "csv":
            with open(path, "w", encoding="utf-8", newline="") as text_stream:
                return _write_csv(text_stream, batches)
        with open(path, "wb") as stream:
            count = 0
            for batch in batches:
                stream.write(b"".join(map(json_line, batch)))
                count += len(batch)
            return count
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror}; check the path and "
                         "permissions") from exc


def _csv_cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(
        value, list | dict | tuple) else value


def _write_csv(stream: IO[str], batches: Iterable[list[dict[str, Any]]]) -> int:
    writer: csv.DictWriter[str] | None = None
    count = 0
    for batch in batches:
        for data in batch:
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(data))
                writer.writeheader()
            writer.writerow({key: _csv_cell(value) for key, value in data.items()})
            count += 1
    return count


def _write_parquet(
    path: Path, batches: Iterable[list[dict[str, Any]]], schema: pa.Schema | None
) -> int:
    writer: pq.ParquetWriter | None = None
    count = 0
    try:
        for batch in batches:
            table = pa.Table.from_pylist(batch, schema=schema)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table)
            count += len(batch)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"cannot write {str(path)!r} as Parquet: {exc}") from exc
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(pa.table({}), str(path))
    return count


def infer_schema(batches: Iterable[list[dict[str, Any]]]) -> pa.Schema | None:
    """One Parquet schema for every batch (nulls and ints widen as needed); None if no rows."""
    schemas = [pa.Table.from_pylist(batch).schema for batch in batches if batch]
    if not schemas:
        return None
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"rows do not share one column type, so they cannot go into one "
                         f"Parquet file ({exc}); write JSONL instead") from exc


@contextmanager
def jsonl_appender(path: str | Path) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    """Append rows to a JSONL file (``-``: stdout), flushing after every batch.

    A batch is written with one call and flushed at once, so a killed process loses at most
    the batch in flight (see :func:`drop_partial_line` for the torn line it may leave). The
    file is opened at the first write: a run that fails before it leaves no file behind.
    """
    streams: list[IO[bytes]] = []

    def append(rows: list[dict[str, Any]]) -> None:
        if not streams:
            streams.append(_open_for_append(path))
        streams[0].write(b"".join(map(json_line, rows)))
        streams[0].flush()

    try:
        yield append
    finally:
        if streams and streams[0] is not sys.stdout.buffer:
            streams[0].close()


def _open_for_append(path: str | Path) -> IO[bytes]:
    if str(path) == STDIN:
        sys.stdout.flush()
        return sys.stdout.buffer
    try:
        return open(path, "ab")
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror}; check the path and "
                         "permissions") from exc


def drop_partial_line(path: Path) -> int:
    """Cut a torn last line (no newline: the writer was killed mid-write); return bytes cut."""
    size = path.stat().st_size
    with open(path, "rb+") as stream:
        end = size
        while end > 0:
            start = max(0, end - 65536)
            stream.seek(start)
            chunk = stream.read(end - start)
            if end == size and chunk.endswith(b"\n"):
                return 0
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                stream.truncate(keep)
                return size - keep
            end = start
        stream.truncate(0)
        return size
