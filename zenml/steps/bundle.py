"""Model bundles: one folder with the fitted transform, the model and ``bundle.json``, scored without the store.

The format lives with the steps (a deployer step writes it); ``zenml.serving`` is where users get it.

A bundle holds ``transform.json`` (the preprocessor's config and fitted state, JSON), ``model/``
(the trainer's model folder in its framework's own format: TorchScript, ``.keras`` or skops,
never a pickle, with ``zenml-model.json``) and ``bundle.json`` (task, classes, label, the raw
input schema and provenance). Loading it imports only zenml and the model's framework: a custom
trainer subclass is not needed, since TorchScript and ``.keras`` files carry the network itself.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ArtifactError, ConfigError, ZenMLError, excerpt
from zenml.steps.preprocessor.base import Transform
from zenml.steps.preprocessor.standard import NumericScaling, numeric_scaling
from zenml.steps.trainer.base import META_FILE, TrainedModel, outputs_from_probabilities

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

BUNDLE_FILE = "bundle.json"
TRANSFORM_FILE = "transform.json"
MODEL_DIR = "model"
#: the layout version of a bundle folder; a reader refuses a newer one
BUNDLE_VERSION = 1
#: framework → the zenml class that reads its model folder (so a project's own loader class is not needed)
LOADERS = {
    "torch": "zenml.steps.trainer.torch_trainer.TorchModel",
    "tensorflow": "zenml.steps.trainer.tensorflow_trainer.KerasModel",
    "sklearn": "zenml_sklearn.trainer.SklearnModel",
}
#: a StandardPreprocessor column kind → the Arrow type a raw value is converted to
KIND_TYPES = {"numeric": "double", "categorical": "string", "boolean": "bool"}
PROBABILITY_PREFIX = "probability_"
#: ints beyond this are not all exact as float64; such rows take the Arrow path (which refuses or converts them)
_EXACT_INT = 2**53


class ModelBundle:
    """A loaded bundle: ``predict(rows)`` scores raw rows (with or without the label column).

    Attributes:
        path: the bundle folder.
        task: ``binary``, ``multiclass`` or ``regression`` (``zenml.steps.task``).
        classes: class names, index = encoded class (``None`` for regression).
        label: the label column's name.
        input_schema: the raw feature columns a row must have (no label).
        provenance: run_id, pipeline, spec_sha256, metrics, created_at, zenml_version, framework.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        manifest = _read_json(os.path.join(path, BUNDLE_FILE), "bundle")
        version = manifest.get("bundle_version")
        if not isinstance(version, int) or version > BUNDLE_VERSION:
            raise ArtifactError(
                f"{path} is a bundle of layout version {version!r}; this zenml reads up to {BUNDLE_VERSION}: "
                "upgrade zenml"
            )
        missing = [key for key in ("task", "label", "input_schema") if key not in manifest]
        if missing:
            raise ArtifactError(f"{path}/{BUNDLE_FILE} lacks '{missing[0]}'; export the bundle again")
        self.manifest = manifest
        self.task: str = manifest["task"]
        self.classes: list[str] | None = manifest.get("classes")
        self.label: str = manifest["label"]
        self.input_schema: pa.Schema = schema_from_json(manifest["input_schema"])
        self.provenance: dict[str, Any] = dict(manifest.get("provenance", {}))
        self.transform = Transform(_read_json(os.path.join(path, TRANSFORM_FILE), "bundle transform"))
        self.model: TrainedModel = _load_model(os.path.join(path, MODEL_DIR))
        self._check_model()
        self._input_names = frozenset(self.input_schema.names)
        self._matrix = self._matrix_plan()

    def __repr__(self) -> str:
        return f"ModelBundle({self.path!r}, task={self.task!r}, run={self.provenance.get('run_id')!r})"

    def _check_model(self) -> None:
        """Load the framework model now and score one row of zeros: a broken bundle fails here, not on a request."""
        import numpy as np

        width = len(self.model.meta.get("features", []))
        try:
            self.model.predict_arrays(np.zeros((1, width), np.float32))
        except ZenMLError:
            raise
        except Exception as exc:  # whatever the framework's reader raises on a damaged file
            raise ArtifactError(f"the model in {self.path} cannot score ({type(exc).__name__}: {exc})") from exc

    @property
    def output_names(self) -> list[str]:
        """The columns ``predict`` returns, in order."""
        names = ["prediction", "score"]
        if self.task != "regression":
            names += [f"{PROBABILITY_PREFIX}{name}" for name in self.classes or []]
        return names

    def check_rows(self, rows: Any) -> pa.Table:
        """Raw rows (Arrow table or batch, list of dicts, pandas DataFrame) as a table of ``input_schema``.

        Extra columns (the label, ids) are dropped; each feature is converted to its schema type.

        Raises:
            ConfigError: rows of an unknown kind, a missing (or misspelled) column, or a column of
                the wrong type, named with the fix.
        """
        import pyarrow as pa

        table = _as_table(rows)
        if table.num_rows == 0 and table.num_columns == 0:
            return self.input_schema.empty_table()
        present = set(table.column_names)  # one set, not a list rebuilt per field
        columns = []
        for field in self.input_schema:
            if field.name not in present:
                raise ConfigError(
                    f"rows lack column '{field.name}'{self._misspelled(field.name, table.column_names)} "
                    f"(the model needs {', '.join(self.input_schema.names)})"
                )
            columns.append(_converted(field, table.column(field.name)))
        return pa.Table.from_arrays(columns, schema=self.input_schema)

    def _misspelled(self, missing: str, given: list[str]) -> str:
        """``; is 'mean_radus' a misspelling of it?`` when a column the rows carry is close to the missing one."""
        import difflib

        extra = [name for name in given if name not in self._input_names]
        close = difflib.get_close_matches(missing, extra, n=1)
        return f"; is '{close[0]}' a misspelling of it?" if close else ""

    def predict(self, rows: Any) -> pa.Table:
        """``prediction`` (class name or value), ``score`` and, for classification, ``probability_<class>``.

        ``score`` is the probability of the predicted class (classification) or the predicted
        value (regression). The numbers are those batch inference computes: the same transform
        (``transform_features``, so no label is needed) and the same model call.

        Raises:
            ConfigError: see ``check_rows``.
        """
        import numpy as np
        import pyarrow as pa

        scored = self._score_matrix(rows)
        if scored is not None:
            return pa.table(self.outputs_from(scored, scored["prediction"]))
        table = self.check_rows(rows)
        batch = table.combine_chunks().to_batches()
        features = batch[0] if batch else pa.RecordBatch.from_pylist([], schema=self.input_schema)
        transformed = self.transform.preprocessor.transform_features(features, self.transform["state"])
        outputs = self.model.predict(transformed)
        return pa.table(self.outputs_from(outputs, np.asarray(outputs["prediction"])))

    def predict_records(self, rows: Any) -> list[dict[str, Any]]:
        """``predict(rows)`` as one dict per row (what ``/predict`` answers); no Arrow table on the fast path."""
        scored = self._score_matrix(rows)
        if scored is None:
            return self.predict(rows).to_pylist()  # type: ignore[no-any-return]
        return self._records(scored)

    def _matrix_plan(self) -> NumericScaling | None:
        """How to score JSON rows as one float matrix: all inputs double and scaled, the stock model call.

        The scaling's columns are in the model's feature order, so the matrix is built in that order
        (C-ordered like the Arrow path's: a framework may sum in another order for another layout).
        None (the Arrow path for every request) for anything else: categorical or boolean inputs,
        bucketized columns, a preprocessor or model class with its own transform or predict.
        """
        import pyarrow as pa

        if type(self.model).predict is not TrainedModel.predict:
            return None
        scaling = numeric_scaling(self.transform.preprocessor, self.transform["state"])
        if scaling is None or scaling.features != self.input_schema.names:
            return None
        if any(field.type != pa.float64() for field in self.input_schema):
            return None
        order = {name: i for i, name in enumerate(scaling.features)}
        wanted = list(self.model.meta.get("features", []))
        if sorted(wanted) != sorted(order):
            return None
        positions = [order[name] for name in wanted]
        return NumericScaling(wanted, scaling.offset[positions], scaling.scale[positions], scaling.flat[positions])

    def _score_matrix(self, rows: Any) -> dict[str, np.ndarray] | None:
        """The model outputs for a list of JSON row dicts whose features are all plain numbers; else None.

        None sends the rows down the Arrow path, which converts them or names what is wrong
        (so error messages come from one place). The numbers equal that path's: the same
        float64 values, the same float operations, the same float32 matrix for the model.
        """
        import numpy as np

        if self._matrix is None or not isinstance(rows, list) or not rows:
            return None
        scaling = self._matrix
        names = scaling.features
        values: list[list[Any]] = []
        try:
            for row in rows:
                if type(row) is not dict:
                    return None
                values.append([row[name] for name in names])
        except KeyError:
            return None
        for line in values:
            for value in line:
                kind = type(value)
                # bool is an int to Python, not to the schema; big ints and text go the checked way
                if kind is not float and (kind is not int or not -_EXACT_INT <= value <= _EXACT_INT):
                    return None
        features = scaling.apply(np.array(values, np.float64)).astype(np.float32)
        if not np.isfinite(features).all():  # as TrainedModel.predict does; the copy is only paid when needed
            features = np.nan_to_num(features)
        return outputs_from_probabilities(self.model.predict_arrays(features), self.task)

    def _records(self, outputs: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
        """The rows ``outputs_from(...).to_pylist()`` gives, built from the arrays directly."""
        import numpy as np

        score = np.asarray(outputs["score"], np.float64)
        if self.task == "regression":
            return [{"prediction": value, "score": value} for value in score.tolist()]
        classes = list(self.classes or [])
        keys = [f"{PROBABILITY_PREFIX}{name}" for name in classes]
        index = np.asarray(outputs["prediction"], np.int64).tolist()
        if self.task == "binary":  # 1.0 - score on Python floats is the float64 subtraction outputs_from does
            rows = [[1.0 - value, value] for value in score.tolist()]
        else:
            columns = [np.asarray(outputs[f"proba_{i}"], np.float64) for i in range(len(classes))]
            rows = np.column_stack(columns).tolist()
        return [
            {"prediction": classes[i], "score": probabilities[i], **dict(zip(keys, probabilities, strict=True))}
            for i, probabilities in zip(index, rows, strict=True)
        ]

    def outputs_from(self, outputs: Mapping[str, Any], prediction: Any) -> dict[str, pa.Array]:
        """The named output columns from a model's ``prediction``/``score``/``proba_<i>`` arrays."""
        import numpy as np
        import pyarrow as pa

        score = np.asarray(outputs["score"], np.float64)
        if self.task == "regression":
            return {"prediction": pa.array(score, pa.float64()), "score": pa.array(score, pa.float64())}
        classes = list(self.classes or [])
        index = np.asarray(prediction, np.int64)
        if self.task == "binary":
            probabilities = [1.0 - score, score]
        else:
            probabilities = [np.asarray(outputs[f"proba_{i}"], np.float64) for i in range(len(classes))]
        stacked = np.column_stack(probabilities) if len(index) else np.zeros((0, len(classes)))
        columns = {
            "prediction": pa.array([classes[i] for i in index.tolist()], pa.string()),
            "score": pa.array(stacked[np.arange(len(index)), index] if len(index) else [], pa.float64()),
        }
        columns.update(
            {f"{PROBABILITY_PREFIX}{name}": pa.array(stacked[:, i], pa.float64()) for i, name in enumerate(classes)}
        )
        return columns


def _read_json(path: str, what: str) -> dict[str, Any]:
    try:
        with open(path) as handle:
            value = json.load(handle)
    except FileNotFoundError:
        raise ArtifactError(f"{path} is missing: the folder is not a complete model {what}") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path} is not valid JSON ({exc.msg}); export the bundle again") from None
    if not isinstance(value, dict):
        raise ArtifactError(f"{path} holds {type(value).__name__}, not a JSON object; export the bundle again")
    return value


