"""`field__any=[...]`: membership in a long list of values, as one array parameter.

`field__in` sends each value as its own placeholder; for the thousands of firms of an import
psycopg spent longer splitting the statement around 10,000 placeholders than PostgreSQL spent
answering it (60 ms a query, bench/ import scenario). On PostgreSQL `any` writes
`field = ANY(%s)` with the values as one array, on SQLite (the embedded default) a JSON list
read by `json_each`; elsewhere it is `in`. Same rows either way."""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Model
from django.db.models.lookups import In, Lookup


@ForeignObject.register_lookup  # a relation's lookups are its own, not Field's
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        if connection.vendor not in ("postgresql", "sqlite"):
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        values = [v.pk if isinstance(v, Model) else v for v in self.rhs if v is not None]
        if not values:
            raise EmptyResultSet
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=False) for v in values]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        if not all(type(v) in (int, str) for v in values):
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        # SQLite's own array parameter: a JSON list, read by json_each. `in` would send a
        # variable per value, and a 50,000-row import's list passes SQLite's limit (32,766).
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, json.dumps(values))
