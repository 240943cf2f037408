# Gunicorn settings for production (docker-compose, Dockerfile): `gunicorn -c hardship/gunicorn.conf.py`.
bind = "0.0.0.0:8000"
workers = 3
accesslog = "-"
# %(U)s is the path without the query string: searches by name or ID number never reach the logs.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
