"""The HTTP face of a model bundle: a FastAPI app with ``/predict``, ``/health``, ``/metadata`` and ``/docs``."""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from zenml.exceptions import ConfigError

if TYPE_CHECKING:
    from zenml.serving import ModelBundle

#: defaults of ``zen serve --max-body-mb`` and ``--max-rows``
MAX_BODY_MB = 2.0
MAX_ROWS = 10_000
#: how ``zen serve --workers N`` hands each worker process its bundle (uvicorn imports the app by name there)
BUNDLE_ENV = "ZEN_SERVE_BUNDLE"
LIMITS_ENV = "ZEN_SERVE_LIMITS"
#: requests of at most this many rows are scored on the event loop (a few ms at most; a thread hop costs
#: more than small ones take); bigger ones in a thread, so /health keeps answering meanwhile
_INLINE_ROWS = 1000

_log = logging.getLogger("zenml.serving")


class BadRequest(Exception):
    """A request the server refuses: an HTTP status and a one-line message naming what is wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(bundle: ModelBundle, *, max_body_mb: float = MAX_BODY_MB, max_rows: int = MAX_ROWS) -> FastAPI:
    """A FastAPI app scoring JSON rows with ``bundle``; bad input gets a 4xx whose ``detail`` names the fault."""
    provenance = bundle.provenance
    # /docs and /redoc from files shipped in the package: a model server often has no internet for a CDN
    app = FastAPIOffline(
        title=f"zenml model: {provenance.get('pipeline') or 'bundle'}",
        version=str(provenance.get("run_id") or "bundle"),
        description=_description(bundle),
    )
    limit = int(max_body_mb * 1024 * 1024)
    metadata = _metadata(bundle, limit, max_rows)

    @app.exception_handler(BadRequest)
    async def _refused(request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.get("/health", summary="Liveness: the model is loaded and answering")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "run_id": provenance.get("run_id"), "task": bundle.task}

    @app.get("/metadata", summary="The model: run, spec hash, metrics, input schema, task, classes")
    async def get_metadata() -> dict[str, Any]:
        return metadata

    @app.post(
        "/predict",
        summary="Score rows",
        description=_PREDICT_DESCRIPTION,
        openapi_extra={"requestBody": _request_schema(bundle)},
        responses={200: {"content": {"application/json": {"schema": _response_schema(bundle)}}},
                   **{code: {"description": text} for code, text in _ERRORS.items()}},
    )
    async def predict(request: Request) -> Response:
        rows = _rows(await _body(request, limit), max_rows)
        started = time.perf_counter()
        if len(rows) <= _INLINE_ROWS:
            predictions = _score(bundle, rows)
        else:
            predictions = await run_in_threadpool(_score, bundle, rows)
        body = {"predictions": predictions, "run_id": provenance.get("run_id")}
        _log.debug("scored %d rows in %.1f ms", len(rows), (time.perf_counter() - started) * 1000)
        return Response(json.dumps(body, allow_nan=False, separators=(",", ":")), media_type="application/json")

    return app


def app_from_env() -> FastAPI:
    """The app for each ``zen serve --workers N`` process: the bundle and limits come from the environment."""
    from zenml.serving import load_bundle

    limits = json.loads(os.environ.get(LIMITS_ENV) or "{}")
    app = create_app(load_bundle(os.environ[BUNDLE_ENV]), **limits)
    gc.freeze()  # the bundle and the imports live as long as the worker: keep them out of each collection pass
    return app


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, _too_large(int(declared), limit))
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BadRequest(413, _too_large(received, limit, at_least=True))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int, at_least: bool = False) -> str:
    sent = f"{'over ' if at_least else ''}{size / 1024 / 1024:.1f} MB"
    return (
        f"request body of {sent} is over the limit of {limit / 1024 / 1024:.1f} MB; send fewer rows per "
        "request, or start the server with a larger 'zen serve --max-body-mb'"
    )


def _rows(body: bytes, max_rows: int) -> list[dict[str, Any]]:
    """The rows of a body: ``{"rows": [{...}, ...]}`` or a bare JSON list of row objects."""
    if not body.strip():
        raise BadRequest(400, 'empty request body: send JSON, {"rows": [{"column": value, ...}, ...]}')
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise BadRequest(400, f"malformed JSON: {exc}") from None
    if isinstance(document, dict):
        if "rows" not in document:
            keys = ", ".join(repr(key) for key in list(document)[:5])
            raise BadRequest(422, f'the JSON object has no "rows" key (it has {keys or "no keys"}); '
                                  'send {"rows": [{"column": value, ...}, ...]}')
        document = document["rows"]
    if not isinstance(document, list):
        raise BadRequest(422, f'"rows" must be a list of row objects, not {_json_type(document)}')
    if not document:
        raise BadRequest(422, '"rows" is empty: send at least one row object')
    if len(document) > max_rows:
        raise BadRequest(413, f"{len(document)} rows is over the limit of {max_rows} rows per request; "
                              "split them, or start the server with a larger 'zen serve --max-rows'")
    for index, row in enumerate(document):
        if not isinstance(row, dict):
            raise BadRequest(422, f"row {index} must be a JSON object of column: value, not {_json_type(row)}")
    return document


def _score(bundle: ModelBundle, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``bundle.predict_records(rows)``, with the bundle's own check of columns and types turned into a 422."""
    try:
        return bundle.predict_records(rows)
    except ConfigError as exc:
        raise BadRequest(422, str(exc).splitlines()[0]) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        # a value the bundle's check let through but Arrow or the framework could not convert
        raise BadRequest(422, f"the rows could not be scored: {str(exc).splitlines()[0]}") from None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _metadata(bundle: ModelBundle, limit: int, max_rows: int) -> dict[str, Any]:
    provenance = dict(bundle.provenance)
    return {
        "run_id": provenance.get("run_id"),
        "pipeline": provenance.get("pipeline"),
        "spec_sha256": provenance.get("spec_sha256"),
        "metrics": provenance.get("metrics") or {},
        "task": bundle.task,
        "label": bundle.label,
        "classes": bundle.classes,
        "input_schema": [{"name": field.name, "type": str(field.type)} for field in bundle.input_schema],
        "provenance": provenance,
        "limits": {"max_body_bytes": limit, "max_rows": max_rows},
    }


