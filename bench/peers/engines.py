"""The peer engines, each set up the way its documentation recommends for CPU inference.

Every engine runs in its own process (run_peers.py starts one per engine and thread count), so thread
pools never meet and the thread-count environment variables are set before any library loads.
Each engine class: make_runner(batch) -> callable(float32 NCHW [batch, 3, 224, 224]) -> logits, and
describe() -> what it runs on (versions, BLAS, precision actually used).

  pytorch-fp32  Debian's torch 1.13.1: eval(), no_grad(), set_num_threads; Linear -> BLAS (OpenBLAS
                via Debian's libblas.so.3 alternative), Conv -> oneDNN.
  ort-fp32      ONNX Runtime CPU EP, ORT_ENABLE_ALL, intra_op_num_threads = threads, sequential.
  ort-int8      quantize_static: QDQ, per-channel int8 weights, uint8 activations (U8S8, the x86
                recommendation), MinMax calibration on the calibration images, every MatMul/Gemm/Conv
                quantized (ORT's default op list also quantizes Add, LayerNorm, ... and destroys this
                model: 0 of 16 top-1 agreeing with FP32). The attention matmuls are int8 too.
  ort-int8mx    the same with the 12 fc2 MatMuls left in FP32 (their GELU-output inputs have the
                outliers that cost most of ort-int8's accuracy): what a user tuning ORT would ship.
  ov-fp32       OpenVINO CPU plugin reading the ONNX file, inference precision forced to f32
                (it would pick bf16 on a CPU with AVX512_BF16), latency hint, one stream.
  ov-int8       NNCF post-training quantization (model_type TRANSFORMER) on the calibration images,
                the rest of the graph in f32.
  ov-bf16       OpenVINO with bf16 inference precision, what it does by default on a CPU with AVX512_BF16.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

ENGINES = ("pytorch-fp32", "ort-fp32", "ort-int8", "ort-int8mx", "ov-fp32", "ov-int8", "ov-bf16")
DEFAULT_ENGINES = ENGINES  # every configuration, ov-bf16 included: it is what OpenVINO does by default here
_PRECISION_LABELS = {"int8mx": "int8, fc2 fp32"}
INPUT_NAME = "pixels"
OUTPUT_NAME = "logits"


def engine_label(engine: str) -> tuple[str, str]:
    """'ort-int8' -> ('ONNX Runtime', 'int8')."""
    family, precision = engine.split("-")
    name = {"pytorch": "PyTorch", "ort": "ONNX Runtime", "ov": "OpenVINO"}[family]
    return name, _PRECISION_LABELS.get(precision, precision)


def export_onnx(model, path: Path, opset: int = 17) -> None:
    """torch -> ONNX with a dynamic batch axis (one file serves every batch size)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(tmp), opset_version=opset,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], do_constant_folding=True,
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    tmp.replace(path)


# ONNX Runtime FP32 vs PyTorch: |ort - torch| <= ATOL + RTOL * max|torch| on every logit. Both run FP32 with
# different summation orders and fused kernels. Seen (seed 0): vit_tiny (real weights) 1.1e-5 <= 9.2e-5,
# deit_small 1.3e-6 <= 2.2e-5, swin_tiny 1.4e-6 <= 4e-5, while dropping swin_tiny's relative-position bias or
# its shifted windows moves its logits by ~0.25 (swin_random.py --check).
EXPORT_ATOL = 1e-5
EXPORT_RTOL = 1e-5


