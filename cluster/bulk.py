"""Writing many new rows at once: the large imports' one write path."""

from __future__ import annotations

from django.db import connection, connections, models

BATCH = 1000


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
        rows = []
        for obj in objs:
            row = [obj.pk]
            for field in fields:
                value = getattr(obj, field.attname)
                if value is None:  # NULL from every field; half a report's columns
                    row.append(None)
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


def insert_select(model: type[models.Model], fields: list[str], rows) -> int:
    """Insert into `model`'s table the rows of `rows`, a `values_list` of as many values in
    the order of `fields` (its columns): `INSERT … SELECT`, computed and written by the
    database, none of it through Python. No `save()`, no signals; the key from the table's
    default, drawn in the order of `rows` (give it `order_by()` for none, or the model's
    default ordering sorts them). Returns how many rows were written."""
    meta = model._meta
    select, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)
        return cursor.rowcount
