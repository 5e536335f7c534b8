"""A CSV → split → preprocess pipeline; the same steps on the local backend and on Apache Beam."""

import csv
import random

from zenml.backends.processing import LocalProcessing
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit


def write_csv(path: str = "houses.csv", rows: int = 400) -> None:
    """A small table with a numeric, a categorical and a boolean column, and some gaps."""
    rng = random.Random(0)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area", "district", "garden", "price_band"])
        for index in range(rows):
            area = "" if index % 25 == 0 else round(rng.uniform(40, 200), 1)
            writer.writerow([area, rng.choice(["north", "south", "centre"]), rng.choice(["true", "false"]),
                             rng.choice(["low", "mid", "high"])])


houses = SimplePipeline(name="houses")
houses.add_datasource(CSVDatasource(path="houses.csv", schema={"garden": "bool"}))
houses.add_split(RandomSplit(ratios={"train": 0.75, "eval": 0.25}, seed=7))
houses.add_preprocessor(StandardPreprocessor(labels=["price_band"], overwrite={"area": {"filling": "median"}}))

if __name__ == "__main__":
    write_csv()
    run = houses.run(processing=LocalProcessing())
    statistics = run.steps["split"].outputs["statistics"].read()
    print("rows per split:", {name: info["rows"] for name, info in statistics["splits"].items()})
    print("missing areas in train:", statistics.split("train")["columns"]["area"]["missing"])
    transform = run.steps["preprocessor"].outputs["transform"].read()
    print("district vocabulary:", transform["state"]["columns"]["district"]["vocabulary"])
    train = run.steps["preprocessor"].outputs["data"].read().to_pandas("train")
    mean, std = abs(round(float(train["area"].mean()), 2)), round(float(train["area"].std()), 1)
    print("area after z-score: mean", mean, "std", std)
