"""``posenet infer`` gives, bit for bit, the JSON it gave before the engine/ redesign.

The reference (tests/data/golden/, written by ``tests/golden_outputs.py``) comes from the
shipped default weights on the Keras runtime under TensorFlow; JAX computes the same network
with other rounding, so the comparison runs under TensorFlow only.
"""

import json

import keras
import pytest
from click.testing import CliRunner

from cli.infer import infer
from tests.golden_outputs import FOLDER, RUNS, comparable, infer_args

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="the reference JSON was computed under TensorFlow")


@pytest.mark.parametrize("name", sorted(RUNS))
def test_infer_json_is_unchanged(name, tmp_path):
    result = CliRunner().invoke(infer, infer_args(name, tmp_path))
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / f"{FOLDER.joinpath(RUNS[name][0]).stem}.json").read_text())
    expected = json.loads((FOLDER / f"{name}.json").read_text())
    assert comparable(written) == expected
