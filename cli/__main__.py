"""``python -m cli``: the ``posenet`` command without its console script."""

from cli.main import main

main(prog_name="posenet")
