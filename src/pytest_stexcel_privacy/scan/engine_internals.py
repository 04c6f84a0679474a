"""Which scanned locations are a database engine's own bookkeeping, not the module's records.

A full-text index's shadow tables, the optimizer's statistics, a write-ahead
log: the engine writes them as a side effect of the module's writes, and
rearranges them whenever it likes (an FTS5 ``'optimize'`` merges every
segment into new pages; ``ANALYZE`` resamples; a checkpoint resets the log).
They are scanned like everything else, because a deleted person's value
left in them is residue. But whether a *bystander's* value sits in them, and
in how many pages, says nothing about the module: over-deletion is judged
on the module's own tables, files and keys only.

This module is the one place that knows those structures. Each function
returns what a location is ("the FTS5 index of 'notes'"), or "" for a
location that belongs to the module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# SQLite's optimizer statistics (ANALYZE): sampled index keys, which can hold values.
# stat2 and stat3 are only found in databases written by old SQLite releases.
SQLITE_STAT_TABLES = ("sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4")

# The shadow tables each SQLite virtual-table module keeps beside ``<name>``, as
# ``<name>_<suffix>``. Newer SQLite releases also say so themselves (PRAGMA table_list).
SQLITE_SHADOW_SUFFIXES: dict[str, tuple[str, ...]] = {
    "fts3": ("content", "segments", "segdir", "docsize", "stat"),
    "fts4": ("content", "segments", "segdir", "docsize", "stat"),
    "fts5": ("data", "idx", "content", "docsize", "config"),
    "rtree": ("node", "rowid", "parent"),
    "geopoly": ("node", "rowid", "parent"),
}
_MODULE_NAMES = {"fts3": "FTS3", "fts4": "FTS4", "fts5": "FTS5", "rtree": "R*Tree"}
_VIRTUAL = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE\b.*?\bUSING\s+(\w+)", re.I | re.S)

# PostgreSQL keeps out-of-line (TOASTed) values in tables of its own schemas.
TOAST_SCHEMA = re.compile(r"^pg_toast(_temp_\d+)?$")
# MariaDB/MySQL: InnoDB's index statistics, and the views onto its full-text indexes.
MARIADB_INTERNAL_TABLES: dict[tuple[str, str], str] = {
    ("mysql", "innodb_index_stats"): "InnoDB's index statistics",
    ("mysql", "innodb_table_stats"): "InnoDB's table statistics",
    **{
        ("information_schema", f"innodb_ft_{name}"): "an InnoDB full-text index"
        for name in ("index_table", "index_cache", "deleted", "being_deleted", "config")
    },
}

# MariaDB's system-versioned tables keep every earlier version of a row, deleted rows too.
SYSTEM_VERSIONED_HISTORY = "system-versioned history"

# SQLite's journals beside a database file: rolled back, checkpointed and reset at will.
SQLITE_JOURNAL_SUFFIXES = {
    "-wal": "write-ahead log",
    "-journal": "rollback journal",
    "-shm": "shared-memory index",
}


def sqlite_shadow_tables(virtual_tables: Mapping[str, str]) -> dict[str, str]:
    """The shadow tables of the virtual tables ``{name: module}``, each with what it is."""
    return {
        f"{name}_{suffix}": _index_of(name, module)
        for name, module in virtual_tables.items()
        for suffix in SQLITE_SHADOW_SUFFIXES.get(module.lower(), ())
    }


def sqlite_structures(conn: Connection, schema: str | None = None) -> dict[str, str]:
    """Every engine-internal table of one SQLite schema, each with what it is.

    The statistics tables, and the shadow tables of every virtual table: those
    of known modules by name, and any that SQLite itself marks as shadow
    tables (``PRAGMA table_list``, SQLite 3.37 and later).
    """
    prefix = '"{}".'.format(schema.replace('"', '""')) if schema else ""
    virtual: dict[str, str] = {}
    listed = conn.exec_driver_sql(
        f"SELECT name, sql FROM {prefix}sqlite_master WHERE type = 'table'"
    )
    for name, sql in listed:
        match = _VIRTUAL.match(sql or "")
        if match:
            virtual[name] = match.group(1)
    found = sqlite_shadow_tables(virtual)
    try:
        marked = conn.exec_driver_sql(f"PRAGMA {prefix}table_list").all()
    except sa.exc.DBAPIError:  # an older SQLite: the names above are all there is
        marked = []
    for row in marked:
        name, kind = row[1], row[2]
        if kind == "shadow" and name not in found:
            owner = max((v for v in virtual if name.startswith(f"{v}_")), key=len, default="")
            found[name] = _index_of(owner, virtual[owner]) if owner else "a shadow table"
    found.update(dict.fromkeys(SQLITE_STAT_TABLES, "SQLite's optimizer statistics"))
    return found


def _index_of(table: str, module: str) -> str:
    return f"the {_MODULE_NAMES.get(module.lower(), module)} index of {table!r}"


# What to tell a module whose deleted rows SQLite's files still hold.
SQLITE_REAL_DELETE = (
    "PRAGMA secure_delete = ON on every connection overwrites deleted rows, "
    "PRAGMA wal_checkpoint(TRUNCATE) empties the write-ahead log, and VACUUM after a "
    "deletion drops the stale copies a row moved earlier leaves behind"
)


def sqlite_raw_files(database: Path) -> list[tuple[Path, str]]:
    """The files of a SQLite database whose bytes may hold deleted rows, each with what
    it is: the database file itself (free pages, free space inside pages) and its
    write-ahead log or rollback journal. The shared-memory index holds no values."""
    parts = [(database, f"free pages of SQLite's database file {database.name!r}")]
    for suffix in ("-wal", "-journal"):
        path = database.with_name(database.name + suffix)
        parts.append((path, file_structure(path) or SQLITE_JOURNAL_SUFFIXES[suffix]))
    return [(path, f"{what}; {SQLITE_REAL_DELETE}") for path, what in parts]


def server_sql_structure(dialect: str, schema: str, table: str) -> str:
    """What the table ``schema.table`` of a PostgreSQL or MariaDB server is, if the engine's."""
    if dialect == "postgresql":
        return "PostgreSQL's out-of-line (TOAST) storage" if TOAST_SCHEMA.match(schema) else ""
    return MARIADB_INTERNAL_TABLES.get((schema.lower(), table.lower()), "")


def file_structure(path: Path) -> str:
    """What a file is, if it is a SQLite journal beside the database it belongs to."""
    for suffix, what in SQLITE_JOURNAL_SUFFIXES.items():
        database = path.name.removesuffix(suffix)
        if database != path.name and path.with_name(database).is_file():
            return f"SQLite's {what} of {database!r}"
    return ""
