"""Reading another dataset's sequences through pose-only action networks."""

import numpy as np
import pytest
from training_fixtures import sequence_file

from posenet.evaluation import out_of_class as oc


def test_report_counts_labels_against_the_threshold():
    per_video = [np.array([[0.9, 0.1], [0.7, 0.3]]),   # mean 0.8 on class 0: labelled
                 np.array([[0.4, 0.6], [0.6, 0.4]]),   # mean 0.5: uncertain
                 np.array([[0.2, 0.8]])]               # 0.8 on class 1: labelled
    got = oc.report(per_video, ["Walk", "Walk", "Sit"], ["a", "b"], threshold=0.75)
    assert got["sequences"] == 3 and got["windows"] == 5
    assert got["labelled"] == pytest.approx(2 / 3, abs=1e-4)
    assert got["windows_labelled"] == pytest.approx(2 / 5)  # 0.9 and 0.8 pass
    assert got["per_action"] == {"Sit": {"sequences": 1, "labelled": 1.0, "most_often": "b"},
                                 "Walk": {"sequences": 2, "labelled": 0.5, "most_often": "a"}}


class _Net:
    def __init__(self, num_frames, clip_span, frame_rate):
        self.num_frames, self.clip_span, self.frame_rate = num_frames, clip_span, frame_rate


def test_windows_cover_the_networks_seconds_at_the_files_rate():
    frames = np.arange(100)
    # a 40-frame span at 30 frames/s is 13 frames at 10 frames/s
    spans = oc.windows(frames, _Net(8, 40, 30.0), fps=10.0)
    assert all(len(w) == 8 for w in spans)
    assert spans[0][0] == 0 and spans[0][-1] == 12 and spans[-1][-1] == 99
    # a network of T consecutive frames at its own rate reads T consecutive frames
    clips = oc.windows(frames, _Net(8, None, 10.0), fps=10.0)
    np.testing.assert_array_equal(clips[1], np.arange(4, 12))


def test_evaluate_reads_every_sequence_of_a_file(tmp_path):
    from posenet.models import ActionNetwork

    path = sequence_file(tmp_path, sequences=4, frames=12)
    net = ActionNetwork({"jhmdb": 14}, num_frames=8, num_joints=17, branch="geometry",
                        filters=4, uncertain_below={"jhmdb": 0.0})
    got = oc.evaluate(net, path, fps=30.0)
    assert got["sequences"] == 4 and got["labelled"] == 1.0  # threshold 0: all labelled
    assert set(got["per_action"]) == {"wave", "jump", "sit"}
    assert got["per_action"]["wave"]["sequences"] == 2
    two = ActionNetwork({"jhmdb": 14, "penn_action": 15}, num_frames=8, num_joints=17,
                        branch="geometry", filters=4)
    with pytest.raises(ValueError, match="exactly one"):
        oc.evaluate(two, path)


def test_command_prints_a_json_line_per_network(tmp_path):
    import json

    from click.testing import CliRunner

    from cli.tools import tools
    from posenet.models import ActionNetwork

    path = sequence_file(tmp_path, sequences=4, frames=12)
    weights = tmp_path / "net.keras"
    ActionNetwork({"jhmdb": 14}, num_frames=8, num_joints=17, branch="geometry", filters=4,
                  uncertain_below={"jhmdb": 0.0}).save(weights)
    result = CliRunner().invoke(tools, ["out-of-class", str(weights), "--data", str(path),
                                        "--fps", "30"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    got = json.loads(line)
    assert got["weights"] == str(weights) and got["dataset"] == "jhmdb" and got["fps"] == 30.0
    assert got["sequences"] == 4 and got["labelled"] == 1.0
