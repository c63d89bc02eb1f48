#!/usr/bin/env python3
"""What a user would otherwise pick on this CPU: PyTorch, ONNX Runtime and OpenVINO (FP32 and int8) on
the same ViT or Swin geometry, threads and batch as intvit, in one table.

    bash bench/peers/setup.sh                                   # once
    bench/peers/.venv/bin/python bench/peers/run_peers.py --arch vit_tiny --batch 1,8 --threads 1,2 \\
        --seconds 5 --eval-limit 500 [--intvit-json intvit.json] [--json peers.json]

images/s is the median of --repeats timed runs of --seconds each (after a warm-up); spread is
(max - min) / median of those runs; p50/p90 are the latencies of one call (one batch). The input of
every engine is the normalised float NCHW tensor; preprocessing is not timed. For vit_tiny with the
real weights, top-1 is on the first --eval-limit images of shared/data/imagenet-sample and "agree" is
top-1 agreement with PyTorch FP32 on the same images. int8 engines calibrate on the first 100 images
(the set intvit calibrates on; they are also among the evaluated images). swin_tiny has seeded random
weights (swin_random.py); a fresh ONNX export of any arch is checked against PyTorch before it is timed.

--intvit-json takes what `intvit-bench model --json` writes,
{"results": [{"batch": 1, "threads": 1, "images_per_s": ...}, ...]} (optional per row: "arch", as --arch
names it or timm's full name such as "swin_tiny_patch4_window7_224"; "top1", "agreement"); intvit's rows
join the table and "intvit x" = intvit images/s / the row's images/s.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import archs  # noqa: E402
import engines  # noqa: E402
import images  # noqa: E402
import pipeline  # noqa: E402
import timing  # noqa: E402

RESULT_MARK = "@@PEER-RESULT@@ "
EVAL_BATCH = 8


# ---------------------------------------------------------------------------------------------------
# Worker: one engine, one thread count, every batch size; prints one JSON line after RESULT_MARK.
def run_worker(spec: dict) -> dict:
    t0 = time.perf_counter()
    engine = engines.make_engine(spec)
    out = {"engine": spec["engine"], "threads": spec["threads"], "setup_s": round(time.perf_counter() - t0, 1),
           "measurements": []}
    rng = np.random.default_rng(spec.get("seed", 0))
    for batch in spec["batches"]:
        run = engine.make_runner(batch)
        x = rng.standard_normal((batch, 3, 224, 224), dtype=np.float32)
        m = timing.measure(lambda: run(x), batch, spec["threads"], spec["seconds"], spec["repeats"],
                           spec["warmup_seconds"], spec["refuse_when_busy"])
        out["measurements"].append(m.to_dict())
        print(f"  {spec['engine']:13s} batch {batch} threads {spec['threads']}: "
              f"{m.images_per_s:8.1f} images/s  spread {m.spread_pct:4.1f} %  {m.warning}", file=sys.stderr)
    if spec.get("eval_pixels"):
        pixels = np.load(spec["eval_pixels"], mmap_mode="r")
        run = engine.make_runner(EVAL_BATCH)
        predictions = []
        for i in range(0, len(pixels), EVAL_BATCH):
            chunk = images.normalise_pixels(np.asarray(pixels[i:i + EVAL_BATCH]))
            n = len(chunk)
            if n < EVAL_BATCH:  # pad the last batch with copies of its first image
                chunk = np.concatenate([chunk, np.repeat(chunk[:1], EVAL_BATCH - n, axis=0)])
            predictions.extend(run(chunk)[:n].argmax(axis=1).tolist())
        out["predictions"] = predictions
    if spec.get("pipeline"):
        pl = spec["pipeline"]
        load1 = timing.load_average_1min()
        out["pipeline"] = pipeline.measure_peer(engine.make_runner, Path(pl["folder"]), pl["batch"], pl["repeats"],
                                                spec["rounding"])
        out["pipeline"]["load1_before"] = max(load1, timing.load_average_1min())
        print(f"  {spec['engine']:13s} JPEG folder -> top-5, batch {pl['batch']} threads {spec['threads']}: "
              f"{out['pipeline']['images_per_s']:8.1f} images/s", file=sys.stderr)
    out["describe"] = engine.describe()
    return out


def worker_env(threads: int, keep_openblas_env: bool) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    if not keep_openblas_env:
        # This workplace pins OpenBLAS to Haswell kernels for the sake of old builds; a user's machine
        # autodetects (0.3.21 picks its AVX-512 kernels on this CPU). Unset both together.
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    return env


def spawn_worker(spec: dict, keep_openblas_env: bool) -> dict | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    proc = subprocess.run(cmd, env=worker_env(spec["threads"], keep_openblas_env), stdout=subprocess.PIPE,
                          text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    print(f"ERROR: {spec['engine']} threads {spec['threads']} failed (exit {proc.returncode})", file=sys.stderr)
    return None


# ---------------------------------------------------------------------------------------------------
# Orchestrator.
def parse_int_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def load_intvit(path: Path | None, arch: str) -> list[dict]:
    if path is None:
        return []
    rows = json.loads(path.read_text()).get("results", [])
    return [r for r in rows if r.get("arch", r.get("model", arch)) in (arch, archs.TIMM_NAMES[arch])]


def prepare(args, work: Path) -> dict:
    """ONNX export, calibration and evaluation tensors; returns the paths the workers read."""
    import vit_torch

    real = args.weights == "real"
    weights = vit_torch.real_model_dir() / "model.safetensors" if real else None
    onnx_path = work / "model-fp32.onnx"
    if args.rebuild or not onnx_path.exists():
        print(f"exporting {args.arch} to {onnx_path} (opset {args.opset})", file=sys.stderr)
        model = archs.build_model(args.arch, weights, args.seed)
        fresh = onnx_path.with_suffix(".unchecked.onnx")
        engines.export_onnx(model, fresh, args.opset)
        err, bound = engines.check_onnx_export(model, fresh, args.seed)  # raises when the export is wrong
        fresh.replace(onnx_path)
        print(f"ONNX Runtime FP32 vs PyTorch: max |logit difference| {err:.3g} <= {bound:.3g}", file=sys.stderr)
    evaluate = real and args.eval_limit > 0
    count = max(images.CALIBRATION_IMAGES, args.eval_limit if evaluate else 0)
    print(f"preprocessing {count} images ({args.rounding} rounding)", file=sys.stderr)
    pixels, labels = images.load_image_set(vit_torch.shared_dir(), HERE / ".cache", count, args.rounding)
    calibration = work / "calibration.npy"
    np.save(calibration, images.normalise_pixels(pixels[:images.CALIBRATION_IMAGES]))
    paths = {"onnx": str(onnx_path), "calibration": str(calibration),
             "weights": str(weights) if weights else None}
    if evaluate:
        n = min(args.eval_limit, len(pixels))
        np.save(work / "eval-pixels.npy", pixels[:n])
        paths["eval_pixels"] = str(work / "eval-pixels.npy")
        paths["eval_labels"] = labels[:n].tolist()
    return paths


def fmt(value, spec: str, missing: str = "–") -> str:
    return missing if value is None else format(value, spec)


def make_table(rows: list[dict]) -> str:
    head = ["engine", "precision", "batch", "threads", "images/s", "per CPU-s", "spread", "p50 ms", "p90 ms", "top-1",
            "agree FP32", "intvit x", "load1", "others"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.get("refused"):
            r = {**r, "images_per_s": None, "spread_pct": None, "p50_ms": None, "p90_ms": None,
                 "others_cores": None}
        cells = [r["engine"], r["precision"], str(r["batch"]), str(r["threads"]),
                 "refused" if r.get("refused") else fmt(r.get("images_per_s"), ".1f"),
                 fmt(r.get("images_per_cpu_s") or None, ".1f"),
                 fmt(r.get("spread_pct"), ".1f") + (" %" if r.get("spread_pct") is not None else ""),
                 fmt(r.get("p50_ms"), ".2f"), fmt(r.get("p90_ms"), ".2f"),
                 fmt(r.get("top1") and 100 * r["top1"], ".1f"), fmt(r.get("agreement") and 100 * r["agreement"], ".1f"),
                 fmt(r.get("intvit_ratio"), ".2f"),
                 fmt(r.get("load1_before"), ".2f") + (" !" if r.get("warning") else ""),
                 fmt(r.get("others_cores"), ".2f")]
        lines.append("| " + " | ".join(cells) + " |")
    for r in rows:
        if r.get("warning"):
            lines.append(f"WARNING: {r['engine']} {r['precision']} batch {r['batch']} threads {r['threads']}: "
                         f"{r['warning']}" + ("" if r.get("refused") else " -- numbers not trustworthy"))
    return "\n".join(lines)


def speed(wall, cpu) -> str:
    """'wall (per CPU-second)' images/s."""
    return fmt(wall, ".1f") + (f" ({cpu:.1f})" if cpu else "")


def make_summary(rows: list[dict], accuracy: dict, pipelines: dict, intvit_pipeline: dict | None,
                 batches: list[int], thread_counts: list[int], pipeline_threads: int, pipeline_batch: int) -> str:
    """One line per engine configuration: its top-1 beside its images/s at every batch and thread count,
    and the JPEG folder -> top-5 pipeline. Each speed is 'images/s (images per CPU-second)'; '!' marks a
    measurement taken on a busy machine."""
    cols = [(b, t) for t in thread_counts for b in batches]
    head = (["engine", "precision", "top-1 %", "agree FP32 %"] + [f"b{b}t{t}" for b, t in cols] +
            [f"JPEG→top-5 b{pipeline_batch}t{pipeline_threads}", "its top-1 %", "intvit x (JPEG)"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    configs = list(dict.fromkeys((r["engine"], r["precision"]) for r in rows))
    by_key = {(r["engine"], r["precision"], r["batch"], r["threads"]): r for r in rows}
    ours = intvit_pipeline["images_per_s"] if intvit_pipeline else None
    ours_cpu = intvit_pipeline.get("images_per_cpu_s") if intvit_pipeline else None
    for engine, precision in configs:
        top1, agree = accuracy.get((engine, precision), (None, None))
        cells = [engine, precision, fmt(top1 and 100 * top1, ".1f"), fmt(agree and 100 * agree, ".1f")]
        for b, t in cols:
            r = by_key.get((engine, precision, b, t))
            cells.append("–" if r is None or r.get("refused") else
                         speed(r.get("images_per_s"), r.get("images_per_cpu_s")) + (" !" if r.get("warning") else ""))
        pl = intvit_pipeline if engine == "intvit" else pipelines.get((engine, precision))
        ratio = None
        if ours and pl:
            ratio = f"{ours / pl['images_per_s']:.2f}"
            if ours_cpu and pl.get("images_per_cpu_s"):
                ratio += f" ({ours_cpu / pl['images_per_cpu_s']:.2f})"
        cells += [speed(pl and pl["images_per_s"], pl and pl.get("images_per_cpu_s")) +
                  (" !" if pl and pl.get("warning") else ""),
                  fmt(pl and pl.get("top1") and 100 * pl["top1"], ".1f"), ratio or "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=archs.ARCHS, default="vit_tiny")
    ap.add_argument("--weights", choices=("real", "random"),
                    help="real: shared/models/vit_tiny_patch16_224 (vit_tiny only, the default there)")
    ap.add_argument("--batch", default="1,8", help="comma-separated batch sizes (default 1,8)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of one timed run (default 5)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per measurement")
    ap.add_argument("--engines", default=",".join(engines.DEFAULT_ENGINES),
                    help=f"comma-separated subset of {','.join(engines.ENGINES)}")
    ap.add_argument("--eval-limit", type=int, default=500,
                    help="evaluate top-1 on the first N shared images (0: no evaluation; real weights only)")
    ap.add_argument("--rounding", choices=images.ROUNDINGS, default="torchvision",
                    help="resize/crop rounding (see images.py; default timm's torchvision transform)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--seed", type=int, default=0, help="seed of random weights and inputs")
    ap.add_argument("--intvit-json", type=Path, help="intvit-bench model --json output to compare with")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--refuse-when-busy", action="store_true",
                    help="skip a measurement when the 1-min load exceeds threads + 0.5 (default: warn)")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for PyTorch (default: unset, autodetect)")
    ap.add_argument("--work-dir", type=Path, help="models and tensors (default bench/peers/.cache/<arch>-<weights>)")
    ap.add_argument("--rebuild", action="store_true", help="re-export and re-quantize")
    ap.add_argument("--pipeline-folder", type=Path,
                    help="time JPEG files -> top-5 on this folder for every engine (default for vit_tiny with "
                         "real weights: shared/data/imagenet-sample; 'none' to skip)")
    ap.add_argument("--pipeline-threads", type=int, help="threads of the pipeline runs (default: the most in --threads)")
    ap.add_argument("--pipeline-batch", type=int, default=8, help="batch of the pipeline runs (default 8)")
    ap.add_argument("--pipeline-repeats", type=int, default=3, help="passes over the folder; median (default 3)")
    ap.add_argument("--intvit-cli", type=Path, help="the intvit binary, to time `intvit classify` on the folder")
    ap.add_argument("--intvit-model", type=Path, help="the model `intvit classify` runs (the one --intvit-json timed)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:  # no torch in this process unless the engine is PyTorch (see engines.block_torch_import)
        result = run_worker(json.loads(args.worker))
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0

    import vit_torch  # torch: in the orchestrator only (ONNX export)

    real_available = (vit_torch.real_model_dir() / "model.safetensors").exists()
    if args.weights is None:
        args.weights = "real" if args.arch == "vit_tiny" and real_available else "random"
    if args.weights == "real" and (args.arch != "vit_tiny" or not real_available):
        ap.error("real weights exist only for vit_tiny (shared/models/vit_tiny_patch16_224)")
    batches, thread_counts = parse_int_list(args.batch), parse_int_list(args.threads)
    engine_list = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engine_list:
        if e not in engines.ENGINES:
            ap.error(f"unknown engine {e}")
    if max(thread_counts) > os.cpu_count():
        ap.error(f"{max(thread_counts)} threads > {os.cpu_count()} CPUs")

    if args.pipeline_folder is None and args.weights == "real":
        args.pipeline_folder = images.sample_dir(vit_torch.shared_dir())
    if args.pipeline_folder is not None and str(args.pipeline_folder) == "none":
        args.pipeline_folder = None
    if args.pipeline_threads is None:
        args.pipeline_threads = max(thread_counts)
    if args.pipeline_folder and not pipeline.list_images(args.pipeline_folder):
        ap.error(f"no image files in {args.pipeline_folder}")
    if bool(args.intvit_cli) != bool(args.intvit_model):
        ap.error("--intvit-cli and --intvit-model go together")

    work = args.work_dir or HERE / ".cache" / f"{args.arch}-{args.weights}"
    if args.rebuild:
        for pattern in ("ort-*", "ov-*", "*.ort-pre.onnx"):  # quantized models
            for stale in work.glob(pattern):
                stale.unlink()
    work.mkdir(parents=True, exist_ok=True)
    paths = prepare(args, work)
    eval_labels = np.array(paths.pop("eval_labels", []), dtype=np.int64)

    rows, describes, reference_predictions = [], {}, None
    accuracy, pipelines = {}, {}  # (engine, precision) -> (top1, agreement) / pipeline result
    pipeline_spec = None
    if args.pipeline_folder:
        pipeline_spec = {"folder": str(args.pipeline_folder), "batch": args.pipeline_batch,
                         "repeats": args.pipeline_repeats}
    for engine in engine_list:
        name, precision = engines.engine_label(engine)
        for i, threads in enumerate(thread_counts):
            spec = {"engine": engine, "precision": precision, "arch": args.arch, "threads": threads,
                    "batches": batches, "seconds": args.seconds, "repeats": args.repeats,
                    "warmup_seconds": args.warmup, "refuse_when_busy": args.refuse_when_busy,
                    "seed": args.seed, "work_dir": str(work), "rounding": args.rounding, **paths}
            if pipeline_spec and threads == args.pipeline_threads:
                spec["pipeline"] = pipeline_spec
            if i > 0:
                spec.pop("eval_pixels", None)  # evaluate once per engine
            print(f"{engine}, {threads} thread(s)", file=sys.stderr)
            result = spawn_worker(spec, args.keep_openblas_env)
            if result is None:
                continue
            describes[engine] = result["describe"]
            top1 = agreement = None
            if "predictions" in result:
                predictions = np.array(result["predictions"])
                top1 = float((predictions == eval_labels).mean())
                if engine == "pytorch-fp32":
                    reference_predictions = predictions
                if reference_predictions is not None:
                    agreement = float((predictions == reference_predictions).mean())
            for m in result["measurements"]:
                rows.append({"engine": name, "precision": precision, **m, "top1": top1, "agreement": agreement,
                             "setup_s": result["setup_s"]})
            if top1 is not None:
                accuracy[(name, precision)] = (top1, agreement)
            if "pipeline" in result:
                pipelines[(name, precision)] = result["pipeline"]

    intvit_rows = load_intvit(args.intvit_json, args.arch)
    intvit_ips = {(r["batch"], r["threads"]): r["images_per_s"] for r in intvit_rows}
    for r in rows:
        ours = intvit_ips.get((r["batch"], r["threads"]))
        r["intvit_ratio"] = ours / r["images_per_s"] if ours and r.get("images_per_s") else None
    for r in intvit_rows:
        rows.append({"engine": "intvit", "precision": "int8", "batch": r["batch"], "threads": r["threads"],
                     "images_per_s": r["images_per_s"], "images_per_cpu_s": r.get("images_per_cpu_s"),
                     "spread_pct": r.get("spread_pct"), "warning": r.get("warning"), "load1_before": r.get("load1_before"),
                     "others_cores": r.get("others_cores"),
                     "p50_ms": r.get("p50_ms"), "p90_ms": r.get("p90_ms"), "top1": r.get("top1"),
                     "agreement": r.get("agreement"), "intvit_ratio": 1.0})

    intvit_pipeline = None
    if args.pipeline_folder and args.intvit_cli:
        print("intvit classify: JPEG folder -> top-5", file=sys.stderr)
        load1 = timing.load_average_1min()
        intvit_pipeline = pipeline.measure_intvit(args.intvit_cli, args.intvit_model, args.pipeline_folder,
                                                  args.pipeline_threads, args.pipeline_batch, args.pipeline_repeats)
        intvit_pipeline["load1_before"] = max(load1, timing.load_average_1min())
        print(f"  intvit JPEG folder -> top-5: {intvit_pipeline['images_per_s']:.1f} images/s", file=sys.stderr)
    labels_by_name = dict(images.read_labels(vit_torch.shared_dir())) if args.weights == "real" else {}
    for pl in list(pipelines.values()) + ([intvit_pipeline] if intvit_pipeline else []):
        # "top5" holds the predictions; the accuracies go beside them
        pl["top1"], pl["top5_accuracy"] = pipeline.accuracy(pl, labels_by_name) if labels_by_name else (None, None)
        pl["warning"] = timing.busy_warning(args.pipeline_threads, pl.get("load1_before", 0.0), 0.0)
    if intvit_rows or intvit_pipeline:
        intvit_top1 = next((r["top1"] for r in intvit_rows if r.get("top1") is not None), None)
        if intvit_top1 is None and intvit_pipeline:  # intvit-bench has no labels: classify's top-1 on the folder
            intvit_top1 = intvit_pipeline["top1"]
        accuracy[("intvit", "int8")] = (intvit_top1, next((r["agreement"] for r in intvit_rows
                                                           if r.get("agreement") is not None), None))
        if intvit_pipeline and not intvit_rows:
            rows.append({"engine": "intvit", "precision": "int8", "batch": 0, "threads": 0})

    title = (f"{args.arch} ({args.weights} weights), {args.seconds:g} s x {args.repeats} per row, "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    if paths.get("eval_pixels"):
        title += f"; top-1 on the first {len(eval_labels)} shared images ({args.rounding} rounding)"
    print(f"\n### Peers: {title}\n")
    print(make_summary(rows, accuracy, pipelines, intvit_pipeline, batches, thread_counts, args.pipeline_threads,
                       args.pipeline_batch))
    if args.pipeline_folder:
        files = pipeline.list_images(args.pipeline_folder)
        print(f"\nJPEG→top-5: {len(files)} files of {args.pipeline_folder}, median of {args.pipeline_repeats} passes; "
              f"peers: PIL decode + resize ({args.rounding} rounding) on a second thread, engine at batch "
              f"{args.pipeline_batch}; intvit: `intvit classify --threads {args.pipeline_threads} --batch "
              f"{args.pipeline_batch}` (its own decoder and resize). top-1 there is on labels.csv.")
    print("\n#### Every measurement\n")
    print(make_table([r for r in rows if r["batch"]]))
    print()
    for engine, info in describes.items():
        print(f"- {engine}: " + "; ".join(f"{k}={v}" for k, v in info.items()))
    if args.json:
        args.json.write_text(json.dumps({"title": title, "arch": args.arch, "weights": args.weights,
                                         "rows": rows, "engines": describes,
                                         "pipelines": {f"{e} {p}": v for (e, p), v in pipelines.items()},
                                         "intvit_pipeline": intvit_pipeline}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
