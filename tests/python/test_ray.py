"""intvit.ray on Ray's own multi-node test cluster (a head and two worker nodes on loopback, one
CPU each): the 500 shared images give exactly the CLI's top-5, an actor killed mid-run loses or
duplicates no row, and the example script reports images/s for 1 and 2 actors."""

from __future__ import annotations

import importlib.util
import os

import pytest

from conftest import IN_CI, REPO

if importlib.util.find_spec("ray") is None:
    if IN_CI:
        raise RuntimeError("Ray is not installed (CI=true: pip install 'ray[data]')")
    pytest.skip("Ray is not installed (pip install 'ray[data]'): Ray tests skipped", allow_module_level=True)

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

import intvit.ray  # noqa: E402

EXAMPLE = REPO / "engine" / "python" / "examples" / "classify_at_scale.py"


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    c.add_node(num_cpus=1)
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield c
    ray.shutdown()
    c.shutdown()


def test_cluster_has_three_nodes(cluster):
    assert len([n for n in ray.nodes() if n["Alive"]]) == 3


def test_500_images_exactly_the_cli_top5_with_an_actor_killed(cluster, vit_tiny_int, shared_images,
                                                              vit_tiny_cli_top5, tmp_path):
    marker = str(tmp_path / "killed")

    class DiesOnce(intvit.ray.Classifier):
        """Exits its actor process (as a killed node would) on its third batch, once per test."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.calls = 0

        def __call__(self, batch):
            self.calls += 1
            if self.calls == 3:
                try:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
                    os._exit(1)
                except FileExistsError:
                    pass
            return super().__call__(batch)

    # No retry options: Ray Data's defaults restart a dead actor and rerun its batch.
    ds = ray.data.read_binary_files(shared_images, include_paths=True)
    out = ds.map_batches(DiesOnce, fn_constructor_kwargs={"model": str(vit_tiny_int), "column": "bytes", "threads": 1},
                         batch_size=16, batch_format="numpy", concurrency=2, num_cpus=1)
    out.write_parquet(str(tmp_path / "out"))
    rows = ray.data.read_parquet(str(tmp_path / "out")).to_pandas()
    assert os.path.exists(marker), "no actor was killed: the test did not test a retry"
    assert len(rows) == len(shared_images) == 500
    assert sorted(rows["path"]) == sorted(shared_images)  # none lost, none duplicated
    for path, classes, probabilities in zip(rows["path"], rows["classes"], rows["probabilities"]):
        want = vit_tiny_cli_top5[path]
        assert list(classes) == [c for c, _ in want], path
        assert list(probabilities) == pytest.approx([p for _, p in want], rel=1e-12, abs=1e-15), path


def test_example_script_reports_images_per_second(cluster, vit_tiny_int, shared_images, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("classify_at_scale", EXAMPLE)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    folder = tmp_path / "images"
    folder.mkdir()
    for p in shared_images[:24]:
        (folder / os.path.basename(p)).symlink_to(p)
    (folder / "labels.csv").write_text("file,class_index\n")  # not an image: skipped
    assert script.main(["--model", str(vit_tiny_int), "--images", str(folder), "--out", str(tmp_path / "out"),
                        "--actors", "1,2", "--address", cluster.address]) == 0
    printed = capsys.readouterr().out
    for n in (1, 2):
        assert f"actors={n}: 24 images in" in printed and "images/s" in printed
        rows = ray.data.read_parquet(str(tmp_path / "out" / f"{n}-actors")).to_pandas()
        assert sorted(rows.columns) == ["classes", "labels", "path", "probabilities"]
        assert len(rows) == 24 and all(len(c) == 5 for c in rows["classes"])
