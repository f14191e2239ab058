"""``posenet bench --startup``: cold-process timings of one photo (fake children, except the
one slow end-to-end test; no timing assertions beyond orderings)."""

import json
import sys

import cv2
import pytest
from click.testing import CliRunner

from cli.bench import bench
from posenet.bench import startup
from posenet.bench.startup import (
    IMPORTS_MARK,
    StartupError,
    format_startup,
    measure_startup,
    parse_imports,
    run_command,
)

COMMAND = ["posenet"]


class FakeRun:
    """Scripted children: the seconds of each timed command in turn, and each runtime's
    imports; records every argv."""

    def __init__(self, seconds, imports):
        self.seconds = {key: list(values) for key, values in seconds.items()}
        self.imports = imports
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        if argv[:2] == [sys.executable, "-c"]:
            runtime = argv[2].split("'--runtime', '")[1].split("'")[0]
            return 9.0, f"photo.jpg: wrote x\n{IMPORTS_MARK} {json.dumps(self.imports[runtime])}\n"
        if argv[1:] == ["--version"]:
            return self.seconds["version"].pop(0), "posenet, version 0.1.0\n"
        runtime = argv[argv.index("--runtime") + 1]
        if "warm-up" in argv[argv.index("--out") + 1]:
            return 99.0, ""  # untimed: must not reach any median
        return self.seconds[runtime].pop(0), ""


def fake():
    return FakeRun({"version": [0.3, 0.2, 0.4], "litert": [3.0, 5.0, 4.0],
                    "keras": [9.0, 8.0, 10.0]},
                   {"litert": [], "keras": ["jax", "keras", "tensorflow"]})


def test_medians_ratios_and_imports_of_scripted_children(tmp_path):
    run = fake()
    result = measure_startup(("litert", "keras"), repeats=3, run=run, folder=tmp_path,
                             command=COMMAND)
    assert result["photo"] == {"width": 640, "height": 480}
    assert result["startup_s"] == pytest.approx(0.3)
    assert result["startup_runs"] == [0.3, 0.2, 0.4]
    litert, keras = result["runtimes"]["litert"], result["runtimes"]["keras"]
    assert litert["runs"] == [3.0, 5.0, 4.0] and litert["photo_s"] == pytest.approx(4.0)
    assert keras["photo_s"] == pytest.approx(9.0)
    assert litert["imports"] == [] and keras["imports"] == ["jax", "keras", "tensorflow"]
    assert result["ratios"] == {"litert/keras": pytest.approx(4.0 / 9.0)}
    assert all(not values for values in run.seconds.values())  # every scripted run used


def test_warm_up_first_then_alternated_rounds_each_in_a_fresh_folder(tmp_path):
    run = fake()
    measure_startup(("litert", "keras"), repeats=3, run=run, folder=tmp_path, command=COMMAND)
    photo = str(tmp_path / "photo.jpg")
    image = cv2.imread(photo)
    assert image.shape == (480, 640, 3) and image.std() > 10  # a drawn person, not a blank
    warm = [c for c in run.calls if any("warm-up" in a for a in c)]
    assert run.calls[:2] == warm and len(warm) == 2  # one untimed run per runtime, first
    assert warm[0] == ["posenet", "infer", photo, "--out", str(tmp_path / "out-litert-warm-up"),
                       "--runtime", "litert"]
    kinds = ["version" if c[1:] == ["--version"] else c[-1] for c in run.calls[4:]]
    assert kinds == ["version", "litert", "keras"] * 3
    outs = [c[c.index("--out") + 1] for c in run.calls if "--out" in c]
    assert len(outs) == len(set(outs)) == 2 + 3 * 2


def test_imports_child_runs_infer_in_process_and_reports_the_heavy_modules(tmp_path):
    code = startup.imports_code(tmp_path / "p.jpg", tmp_path / "o", "litert")
    compile(code, "<imports child>", "exec")
    assert "standalone_mode=False" in code and "'--runtime', 'litert'" in code
    assert parse_imports(f"noise\n{IMPORTS_MARK} [\"keras\"]\nmore\n") == ["keras"]
    with pytest.raises(StartupError, match="printed no"):
        parse_imports("p.jpg: wrote o/p.json\n")


