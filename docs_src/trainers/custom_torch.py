"""A complete custom PyTorch trainer: your network in model_fn, one hook, everything else inherited."""

import torch
from data import orders_pipeline, write_csv

from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.trainer import PyTorchBaseTrainer


class ResidualTrainer(PyTorchBaseTrainer):
    """A small residual MLP; ``width`` is a parameter like the inherited epochs, lr, batch_size…"""

    def __init__(self, width: int = 16, epochs: int = 20, lr: float = 0.01, batch_size: int = 32, seed: int = 0):
        super().__init__(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
        self.width = width

    def model_fn(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        return Residual(n_features, self.width, n_outputs)

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], model: torch.nn.Module) -> None:
        if epoch % 10 == 0:
            print(f"epoch {epoch}: eval accuracy {logs['eval_accuracy']:.2f}")


class Residual(torch.nn.Module):
    """input → hidden → hidden + skip → logits."""

    def __init__(self, n_features: int, width: int, n_outputs: int):
        super().__init__()
        self.inner = torch.nn.Linear(n_features, width)
        self.hidden = torch.nn.Linear(width, width)
        self.out = torch.nn.Linear(width, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inner(x))
        return self.out(h + torch.relu(self.hidden(h)))


pipeline = orders_pipeline("orders_torch")
pipeline.add_trainer(ResidualTrainer(width=16, epochs=20))
pipeline.add_evaluator(ClassificationEvaluator(label="returned", metrics=["accuracy", "auc"]))

if __name__ == "__main__":
    write_csv()
    run = pipeline.run()
    accuracy = run.metrics()["evaluator"]["accuracy"]
    print("learned:", accuracy > 0.85)
    model = run.steps["trainer"].outputs["model"].read()
    print("stored as:", sorted(p for p in ("model.pt", "weights.pt", "zenml-model.json")))
    print("reloaded model predicts:", model.predict_arrays(torch.zeros(2, 3).numpy()).shape)
