"""Keyset ("seek") reading of an ordered queryset: the API's pages and the streamed exports.

A position in a list is the values of *every* ordering key of the last row read, the
ordering always ends with the primary key (so it is a total order), NULLs sort last in both
directions, and what comes next is "rows after that key tuple". A row inserted anywhere never
moves the boundary, so reading on neither repeats nor skips one, and each step is one short
query that starts where the index says, however deep: no OFFSET, and no cursor or
transaction held open while a client reads a long download.

`cabar_tracker.api.pagination.KeysetPagination` pages through it; `chunks()` reads a whole
filtered list chunk by chunk for the exports (page and API CSV), so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models
from django.db.models import F, OrderBy, Q, QuerySet


@dataclass(frozen=True)
class Key:
    field: models.Field
    descending: bool

    @property
    def name(self) -> str:
        return self.field.attname

    def signature(self) -> str:
        return f"-{self.name}" if self.descending else self.name


def _ordering_name(item) -> str:
    """`"-start_date"` for `"-start_date"` or `F("start_date").desc(nulls_last=True)`: the
    NULL placement of an expression is the keyset's own (last, in both directions)."""
    if isinstance(item, str):
        return item
    if isinstance(item, OrderBy) and isinstance(item.expression, F):
        return ("-" if item.descending else "") + item.expression.name
    raise TypeError(f"Keyset reading needs plain field names, not {item!r}.")


def ordering_keys(queryset: QuerySet) -> list[Key]:
    """The queryset's ORDER BY as keys, ending with the primary key."""
    meta = queryset.model._meta
    names = [_ordering_name(item) for item in (queryset.query.order_by or meta.ordering)]
    keys: list[Key] = []
    for name in names:
        if "__" in name:
            raise TypeError(f"Keyset reading needs plain field names, not {name!r}.")
        descending = name.startswith("-")
        bare = name.lstrip("-")
        field = meta.pk if bare == "pk" else meta.get_field(bare)
        if all(key.name != field.attname for key in keys):
            keys.append(Key(field, descending))
    if all(key.name != meta.pk.attname for key in keys):
        last_descending = keys[-1].descending if keys else False
        keys.append(Key(meta.pk, last_descending))
    return keys


def sort(keys: list[Key], backwards: bool) -> list:
    """ORDER BY for the keys; NULLs last going forward, so first going backwards."""
    nulls = {"nulls_first": True} if backwards else {"nulls_last": True}
    return [
        F(key.name).desc(**nulls) if key.descending != backwards else F(key.name).asc(**nulls)
        for key in keys
    ]


def _beyond(key: Key, value, backwards: bool) -> Q:
    """Rows strictly after `value` on this key in the forward order (before, if backwards).
    NULLs come after every value in the forward order."""
    name = key.name
    if not backwards:
        if value is None:
            return Q(pk__in=[])
        lookup = "lt" if key.descending else "gt"
        return Q(**{f"{name}__{lookup}": value}) | Q(**{f"{name}__isnull": True})
    if value is None:
        return Q(**{f"{name}__isnull": False})
    lookup = "gt" if key.descending else "lt"
    return Q(**{f"{name}__{lookup}": value})


def _equal(key: Key, value) -> Q:
    if value is None:
        return Q(**{f"{key.name}__isnull": True})
    return Q(**{key.name: value})


def after(keys: list[Key], values: list, *, backwards: bool = False) -> Q:
    """Rows after the key tuple `values` in the (lexicographic) ordering of `keys`."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= prefix & _beyond(key, value, backwards)
        prefix &= _equal(key, value)
    return condition


def _heads(rows_query: QuerySet, keys: list[Key], limit: int) -> list[tuple]:
    """The primary keys and key values of the first `limit` rows of `rows_query`, which the
    database reads from the ordering index alone and stops after `limit` (with the joins and
    annotations of a list query it may pick a plan that sorts every matching row first)."""
    return list(rows_query.values_list("pk", *(key.name for key in keys))[:limit])


def seek(
    queryset: QuerySet, keys: list[Key], values: list | None, limit: int, *, backwards=False
) -> list[tuple]:
    """`(pk, *key values)` of up to `limit` rows of `queryset` after the position `values`
    (from the start when None), in the keys' order (reversed when `backwards`)."""
    ordered = queryset.order_by(*sort(keys, backwards))
    if values is None:
        return _heads(ordered, keys, limit)
    if backwards or values[0] is None:
        return _heads(ordered.filter(after(keys, values, backwards=backwards)), keys, limit)
    # After a row whose first key has a value, in up to two steps: the rows whose first key
    # is on the same side of that value, as one index range (`start_date <= ?` bounds the
    # scan; the OR of `after()` with its NULL branch made SQLite read from the start of the
    # index however deep the position); then, only if that gives too few, the rows whose
    # first key is NULL, which come last.
    first, value = keys[0], values[0]
    bound = Q(**{f"{first.name}__{'lte' if first.descending else 'gte'}": value})
    strictly = Q(**{f"{first.name}__{'lt' if first.descending else 'gt'}": value})
    same = Q(**{first.name: value}) & after(keys[1:], values[1:])
    heads = _heads(ordered.filter(bound, strictly | same), keys, limit)
    if len(heads) < limit and first.field.null:
        nulls = ordered.filter(**{f"{first.name}__isnull": True})
        heads += _heads(nulls, keys, limit - len(heads))
    return heads


def fetch(queryset: QuerySet, heads: list[tuple]) -> list:
    """The rows of `heads`, in their order, through `queryset` with its joins and
    prefetches (one query, plus the prefetches). A row gone since `seek` is left out."""
    by_id = queryset.order_by().in_bulk([head[0] for head in heads])
    return [by_id[head[0]] for head in heads if head[0] in by_id]


def chunks(queryset: QuerySet, size: int) -> Iterator[list]:
    """Every row of `queryset`, in its order, as lists of at most `size` rows: each list
    costs the same few queries (positions, rows, the queryset's prefetches), whatever its
    depth."""
    keys = ordering_keys(queryset)
    values = None
    while True:
        heads = seek(queryset, keys, values, size)
        rows = fetch(queryset, heads)
        if rows:
            yield rows
        if len(heads) < size:
            return
        values = list(heads[-1][1:])
