"""Synthetic renderer: people drawn from body parts over backgrounds, through real cameras."""
