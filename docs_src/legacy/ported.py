"""A legacy ZenML 0.x training pipeline, ported: the same slots, today's names (see the porting table)."""

# --8<-- [start:ported]
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline  # was: TrainingPipeline
from zenml.repository import Repository  # was: zenml.repo.Repository
from zenml.steps.evaluator import ClassificationEvaluator  # was: AgnosticEvaluator / TFMAEvaluator
from zenml.steps.preprocessor import StandardPreprocessor  # was: zenml.steps.preprocesser.StandardPreprocesser
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer  # was: TorchFeedForwardTrainer

FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "worst_concavity"]

training_pipeline = SimplePipeline(name="breast_cancer")
training_pipeline.add_datasource(CSVDatasource(path="breast_cancer.csv"))  # no name=: the slot names it
training_pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=42))  # was: split_map=
training_pipeline.add_preprocessor(StandardPreprocessor(features=FEATURES, labels=["malignant"]))
training_pipeline.add_trainer(
    PyTorchFeedForwardTrainer(
        loss="binary_crossentropy",
        last_activation="sigmoid",
        output_units=1,
        metrics=["accuracy"],
        epochs=5,  # was: epoch=
        hidden_layers=[16],
        activation="relu",  # was: hidden_activation=
        dropout=0.1,  # was: dropout_chance=
        seed=7,
    )
)
training_pipeline.add_evaluator(ClassificationEvaluator(label="malignant", metrics=["accuracy", "auc"]))

if __name__ == "__main__":  # legacy examples ran at import; 'zen run ported.py:training_pipeline' needs this guard
    run = training_pipeline.run()  # was: run(backend=..., artifact_store=...): backends and a stack
    print(run.status, sorted(run.metrics()["evaluator"]))

    repo = Repository()  # was: Repository.get_instance()
    for pipeline in repo.pipelines():  # was: repo.get_pipelines()
        latest = repo.runs(pipeline=pipeline.name, limit=1)[0]  # was: repo.get_pipeline_by_name(...)
        print(pipeline.name, latest.status, sorted(latest.steps))
# --8<-- [end:ported]
