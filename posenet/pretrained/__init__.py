"""Import of pretrained networks published in other formats (MoveNet's TF.js graphs).

Used once, to initialise posenet's own networks: nothing here is on the run-time path of
``posenet infer``, which loads posenet's ``.keras`` files.
"""
