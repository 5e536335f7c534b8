"""Quiet by default: a TensorFlow run on a terminal shows zenml's output, not the frameworks' start-up log.

TensorFlow writes absl / oneDNN / ``cudart_stub`` / ``cpu_feature_guard`` lines and, on a machine
without a GPU, ``failed call to cuInit`` from C++; Beam logs ``apitools not found``. ``--verbose``
(or ``ZEN_VERBOSE=1``) shows them. A TensorFlow run never imports PyTorch to ask for a device.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pty_helpers import ZEN, Terminal

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as on Linux")

#: what TensorFlow (and the CUDA probe) print at start-up; none of it may reach a quiet terminal
NOISE = re.compile(r"absl::InitializeLog|^[IEW]\d{4} |oneDNN|cudart_stub|cpu_feature_guard|cuInit", re.MULTILINE)

TF_FLOW = '''\
"""The quickstart, small: breast-cancer CSV -> split -> preprocess -> TensorFlow trainer -> evaluator."""

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import TensorflowFeedForwardTrainer

quick = SimplePipeline(name="quick")
quick.add_datasource(CSVDatasource(path="cancer.csv"))
quick.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=1))
quick.add_preprocessor(StandardPreprocessor(labels=["malignant"]))
quick.add_trainer(TensorflowFeedForwardTrainer(hidden_layers=[8], epochs=2, loss="binary_crossentropy",
                                               last_activation="sigmoid", seed=1))
quick.add_evaluator(ClassificationEvaluator(label="malignant", metrics=["accuracy"]))

if __name__ == "__main__":
    data = load_breast_cancer()
    header = ",".join([f"f{i}" for i in range(data.data.shape[1])] + ["malignant"])
    rows = np.column_stack([data.data, 1 - data.target])
    np.savetxt(Path("cancer.csv"), rows, delimiter=",", header=header, comments="", fmt="%.6g")
    run = quick.run()
    print("RESULT", run.status, "torch imported:", "torch" in sys.modules)
'''


def _in_terminal(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    terminal = Terminal(*args, cwd=cwd, env=env)
    try:
        return terminal.wait(240), terminal.output
    finally:
        terminal.close()


@pytest.mark.slow
@pytest.mark.tensorflow
@pytest.mark.timeout(600)
def test_a_tensorflow_run_shows_no_start_up_noise_unless_verbose(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("sklearn")
    subprocess.run([ZEN, "init", str(tmp_path)], check=True, capture_output=True)
    (tmp_path / "flow.py").write_text(TF_FLOW)

    code, shown = _in_terminal(sys.executable, "flow.py", cwd=tmp_path)
    assert code == 0, shown
    assert "RESULT completed torch imported: False" in shown, "a TensorFlow run asks TensorFlow for the device"
    assert not NOISE.search(shown), f"start-up noise on a quiet terminal:\n{shown}"

    code, shown = _in_terminal(ZEN, "--verbose", "run", "flow.py:quick", "--no-cache", cwd=tmp_path)
    assert code == 0, shown
    assert NOISE.search(shown), f"--verbose shows TensorFlow's own start-up output:\n{shown}"
