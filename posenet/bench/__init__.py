"""Benchmarks behind ``posenet bench`` (top floor of the library: it may import any package).

- ``model``: frames per second and FLOPs of the presets against the machine's own
  matrix-multiply rate;
- ``loader``: batches per second of the data loaders against the training step;
- ``runtimes``: model-only frames per second of each runtime (Keras, LiteRT, ONNX);
- ``infer``: ``posenet infer`` end to end on rendered clips against model-only;
- ``startup``: ``posenet infer`` on one photo in a cold process, per runtime, against a
  cold ``posenet --version``;
- ``wild``, ``wild_run``: ``posenet bench --wild``, the Predictor on composite outdoor clips
  of real people, scored against their truth.
"""
