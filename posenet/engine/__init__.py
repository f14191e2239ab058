"""Running a network (floor above ``data`` and ``models``; below inference, evaluation, export).

- ``inputs``: crops of people, the network's input, and its joints back in image pixels:
  the one crop -> network -> image path that inference, evaluation and export share;
- ``runtimes``: the Keras, LiteRT and ONNX runners behind one ``predict(batch)``;
- ``weights``: ``--weights`` resolved to networks (a ``.keras`` file, a bundle, the
  shipped default) with their checksums;
- ``errors``: ``ExportError``, ``WeightsError`` and the check for optional modules.

It imports ``data``, ``models``, ``layers`` and the ground-floor modules, never a package
above it.
"""
