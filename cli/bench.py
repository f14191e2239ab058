"""``posenet bench``: speed of the presets against the machine's matrix-multiply rate."""

import click

from cli.paths import check_out_file


@click.command()
@click.option("--preset", "presets", multiple=True, metavar="NAME",
              help="Preset to measure (repeatable; default: all).")
@click.option("--blocks", type=click.Choice(["all", "last"]), default="all", show_default=True,
              help="Measure the model cut at every block, or only the whole model.")
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help="Frames of the large batch (clip models: whole clips near this count); "
              "default 8, or with --infer 16 as `posenet infer`.")
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True,
              help="Timed calls per measurement (the median is kept).")
@click.option("--input-size", type=int, default=None,
              help="Override the presets' input size (a multiple of 32), for quick runs.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Also write the results to this JSON file.")
@click.option("--loader", "loader_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="A prepared file: compare one loader worker with training "
              "on it (for --preset, default cpu_3d) instead of the model table.")
@click.option("--infer", "infer", is_flag=True,
              help="Instead: end-to-end `posenet infer` frames/s on a rendered 1280x720 clip "
              "against the model alone (for --preset, default cpu_3d, or --weights).")
@click.option("--frames", "num_frames", type=click.IntRange(1), default=256, show_default=True,
              help="With --infer: frames of the rendered clip.")
@click.option("--multi-person", is_flag=True,
              help="With --infer: 4 people walking, detected and tracked as `posenet infer "
                   "--multi-person` does (the model-only rate is per 4 crops).")
@click.option("--jitter", "jitter", is_flag=True,
              help="Instead: joint jitter of a rendered still person in `posenet infer`, "
                   "without and with smoothing (--frames, default 256; --weights).")
@click.option("--weights", default=None,
              help="With --infer: measure these weights (a .keras or bundle file, or "
              "'default' for the shipped ones) instead of a preset's.")
@click.option("--runtime", "runtimes", multiple=True,
              type=click.Choice(("keras", "litert", "onnx")),
              help="With --infer: what runs the pose network (repeatable: a row each, and "
                   "each one's model-only and end-to-end ratio to keras); default keras.")
@click.option("--precision", "precisions", multiple=True,
              type=click.Choice(("float32", "float16", "int8")),
              help="With --infer: the litert rows' precisions (repeatable: a litert row "
                   "each); default float32.")
@click.option("--wild", "wild", is_flag=True,
              help="Instead: frames right, gross errors, missed and false people of the "
                   "Predictor (single-person before, with the detector, multi-person) on "
                   "composite outdoor clips of LSPet training people (--frames, default 90; "
                   "--weights; --runtime, default litert).")
@click.option("--wild-clip", "wild_clips", multiple=True,
              type=click.Choice(("offcentre_flare", "enters_late", "leaves_and_returns",
                                 "small_far", "two_people")),
              help="With --wild: only these clip kinds (repeatable; default all five).")
@click.option("--wild-config", "wild_configs", multiple=True,
              type=click.Choice(("pose", "detector", "multi", "true_box")),
              help="With --wild: only these configurations (repeatable; default all): "
                   "single-person with the whole-frame pose finder or the detector, "
                   "multi-person, the pose network on the true box (the ceiling).")
@click.option("--lspet", "lspet_folder", default="../shared/data/lspet", show_default=True,
              type=click.Path(file_okay=False),
              help="With --wild: the LSPet folder (images/ and joints.mat).")
@click.option("--train", "train", is_flag=True,
              help="Instead: training samples/s of --recipe on one device and, with "
              "--distribute, on all visible devices, with the speed-up.")
@click.option("--distribute", is_flag=True,
              help="With --train: also data parallel over every visible device.")
@click.option("--recipe", "recipe_name", default="tiny", show_default=True,
              help="With --train: the recipe whose model and batch are measured.")
@click.option("--cpu-devices", type=click.IntRange(1, 64), default=None,
              help="With --train: split the CPU into N virtual devices first.")
