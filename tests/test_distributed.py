"""The same match on a Dask LocalCluster with two worker processes: identical ranking."""

from __future__ import annotations

import pandas as pd
import pytest

from sitematch.bench.synthetic import synthetic_layers
from sitematch.distributed import match_distributed
from sitematch.match import match
from sitematch.profile import parse_profile

PROFILE = """
name: Dask test
requirements: {min_area_ha: 5, zoning: [J, Z], max_distance_to_motorway_junction_m: 40000}
preferences:
  distance_to_motorway_junction_m: {weight: 2, full_at: 2000, zero_at: 40000}
  distance_to_rail_m: {weight: 1, full_at: 500, zero_at: 30000}
  labour_pool_population: {weight: 1, zero_at: 10000, full_at: 500000}
"""


@pytest.mark.slow
def test_dask_local_cluster_gives_the_identical_ranking() -> None:
    layers = synthetic_layers(4000, seed=3)
    profile = parse_profile(PROFILE)
    single = match(profile, layers)
    dist = match_distributed(profile, layers, n_workers=2, npartitions=6)
    assert dist.run.dask_workers == 2 and dist.run.dask_partitions == 6
    assert len(single.ranked) > 50
    assert dist.ranked["plot_id"].tolist() == single.ranked["plot_id"].tolist()
    cols = ["plot_id", "score", "rank", "passed", "near_miss", "missed"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(dist.sites[cols]).reset_index(drop=True), pd.DataFrame(single.sites[cols]).reset_index(drop=True)
    )
