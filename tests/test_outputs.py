"""Output naming, and that data targets stay free of any Keras backend."""

import subprocess
import sys

import pytest

from posenet.outputs import action_dataset, action_output, output_kind, pose_output


def test_output_names_round_trip():
    assert output_kind(pose_output(3)) == "pose"
    assert output_kind("visibility_1") == "visibility"
    name = action_output("penn_action", 4)
    assert name == "action_penn_action_4"
    assert output_kind(name) == "action" and action_dataset(name) == "penn_action"
    with pytest.raises(ValueError, match="not a supervised output"):
        output_kind("features")


def test_targets_module_does_not_import_keras():
    """Data workers build targets without loading a backend (slow, and memory per worker)."""
    code = "import sys, posenet.data.targets; print('keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