@click.option("--startup", "startup", is_flag=True,
              help="Instead: wall time of `posenet infer` on one photo in a cold process "
                   "(median of --repeats, after one warm-up run that fills the export "
                   "cache), per --runtime (default litert and keras), against a cold "
                   "`posenet --version`; and which of tensorflow/keras each imported.")
@click.pass_context
def bench(ctx, presets, blocks, batch_size, repeats, input_size, json_path, loader_path, infer,
          num_frames, multi_person, jitter, weights, runtimes, precisions, wild, wild_clips,
          wild_configs, lspet_folder, train, distribute, recipe_name, cpu_devices, startup):
    """Parameters, GFLOPs per frame and frames/s of each preset, at every block.

    With --loader, the frames/s of one data-loader worker against the training frames/s of
    each preset, and so the workers needed so that training never waits for data.
    """
    if input_size is not None and (input_size < 32 or input_size % 32):
        raise click.BadParameter("must be a positive multiple of 32", param_hint="--input-size")
    if json_path:  # before minutes of measuring, not after
        check_out_file(json_path, param_hint="--json")
    if startup:  # before the model imports: this process only starts and times others
        given = [p.opts[0] for p in ctx.command.params
                 if p.name not in ("startup", "runtimes", "repeats", "json_path")
                 and ctx.get_parameter_source(p.name) is not click.core.ParameterSource.DEFAULT]
        if given:
            raise click.UsageError(f"--startup takes --runtime, --repeats and --json, not "
                                   f"{', '.join(given)}")
        _bench_startup(runtimes or ("litert", "keras"), repeats, json_path)
        return
    from posenet.bench.model import HEADER, RULE, bench_preset, format_row
    from posenet.io import write_json_atomic
    from posenet.models import PRESETS

    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        raise click.BadParameter(
            f"unknown preset {unknown[0]!r}; known presets: {', '.join(sorted(PRESETS))}",
            param_hint="--preset",
        )
    if (distribute or cpu_devices) and not train:
        raise click.UsageError("--distribute and --cpu-devices go with --train")
    if (wild_clips or wild_configs) and not wild:
        raise click.UsageError("--wild-clip and --wild-config go with --wild")
    if wild:
        if len(runtimes) > 1 or precisions:
            raise click.UsageError("--wild takes one --runtime and no --precision")
        default = ctx.get_parameter_source("num_frames") is click.core.ParameterSource.DEFAULT
        _bench_wild(weights, runtimes[0] if runtimes else "litert", 90 if default else num_frames,
                    wild_clips, wild_configs, lspet_folder, json_path)
        return
    if train:
        _bench_train(recipe_name, batch_size, repeats, distribute, cpu_devices, json_path)
        return
    if jitter:
        _bench_jitter(weights, num_frames, json_path)
        return
    if precisions and "litert" not in runtimes:
        raise click.UsageError("--precision goes with --runtime litert")
    if multi_person and not infer:
        raise click.UsageError("--multi-person goes with --infer")
    if infer:
        _bench_infer(presets or ("cpu_3d",), weights, batch_size or 16, repeats, num_frames,
                     json_path, multi_person, runtimes or ("keras",),
                     precisions or ("float32",))
        return
    batch_size = batch_size or 8
    if loader_path:
        _bench_loader(loader_path, presets or ("cpu_3d",), batch_size, repeats, input_size,
                      json_path)
        return
    click.echo("matmul: float32 NumPy BLAS 2048^3, the higher of two readings around each row\n")
    click.echo(HEADER)
    click.echo(RULE)
    rows = []
    for name in presets or sorted(PRESETS):
        for row in bench_preset(name, blocks, batch_size, repeats, input_size):
            rows.append(row)
            click.echo(format_row(row))
    if json_path:
        payload = {"rows": [vars(r) for r in rows]}
        write_json_atomic(json_path, payload)
        click.echo(f"\nwrote {json_path}")


