"""gunicorn's settings for Tillit (read from the working directory by
`gunicorn wsgi:app`; docs/deployment.md explains each)."""
import os

from portal.web.serving import drop_server_header

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
# The rate limiter's counters must be shared by every worker: in Redis when
# PORTAL_REDIS_URL is set, otherwise in the memory of a single worker, whose
# threads share it (two workers with memory stores would double every limit).
workers = int(os.environ.get("PORTAL_WORKERS") or (2 if os.environ.get("PORTAL_REDIS_URL") else 1))
if workers > 1 and not os.environ.get("PORTAL_REDIS_URL"):
    raise SystemExit("PORTAL_WORKERS > 1 needs PORTAL_REDIS_URL: each worker would keep rate limits of its own")
threads = int(os.environ.get("PORTAL_THREADS") or (4 if workers > 1 else 8))
logger_class = "portal.web.serving.AddresslessLogger"
accesslog = None
errorlog = "-"
# No request line or header longer than this reaches the application.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

drop_server_header()
