"""``LocalTraining``: device validation and launching the training function in this process."""

from __future__ import annotations

import os

import pytest

from zenml.backends.training import LocalTraining, TrainingContext
from zenml.backends.training.local import cuda_available
from zenml.exceptions import ConfigError

HAS_CUDA = cuda_available()


def _context(context: TrainingContext) -> TrainingContext:
    return context


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:0", "cuda:3"])
def test_known_device_names_validate(device: str) -> None:
    training = LocalTraining.from_config(
        {"type": "zenml.backends.training.local.LocalTraining", "params": {"device": device}}
    )
    assert training.device == device


@pytest.mark.parametrize("device", ["tpu", "gpu", "CUDA", "cuda:", "cuda:x", "", "cpu "])
def test_unknown_devices_are_config_errors(device: str) -> None:
    with pytest.raises(ConfigError, match=f"LocalTraining device '{device}' is not one of auto, cpu, cuda, cuda:N"):
        LocalTraining.from_config({"type": "zenml.backends.training.local.LocalTraining", "params": {"device": device}})
    with pytest.raises(ConfigError, match="is not one of"):
        LocalTraining(device=device).launch(_context)


def test_non_string_device_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="parameter 'device' of LocalTraining must be str"):
        LocalTraining().set_params(device=0)


def test_launch_runs_once_here_as_rank_zero_on_cpu() -> None:
    calls: list[TrainingContext] = []

    def train(context: TrainingContext) -> dict[str, object]:
        calls.append(context)
        return {"pid": os.getpid(), "device": context.device}

    result = LocalTraining(device="cpu").launch(train)
    assert result == {"pid": os.getpid(), "device": "cpu"}
    [context] = calls
    assert (context.rank, context.world_size, context.local_rank, context.device) == (0, 1, 0, "cpu")
    assert context.is_primary


def test_auto_picks_cuda_only_when_available() -> None:
    context = LocalTraining(device="auto").launch(_context)
    assert context.device == ("cuda" if HAS_CUDA else "cpu")
    assert LocalTraining().resolve_device() == context.device


@pytest.mark.skipif(HAS_CUDA, reason="a CUDA device is visible here")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_a_cuda_device_is_a_config_error(device: str) -> None:
    with pytest.raises(ConfigError, match=rf"device='{device}'\) but no CUDA device is available; use 'auto' or 'cpu'"):
        LocalTraining(device=device).launch(_context)


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
def test_cuda_device_is_used_when_available() -> None:  # pragma: no cover - only on GPU machines
    assert LocalTraining(device="cuda:0").launch(_context).device == "cuda:0"


def test_exceptions_from_the_training_function_propagate() -> None:
    def train(context: TrainingContext) -> None:
        raise RuntimeError(f"diverged on {context.device}")

    with pytest.raises(RuntimeError, match="diverged on cpu"):
        LocalTraining(device="cpu").launch(train)


def test_config_round_trip() -> None:
    training = LocalTraining(device="cuda:1")
    assert training.to_config() == {"type": "zenml.backends.training.local.LocalTraining",
                                    "params": {"device": "cuda:1"}}
    assert LocalTraining.from_config(training.to_config()) == training


ASK_DEVICE = """
import sys
from zenml.backends.training import LocalTraining

class Job:  # what a trainer hands the backend: a callable that names its framework
    framework = sys.argv[1]
    def __call__(self, context):
        return context.device

device = LocalTraining().launch(Job())
print(device, sorted(name for name in ("torch", "tensorflow") if name in sys.modules))
"""


@pytest.mark.parametrize(
    ("framework", "imported"), [("tensorflow", ["tensorflow"]), ("torch", ["torch"]), ("sklearn", [])]
)
def test_the_device_question_goes_to_the_trainers_own_framework(framework: str, imported: list[str]) -> None:
    import subprocess
    import sys

    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")  # both installed: only the trainer's own framework is imported
    result = subprocess.run([sys.executable, "-c", ASK_DEVICE, framework], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    device, _, modules = result.stdout.strip().partition(" ")
    assert device in (("cpu",) if framework == "sklearn" else ("cpu", "cuda"))
    assert modules == str(imported), f"a {framework} run imported {modules}"
