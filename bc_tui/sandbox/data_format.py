"""The sandbox data folder on disk: its format version, the chunk codec and its error sentences.

Everything in the data folder is data, never code: bulk-loaded rows are stored as JSON text
(see ``encode_chunk``), so a row planted in the file can at worst make the folder unreadable,
which ``SandboxDataError`` reports in one sentence with ``bc-tui sandbox reset`` as the fix.

A chunk is a JSON list of *runs*: consecutive rows that share the same field names, in the
same order. A run is ``[fields, keys, columns]``: the field names once, the row keys, and one
column per field. A column whose values are all strings and repeat a lot (city, company id,
"Customer") is stored as ``{"d": distinct values, "i": their index per row}``, which keeps the
file small and lets the rows share one string object per distinct value, as they did when
generated; any other column is the plain list of its values.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shlex
import shutil
import sqlite3
import sys
from array import array
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from typing import Any

#: The on-disk layout, kept in SQLite's ``user_version``. 0: a new, empty file (or the
#: first layout, one JSON document per row, which had no version); 2: pickled chunks, which
#: are never read again (unpickling runs code); 3: JSON chunks (this module).
FORMAT = 3

#: The files SQLite keeps for one database: the file itself, its write-ahead log and its
#: shared-memory index, and a rollback journal should one ever be left behind.
_SUFFIXES = ("", "-wal", "-shm", "-journal")

_encode = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode
_Pair = tuple[str, dict[str, Any]]


class SandboxDataError(Exception):
    """The sandbox data folder cannot be used; ``str()`` is one sentence naming the folder and the fix.

    ``repairable`` says whether ``bc-tui sandbox reset`` fixes it by recreating the file (a
    corrupt or outdated file) or whether the folder itself is the problem (it can't be made).
    """

    def __init__(self, message: str, *, repairable: bool = True) -> None:
        super().__init__(message)
        self.repairable = repairable


def _reset_command(folder: Path) -> str:
    return f"bc-tui sandbox reset --data {shlex.quote(str(folder))}"


def damaged(path: Path, cause: str) -> SandboxDataError:
    """The sentence for a data file that can't be read or written (``reset`` recreates it).

    ``cause`` completes "<file name> is damaged: …" unless it names the file itself.
    """
    folder = path.parent
    if path.name not in cause:
        cause = f"{path.name} is damaged: {cause}"
    return SandboxDataError(
        f"The sandbox data folder {folder} cannot be used ({cause}); "
        f"run '{_reset_command(folder)}' to recreate its demo data."
    )


def older_format(path: Path, version: int) -> SandboxDataError:
    """The sentence for a file in a layout this bc-tui no longer reads (never opened further)."""
    folder = path.parent
    if version > FORMAT:
        made = f"was made by a newer bc-tui (data format {version}); use that version, or"
    else:
        made = "was made by an older bc-tui;"
    return SandboxDataError(
        f"The sandbox data folder {folder} {made} run '{_reset_command(folder)}' to recreate its demo data."
    )


def unusable_folder(folder: Path, cause: str) -> SandboxDataError:
    """The sentence for a data folder that can't be created or entered (``reset`` can't help)."""
    return SandboxDataError(
        f"The sandbox data folder {folder} cannot be used ({cause}); check that path and its permissions, "
        "or choose another folder with --data.",
        repairable=False,
    )


def discard_files(path: Path) -> None:
    """Delete the database ``path`` and its companion files, whatever they are (for ``reset``).

    A folder found where one of the files should be is deleted too: it can only be a mistake,
    and SQLite can't open the database while it is there. Raises ``SandboxDataError``
    (not repairable) when something can't be deleted.
    """
    for suffix in _SUFFIXES:
        target = path.with_name(path.name + suffix)
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        except OSError as error:
            raise SandboxDataError(
                f"The sandbox data folder {path.parent} could not be repaired: {target.name} can't be deleted "
                f"({error.strerror or error}); delete it by hand and run '{_reset_command(path.parent)}' again.",
                repairable=False,
            ) from None


# ------------------------------------------------------------------ chunks


#: Joins the strings of a text column; DEL is ASCII that JSON leaves unescaped, and almost no
#: value holds it (a column where one does is stored plain).
_SEPARATOR = "\x7f"
#: Types whose equal values are the same value (not float: 0.0 == -0.0).
_SCALARS = (str, int, bool, type(None))
_BIG_ENDIAN = sys.byteorder == "big"


def _packed(typecode: str, values: Iterable[Any]) -> str:
    """Numbers as base64 of their little-endian machine form: one short string, exact, fast."""
    packed = array(typecode, values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpacked(typecode: str, text: str) -> array[Any]:
    packed = array(typecode, base64.b64decode(text))
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed


def _dictionary(values: tuple[Any, ...]) -> dict[str, Any] | None:
    """``{"d": distinct, "B"|"H"|"I": packed indexes}`` when the values repeat enough, else None.

    The values must be strings or None: ``dict.fromkeys`` would hold 1, 1.0 and True as one.
    """
    sample = values[:64]
    if len(set(sample)) == len(sample):  # mostly-unique columns (names, phones) are not worth a look
        return None
    distinct = dict.fromkeys(values)
    if len(distinct) * 2 > len(values):
        return None
    index = {value: n for n, value in enumerate(distinct)}
    if len(distinct) <= 0x100:
        packed = base64.b64encode(bytes(map(index.__getitem__, values))).decode("ascii")
        return {"d": list(distinct), "B": packed}
    typecode = "H" if len(distinct) <= 0x10000 else "I"
    return {"d": list(distinct), typecode: _packed(typecode, map(index.__getitem__, values))}


def _column(values: tuple[Any, ...], keys: tuple[str, ...]) -> Any:
    """One column as stored (see the module docstring); the checks go from cheap to costly."""
    count = len(values)
    first = values[0]
    if values == keys:
        return {"k": 1}
    if type(first) is str:  # the common case first: text
        try:
            joined = _SEPARATOR.join(values)  # also tells that every value is a string
        except TypeError:
            pass
        else:
            if values[-1] == first and values.count(first) == count:
                return {"v": first}  # e.g. a type or an empty field that all rows share
            encoded = _dictionary(values)
            if encoded is not None:
                return encoded
            if joined.count(_SEPARATOR) == count - 1:
                # One JSON string instead of thousands: far faster to write and to read.
                return {"j": joined}
            return list(values)
    try:
        types = set(map(type, values))
    except TypeError:
        return list(values)
    if len(types) == 1 and type(first) in _SCALARS and values[-1] == first and values.count(first) == count:
        return {"v": first}  # e.g. a flag or a status that all rows share
    if types == {int} and values[-1] - first == count - 1 and values == tuple(range(first, first + count)):
        return {"n": first}  # bulk-loaded versions count up one by one
    if types == {float}:
        return {"f": _packed("d", values)}  # the exact bits, NaN and -0.0 included
    if types <= {str, type(None)}:
        return _dictionary(values) or list(values)
    return list(values)  # other numbers, lists, dicts: as they are


def encode_chunk(pairs: Iterable[_Pair]) -> str:
    """``(key, row)`` pairs as chunk JSON text (see the module docstring); ``decode_chunk`` reverses it.

    Values must be JSON values (str, int, float, bool, None, and lists and dicts of them);
    they come back equal and of the same type, floats included (``repr`` round-trips), and
    strings with unpaired surrogates survive because the text is ASCII with escapes.
    """
    pairs = pairs if isinstance(pairs, list) else list(pairs)
    shapes = list(map(tuple, map(itemgetter(1), pairs)))
    if shapes and shapes.count(shapes[0]) == len(shapes):
        groups: Iterable[tuple[tuple[str, ...], Iterable[Any]]] = [(shapes[0], pairs)]
    else:
        groups = (
            (fields, map(itemgetter(1), run))
            for fields, run in itertools.groupby(zip(shapes, pairs, strict=True), key=itemgetter(0))
        )
    runs = []
    for fields, group in groups:
        rows = list(group)
        keys = tuple(map(itemgetter(0), rows))
        columns = [_column(values, keys) for values in zip(*map(dict.values, map(itemgetter(1), rows)), strict=True)]
        runs.append([list(fields), keys, columns])
    return _encode(runs)


def _decoded(column: Any, keys: list[str]) -> Any:
    if type(column) is list:
        return column
    if "j" in column:
        return column["j"].split(_SEPARATOR)
    if "d" in column:
        if "B" in column:
            indexes: Iterable[int] = base64.b64decode(column["B"])
        else:
            typecode = "H" if "H" in column else "I"
            indexes = _unpacked(typecode, column[typecode])
        return list(map(column["d"].__getitem__, indexes))
    if "f" in column:
        return _unpacked("d", column["f"]).tolist()
    if "v" in column:
        return [column["v"]] * len(keys)
    if "k" in column:
        return keys  # the same string objects as the keys, as when the rows were generated
    first = column["n"]
    if type(first) is not int:
        raise ValueError("a counted column does not start with a number")
    return range(first, first + len(keys))


def decode_chunk(text: str | bytes) -> list[_Pair]:
    """The ``(key, row)`` pairs of a chunk; ``ValueError`` when the text is not a chunk.

    Only JSON is parsed: nothing in the text can run.
    """
    pairs: list[_Pair] = []
    try:
        runs = json.loads(text)
        for fields, keys, stored in runs:
            columns = [_decoded(column, keys) for column in stored]
            if len(columns) != len(fields) or any(len(column) != len(keys) for column in columns):
                raise ValueError("a column's length does not match its run")
            if "_version" not in fields or "_modified" not in fields:
                raise ValueError("rows without their version")
            if not set(map(type, keys)) <= {str}:
                raise ValueError("a key that is not text")
            pairs.extend(
                zip(keys, map(dict, map(zip, itertools.repeat(fields), zip(*columns, strict=True))), strict=True)
            )
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors too
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
            raise ValueError("a chunk of rows is not valid JSON") from None
        raise ValueError(f"a chunk of rows is not in the expected shape, {error}") from None
    except (TypeError, KeyError, IndexError, AttributeError, RecursionError):
        # Every other way a planted or truncated text can fail to be a chunk ends here.
        raise ValueError("a chunk of rows is not in the expected shape") from None
    return pairs


def decode_row(text: str | bytes) -> dict[str, Any]:
    """One row written on its own (plain JSON); ``ValueError`` when it is not one."""
    try:
        row = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise ValueError("a row is not valid JSON") from None
    if type(row) is not dict or "_version" not in row:
        raise ValueError("a row is not in the expected shape")
    return row


# ------------------------------------------------------------ the file

SCHEMA = (
    # pos: first-write order (AUTOINCREMENT never reuses one, so a re-insert goes last);
    # key NULL: a chunk of bulk-loaded rows (NULLs never collide in the UNIQUE constraint).
    """CREATE TABLE IF NOT EXISTS entity(
        pos INTEGER PRIMARY KEY AUTOINCREMENT, entity_set TEXT NOT NULL, key TEXT,
        version INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (entity_set, key))""",
    "CREATE INDEX IF NOT EXISTS entity_version ON entity(version)",
    """CREATE TABLE IF NOT EXISTS tombstone(
        entity_set TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, modified TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS tombstone_version ON tombstone(version)",
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


#: Tombstone versions by entity set and key (oldest first).
Deaths = dict[str, dict[str, list[int]]]
Sets = dict[str, dict[str, dict[str, Any]]]


def apply_records(sets: Sets, records: Iterable[tuple[str, str | None, Any]], deaths: Deaths) -> None:
    """Lay ``records`` (in ``pos`` order) over ``sets``, then drop the rows ``deaths`` killed.

    Where a key was deleted and then written again, the new row goes to the end, where
    memory put it when it happened; a plain overwrite keeps the row's place. A set without
    tombstones takes whole chunks with one ``dict.update``.
    """
    for entity_set, key, data in records:
        bucket = sets.get(entity_set)
        if bucket is None:
            bucket = sets[entity_set] = {}
        dead = deaths.get(entity_set)
        if key is None:
            pairs = decode_chunk(data)
            if dead is None:
                bucket.update(pairs)
            else:
                for pair_key, row in pairs:
                    _place(bucket, dead, pair_key, row)
        elif dead is None:
            bucket[key] = decode_row(data)
        else:
            _place(bucket, dead, key, decode_row(data))
    for entity_set, dead in deaths.items():
        bucket = sets.get(entity_set)
        if not bucket:
            continue
        for key, versions in dead.items():
            kept = bucket.get(key)
            if kept is not None and kept["_version"] < versions[-1]:
                del bucket[key]


def _place(bucket: dict[str, dict[str, Any]], dead: dict[str, list[int]], key: str, row: dict[str, Any]) -> None:
    old = bucket.get(key)
    if old is not None:
        versions = dead.get(key)
        if versions and any(old["_version"] < t < row["_version"] for t in versions):
            del bucket[key]  # deleted and written again: the new row goes last
    bucket[key] = row


def check_paths(path: Path) -> None:
    """Say in a sentence what is wrong with the folder or file before SQLite says it obscurely."""
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise unusable_folder(folder, "it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise unusable_folder(folder, (error.strerror or str(error)).lower()) from None
    for suffix in ("", "-wal", "-shm"):
        target = path.with_name(path.name + suffix)
        if target.is_dir():
            raise damaged(path, f"{target.name} is a folder, not a file")
        # Opened, not looked at: SQLite (here or in a running `sandbox serve`) removes and
        # re-creates -wal/-shm as connections come and go, so a file that is gone is no problem
        # and only a refusal to open it is.
        try:
            with target.open("r+b"):
                pass
        except FileNotFoundError:
            pass
        except PermissionError:
            raise damaged(path, f"no permission to read and write {target.name}") from None
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        raise unusable_folder(folder, "no permission to read and write in it")


def set_up(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables in a new file; refuse a file in another layout (inside BEGIN IMMEDIATE)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != FORMAT:
        if version != 0 or db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            # Never read further: format 2 holds pickles, and unpickling runs code.
            raise older_format(path, version)
        db.execute(f"PRAGMA user_version={FORMAT}")
    for statement in SCHEMA:
        db.execute(statement)