def _bench_startup(runtimes, repeats, json_path):
    from posenet.bench.startup import StartupError, format_startup, measure_startup
    from posenet.io import write_json_atomic

    try:
        result = measure_startup(runtimes, repeats)
    except (OSError, StartupError) as error:
        raise click.ClickException(str(error)) from None
    for line in format_startup(result):
        click.echo(line)
    if json_path:
        write_json_atomic(json_path, {"startup": result})
        click.echo(f"\nwrote {json_path}")


def _bench_train(recipe_name, batch_size, repeats, distribute, cpu_devices, json_path):
    from posenet.io import write_json_atomic
    from posenet.training import apply_overrides, get_recipe
    from posenet.training.distribution import DistributionError, split_cpu, visible_devices
    from posenet.training.scaling import HEADER, RULE, format_row, measure

    try:
        recipe = get_recipe(recipe_name)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--recipe") from None
    if batch_size is not None:
        recipe = apply_overrides(recipe, {"batch_size": batch_size})
    try:
        if cpu_devices is not None:
            split_cpu(cpu_devices)
        devices = visible_devices()
        counts = [1, len(devices)] if distribute else [1]
        click.echo(f"{recipe.name}: global batch {recipe.batch_size}; devices: "
                   f"{', '.join(devices)}\n")
        rows = measure(recipe, counts, repeats=repeats)
    except DistributionError as error:
        raise click.UsageError(str(error)) from None
    click.echo(HEADER)
    click.echo(RULE)
    for row in rows:
        click.echo(format_row(row))
    if json_path:
        write_json_atomic(json_path, {"recipe": recipe.name, "devices": devices, "rows": [
            {**vars(r), "efficiency": r.efficiency} for r in rows]})
        click.echo(f"\nwrote {json_path}")


def _bench_wild(weights, runtime, num_frames, kinds, config_keys, lspet_folder, json_path):
    import os

    from posenet.bench import wild_run
    from posenet.bench.wild import WILD_CLIPS
    from posenet.engine.errors import ExportError, WeightsError
    from posenet.io import write_json_atomic

    if weights not in (None, "default") and not os.path.isfile(weights):
        raise click.BadParameter(f"{weights}: no such file", param_hint="--weights")
    if not os.path.isdir(os.path.join(lspet_folder, "images")):
        raise click.BadParameter(f"{lspet_folder}: no LSPet images/ folder here",
                                 param_hint="--lspet")
    clips = tuple(c for c in WILD_CLIPS if not kinds or c[0] in kinds)
    names = [wild_run.CONFIG_KEYS[k] for k in config_keys]
    configs = {name: wild_run.CONFIGS[name] for name in names} or None
    click.echo(f"composite outdoor clips of LSPet training people: {len(clips)} x "
               f"{num_frames} frames, 960x540, 30 frames/s\n")
    click.echo(wild_run.HEADER)
    click.echo(wild_run.RULE)
    try:
        result = wild_run.run_wild(
            None if weights in (None, "default") else weights, runtime, configs, clips,
            num_frames, lspet_folder=lspet_folder,
            on_row=lambda row: click.echo(wild_run.format_row(row)))
    except (OSError, ValueError, RuntimeError, WeightsError, ExportError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"\npose network runtime: {result['runtime']}")
    for note in result["notes"]:
        click.echo(note)
    if json_path:
        write_json_atomic(json_path, {"wild": wild_run.to_json(result)})
        click.echo(f"\nwrote {json_path}")


def _bench_jitter(weights, num_frames, json_path):
    from posenet.bench.infer import still_person_jitter
    from posenet.engine.errors import WeightsError
    from posenet.io import write_json_atomic

    try:
        row = still_person_jitter(None if weights in (None, "default") else weights,
                                  num_frames=num_frames)
    except (OSError, ValueError, WeightsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"still person, {row['frames']} frames at {row['fps']:g} frames/s, pixel "
               f"noise {row['noise']:g} grey levels; mean frame-to-frame joint motion:")
    for name in ("raw", "smoothed"):
        three = row[name].get("3d")
        click.echo(f"  {name:9s} 2D {row[name]['2d']:.3f} px"
                   + ("" if three is None else f", 3D {three:.2f} mm"))
    if json_path:
        write_json_atomic(json_path, {"jitter": row})
        click.echo(f"\nwrote {json_path}")