def _load_model(folder: str) -> TrainedModel:
    """The model through its framework's zenml loader (a project's own loader class need not be importable)."""
    from zenml.utils.importing import import_object
    from zenml.utils.trust import import_trusted

    meta = _read_json(os.path.join(folder, META_FILE), "model")
    framework = str(meta.get("framework", ""))
    loader = import_object(LOADERS[framework]) if framework in LOADERS else import_trusted(meta["loader"], "bundle")
    if not (isinstance(loader, type) and issubclass(loader, TrainedModel)):
        raise ArtifactError(f"bundle model names {loader!r}, which is not a TrainedModel class")
    return loader(folder)


def _as_table(rows: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(rows, pa.Table):
        return rows
    if isinstance(rows, pa.RecordBatch):
        return pa.Table.from_batches([rows])
    if type(rows).__module__.partition(".")[0] == "pandas" and type(rows).__name__ == "DataFrame":
        return pa.Table.from_pandas(rows, preserve_index=False)
    if isinstance(rows, Mapping):
        rows = [rows]
    if isinstance(rows, list) and all(isinstance(row, Mapping) for row in rows):
        try:
            return pa.Table.from_pylist(rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise ConfigError(_mixed_column(rows) or f"rows do not form a table: {exc}") from None
    raise ConfigError(f"rows must be a pyarrow Table, a list of dicts or a pandas DataFrame, got {excerpt(rows, 80)}")


def _mixed_column(rows: list[Mapping[str, Any]]) -> str | None:
    """``column 'x' mixes …`` for the first column whose values do not share one type."""
    import pyarrow as pa

    names = dict.fromkeys(name for row in rows for name in row)
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            kinds = sorted({type(value).__name__ for value in values if value is not None})
            return f"column '{name}' mixes values of types {', '.join(kinds)}; give it values of one type"
    return None


def _converted(field: pa.Field, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``column`` as ``field``'s type; text is never parsed as numbers (a JSON ``"1.5"`` is a wrong type)."""
    import pyarrow as pa
    import pyarrow.types as pat

    source, target = column.type, field.type
    if source == target or pat.is_null(source):
        return column.cast(target)
    if pat.is_dictionary(source):
        column, source = column.cast(source.value_type), source.value_type
    # numbers are fine as category names; text is never parsed as a number
    accepted = ("number", "text") if _family(target) == "text" else (_family(target),)
    allowed = _family(source) in accepted
    if allowed:
        try:
            return column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    raise ConfigError(f"column '{field.name}' holds {_describe(source)}, but the model needs {_describe(target)}")


def _family(kind: pa.DataType) -> str:
    import pyarrow.types as pat

    if pat.is_integer(kind) or pat.is_floating(kind):
        return "number"
    if pat.is_string(kind) or pat.is_large_string(kind):
        return "text"
    return "boolean" if pat.is_boolean(kind) else str(kind)


def _describe(kind: pa.DataType) -> str:
    import pyarrow.types as pat

    if pat.is_integer(kind) or pat.is_floating(kind):
        return f"numbers ({kind})"
    if pat.is_string(kind) or pat.is_large_string(kind):
        return "text (string)"
    if pat.is_boolean(kind):
        return "booleans (bool)"
    return f"values of type {kind}"


def schema_to_json(schema: pa.Schema) -> list[dict[str, str]]:
    """``[{"name", "type"}]`` with Arrow type aliases (``double``, ``string``, ``bool``, ``int64``)."""
    return [{"name": field.name, "type": str(field.type)} for field in schema]


def schema_from_json(fields: list[dict[str, str]]) -> pa.Schema:
    """The Arrow schema ``schema_to_json`` wrote."""
    import pyarrow as pa

    try:
        return pa.schema([pa.field(entry["name"], pa.type_for_alias(entry["type"])) for entry in fields])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"bundle input schema is not readable ({exc}); export the bundle again") from None


def input_schema(transform: Transform, data_schema: pa.Schema | None = None) -> pa.Schema:
    """The raw feature columns the transform reads: typed by its fitted plan, else by the data it was fitted on.

    A ``StandardPreprocessor`` records each column's kind (numeric → double, categorical →
    string, boolean → bool), which is exactly what its encoding accepts.

    Raises:
        ConfigError: neither the plan nor the data gives a column's type.
    """
    import pyarrow as pa

    state = transform["state"]
    labels = set(state.get("labels", []))
    names = [name for name in state.get("features", transform.input_columns()) if name not in labels]
    plans = state.get("columns", {})
    fields = []
    for name in names:
        kind = plans.get(name, {}).get("kind") if isinstance(plans.get(name), dict) else None
        if kind in KIND_TYPES:
            fields.append(pa.field(name, pa.type_for_alias(KIND_TYPES[kind])))
        elif data_schema is not None and name in data_schema.names:
            fields.append(pa.field(name, data_schema.field(name).type))
        else:
            raise ConfigError(
                f"cannot tell the type of input column '{name}': the preprocessor records no column kinds; "
                "export the bundle from the run (export_bundle(run, target)), which reads the training data's schema"
            )
    return pa.schema(fields)


def write_bundle(
    target: str,
    transform: Transform,
    model: TrainedModel,
    provenance: Mapping[str, Any],
    data_schema: pa.Schema | None = None,
) -> str:
    """Write a bundle folder to ``target`` (a local folder or an fsspec URL); return its URI.

    The folder is built locally, then moved (or uploaded) into place, so a reader never sees half a bundle.
    """
    from zenml.utils.environment import zenml_version

    schema = input_schema(transform, data_schema)
    meta = model.meta
    manifest = {
        "bundle_version": BUNDLE_VERSION,
        "task": meta["task"],
        "classes": meta.get("classes"),
        "label": meta["label"],
        "input_schema": schema_to_json(schema),
        "provenance": {
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "zenml_version": zenml_version(),
            "framework": meta.get("framework", ""),
            **provenance,
        },
    }
    staging = tempfile.mkdtemp(prefix="zenml-bundle-")
    try:
        shutil.copytree(model.path, os.path.join(staging, MODEL_DIR))
        with open(os.path.join(staging, TRANSFORM_FILE), "w") as handle:
            json.dump(dict(transform), handle, indent=1)
        with open(os.path.join(staging, BUNDLE_FILE), "w") as handle:
            json.dump(manifest, handle, indent=1)
        return _publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: str, target: str) -> str:
    if "://" not in target or target.startswith("file://"):
        local = os.path.abspath(target.removeprefix("file://"))
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
        aside = f"{local}.old-{os.getpid()}"
        if os.path.exists(local):  # a redeploy to the same folder replaces the bundle whole
            os.rename(local, aside)
        shutil.copytree(staging, local)
        shutil.rmtree(aside, ignore_errors=True)
        return local
    import fsspec

    filesystem, path = fsspec.core.url_to_fs(target)
    if filesystem.exists(path):
        filesystem.rm(path, recursive=True)
    filesystem.put(staging.rstrip("/") + "/", path.rstrip("/") + "/", recursive=True)
    return target
