"""Races over real HTTP against the site as ``make run`` serves it, several containers of
it behind one public URL (``cluster.py`` says why); every test here runs in one xdist
group, so the cluster starts once per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.races.cluster import Cluster, start_cluster


@pytest.fixture(scope="session")
def cluster(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with start_cluster(aws_endpoint, tmp_path_factory.mktemp("races")) as started:
        yield started
