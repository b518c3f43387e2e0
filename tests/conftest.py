import numpy as np
import pytest


def cuda_available():
    import torch

    return torch.cuda.is_available()


requires_cuda = pytest.mark.skipif(
    "not __import__('torch').cuda.is_available()", reason="needs a CUDA device"
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
