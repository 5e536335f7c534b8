"""What legacy ZenML's keywords meet here: one line naming today's spelling and the valid ones."""

from zenml.datasources import CSVDatasource
from zenml.exceptions import ConfigError
from zenml.pipelines import SimplePipeline
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer

attempts = {
    "split_map": lambda: RandomSplit(split_map={"train": 0.7, "eval": 0.3}),
    "dropout_chance": lambda: PyTorchFeedForwardTrainer(dropout_chance=0.2),
    "hidden_activation": lambda: PyTorchFeedForwardTrainer(hidden_activation="relu"),
    "name": lambda: CSVDatasource(name="breast cancer", path="breast_cancer.csv"),
    "artifact_store": lambda: SimplePipeline(name="p").run(artifact_store="/tmp/artifacts"),
    "backend": lambda: SimplePipeline(name="p").run(backend="local"),
}
for legacy, attempt in attempts.items():
    try:
        attempt()
    except ConfigError as error:
        print(f"{legacy}: {error}")
