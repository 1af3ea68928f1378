/*
 * motcua live: a small client for the server's Socket.IO endpoint (Socket.IO protocol 5
 * over Engine.IO 4), WebSocket transport only, with no third-party code. It reconnects by
 * itself with backoff, answers pings, and keeps the office's event sequence: an event
 * that skips a number triggers a resync, an old one is dropped. The events of one action
 * arrive together as `events_published` [[name, payload], …] and are handled one by one.
 */
(function (global) {
  'use strict';

  function defaultUrl() {
    var scheme = global.location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + global.location.host + '/socket.io/?EIO=4&transport=websocket';
  }

  function Live(options) {
    options = options || {};
    this.url = options.url || defaultUrl();
    this.auth = options.auth || {};
    this.onStatus = options.onStatus || function () {};
    this.handlers = {};
    this.lastSeq = null;
    this.attempt = 0;
    this.ws = null;
    this.watchdog = null;
    this.stopped = false;
    this.status = 'connecting';
    this._connect();
  }

  Live.prototype.on = function (name, fn) {
    (this.handlers[name] = this.handlers[name] || []).push(fn);
    return this;
  };

  Live.prototype.emit = function (name, data) {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send('42' + JSON.stringify(data === undefined ? [name] : [name, data]));
      return true;
    }
    return false;
  };

  Live.prototype.resync = function () { return this.emit('resync'); };

  Live.prototype.close = function () {
    this.stopped = true;
    clearTimeout(this.watchdog);
    if (this.ws) { this.ws.close(); }
  };

  Live.prototype._setStatus = function (status, detail) {
    this.status = status;
    try { this.onStatus(status, detail); } catch (e) { console.error(e); }
  };

  Live.prototype._dispatch = function (name, payload) {
    var list = this.handlers[name] || [];
    for (var i = 0; i < list.length; i++) {
      try { list[i](payload); } catch (e) { console.error('handler for ' + name + ' failed', e); }
    }
  };

  Live.prototype._arm = function (ms) {
    var self = this;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(function () { if (self.ws) { self.ws.close(); } }, ms);
  };

  Live.prototype._connect = function () {
    var self = this;
    var ws;
    try { ws = new WebSocket(this.url); } catch (e) { this._retry(); return; }
    this.ws = ws;
    var pingWindow = 45000;
    this._arm(10000);
    ws.onmessage = function (msg) {
      var text = typeof msg.data === 'string' ? msg.data : '';
      var kind = text.charAt(0);
      if (kind === '0') {                       // engine.io open
        var open = JSON.parse(text.slice(1));
        pingWindow = (open.pingInterval || 25000) + (open.pingTimeout || 20000) + 2000;
        self._arm(pingWindow);
        ws.send('40' + JSON.stringify(self.auth));
      } else if (kind === '2') {                // ping
        ws.send('3');
        self._arm(pingWindow);
      } else if (kind === '1') {                // close
        ws.close();
      } else if (kind === '4') {                // socket.io packet
        self._packet(text.slice(1));
      }
    };
    ws.onclose = function () {
      clearTimeout(self.watchdog);
      if (self.ws === ws) { self.ws = null; }
      if (!self.stopped) {
        self._setStatus('offline');
        self._retry();
      }
    };
    ws.onerror = function () { ws.close(); };
  };

  Live.prototype._retry = function () {
    var self = this;
    var delay = Math.min(10000, 500 * Math.pow(2, this.attempt)) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    setTimeout(function () { if (!self.stopped) { self._connect(); } }, delay);
  };

  Live.prototype._packet = function (text) {
    var kind = text.charAt(0);
    var body = text.slice(1).replace(/^\d+/, '');   // drop an ack id if any
    if (kind === '0') {
      this.attempt = 0;
      this._setStatus('online');
      this._dispatch('connect', body ? JSON.parse(body) : {});
    } else if (kind === '4') {
      this._setStatus('refused', body ? JSON.parse(body) : {});
      if (this.ws) { this.ws.close(); }
    } else if (kind === '1') {
      if (this.ws) { this.ws.close(); }
    } else if (kind === '2') {
      var parts = JSON.parse(body);
      if (parts[0] === 'events_published' && Array.isArray(parts[1])) {
        for (var i = 0; i < parts[1].length; i++) { this._event(parts[1][i][0], parts[1][i][1]); }
      } else {
        this._event(parts[0], parts[1]);
      }
    }
  };

  Live.prototype._event = function (name, payload) {
    if (name === 'snapshot') {
      var stale = this.lastSeq !== null && payload && payload.seq < this.lastSeq;
      this.lastSeq = payload ? payload.seq : null;
      this._dispatch('snapshot', payload);
      if (stale) { this.resync(); }
      return;
    }
    if (payload && typeof payload.seq === 'number' && this.lastSeq !== null) {
      if (payload.seq <= this.lastSeq) { return; }          // already reflected
      if (payload.seq > this.lastSeq + 1) {                 // missed something
        this.resync();
        return;
      }
    }
    if (payload && typeof payload.seq === 'number') { this.lastSeq = payload.seq; }
    this._dispatch(name, payload);
    this._dispatch('*', { name: name, payload: payload });
  };

  global.MotcuaLive = Live;
})(window);
