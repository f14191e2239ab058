"""Readers of the datasets' published formats, each returning NumPy arrays in the
dataset's own joint layout (see ``posenet.skeleton``); mapping into the model's layout
happens when a dataset is prepared."""
