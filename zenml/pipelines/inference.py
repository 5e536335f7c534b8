"""``BatchInferencePipeline``: new data through a stored run's transform and model."""

from __future__ import annotations

from zenml.pipelines.base import BasePipeline
from zenml.steps.base import BaseStep
from zenml.steps.inference import BatchInferrer


class BatchInferencePipeline(BasePipeline):
    """The two-step pipeline ``datasource → inference`` against a training run.

    The ``inference`` step reads ``transform`` and ``model`` from the training run
    (``run:<id>/<step>.<output>`` inputs), so lineage and caching work across the two runs.

    Args:
        model_run: the training run's id (or a unique prefix).
        datasource: where the new data comes from.
        name: the pipeline's name.
        model_step: the training run's step that produced ``model``.
        transform_step: the training run's step that produced ``transform``.
        inferrer: a configured ``BatchInferrer`` (default: keep every input column).

    Examples:
        >>> from zenml.datasources import CSVDatasource
        >>> BatchInferencePipeline(model_run="20261126-120000-abcd1234",
        ...                        datasource=CSVDatasource(path="new.csv")).order()
        ['datasource', 'inference']
    """

    def __init__(
        self,
        model_run: str,
        datasource: BaseStep,
        name: str = "batch_inference",
        model_step: str = "trainer",
        transform_step: str = "preprocessor",
        inferrer: BatchInferrer | None = None,
    ) -> None:
        super().__init__(name)
        self.model_run = model_run
        self.add_step("datasource", datasource)
        self.add_step(
            "inference",
            inferrer or BatchInferrer(),
            inputs={
                "data": "datasource",
                "transform": f"run:{model_run}/{transform_step}.transform",
                "model": f"run:{model_run}/{model_step}.model",
            },
        )
