"""Quiet by default: no library chatter on stderr unless ``posenet --verbose``; errors show."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cli import quiet

ROOT = Path(__file__).resolve().parents[1]
#: Lines of TensorFlow, absl, XLA, oneDNN, CUDA, OpenCV or FFmpeg that must not show.
CHATTER = re.compile(r"absl|tensorflow|cuda|onednn|cpu_feature|xla|ffmpeg|opencv|warning"
                     r"|^[IWE]\d{4} ", re.IGNORECASE | re.MULTILINE)
#: Variables that would quiet (or unquiet) the libraries by themselves.
SETTINGS = ("TF_CPP_MIN_LOG_LEVEL", "POSENET_VERBOSE", "OPENCV_LOG_LEVEL",
            "OPENCV_FFMPEG_LOGLEVEL", "PYTHONWARNINGS")


def posenet(*args, cwd, **env):
    """Run the ``posenet`` command as a user would, with none of the quieting variables
    set beyond ``env``; the CompletedProcess."""
    environ = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    environ |= {"KERAS_BACKEND": "tensorflow", **env}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), environ.get("PYTHONPATH"))))
    command = [sys.executable, "-c", "from cli.main import main; main(prog_name='posenet')",
               *args]
    return subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=300)


def test_render_says_nothing_on_stderr(tmp_path):
    done = posenet("render", str(tmp_path / "clip.mp4"), "--frames", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "wrote" in done.stdout and (tmp_path / "clip.mp4").is_file()


def test_an_error_still_shows_with_a_failing_status(tmp_path):
    done = posenet("infer", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "out"),
                   cwd=tmp_path)
    assert done.returncode != 0
    assert "missing.mp4" in done.stderr and "no such file" in done.stderr


BENCH = ("bench", "--preset", "cpu_3d", "--blocks", "last", "--repeats", "1",
         "--input-size", "64", "--batch-size", "1")


@pytest.mark.slow
@pytest.mark.parametrize("verbose", [False, True])
def test_tensorflow_chatter_shows_only_when_asked(tmp_path, verbose):
    # bench imports TensorFlow, builds a model and runs it: the chatter's usual sources.
    done = posenet(*(("--verbose",) if verbose else ()), *BENCH, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "cpu_3d" in done.stdout
    if verbose:  # absl's pre-initialisation notice or TensorFlow's info lines, at least
        assert CHATTER.search(done.stderr), done.stderr
    else:
        assert not CHATTER.search(done.stderr), done.stderr


@pytest.mark.parametrize("args, env, expected", [
    ([], {}, False), (["--verbose"], {}, True), ([], {"POSENET_VERBOSE": "1"}, True),
    ([], {"POSENET_VERBOSE": "0"}, False)])
def test_the_flag_and_the_variable_choose_verbose(monkeypatch, args, env, expected):
    from click.testing import CliRunner

    import cli.main

    seen = []
    monkeypatch.setattr(cli.main, "configure_output", seen.append)
    monkeypatch.delenv("POSENET_VERBOSE", raising=False)
    result = CliRunner().invoke(cli.main.main, [*args, "render", "--help"], env=env)
    assert result.exit_code == 0, result.output
    assert seen == [expected]


def test_the_subcommands_own_verbose_option_still_works():
    from click.testing import CliRunner

    from cli.main import main

    result = CliRunner().invoke(main, ["train", "--verbose", "5", "x"])
    assert result.exit_code == 2 and "--verbose" in result.output
    result = CliRunner().invoke(main, ["--verbose", "train", "--help"])
    assert result.exit_code == 0 and "--verbose" in result.output


def test_filtered_stderr_drops_chatter_and_keeps_errors(capfd):
    with quiet.filtered_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\n")
        os.write(2, b"I0000 00:00:1796166940.912257    5011 cudart_stub.cc:31] Could not "
                    b"find cuda drivers on your machine, GPU will not be used.\n")
        os.write(2, b"E0000 00:00:1.5  12 loader.cc:9] real trouble\n")
        print("a Python error line", file=sys.stderr)
    err = capfd.readouterr().err
    assert "absl" not in err and "cudart" not in err
    assert "real trouble" in err and "a Python error line" in err


def test_the_first_import_of_a_noisy_module_runs_filtered(tmp_path, monkeypatch, capfd):
    (tmp_path / "noisy_module.py").write_text(textwrap.dedent("""\
        import os
        os.write(2, b"W0000 00:00:1.0  7 plugin.cc:3] chatter while loading\\n")
        os.write(2, b"a real error while loading\\n")
        VALUE = 42
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    sys.meta_path.insert(0, quiet.QuietImporter(["noisy_module"]))
    monkeypatch.delitem(sys.modules, "noisy_module", raising=False)
    import noisy_module

    assert noisy_module.VALUE == 42
    err = capfd.readouterr().err
    assert "chatter while loading" not in err and "a real error while loading" in err
    # one-shot: the finder leaves once its modules are imported
    assert not any(isinstance(f, quiet.QuietImporter) for f in sys.meta_path)
    monkeypatch.delitem(sys.modules, "noisy_module")


def test_verbose_leaves_the_libraries_settings_alone(monkeypatch):
    for name in (*quiet.QUIET_ENV, "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(quiet.VERBOSE_ENV, "0")  # restored (unset) after the test
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    quiet.configure(True)
    assert not any(name in os.environ for name in quiet.QUIET_ENV)
    assert os.environ[quiet.VERBOSE_ENV] == "1"  # the library's own filters read it
    assert not any(isinstance(f, quiet.QuietImporter) for f in sys.meta_path)
