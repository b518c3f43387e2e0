"""Reproductions of published results: ``skmicro reproduce lubbers2017`` and ``skmicro demo``."""

from ._demo import run_demo
from ._lubbers2017 import PAPER, Lubbers2017Settings, run_lubbers2017

__all__ = ["PAPER", "Lubbers2017Settings", "run_lubbers2017", "run_demo"]
