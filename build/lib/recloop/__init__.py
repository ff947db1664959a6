"""recloop: a real-time recommender system with its whole MLOps loop.

Importing the package caps OpenMP/BLAS thread pools at one thread unless the
environment already says otherwise: with two OpenMP threads a single serving
query stalls for ~16 ms on a 2-core machine. Training code raises the limits
explicitly where parallelism pays (see :mod:`recloop.runtime`).
"""

import os as _os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
_os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
_os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
_os.environ.setdefault("DO_NOT_TRACK", "1")

__all__ = ["__version__"]

__version__ = "0.1.0"
