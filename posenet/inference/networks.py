"""The networks a Predictor runs: from the runtime index when it has them, else loaded with
Keras (which then fills the index).

On ``litert`` and ``onnx`` a Predictor of weight files (the shipped default, a bundle, a
``.keras`` file) is built from the exports the index names (``posenet.export.runtime_index``)
without importing TensorFlow or Keras; the first one of those files loads them with Keras,
exports them and writes the index. Either way the pose network runs on the same export and
the action networks on theirs, so the outputs do not depend on which run came first. Keras
runtimes, in-memory models and multitask models (whose actions read crops) load with Keras.
"""

from __future__ import annotations

from posenet.engine.errors import WeightsError
from posenet.engine.runtimes import load_runtime
from posenet.engine.weight_files import NetworkInfo, weight_files
from posenet.engine.weights import load_weights
from posenet.export.cache import runtime_for
from posenet.export.runtime_index import INDEXED, load_index, write_index
from posenet.inference.pose_stage import PoseStage


def load_networks(weights, block=None, runtime="keras", precision="float32", heads=False,
                  check=None):
    """``(loaded weights, block, pose runtime)`` of a Predictor.

    ``weights``, ``block`` (None: the last), ``runtime`` and ``precision`` are the
    Predictor's; ``heads``: the finder reads a mobile network's person heads too;
    ``check(info)``: called with the pose network's ``NetworkInfo`` before anything is
    cut or exported (raises on an option out of range). The weights' ``info`` is set; their
    ``pose`` is None when they came from the index.
    """
    kind = runtime if isinstance(runtime, str) else None
    variant = "heads" if heads else "pose"
    files = weight_files(weights) if kind in INDEXED else None
    found = load_index(kind, files, block, precision, variant)
    if found is not None:
        if check:
            check(found.weights.info)
        return found.weights, found.block, load_runtime(kind, found.pose_file)
    try:
        loaded = load_weights(weights)
    except ModuleNotFoundError as error:  # Keras or its backend is not installed
        raise WeightsError(f"loading the networks needs {error.name} ({error}); with "
                           f"--runtime {kind or 'litert'} it is needed once per weights, to "
                           "export them into the cache: install it, or run once where "
                           "it is installed with the same $POSENET_CACHE") from None
    pose = loaded.pose
    loaded.info = NetworkInfo.of(pose)
    if check:
        check(loaded.info)
    cut = pose.num_blocks if block is None else int(block)
    network = pose if cut == pose.num_blocks else pose.truncated(cut)
    pose_runtime = runtime_for(runtime, network, cut, pose.num_blocks, sha256=loaded.sha256,
                               precision=precision, outputs=PoseStage.outputs_read(cut, heads))
    if files is not None and loaded.multitask is None and loaded.sha256 == files.pose[1]:
        # later Predictors of these files start from the exports alone
        found = write_index(kind, files, loaded, pose_runtime.path, cut, block, precision,
                            variant)
        if found is not None:
            return found.weights, found.block, pose_runtime
    return loaded, cut, pose_runtime
