"""gunicorn settings for the tracker:

    gunicorn -c cabar_tracker/gunicorn.conf.py cabar_tracker.wsgi

`python3 dev.py serve` and README's production command use this file. Values that differ
between machines are read from the environment (GUNICORN_*); the rest is fixed here, with
the reasons. tests/test_gunicorn_config.py loads it.
"""

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer.") from None


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Threads, not one request per process: an export streams for a minute or two at a million
# incidents, and with gunicorn's sync workers two such downloads took both workers, so that
# another reader's /about/ waited 31 s. With threads, a worker keeps answering while some of
# its threads stream; the exports' own rate limit (THROTTLE_EXPORTS) keeps one client from
# taking them all. Two workers per core is enough for a site that mostly waits on its
# database; add machines rather than workers past that.
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 4)

# A worker that stops answering the arbiter for this long is restarted. (A gthread worker
# answers while its threads stream, so this does not cut a long export; with sync workers
# it would: then it must exceed the longest export, 99-110 s for all 900,000 rows in
# bench/README.md.) 180 s leaves room for either.
timeout = _int("GUNICORN_TIMEOUT", 180)
# On a restart or a deploy, running requests (an export under way) get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 120)
# Idle keep-alive connections behind a proxy.
keepalive = 5

# Limits on what a request may send before Django sees it: the request line (method, path
# and query string: a filtered case list's is a few hundred bytes), the number of header
# fields and the size of each. Past them gunicorn answers 400 at once.
limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190

# Recycle each worker after some requests (jitter so they do not all restart at once): a
# slow leak in any library never grows for long.
max_requests = 2000
max_requests_jitter = 200

# The access log on standard output: address, user, time, request line, status, bytes,
# referrer, user agent, and the time taken in milliseconds (%(M)s). No query string of a
# login or token is in it: those are POST bodies and headers.
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
errorlog = "-"
proc_name = "cabar_tracker"
