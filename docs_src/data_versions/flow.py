"""A datasource and a model fitted on what it read: the pipeline of the data versions guide."""

from sklearn.linear_model import LinearRegression

from zenml import StepContext, step
from zenml.artifacts.dataset import Dataset
from zenml.datasources import CSVDatasource
from zenml.pipelines import BasePipeline


@step
def fit(data: Dataset, context: StepContext) -> float:
    frame = data.to_pandas()
    features, target = frame.drop(columns=["target"]), frame["target"]
    r2 = float(LinearRegression().fit(features, target).score(features, target))
    context.log_metric("rows", len(frame))
    context.log_metric("r2", round(r2, 4))
    return r2


diabetes = (
    BasePipeline("diabetes")
    .add_step("datasource", CSVDatasource(path="data.csv"))
    .add_step("fit", fit, inputs={"data": "datasource"})
)
