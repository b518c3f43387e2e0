"""The user's route: a folder of micrographs -> a features table -> a cross-validated answer.

Functions here compose the public estimators (no new math). pandas, scikit-learn and matplotlib
are imported inside the functions, so importing this package stays cheap.
"""

from ._evaluate import evaluate_features, format_table
from ._join import join_table, parse_table_column, read_table
from ._synthesize import synthesize_file

__all__ = ["evaluate_features", "format_table", "join_table", "parse_table_column",
           "read_table", "synthesize_file"]