def check_onnx_export(model, onnx_path: Path, seed: int = 0, batch: int = 2) -> tuple[float, float]:
    """ONNX Runtime FP32 on onnx_path against the PyTorch model on one seeded random input (batch 2: the
    exported batch axis is dynamic and the timed batches are > 1). Returns (largest |difference|, bound);
    raises if the difference is above the bound EXPORT_ATOL + EXPORT_RTOL * max|logit|."""
    import onnxruntime as ort
    import torch

    x = np.random.default_rng(seed).standard_normal((batch, 3, 224, 224), dtype=np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    if got.shape != expected.shape:
        raise RuntimeError(f"{onnx_path}: ONNX Runtime gives logits {got.shape}, PyTorch {expected.shape}")
    err = float(np.abs(got - expected).max())
    bound = EXPORT_ATOL + EXPORT_RTOL * float(np.abs(expected).max())
    if not err <= bound:  # also catches NaN
        raise RuntimeError(f"{onnx_path}: ONNX Runtime FP32 differs from PyTorch by {err:.3g} "
                           f"(> {bound:.3g}; max |logit| {np.abs(expected).max():.3g}): the export is wrong")
    return err, bound


def _save_notes(model_path: Path, notes: dict) -> None:
    """How a cached quantized model was made, beside it (reported again when the cache is reused)."""
    model_path.with_suffix(".notes.json").write_text(json.dumps(notes))


def _load_notes(model_path: Path) -> dict:
    path = model_path.with_suffix(".notes.json")
    return json.loads(path.read_text()) if path.exists() else {"cached": model_path.name}


# ---------------------------------------------------------------------------------------------------
class PyTorchEngine:
    def __init__(self, spec: dict):
        import torch

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import archs

        torch.set_num_threads(spec["threads"])
        torch.set_num_interop_threads(1)
        weights = Path(spec["weights"]) if spec.get("weights") else None
        self.model = archs.build_model(spec["arch"], weights, spec.get("seed", 0))
        self.torch = torch

    def make_runner(self, batch: int):
        torch, model = self.torch, self.model

        def run(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return model(torch.from_numpy(x)).numpy()
        return run

    def describe(self) -> dict:
        torch = self.torch
        info = {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
        config = torch.__config__.show()
        info["mkldnn"] = next((l.strip(" -") for l in config.splitlines() if "MKL-DNN" in l), "none")
        info["blas_info"] = next((p.split("=")[1] for p in config.replace(",", " ").split()
                                  if p.startswith("BLAS_INFO=")), "?")
        try:
            import threadpoolctl

            libs = [f"{i['internal_api']} {i.get('version') or ''} {i.get('architecture') or ''} "
                    f"{i['num_threads']} threads ({os.path.basename(i['filepath'])})".replace("  ", " ")
                    for i in threadpoolctl.threadpool_info()]
            info["thread_libraries"] = libs
        except ImportError:
            info["thread_libraries"] = ["threadpoolctl not installed"]
        info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE", "(unset: autodetect)")
        return info


# ---------------------------------------------------------------------------------------------------
class _CalibrationReader:
    """onnxruntime.quantization.CalibrationDataReader over the calibration images, one at a time."""

    def __init__(self, inputs: np.ndarray):
        self.inputs, self.i = inputs, 0

    def get_next(self):
        if self.i >= len(self.inputs):
            return None
        self.i += 1
        return {INPUT_NAME: self.inputs[self.i - 1:self.i]}

    def rewind(self):
        self.i = 0


QUANTIZED_OP_TYPES = ["MatMul", "Gemm", "Conv"]


def quantize_onnx_static(fp32_path: Path, out_path: Path, calibration: np.ndarray, keep_fc2_fp32: bool) -> dict:
    """ORT static int8 quantization (QDQ, per-channel weights). Returns what was done."""
    import onnx

    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(_CalibrationReader, CalibrationDataReader):
        pass

    source, notes = fp32_path, {}
    try:  # the documented pre-processing step (shape inference + graph optimisation)
        from onnxruntime.quantization.shape_inference import quant_pre_process

        pre = fp32_path.with_suffix(".ort-pre.onnx")
        if not pre.exists():
            tmp = pre.with_suffix(".tmp.onnx")
            quant_pre_process(str(fp32_path), str(tmp))
            tmp.replace(pre)
        source, notes["pre_process"] = pre, "quant_pre_process"
    except Exception as e:  # noqa: BLE001 -- fall back to the raw export, and say so
        notes["pre_process"] = f"skipped ({type(e).__name__}: {e})"
    excluded = []
    if keep_fc2_fp32:
        excluded = [n.name for n in onnx.load(str(source)).graph.node
                    if n.op_type == "MatMul" and "/mlp/fc2/" in n.name]
        if not excluded:
            raise RuntimeError(f"no fc2 MatMul found in {source}")
    tmp = out_path.with_suffix(".tmp.onnx")
    quantize_static(str(source), str(tmp), Reader(calibration), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=QUANTIZED_OP_TYPES, nodes_to_exclude=excluded,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    tmp.replace(out_path)
    notes.update(format="QDQ", op_types=QUANTIZED_OP_TYPES, fp32_nodes=len(excluded),
                 weights="int8 per-channel", activations="uint8 per-tensor",
                 calibration=f"MinMax on {len(calibration)} images")
    return notes


class OrtEngine:
    def __init__(self, spec: dict):
        import onnxruntime as ort

        self.ort, self.info = ort, {"onnxruntime": ort.__version__}
        path = Path(spec["onnx"])
        variant = spec["engine"].split("-")[1]
        if variant.startswith("int8"):
            q = Path(spec["work_dir"]) / f"ort-{variant}-qdq.onnx"
            if not q.exists():
                _save_notes(q, quantize_onnx_static(path, q, np.load(spec["calibration"]),
                                                    keep_fc2_fp32=variant == "int8mx"))
            self.info["quantization"] = _load_notes(q)
            path = q
        so = ort.SessionOptions()
        so.intra_op_num_threads = spec["threads"]
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.info["model"] = path.name
        self.info["providers"] = self.session.get_providers()

    def make_runner(self, batch: int):
        session = self.session

        def run(x: np.ndarray) -> np.ndarray:
            return session.run(None, {INPUT_NAME: x})[0]
        return run

    def describe(self) -> dict:
        return self.info


# ---------------------------------------------------------------------------------------------------
def block_torch_import() -> None:
    """NNCF 3.x imports its torch backend whenever torch is importable, and fails on torch 1.13
    (no torch.uint16). OpenVINO/NNCF need no torch here, so make `import torch` fail in this process."""
    if "torch" not in sys.modules:
        sys.modules["torch"] = None  # type: ignore[assignment]


def _type_name(t) -> str:
    return t.get_type_name() if hasattr(t, "get_type_name") else str(t)


class OpenVinoEngine:
    def __init__(self, spec: dict):
        block_torch_import()
        import openvino as ov

        self.ov, self.core, self.spec = ov, ov.Core(), spec
        self.info = {"openvino": ov.get_version(), "device": self.core.get_property("CPU", "FULL_DEVICE_NAME"),
                     "default_inference_precision": _type_name(self.core.get_property("CPU", "INFERENCE_PRECISION_HINT"))}
        self.variant = spec["engine"].split("-")[1]
        if self.variant == "int8":
            xml = Path(spec["work_dir"]) / "ov-int8-nncf.xml"
            if not xml.exists():
                _save_notes(xml, self._quantize(Path(spec["onnx"]), xml, np.load(spec["calibration"])))
            self.info["quantization"] = _load_notes(xml)
            self.model_path = xml
        else:
            self.model_path = Path(spec["onnx"])

    def _quantize(self, onnx_path: Path, xml: Path, calibration: np.ndarray) -> dict:
        import nncf

        model = self.core.read_model(str(onnx_path))
        dataset = nncf.Dataset([calibration[i:i + 1] for i in range(len(calibration))])
        quantized = nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(calibration))
        self.ov.save_model(quantized, str(xml), compress_to_fp16=False)
        return {"nncf": nncf.__version__, "model_type": "TRANSFORMER", "calibration": f"{len(calibration)} images"}

    def make_runner(self, batch: int):
        import openvino.properties as props
        import openvino.properties.hint as hints

        ov = self.ov
        model = self.core.read_model(str(self.model_path))
        model.reshape({model.inputs[0]: ov.PartialShape([batch, 3, 224, 224])})
        precision = ov.Type.bf16 if self.variant == "bf16" else ov.Type.f32
        config = {props.inference_num_threads: self.spec["threads"], props.num_streams: 1,
                  hints.performance_mode: hints.PerformanceMode.LATENCY, hints.inference_precision: precision}
        compiled = self.core.compile_model(model, "CPU", config)
        self.info["inference_precision"] = _type_name(compiled.get_property(hints.inference_precision))
        self.info["threads"] = compiled.get_property(props.inference_num_threads)
        request = compiled.create_infer_request()

        def run(x: np.ndarray) -> np.ndarray:
            request.infer({0: x}, share_inputs=True)
            return request.get_output_tensor(0).data.copy()
        return run

    def describe(self) -> dict:
        return self.info


def make_engine(spec: dict):
    family = spec["engine"].split("-")[0]
    return {"pytorch": PyTorchEngine, "ort": OrtEngine, "ov": OpenVinoEngine}[family](spec)
