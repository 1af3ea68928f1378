"""Entry point for gunicorn's gevent worker (which monkey-patches before importing this)."""
import gc

from queue_server import create_app

app = create_app({"ASYNC_MODE": "gevent"})

# Everything built so far (the app, SQLAlchemy's tables and compiled statements) lives as long
# as the process: move it out of the collector's way, so a full collection no longer walks
# ~150,000 objects and stalls every connection for a tenth of a second.
gc.collect()
gc.freeze()
