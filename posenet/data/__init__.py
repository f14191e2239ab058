"""Datasets: readers of the published formats, augmentation and batches."""
