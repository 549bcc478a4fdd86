"""gunicorn settings for `make run`, the benchmarks and production (deploy/)."""

import gc
import multiprocessing
import os

# BIND, or every interface on PORT (Render and similar platforms say where to listen with PORT).
bind = os.environ.get("BIND") or (f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000")
# Cores + 1: requests here are CPU-bound and short, and the database shares the machine. On 2 cores
# (bench/scanner.py) 3 workers served ~20% more scans than the usual 2 x cores + 1, with a lower p99.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
wsgi_app = "qrcards.wsgi:application"
# Scanner pages answer in milliseconds; anything slower than this is stuck.
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
# Whether a request came over TLS is Django's decision alone (TRUSTED_PROXY_SSL_HEADER, checked against
# TRUSTED_PROXIES by qrcards.middleware), not also gunicorn's, which trusts X-Forwarded-Proto from loopback.
secure_scheme_headers: dict[str, str] = {}
if os.environ.get("QRCARDS_ENV", "").strip().lower() == "production":
    # gunicorn's own lines (start, stop, worker errors, the access log) as JSON too, like the app's.
    logconfig_dict = {
        "formatters": {"json": {"()": "qrcards.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        # Each line once: not again through the root logger, which Django's LOGGING also writes out.
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
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
