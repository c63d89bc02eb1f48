"""Batch inference on Ray Data: ``Dataset.map_batches(intvit.ray.Classifier, ...)``.

    import ray, intvit.ray
    ds = ray.data.read_binary_files("s3://bucket/images/", include_paths=True)
    out = ds.map_batches(intvit.ray.Classifier, fn_constructor_kwargs={"model": "/models/vit"},
                         column="bytes", concurrency=4, num_cpus=1, batch_size=32)
    out.write_parquet("s3://bucket/predictions/")

Ray is optional: this module is imported only when ``intvit.ray`` is used.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

import intvit

try:
    import pyarrow as pa
except ImportError as e:  # pragma: no cover - Ray Data depends on pyarrow
    raise ImportError("intvit.ray needs Ray Data: pip install 'ray[data]'") from e


def _actor_cpus() -> int:
    # The CPUs Ray gave this actor (map_batches(num_cpus=...)), else the CPUs this process may use.
    try:
        import ray
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        if cpus:
            return max(1, int(cpus))
    except Exception:  # not in a Ray worker
        pass
    return intvit.default_threads()


class Classifier:
    """A callable class for ``Dataset.map_batches``: loads the model once per actor, then
    classifies each batch.

    Input column ``column``: decoded images (``read_images``: uint8 arrays, one per row or a
    [n, H, W, C] tensor), encoded bytes (``read_binary_files``) or file paths. Output: the
    ``path_column`` (when the batch has it) plus ``classes`` (list of int32), ``labels`` (list of
    str) and ``probabilities`` (list of float64), top-``top`` per row, highest first.
    ``threads``: session threads (default: the actor's CPUs from ``num_cpus``).
    """

    def __init__(self, model: str, top: int = 5, column: str = "image", path_column: str = "path",
                 threads: Optional[int] = None, backend: Optional[str] = None) -> None:
        self.model = intvit.load(model, threads=threads or _actor_cpus(), backend=backend)
        self.top = top
        self.column = column
        self.path_column = path_column

    def __call__(self, batch: Dict[str, Any]) -> "pa.Table":
        images = batch[self.column]
        rows = list(images)  # per row: an array, bytes or a path (a [n,H,W,C] tensor gives n arrays)
        predictions = self.model.classify(rows, top=self.top)
        columns: Dict[str, Any] = {}
        if self.path_column in batch:
            columns[self.path_column] = pa.array([str(p) for p in batch[self.path_column]], pa.string())
        columns["classes"] = pa.array([[c for c, _, _ in row] for row in predictions], pa.list_(pa.int32()))
        columns["labels"] = pa.array([[lab for _, lab, _ in row] for row in predictions], pa.list_(pa.string()))
        columns["probabilities"] = pa.array([[p for _, _, p in row] for row in predictions], pa.list_(pa.float64()))
        return pa.table(columns)


def classify_dataset(ds: Any, model: str, *, actors: int = 1, cpus_per_actor: int = 1, batch_size: int = 32,
                     top: int = 5, column: str = "image", path_column: str = "path") -> Any:
    """``ds.map_batches(Classifier, ...)`` with ``actors`` actors of ``cpus_per_actor`` CPUs each.
    Ray Data restarts an actor that dies and runs its batch again (tests/python/test_ray.py)."""
    return ds.map_batches(
        Classifier,
        fn_constructor_kwargs={"model": str(model), "top": top, "column": column, "path_column": path_column,
                               "threads": cpus_per_actor},
        batch_size=batch_size, batch_format="numpy", concurrency=actors, num_cpus=cpus_per_actor)
