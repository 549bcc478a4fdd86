#!/usr/bin/env bash
# A web machine: gunicorn, and beside it a scan worker without the periodic jobs. Scans reach the spool on this
# machine's own disk only while Redis doesn't answer; this worker writes them to the database from there (and
# takes its share of Redis's meanwhile). Either process ending ends the container, which is then restarted.
set -euo pipefail
python manage.py run_worker --no-jobs &
gunicorn -c qrcards/gunicorn.conf.py &
trap 'kill -TERM $(jobs -p) 2>/dev/null; wait' TERM INT
wait -n
status=$?
kill -TERM $(jobs -p) 2>/dev/null || true
wait
exit "$status"
