"""The one gradient check of the tests: autograd along a random direction vs a central
difference."""


def directional_derivative_check(fn, x, seed=0, h=3e-4):
    """Autograd's derivative of the scalar ``fn(x)`` along a random direction (seeded) and the
    central difference ``(fn(x + h d) - fn(x - h d)) / 2h``, as two floats."""
    import torch

    d = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    x = x.detach().clone().requires_grad_(True)
    fn(x).backward()
    with torch.no_grad():
        numeric = (fn(x + h * d) - fn(x - h * d)) / (2 * h)
    return float((x.grad * d).sum()), float(numeric)
