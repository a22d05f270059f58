"""The audit on a two-node Ray cluster started on this machine: ``ray.cluster_utils.Cluster`` starts a
head (GCS + raylet) and a second, separate raylet with its own object store, which is what
``ray start --head`` + ``ray start --address`` make, but its ``shutdown()`` stops only the processes
it started (``ray stop`` would stop every Ray process on the machine)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.pipelines._dataset import build, write_webdataset  # noqa: E402

from artlineage.pipelines.dataset_audit import AuditConfig, iter_kept, run_audit  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture
def two_node_cluster():
    pytest.importorskip("ray.data", reason="Ray Data (ray extra) is not installed")
    import ray
    from ray.cluster_utils import Cluster

    ray.shutdown()  # a Ray instance an earlier test left attached
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_audit_on_two_ray_nodes_with_ray_data_duplicate_shuffle(two_node_cluster, tmp_path):
    ds = build(4, 6)
    write_webdataset(ds, tmp_path / "in")
    cfg = AuditConfig(backend="ray", address=two_node_cluster.address, web=False, dedup_partitions=4,
                      cache_path=str(tmp_path / "cache.sqlite"))
    s = run_audit(str(tmp_path / "in"), str(tmp_path / "out"), cfg)
    assert len(s.nodes) == 2  # shards ran on both raylets
    assert (s.input_rows, s.shards) == (24, 4) and s.kept + s.excluded == 24
    kept = dict(iter_kept(str(tmp_path / "out")))
    assert set(kept) == {x.key for x in ds.samples if x.expect == "kept"}
    dup = pq.read_table(tmp_path / "out" / "duplicates.parquet").to_pylist()
    assert {(r["shard"], r["key"]) for r in dup} == {(0, "000000000"), (3, "000030005")}
    assert json.loads((tmp_path / "out" / "report.json").read_text())["audit"]["duplicates"]["cross_shard_clusters"] == 1
