"""The ``posenet`` command line: thin click commands over the ``posenet`` library."""
