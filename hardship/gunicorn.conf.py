# Gunicorn settings for production (docker-compose, Dockerfile): `gunicorn -c hardship/gunicorn.conf.py`.
bind = "0.0.0.0:8000"
workers = 3
accesslog = "-"
# %(U)s is the path without the query string: searches by name or ID number never reach the logs.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'


def post_worker_init(worker):
    """Gunicorn's own loggers (the access log: a file page's path holds its number, an old link may hold an ID)
    go through the same masking of ID and card numbers as Django's."""
    import logging

    from hardship.logging import PersonalDataFilter

    for name in ("gunicorn.access", "gunicorn.error"):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(PersonalDataFilter())