def _json_schema_type(arrow_type: pa.DataType) -> dict[str, Any]:
    if pa.types.is_boolean(arrow_type):
        return {"type": "boolean", "example": False}
    if pa.types.is_integer(arrow_type):
        return {"type": "integer", "example": 0}
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return {"type": "number", "example": 0.0}
    return {"type": "string", "example": ""}


def _request_schema(bundle: ModelBundle) -> dict[str, Any]:
    row = {
        "type": "object",
        "properties": {field.name: _json_schema_type(field.type) for field in bundle.input_schema},
        "required": [field.name for field in bundle.input_schema],
    }
    schema = {"type": "object", "properties": {"rows": {"type": "array", "items": row, "minItems": 1}},
              "required": ["rows"]}
    example = {"rows": [{field.name: _json_schema_type(field.type)["example"] for field in bundle.input_schema}]}
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}


def _response_schema(bundle: ModelBundle) -> dict[str, Any]:
    prediction: dict[str, Any] = {"type": "number"} if bundle.classes is None else {
        "type": "string", "enum": list(bundle.classes)}
    fields: dict[str, Any] = {"prediction": prediction, "score": {"type": "number"}}
    for name in bundle.classes or []:
        fields[f"probability_{name}"] = {"type": "number"}
    return {
        "type": "object",
        "properties": {
            "predictions": {"type": "array", "items": {"type": "object", "properties": fields}},
            "run_id": {"type": "string"},
        },
    }


def _description(bundle: ModelBundle) -> str:
    provenance = bundle.provenance
    metrics = ", ".join(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
                        for name, value in (provenance.get("metrics") or {}).items())
    classes = f" over classes {', '.join(bundle.classes)}" if bundle.classes else ""
    return (
        f"A {bundle.task} model{classes} predicting `{bundle.label}`, trained by run "
        f"`{provenance.get('run_id')}` of pipeline `{provenance.get('pipeline')}`"
        f"{f' ({metrics})' if metrics else ''}. Served by `zen serve`."
    )


_PREDICT_DESCRIPTION = (
    'Send `{"rows": [{"column": value, ...}, ...]}` (or the bare list) with the raw feature columns '
    "that `/metadata` lists; a label column is ignored. The answer has one object per row, in order: "
    "`prediction` (the class name, or the value for regression), `score`, and `probability_<class>` "
    "per class."
)
_ERRORS = {
    400: "Empty body or malformed JSON",
    413: "Body over --max-body-mb, or more rows than --max-rows",
    422: "A missing or misspelled column, a value of the wrong type, or no rows",
}
