"""Evaluation of trained networks on prepared files, by the protocols of the literature.

``runner.evaluate_file(model, path)`` runs every protocol that fits the model and the
file's dataset (``runner`` lists them); ``report`` turns the results into a JSON report
and a table.  Models may be Keras networks or any object with ``predict_on_batch``,
``input_shapes`` and ``output_shapes`` (``model_spec``).

``evaluate_file`` is imported on first use, so that the commands' option defaults
(``defaults``) can be read without starting Keras.
"""

from posenet.evaluation.model_spec import EvaluationError, ModelSpec, model_spec
from posenet.evaluation.report import build_report, format_table, sha256_file, write_report

__all__ = ["EvaluationError", "ModelSpec", "build_report", "evaluate_file", "format_table",
           "model_spec", "sha256_file", "write_report"]


def __getattr__(name):
    if name == "evaluate_file":  # the runner imports Keras: on first use only
        from posenet.evaluation.runner import evaluate_file

        return evaluate_file
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
