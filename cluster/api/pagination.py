"""Keyset (cursor) pagination of the API's large lists.

A page starts after the last row of the page before it, by the list's own ordering: the
database seeks to that row through an index instead of counting its way there with OFFSET,
so the hundredth page costs what the first does. The ordering is the one in effect (the
view's, or `?ordering=`), made unique with the primary key when it is not; the cursor
carries the boundary row's values of every ordering field.

The count is exact up to `exact_count_limit` rows; above it PostgreSQL's row estimate is
given and `count_estimated` says so: no COUNT(*) over a whole table per page.

During a transition `?page=N` still answers as before (page numbers, exact count, OFFSET),
so clients written against the page numbers keep working; new clients follow `next`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core import exceptions as django_exceptions
from django.core.validators import ProhibitNullCharactersValidator
from django.db import connections, models
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from .access import Pagination


class Row(Func):
    """A row value, `(a, b, c)`: compared as a whole, one index range answers the seek."""

    function = ""
    output_field = models.Field()


@dataclass(frozen=True)
class Key:
    """One field of the ordering: its path (`enterprise__name_zh`), its direction, the field
    that holds its values, whether the path can be NULL, and the list's own field it names
    (None for a path through a relation)."""

    path: str
    descending: bool
    field: models.Field
    nullable: bool
    own: str | None

    def flipped(self) -> Key:
        return Key(self.path, not self.descending, self.field, self.nullable, self.own)

    def order_by(self):
        # NULLs last going up and first going down, on every database (PostgreSQL's own
        # placement, so its indexes still serve the order).
        if self.descending:
            return F(self.path).desc(nulls_first=self.nullable or None)
        return F(self.path).asc(nulls_last=self.nullable or None)

    def value_of(self, instance):
        value = instance
        for name in self.path.split("__"):
            value = None if value is None else getattr(value, name)
        return value

    def beyond(self, value) -> Q | None:
        """Rows strictly after `value` in this key's order (None: no row can be)."""
        if value is None:
            return Q(**{f"{self.path}__isnull": False}) if self.descending else None
        after = Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})
        if self.nullable and not self.descending:
            after |= Q(**{f"{self.path}__isnull": True})
        return after

    def same(self, value) -> Q:
        if value is None:
            return Q(**{f"{self.path}__isnull": True})
        return Q(**{self.path: value})


def _keys(queryset: models.QuerySet) -> list[Key]:
    """The ordering in effect, as keys, ending with the primary key unless a unique set of
    fields already makes each row's position its own."""
    model = queryset.model
    ordering = list(queryset.query.order_by) or list(model._meta.ordering)
    keys = []
    for item in ordering:
        if not isinstance(item, str) or item == "?":
            raise TypeError(f"keyset pagination needs field names as ordering, not {item!r}")
        path = item.lstrip("-")
        keys.append(_key(model, path, descending=item.startswith("-")))
    if not _unique(model, keys):
        keys.append(_key(model, "pk", descending=False))
    return keys


def _key(model, path: str, *, descending: bool) -> Key:
    names = path.split("__")
    nullable = False
    for depth, name in enumerate(names):
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        nullable = nullable or field.null
        if field.many_to_many or field.one_to_many:
            raise TypeError(f"keyset pagination cannot order by the many-valued {path!r}")
        if field.is_relation and name == field.attname:  # enterprise_id: the column itself
            own = field.name if depth == 0 else None
            return Key(path, descending, field.target_field, nullable, own)
        if field.is_relation:
            model = field.related_model
    if field.is_relation:  # "enterprise" would order by the firm's own ordering
        raise TypeError(f"order by {path}_id, not by the relation {path!r}")
    return Key(path, descending, field, nullable, field.name if len(names) == 1 else None)


def _unique(model, keys: list[Key]) -> bool:
    own = {key.own for key in keys if key.own and not key.nullable}
    if model._meta.pk.name in own:
        return True
    if any(model._meta.get_field(name).unique for name in own):
        return True
    return any(
        isinstance(constraint, models.UniqueConstraint)
        and constraint.fields
        and constraint.condition is None
        and set(constraint.fields) <= own
        for constraint in model._meta.constraints
    )


def _seek(keys: list[Key], values: list):
    """Rows after the boundary row whose ordering values are `values` (None: no row)."""
    if len({key.descending for key in keys}) == 1 and not any(key.nullable for key in keys):
        # One direction, no NULLs: a row comparison, which an index on the fields answers.
        sides = (
            Row(*(F(key.path) for key in keys)),
            Row(*(Value(v, output_field=k.field) for k, v in zip(keys, values, strict=True))),
        )
        comparison = models.lookups.LessThan if keys[0].descending else models.lookups.GreaterThan
        return comparison(*sides)
    terms = []
    for i, key in enumerate(keys):
        beyond = key.beyond(values[i])
        if beyond is None:
            continue
        for earlier, value in zip(keys[:i], values[:i], strict=False):
            beyond &= earlier.same(value)
        terms.append(beyond)
    if not terms:
        return None
    seek = terms[0]
    for term in terms[1:]:
        seek |= term
    # The first field's bound alone, so the database can start its index range there.
    first, value = keys[0], values[0]
    if value is not None and not first.nullable:
        seek &= Q(**{f"{first.path}__{'lte' if first.descending else 'gte'}": value})
    return seek


