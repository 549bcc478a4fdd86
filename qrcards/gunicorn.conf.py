"""gunicorn settings for `make run` and the benchmarks."""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Cores + 1: requests here are CPU-bound and short, and the database shares the machine. On 2 cores
# (bench/scanner.py) 3 workers served ~20% more scans than the usual 2 x cores + 1, with a lower p99.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
wsgi_app = "qrcards.wsgi:application"
# Scanner pages answer in milliseconds; anything slower than this is stuck.
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
# Load the app once in the master: workers share its memory (the geo data alone
# is ~50 MiB) and start answering at once.
preload_app = True


def when_ready(server):
    from scans.recording import warm_up

    warm_up()
    # Everything loaded so far lives as long as the process: keep the garbage collector from scanning it again.
    gc.freeze()


def worker_exit(server, worker):
    # Let go of this worker's spool file, so the scan worker can finish it and delete it at once.
    from scans.recording import shutdown

    shutdown()
