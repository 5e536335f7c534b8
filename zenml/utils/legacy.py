"""Legacy ZenML (0.1 to 0.5) spellings and what they are called here, for the errors that meet them.

A constructor or ``run(...)`` given a legacy keyword answers with today's name (or what replaced
it) instead of a bare ``TypeError``; docs/guides/legacy.md has the whole porting table.
"""

from __future__ import annotations

from collections.abc import Iterable

#: A legacy keyword's replacement: today's parameter name, or (when nothing has that role) a
#: phrase saying what replaced it.
Replacement = str

_FEED_FORWARD = {
    "dropout_chance": "dropout",
    "hidden_activation": "activation",
    "epoch": "epochs",
}
_DATASOURCE = {
    "name": "a datasource is a step: its name is its pipeline slot ('datasource'), or .configure(name=...)",
}
_SQL = {
    key: "put it in 'url' (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)"
    for key in ("username", "password", "host", "port", "database")
}

#: by the class the parameters belong to (its ``__name__``; subclasses inherit the entries)
PARAMETERS: dict[str, dict[str, Replacement]] = {
    "BaseDatasource": _DATASOURCE,
    "SQLDatasource": {
        **_SQL,
        "table": "select it in 'query' ('SELECT * FROM TABLE')",
        "query_limit": "limit it in 'query' ('... LIMIT N')",
    },
    "RandomSplit": {"split_map": "ratios"},
    "CategoricalDomainSplit": {"categorical_column": "column", "split_map": "domains"},
    "CategoricalRatioSplit": {"categorical_column": "column", "split_ratio": "ratios"},
    "TensorflowFeedForwardTrainer": _FEED_FORWARD,
    "PyTorchFeedForwardTrainer": _FEED_FORWARD,
    "EvaluatorStep": {
        "label_key": "label",
        "prediction_key": "predictions arrive from the trainer's 'predictions' output; name the label with 'label'",
    },
}

#: legacy ``TrainingPipeline(...)`` keywords
PIPELINE_ARGUMENTS: dict[str, Replacement] = {
    "enable_cache": "caching is chosen per run: pipeline.run(enable_cache=False), or per step with .configure()",
    "steps_dict": "add steps with add_datasource/add_split/add_preprocessor/add_trainer/add_evaluator or add_step",
    "backend": "backends are chosen per run: pipeline.run(orchestrator=..., processing=..., training=...)",
    "datasource": "add it with pipeline.add_datasource(...)",
    "pipeline_name": "name",
}

_STACK = (
    "stores belong to a stack: 'zen stack register NAME --artifact-store URL --metadata-store URL', "
    "then run(stack='NAME')"
)

#: legacy ``pipeline.run(...)`` keywords
RUN_OPTIONS: dict[str, Replacement] = {
    "backend": "orchestrator",
    "artifact_store": _STACK,
    "metadata_store": _STACK,
}


def parameter_replacement(classes: Iterable[type], name: str) -> Replacement | None:
    """What legacy ZenML's keyword ``name`` is for the first of ``classes`` (an MRO) that knows it."""
    for klass in classes:
        found = PARAMETERS.get(klass.__name__, {}).get(name)
        if found is not None:
            return found
    return None


def replacement_hint(name: str, replacement: Replacement | None, known: Iterable[str]) -> str | None:
    """``; did you mean 'ratios'? (legacy ZenML's name)`` for a rename, ``; legacy ZenML's 'x': …`` otherwise."""
    if replacement is None:
        return None
    if replacement in set(known):
        return f"; did you mean '{replacement}'? ('{name}' is legacy ZenML's name)"
    return f"; legacy ZenML's '{name}': {replacement}"