class KeysetPagination(pagination.CursorPagination):
    """Keyset pagination of a large list (see the module); page sizes as everywhere else."""

    page_size = Pagination.page_size
    page_size_query_param = Pagination.page_size_query_param
    max_page_size = Pagination.max_page_size
    page_query_param = Pagination.page_query_param
    # Counting stops here: exact below, PostgreSQL's estimate above.
    exact_count_limit = 1000
    cursor_query_description = (
        "Where the page starts: copy it from the `next` or `previous` link of the page before."
    )

    def paginate_queryset(self, queryset, request, view=None):
        self.numbered = None
        keys = _keys(queryset)
        if self.page_query_param in request.query_params:
            # The same unique order as the cursor's, so page numbers never repeat a tied row.
            self.numbered = Pagination()
            ordered = queryset.order_by(*(key.order_by() for key in keys))
            return self.numbered.paginate_queryset(ordered, request, view)
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        # DRF's links compare positions, which are ours: the boundary row's values as JSON.
        self.ordering = keys
        self.cursor = self.decode_cursor(request)
        offset, reverse, position = self.cursor or (0, False, None)
        values = None if position is None else self._values(keys, position)
        self.count, self.count_estimated = self._count(queryset)

        walk = [key.flipped() for key in keys] if reverse else keys
        queryset = queryset.order_by(*(key.order_by() for key in walk))
        if values is not None:
            seek = _seek(walk, values)
            queryset = queryset.filter(seek) if seek is not None else queryset.none()
        results = list(queryset[offset : offset + self.page_size + 1])
        self.page = results[: self.page_size]
        following = self._position(results[-1]) if len(results) > len(self.page) else None
        if reverse:
            self.page.reverse()
            self.has_next = position is not None or offset > 0
            self.has_previous = following is not None
            self.next_position, self.previous_position = position, following
        else:
            self.has_next = following is not None
            self.has_previous = position is not None or offset > 0
            self.next_position, self.previous_position = following, position
        self.display_page_controls = self.has_previous or self.has_next
        return self.page

    def _count(self, queryset) -> tuple[int, bool]:
        rows = queryset.order_by().values("pk")
        counted = rows[: self.exact_count_limit + 1].count()
        if counted <= self.exact_count_limit:
            return counted, False
        if connections[queryset.db].vendor != "postgresql":
            return rows.count(), False  # the laptop's SQLite keeps no row estimates
        plan = json.loads(rows.explain(format="json"))
        return max(int(plan[0]["Plan"]["Plan Rows"]), counted), True

    def _position(self, instance) -> str:
        return json.dumps([_text(key.value_of(instance)) for key in self.ordering])

    def _get_position_from_instance(self, instance, ordering):
        return self._position(instance)

    def _values(self, keys: list[Key], position: str) -> list:
        """The boundary row's values, each read by its model field: a cursor that was not
        given out by this list (edited, of another ordering) is a 400 naming `cursor`."""
        try:
            texts = json.loads(position)
            if not isinstance(texts, list) or len(texts) != len(keys):
                raise ValueError(position)
            values = []
            for key, text in zip(keys, texts, strict=True):
                if text is None and key.nullable:
                    values.append(None)
                    continue
                if not isinstance(text, str):
                    raise ValueError(text)
                ProhibitNullCharactersValidator()(text)
                value = key.field.to_python(text)
                key.field.run_validators(value)
                values.append(value)
        except (ValueError, TypeError, django_exceptions.ValidationError):
            raise self._refused() from None
        return values

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise self._refused() from None

    def _refused(self) -> ValidationError:
        return ValidationError(
            {
                self.cursor_query_param: [
                    _(
                        "This cursor was not given out by this list; follow the list's "
                        "next or previous link as it is."
                    )
                ]
            }
        )

    def get_paginated_response(self, data):
        if self.numbered is not None:
            response = self.numbered.get_paginated_response(data)
            response.data = {**response.data, "count_estimated": False}
            return response
        return Response(
            {
                "count": self.count,
                "count_estimated": self.count_estimated,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        body = super().get_paginated_response_schema(schema)
        body["required"] = ["count", "count_estimated", "next", "previous", "results"]
        body["properties"] = {
            "count": {
                "type": "integer",
                "description": f"Exact up to {self.exact_count_limit} rows; above, "
                "the database's estimate (then count_estimated is true).",
            },
            "count_estimated": {"type": "boolean"},
            **body["properties"],
        }
        return body

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "deprecated": True,
                "description": "Page number, kept for older clients during a transition "
                "(counted exactly, slow on deep pages): follow `next` instead.",
                "schema": {"type": "integer"},
            },
        ]

    def get_html_context(self):
        if self.numbered is not None:
            return self.numbered.get_html_context()
        return super().get_html_context()


def _text(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
