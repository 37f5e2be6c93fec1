"""JSON Schema checks shared by the json scorer and the json verifier (the ``jsonschema`` package, any draft)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson


@lru_cache(maxsize=256)
def _validator(text: bytes) -> Any:
    import jsonschema

    schema = orjson.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _key(schema: dict[str, Any]) -> bytes:
    return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)


def check_schema(schema: Any) -> dict[str, Any]:
    """Return ``schema`` when it is a valid JSON Schema; ValueError naming the first problem otherwise."""
    import jsonschema

    if not isinstance(schema, dict):
        raise ValueError(f"a JSON Schema must be a mapping, got {type(schema).__name__}")
    try:
        _validator(_key(schema))
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise ValueError(f"invalid JSON Schema{' at ' + where if where else ''}: {exc.message}") from None
    except orjson.JSONEncodeError as exc:
        raise ValueError(f"invalid JSON Schema: {exc}") from None
    return schema


def schema_error(value: Any, schema: dict[str, Any]) -> str | None:
    """The first way ``value`` breaks ``schema`` (``at a/0: 'x' is not of type 'integer'``), or None."""
    error = next(iter(_validator(_key(schema)).iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message[:200]}"


__all__ = ["check_schema", "schema_error"]
