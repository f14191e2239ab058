"""stdout carries only posenet's own lines (issue 31): what native libraries print (OpenCV
and FFmpeg's log, libjpeg's "Premature end of JPEG file") stays off stdout, reaches stderr
only with --verbose, and is otherwise summarised in one warning line per input."""

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from posenet.native_output import NativeOutput, summary
from tests.inference_fixtures import rendered_video, save_networks
from tests.media_fixtures import noise_frames, truncate

ROOT = Path(__file__).resolve().parents[1]


def test_native_writes_are_taken_and_python_streams_keep_writing(capfd):
    with NativeOutput(verbose=False) as native:
        os.write(1, b"native stdout line\n")
        os.write(2, b"native stderr line\n")
        libc = ctypes.CDLL(None)
        libc.printf(b"buffered printf line\n")  # waits in C's stdio buffer: flushed by take
        print("posenet's own line")
        print("posenet's own warning", file=sys.stderr)
        taken = native.take()
        os.write(2, b"later line\n")
        assert native.take() == ["later line"]
    assert taken == ["native stdout line", "native stderr line", "buffered printf line"]
    out, err = capfd.readouterr()
    assert out == "posenet's own line\n" and err == "posenet's own warning\n"


def test_verbose_moves_native_stdout_to_stderr(capfd):
    with NativeOutput(verbose=True) as native:
        os.write(1, b"native stdout line\n")
        os.write(2, b"native stderr line\n")
        print("posenet's own line")
        assert native.take() == []
    out, err = capfd.readouterr()
    assert out == "posenet's own line\n"
    assert "native stdout line" in err and "native stderr line" in err


def test_the_summary_is_one_line():
    text = summary(["Premature end of JPEG file"] * 3)
    assert "\n" not in text and "3 messages" in text and "Premature end of JPEG file" in text
    assert "(and 2 more)" in text and "--verbose" in text


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """A JPEG cut in half (libjpeg: "Premature end of JPEG file") and a Motion-JPEG video
    cut at 40% (FFmpeg: "overread"), with a tiny pose network."""
    folder = tmp_path_factory.mktemp("native_output")
    pose, _ = save_networks(folder)
    ok, jpeg = cv2.imencode(".jpg", noise_frames(1, (200, 150))[0])
    (folder / "cut.jpg").write_bytes(jpeg.tobytes()[: len(jpeg) // 2])
    writer = cv2.VideoWriter(str(folder / "cut.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0,
                             (160, 120))
    for frame in noise_frames(30):
        writer.write(frame)
    writer.release()
    truncate(folder / "cut.avi", 0.4)
    rendered_video(folder / "fine.avi", 4, (160, 120))
    return folder, pose


def posenet(*args, **env):
    """``posenet ARGS`` in a new process with quieting variables unset but ``env``;
    OPENCV_FFMPEG_LOGLEVEL set makes OpenCV print FFmpeg's log on stdout (printf)."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("TF_CPP_MIN_LOG_LEVEL", "POSENET_VERBOSE", "OPENCV_LOG_LEVEL",
                            "OPENCV_FFMPEG_LOGLEVEL", "PYTHONWARNINGS")}
    environ |= {"KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"), **env}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), environ.get("PYTHONPATH"))))
    command = [sys.executable, "-c", "from cli.main import main; main(prog_name='posenet')",
               *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environ)


@pytest.mark.parametrize("verbose", [False, True])
def test_stdout_carries_only_posenet_lines(damaged, tmp_path, verbose):
    folder, pose = damaged
    inputs = [folder / "cut.jpg", folder / "cut.avi", folder / "fine.avi"]
    done = posenet(*(["--verbose"] if verbose else []), "infer", *inputs, "--weights", pose,
                   "--out", tmp_path, "--runtime", "keras", OPENCV_FFMPEG_LOGLEVEL="16")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [  # cut.jpg and cut.avi keep their extensions
        f"{path}: wrote {tmp_path / name}" for path, name in
        zip(inputs, ("cut_jpg.json", "cut_avi.json", "fine.json"), strict=True)]
    summaries = [line for line in done.stderr.splitlines() if "decoding libraries" in line]
    if verbose:  # the libraries' own lines, and no summary of them
        assert "Premature end of JPEG file" in done.stderr and summaries == []
    else:
        assert "Premature end of JPEG file" not in done.stderr.replace(
            '"Premature end of JPEG file"', "")
        assert [line.split(":")[0] for line in summaries] == ["warning"] * 2
        assert str(folder / "cut.jpg") in summaries[0] and str(folder / "cut.avi") in \
            summaries[1]
    assert "truncated or damaged" in done.stderr  # the posenet warning, either way
