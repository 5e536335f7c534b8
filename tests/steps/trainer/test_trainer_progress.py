"""Trainers report one progress step per epoch: a bar of ``epochs`` in ``zen run``'s trainer row."""

from __future__ import annotations

import importlib.util

import pytest

from zenml.runtime.events import StepOutcome, StepProgress


class ProgressRecorder:
    """A ``ProgressListener`` keeping the progress events."""

    def __init__(self) -> None:
        self.progress: list[StepProgress] = []

    def step_started(self, name: str) -> None:
        """Nothing to keep."""

    def step_finished(self, outcome: StepOutcome) -> None:
        """Nothing to keep."""

    def step_progress(self, progress: StepProgress) -> None:
        self.progress.append(progress)


def _epochs(recorder: ProgressRecorder) -> list[StepProgress]:
    reports = [report for report in recorder.progress if report.name == "trainer"]
    assert reports, "the trainer reported no progress"
    assert {(r.description, r.unit) for r in reports} == {("training", "epochs")}
    return reports


@pytest.mark.torch
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the torch extra")
def test_pytorch_trainer_reports_each_epoch(trainer_runner) -> None:
    from zenml.steps.trainer import PyTorchFeedForwardTrainer

    recorder = ProgressRecorder()
    trainer = PyTorchFeedForwardTrainer(hidden_layers=[4], epochs=3, batch_size=64, seed=11)
    result = trainer_runner(trainer, listener=recorder)
    reports = _epochs(recorder)
    assert (reports[0].done, reports[0].total) == (0, 3)
    assert (reports[-1].done, reports[-1].total) == (3, 3)
    assert result.history["epoch"] == [1.0, 2.0, 3.0]


@pytest.mark.torch
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the torch extra")
def test_early_stopping_reports_the_epochs_actually_trained(trainer_runner) -> None:
    from zenml.steps.trainer import PyTorchFeedForwardTrainer

    recorder = ProgressRecorder()
    # a learning rate of ~0 never improves the eval loss: it stops after 1 + patience epochs
    trainer = PyTorchFeedForwardTrainer(hidden_layers=[4], epochs=20, lr=1e-12, early_stopping_patience=1, seed=5)
    result = trainer_runner(trainer, listener=recorder)
    trained = len(result.history["epoch"])
    assert trained < 20
    assert (_epochs(recorder)[-1].done, _epochs(recorder)[-1].total) == (trained, 20)


@pytest.mark.tensorflow
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs the tensorflow extra")
def test_tensorflow_trainer_reports_each_epoch(trainer_runner) -> None:
    from zenml.steps.trainer import TensorflowFeedForwardTrainer

    recorder = ProgressRecorder()
    trainer = TensorflowFeedForwardTrainer(hidden_layers=[4], epochs=2, batch_size=64, seed=11)
    result = trainer_runner(trainer, listener=recorder)
    reports = _epochs(recorder)
    assert (reports[0].done, reports[0].total) == (0, 2)
    assert (reports[-1].done, reports[-1].total) == (2, 2)
    assert result.history["epoch"] == [1.0, 2.0]
