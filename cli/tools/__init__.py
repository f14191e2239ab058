"""``posenet tools``: the maintainers' commands that made the shipped weights and figures.

One module per area: ``weights`` (manifest, softargmax-window, ensemble), ``actions``
(action-calibration, out-of-class), ``pose`` (window-choice, pose-noise, person-score,
empty-frames, joint-speed), ``speed`` (runtime-speed) and ``lifter`` (lifter-train,
lifter-eval). The work is done in
``posenet/``; these parse, call and print.
``python -m cli.tools NAME ...`` runs them as ``posenet tools NAME ...`` does.
"""

import click

from cli.tools.actions import action_calibration, out_of_class
from cli.tools.lifter import lifter_eval, lifter_train
from cli.tools.pose import empty_frames, joint_speed, person_score, pose_noise, window_choice
from cli.tools.speed import runtime_speed
from cli.tools.weights import ensemble, manifest, softargmax_window


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             short_help="Maintainers' tools: the commands that made the shipped weights and "
                        "figures.")
def tools():
    """Maintainers' tools: the commands that made the shipped weights and figures."""


for command in (manifest, softargmax_window, ensemble, action_calibration, out_of_class,
                window_choice, pose_noise, person_score, empty_frames, joint_speed,
                runtime_speed, lifter_train, lifter_eval):
    tools.add_command(command)
