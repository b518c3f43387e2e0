"""Scores for embeddings: angle recovery (eq. 10), Kruskal stress (eq. 8), R^2 of linear
read-out (Table I) and the angle between regression vectors (eq. 14) of Lubbers et al. (2017),
and a cross-validated k-nearest-neighbour read-out beside the linear one."""

from skmicro.metrics._angle import AngleRecoveryScorer, angle_recovery_rmse
from skmicro.metrics._embedding import (
    embedding_knn_r2,
    embedding_r2,
    kruskal_stress,
    regression_angle,
)

__all__ = [
    "AngleRecoveryScorer",
    "angle_recovery_rmse",
    "embedding_knn_r2",
    "embedding_r2",
    "kruskal_stress",
    "regression_angle",
]
