"""gunicorn for example-service: `gunicorn -c deploy/gunicorn.conf.py --bind 0.0.0.0:8000`.

Needs the `gunicorn` extra. Everything comes from the service's settings (SERVER_WORKERS,
SERVER_KEEP_ALIVE_SECONDS, SERVER_GRACEFUL_SHUTDOWN_SECONDS, SERVER_HEADER_TIMEOUT_SECONDS,
...): see src/example_service/serving/gunicorn_setup.py. Options on gunicorn's command line
(or GUNICORN_CMD_ARGS) override these.
"""

from example_service.serving.gunicorn_setup import GunicornSetup

_setup = GunicornSetup.load()
_options = _setup.options()

wsgi_app = _options["wsgi_app"]
worker_class = _options["worker_class"]
workers = _options["workers"]
keepalive = _options["keepalive"]
graceful_timeout = _options["graceful_timeout"]
timeout = _options["timeout"]
accesslog = _options["accesslog"]

on_starting = _setup.on_starting
child_exit = _setup.child_exit
on_exit = _setup.on_exit
