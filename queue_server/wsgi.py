"""Entry point for gunicorn's gevent worker (which monkey-patches before importing this)."""
import gevent

from queue_server import collector, create_app

# gevent records where each greenlet was spawned (ten frames apiece) for its debugging tools. Every
# connected board holds four greenlets: that record cost 5 KB per connection and some CPU per spawn.
gevent.config.track_greenlet_tree = False

app = create_app({"ASYNC_MODE": "gevent"})

# Everything built so far (the app, SQLAlchemy's tables and compiled statements) lives as long
# as the process: move it out of the collector's way, so a full collection no longer walks
# ~150,000 objects and stalls every connection for a tenth of a second. Connections that come
# later are settled the same way by the background task (collector.Settler).
collector.settle()
