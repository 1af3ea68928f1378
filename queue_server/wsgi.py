"""Entry point for gunicorn's gevent worker (which monkey-patches before importing this)."""
from queue_server import create_app

app = create_app({"ASYNC_MODE": "gevent"})
