"""A complete custom TensorFlow trainer: a Keras functional model in model_fn plus one hook."""

import keras
from data import orders_pipeline, write_csv

from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.trainer import TensorflowBaseTrainer


class WideAndDeepTrainer(TensorflowBaseTrainer):
    """A linear path next to a deep path, summed into the logits."""

    def __init__(self, deep: int = 16, epochs: int = 20, lr: float = 0.01, batch_size: int = 32, seed: int = 0):
        super().__init__(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
        self.deep = deep

    def model_fn(self, n_features: int, n_outputs: int) -> keras.Model:
        inputs = keras.Input(shape=(n_features,))
        wide = keras.layers.Dense(n_outputs)(inputs)
        deep = keras.layers.Dense(self.deep, activation="relu")(inputs)
        deep = keras.layers.Dense(n_outputs)(deep)
        return keras.Model(inputs, keras.layers.Add()([wide, deep]))

    def on_train_end(self, *, model: keras.Model, history: dict[str, list[float]]) -> None:
        print(f"trained {len(history['epoch'])} epochs, {model.count_params()} weights")


pipeline = orders_pipeline("orders_tensorflow")
pipeline.add_trainer(WideAndDeepTrainer(deep=16, epochs=20))
pipeline.add_evaluator(ClassificationEvaluator(label="returned", metrics=["accuracy", "auc"]))

if __name__ == "__main__":
    write_csv()
    run = pipeline.run()
    print("learned:", run.metrics()["evaluator"]["accuracy"] > 0.85)
    print("history keys:", sorted(run.steps["trainer"].outputs["history"].read()))
