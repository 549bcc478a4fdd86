"""Settings for one step of bench/scanner.py: the product's settings with the fast path turned off step by step.

QRCARDS_BENCH_STEP is one of: naive, connections, hosts, pages, full (the product as shipped).
"""

import os

from qrcards.settings import *  # noqa: F403

STEPS = ["naive", "connections", "hosts", "pages", "full"]
_step = STEPS.index(os.environ.get("QRCARDS_BENCH_STEP", "full"))

DATABASES["default"]["CONN_MAX_AGE"] = 600 if _step >= 1 else 0  # noqa: F405
TENANT_HOST_CACHE_SECONDS = 5 if _step >= 2 else 0
SCANNER_PAGE_CACHE_SECONDS = 5 if _step >= 3 else 0
# Before the last step each scan is written in its request; the last hands it to the queue (spool or Redis).
if _step < 4:
    SCANS_QUEUE = "direct"