def _bench_loader(path, presets, batch_size, repeats, input_size, json_path):
    from posenet.bench.loader import LOADER_HEADER, LOADER_RULE, bench_loader, format_loader_row
    from posenet.io import write_json_atomic

    click.echo(LOADER_HEADER)
    click.echo(LOADER_RULE)
    rows = []
    for name in presets:
        try:
            row = bench_loader(path, name, batch_size, repeats, input_size=input_size)
        except (KeyError, ValueError) as error:
            raise click.ClickException(f"{path}: {error}") from None
        rows.append(row)
        click.echo(format_loader_row(row))
    if json_path:
        write_json_atomic(json_path, {"loader_rows": [vars(r) for r in rows]})
        click.echo(f"\nwrote {json_path}")


def _bench_infer(presets, weights, batch_size, repeats, num_frames, json_path,
                 multi_person=False, runtimes=("keras",), precisions=("float32",)):
    import os

    from posenet.bench.infer import bench_infer
    from posenet.engine.errors import ExportError, WeightsError
    from posenet.io import write_json_atomic
    from posenet.models import build_model

    if weights not in (None, "default") and not os.path.isfile(weights):
        raise click.BadParameter(f"{weights}: no such file", param_hint="--weights")
    extra = " detector-only frames/s | people found / 4 |" if multi_person else ""
    click.echo("| weights | frames | end-to-end frames/s | model-only frames/s | ratio | "
               "decode-only frames/s | decode-bound ratio | matmul GFLOP/s |" + extra)
    click.echo("|" + "---|" * (10 if multi_person else 8))
    rows = []
    for name in [weights] if weights else presets:
        # "default": the shipped bundle (pose and action networks), as `posenet infer` runs.
        model = (None if name == "default" else name) if weights else build_model(name)
        for runtime, precision in [(r, p) for r in runtimes
                                   for p in (precisions if r == "litert" else ("float32",))]:
            try:
                row = bench_infer(model, num_frames=num_frames, batch_size=batch_size,
                                  repeats=repeats, multi_person=multi_person, runtime=runtime,
                                  precision=precision)
            except (OSError, ValueError, RuntimeError, WeightsError, ExportError) as error:
                raise click.ClickException(str(error)) from None
            row["weights"] = str(name)
            rows.append(row)
            label = name if runtime == "keras" else f"{name} ({runtime}" + (
                ")" if precision == "float32" else f" {precision})")
            click.echo(f"| {label} | {row['frames']} ({row['width']}x{row['height']}) | "
                       f"{row['end_to_end']:.1f} | {row['model_only']:.1f} | "
                       f"{row['ratio']:.2f} | {row['decode_only']:.1f} | "
                       f"{row['decode_bound']:.2f} | {row['matmul_gflops']:.0f} |"
                       + (f" {row['detector_only']:.1f} | {row['people_found']:.2f} |"
                          if multi_person else ""))
            base = next((r for r in rows if r["weights"] == str(name)
                         and r["runtime"] == "keras"), None)
            if runtime != "keras" and base is not None:
                row["vs_keras"] = {k: row[k] / base[k] for k in ("model_only", "end_to_end")}
    for row in rows:
        if "vs_keras" in row:
            click.echo(f"{row['weights']} {row['runtime']} {row['precision']} vs keras: "
                       f"model-only "
                       f"{row['vs_keras']['model_only']:.2f}x, end-to-end "
                       f"{row['vs_keras']['end_to_end']:.2f}x")
    if json_path:
        write_json_atomic(json_path, {"infer_rows": rows})
        click.echo(f"\nwrote {json_path}")