def test_no_ratio_without_keras_and_duplicates_measured_once(tmp_path):
    run = fake()
    result = measure_startup(("litert", "litert"), repeats=1, run=run, folder=tmp_path,
                             command=COMMAND)
    assert list(result["runtimes"]) == ["litert"] and result["ratios"] == {}
    assert result["runtimes"]["litert"]["runs"] == [3.0]
    with pytest.raises(ValueError):
        measure_startup((), run=run, folder=tmp_path, command=COMMAND)


def test_table_shows_every_command_its_median_and_the_ratio(tmp_path):
    result = measure_startup(("litert", "keras"), repeats=3, run=fake(), folder=tmp_path,
                             command=COMMAND)
    lines = format_startup(result)
    assert "640x480" in lines[0] and "median of 3" in lines[0] and "warm-up" in lines[0]
    table = [line for line in lines if line.startswith("|")]
    assert len({line.count("|") for line in table}) == 1 and len(table) == 5
    assert table[2] == "| posenet --version | 0.30 | - | 0.30 0.20 0.40 | - |"
    assert table[3] == "| posenet infer --runtime litert | 4.00 | 3.70 | 3.00 5.00 4.00 | " \
                       "none of tensorflow/keras/jax |"
    assert table[4].startswith("| posenet infer --runtime keras | 9.00 | 8.70 |")
    assert table[4].endswith("| jax, keras, tensorflow |")
    assert lines[-1] == "litert/keras: 0.44x the wall time"


def test_a_failing_child_raises_with_its_stderr_tail():
    argv = [sys.executable, "-c", "import sys; sys.stderr.write('x\\n' * 50 + 'boom'); "
            "sys.exit(3)"]
    with pytest.raises(StartupError, match="exit status 3") as caught:
        run_command(argv)
    message = str(caught.value)
    assert message.endswith("boom") and message.count("x\n") < 20  # the tail only
    seconds, out = run_command([sys.executable, "-c", "print('hi')"])
    assert seconds > 0 and out == "hi\n"


@pytest.mark.parametrize("extra", [["--preset", "cpu_3d"], ["--frames", "10"],
                                   ["--precision", "int8"], ["--infer"], ["--weights", "x"]])
def test_cli_rejects_options_that_do_not_apply(extra):
    result = CliRunner().invoke(bench, ["--startup", *extra])
    assert result.exit_code == 2
    assert "--startup takes --runtime, --repeats and --json, not" in result.output
    assert extra[0] in result.output


def test_cli_prints_the_table_and_writes_json(tmp_path, monkeypatch):
    seen = {}

    def measure(runtimes, repeats):
        seen.update(runtimes=runtimes, repeats=repeats)
        return measure_startup(runtimes, repeats, run=fake(), folder=tmp_path, command=COMMAND)

    monkeypatch.setattr(startup, "measure_startup", measure)
    out = tmp_path / "startup.json"
    result = CliRunner().invoke(bench, ["--startup", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert seen == {"runtimes": ("litert", "keras"), "repeats": 3}
    assert "| posenet infer --runtime keras | 9.00 |" in result.output
    assert json.loads(out.read_text())["startup"]["ratios"]["litert/keras"] == \
        pytest.approx(4.0 / 9.0)


def test_cli_turns_a_child_failure_into_a_clean_error(monkeypatch):
    def measure(runtimes, repeats):
        raise StartupError("posenet infer: exit status 1\nTraceback: no weights")

    monkeypatch.setattr(startup, "measure_startup", measure)
    result = CliRunner().invoke(bench, ["--startup", "--runtime", "onnx"])
    assert result.exit_code == 1 and "no weights" in result.output
    assert not isinstance(result.exception, StartupError)  # handled, not a traceback


@pytest.mark.slow
def test_real_cold_photo_takes_longer_than_a_cold_version(tmp_path):
    out = tmp_path / "startup.json"
    result = CliRunner().invoke(bench, ["--startup", "--runtime", "litert", "--repeats", "1",
                                        "--json", str(out)])
    assert result.exit_code == 0, result.output
    measured = json.loads(out.read_text())["startup"]
    assert measured["runtimes"]["litert"]["photo_s"] > measured["startup_s"] > 0
    assert isinstance(measured["runtimes"]["litert"]["imports"], list)
    assert measured["ratios"] == {}
