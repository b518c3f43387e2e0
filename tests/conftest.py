import numpy as np
import pytest


def pytest_collection_modifyitems(config, items):
    """Skip ``@pytest.mark.gpu`` tests when no CUDA device is present (``-m gpu`` selects
    them; benchmarks/gpu_suite.py runs them on a lent GPU)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (pytest -m gpu on a GPU machine)")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
