"""``python -m cli.tools NAME ...``: ``posenet tools NAME ...`` without the console script
(through the ``posenet`` group, so ``--backend``, quiet output and Ctrl-C apply alike)."""

import sys

from cli.main import main

main(["tools", *sys.argv[1:]], prog_name="posenet")
