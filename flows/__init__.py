"""Prefect flows around the callqa library: ``nightly`` (score new recordings) and ``rescore``.

The library (``src/callqa``) never imports Prefect; these modules wrap its
calls in tasks. Importing this package first sets offline, quiet defaults
(before Prefect reads its settings): no telemetry, no analytics, no hub
look-ups, and a startup timeout for Prefect's temporary server that a busy
2-core machine can meet. Variables already set win.
"""

from __future__ import annotations

import os

for _name, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PYANNOTE_METRICS_ENABLED": "0",
    "HF_HUB_OFFLINE": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "DASK_LOGGING__DISTRIBUTED": "warning",
}.items():
    os.environ.setdefault(_name, _value)
