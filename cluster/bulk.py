"""Writing many new rows at once: the large imports' one write path."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, connections, models
from django.db.models import DEFERRED

BATCH = 1000


@contextmanager
def cycle_collection_paused(rows: int) -> Iterator[None]:
    """Pause Python's cycle collector while a batch of `rows` rows (BATCH or more) is built
    and written, and restore it after (also on an error); a smaller batch runs as usual.
    Checking and writing 10,000 reports makes some 200,000 objects that outlive the youngest
    generation, so the collector ran full passes over the whole process (a worker's heap
    included) several times per file, finding next to nothing: 10,000 rows took 2.56 s with
    it and 2.29 s paused (national copy, runs interleaved, medians of six). The switch is the
    process's: a gunicorn thread serving another request meanwhile runs without it too, for
    the seconds of the import, and the first of two overlapping imports to end turns it back
    on. Callers keep their commit (and the jobs it runs in eager mode) outside the pause."""
    was_enabled = gc.isenabled()
    if rows >= BATCH:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def new_instances(model: type[models.Model], rows: Iterable[dict]) -> list[models.Model]:
    """Unsaved instances of `model`, one for each dict of attribute names (`enterprise_id`,
    not `enterprise`) to values, every other field its default: what `model(**row)` makes,
    built through the positional path Django uses for rows it reads (keyword arguments cost
    three quarters of building 10,000 reports, bench/ import scenario). A callable default is
    called for each instance; a generated field is left unset, as `model()` leaves it."""
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    fixed, called = {}, {}
    for f in fields:
        if f.generated:
            fixed[f.attname] = DEFERRED
        elif f.has_default() and callable(f.default):
            called[f.attname] = f.get_default
        else:
            fixed[f.attname] = f.get_default()
    known = set(names)
    made = []
    for row in rows:
        if not row.keys() <= known:
            unknown = ", ".join(sorted(row.keys() - known))
            raise TypeError(f"{model.__name__} has no field {unknown}")
        values = {**fixed, **row}
        for name, default in called.items():
            if name not in row:
                values[name] = default()
        made.append(model(*[values[name] for name in names]))
    return made


def insert_new(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert new, unsaved instances of `model` and give each its primary key, as
    `bulk_create` does: no `save()`, no signals, every column from the instance (its
    defaults included), `auto_now`/`auto_now_add` stamped.

    On PostgreSQL the rows go through COPY with keys drawn from the table's sequence first
    (one query for all of them): building `bulk_create`'s statement cost about a second for
    10,000 reports, COPY a fifth of that (bench/ import scenario). Elsewhere (the embedded
    SQLite default) it is `bulk_create`.

    Each value goes through its field's `get_db_prep_save`, as `bulk_create` sends it (a
    naive datetime made aware in the current zone, a JSONField's value as JSON, a decimal
    quantised); generated columns are left to the database. A value only the database can
    give (a `db_default`, an expression) sends the rows through `bulk_create` instead, with
    the keys already drawn."""
    if not objs:
        return
    # The connection itself, not the thread-local proxy: a lookup through it for each of
    # the hundreds of thousands of values cost a third of the prep.
    db = connections[connection.alias]
    if db.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=BATCH)
        return
    meta = model._meta
    pk = meta.pk
    stamped = [
        f
        for f in meta.concrete_fields
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)
    ]
    fields = [f for f in meta.concrete_fields if f is not pk and not f.generated]
    table = db.ops.quote_name(meta.db_table)
    columns = ", ".join(db.ops.quote_name(f.column) for f in (pk, *fields))
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        for obj, (key,) in zip(objs, cursor.fetchall(), strict=True):
            setattr(obj, pk.attname, key)
            for field in stamped:
                field.pre_save(obj, add=True)
        ready = [_ready_type(field) for field in fields]
        rows = []
        for obj in objs:
            row = [obj.pk]
            for field, kind in zip(fields, ready, strict=True):
                value = getattr(obj, field.attname)
                # NULL from every field (half a report's columns), and a value already of
                # the type the field sends as is (most others): no preparation.
                if value is None or type(value) is kind:
                    row.append(value)
                    continue
                value = field.get_db_prep_save(value, db)
                if hasattr(value, "resolve_expression"):
                    model.objects.bulk_create(objs, batch_size=BATCH)
                    return
                row.append(value)
            rows.append(row)
        # Through Django's error wrapper, as every statement: a duplicate is an
        # IntegrityError (two identical imports at once: the second retries), not psycopg's.
        with (
            db.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


# Django's own fields that send a value of this exact type to PostgreSQL unchanged (their
# preparation is `int(value)`, `str(value)`, `Decimal(value)` ... or nothing): the per-value
# preparation of 10,000 reports cost a third of `insert_new`.
_SENT_AS_IS = {
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        ),
        int,
    ),
    "DecimalField": Decimal,
    "CharField": str,
    "TextField": str,
    "BooleanField": bool,
    "DateField": dt.date,
}


def _ready_type(field: models.Field) -> type | None:
    """The type whose values `field` sends unchanged, if it is one of Django's own fields
    (a subclass may prepare its values otherwise); None: every value is prepared. A
    datetime is always prepared (a naive one is made aware)."""
    if field.is_relation:
        field = field.target_field
    if not type(field).__module__.startswith("django.db.models.fields"):
        return None
    return _SENT_AS_IS.get(field.get_internal_type())


def insert_select(
    model: type[models.Model], fields: list[str], rows, *, unique: list[str] | None = None
) -> int:
    """Insert into `model`'s table the rows of `rows`, a `values_list` of as many values in
    the order of `fields` (its columns): `INSERT … SELECT`, computed and written by the
    database, none of it through Python. No `save()`, no signals; the key from the table's
    default, drawn in the order of `rows` (give it `order_by()` for none, or the model's
    default ordering sorts them).

    `unique`: the fields of a unique constraint; a row matching a stored one updates its
    other `fields` instead, and only where one of them differs (`ON CONFLICT … DO UPDATE …
    WHERE`): a stored row that is already right is not written again, nor its indexes (a
    nightly store rewrote 35,000 unchanged lines a quarter). Returns how many rows were
    written."""
    meta = model._meta
    select, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    column = {name: quote(meta.get_field(name).column) for name in fields}
    sql = f"INSERT INTO {table} ({', '.join(column.values())}) {select}"
    if unique:
        updated = [column[name] for name in fields if name not in unique]
        # SQLite before 3.39 (still on some laptops) knows only its own spelling of the
        # null-safe comparison, and reads an ON right after the select's FROM as a join's.
        differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        sql = (
            f"INSERT INTO {table} ({', '.join(column.values())})"
            f" SELECT * FROM ({select}) AS computed WHERE true"
            f" ON CONFLICT ({', '.join(quote(meta.get_field(n).column) for n in unique)})"
            f" DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in updated)}"
            f" WHERE {' OR '.join(f'{table}.{c} {differs} EXCLUDED.{c}' for c in updated)}"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
