/*
 * The admin's live view. GET /api/v1/live is the only source of truth; every event of the office
 * (calls, queues, printers, devices, health reports) asks for a fresh read, coalesced so a burst of
 * a hundred events a second costs a few reads, not a hundred. A slow timer catches what no event
 * announces: a device offline for longer than its grace period, a wait growing past the threshold.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('live-config').textContent);
  var lang = config.lang === 'en' ? 'en' : 'vi';
  var MIN_GAP_MS = 400;        // at most one read per this long, however many events arrive
  var SLOW_POLL_MS = 15000;

  function $(id) { return document.getElementById(id); }
  function tr(key, values) {
    var pair = config.texts[key];
    var text = pair ? pair[lang === 'en' ? 1 : 0] : key;
    Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
    return text;
  }
  function cell(text, cls) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '—' : String(text);
    if (cls) { td.className = cls; }
    return td;
  }
  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) { tr.appendChild(c); });
    return tr;
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return '—'; }
    var m = Math.floor(seconds / 60);
    return tr('minutes_seconds', { m: m, s: seconds % 60 });
  }
  // Times in the office's zone (the live state names it), as the reports and the change log show them,
  // whatever the browser's.
  var formats = {};
  function clock(iso) {
    if (!iso) { return tr('never'); }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return '—'; }
    var zone = state.time_zone;
    formats[zone] = formats[zone] || new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', day: '2-digit', month: '2-digit',
      hourCycle: 'h23'
    });
    var p = {};
    formats[zone].formatToParts(d).forEach(function (part) { p[part.type] = part.value; });
    return p.hour + ':' + p.minute + ':' + p.second + ' ' + p.day + '/' + p.month;
  }

  var state = null;
  var seenAlerts = {};
  var reads = 0;               // how many reads the page made (the benchmark reads it)
  var events = 0;              // how many live events arrived
  window.motcuaLiveStats = function () { return { reads: reads, events: events, seq: state && state.seq }; };

  function render() {
    var alerts = state.alerts || [];
    var list = $('alert-list');
    list.textContent = '';
    var now = {};
    alerts.forEach(function (a) {
      var key = a.code + '|' + a.subject;
      var li = document.createElement('li');
      li.className = 'alert-item' + (seenAlerts[key] ? '' : ' fresh');
      li.dataset.code = a.code;
      li.dataset.severity = a.severity;
      li.dataset.subject = a.subject;
      li.textContent = lang === 'en' ? a.message_en : a.message_vi;
      list.appendChild(li);
      now[key] = true;
    });
    seenAlerts = now;
    $('no-alerts').hidden = alerts.length > 0;
    $('alert-count').textContent = alerts.length ? String(alerts.length) : '';
    $('thresholds').textContent = tr('thresholds', { m: state.thresholds.wait_minutes, s: state.thresholds.offline_grace_s });

    var names = {};
    state.services.forEach(function (s) { names[s.code] = lang === 'en' ? s.name_en : s.name_vi; });
    var counters = $('counter-rows');
    counters.textContent = '';
    state.counters.forEach(function (c) {
      var stateText = tr('state_' + c.state) + (c.reason ? ' — ' + c.reason : '');
      var r = row([cell(c.number + ' · ' + (lang === 'en' && c.name_en ? c.name_en : c.name)),
                   cell(stateText, c.state === 'active' ? '' : 'warn'), cell(c.current),
                   cell(c.current_service ? names[c.current_service] || c.current_service : null)]);
      r.dataset.counter = c.number;
      counters.appendChild(r);
    });

    var alerted = {};
    alerts.forEach(function (a) { alerted[a.subject] = a.severity; });
    var queues = $('queue-rows');
    queues.textContent = '';
    state.services.forEach(function (s) {
      var r = row([cell(names[s.code]), cell(s.waiting, 'num'),
                   cell(duration(s.longest_wait_s), 'num' + (alerted[s.code] ? ' ' + alerted[s.code] : ''))]);
      r.dataset.service = s.code;
      queues.appendChild(r);
    });

    var devices = $('device-rows');
    devices.textContent = '';
    state.devices.forEach(function (d) {
      var online = document.createElement('td');
      var dot = document.createElement('span');
      dot.className = 'dot ' + (d.online ? 'on' : 'off');
      online.appendChild(dot);
      online.appendChild(document.createTextNode(tr(d.online ? 'online' : 'offline')));
      if (!d.online && alerted[d.code]) { online.className = 'bad'; }
      var printer = null;
      var printerClass = '';
      if (d.printer) {
        if (d.printer.online === false && d.printer.paper !== 'out') {
          printer = tr('printer_not_responding');
          printerClass = 'bad';
        } else if (d.printer.paper) {
          printer = tr('paper_' + d.printer.paper);
          printerClass = d.printer.paper === 'out' ? 'bad' : d.printer.paper === 'near_end' ? 'warn' : '';
        }
      }
      var r = row([cell(d.name && d.name !== d.code ? d.name + ' (' + d.code + ')' : d.code),
                   cell(tr('kind_' + d.kind)), online, cell(clock(d.last_seen)), cell(printer, printerClass)]);
      r.dataset.device = d.code;
      r.dataset.online = String(d.online);
      devices.appendChild(r);
    });
    $('no-devices').hidden = state.devices.length > 0;
    $('updated').textContent = tr('updated', { time: clock(state.server_time) });
    document.body.dataset.seq = String(state.seq);
  }

  // reading, coalesced ------------------------------------------------------------------------
  var inFlight = false;
  var dirty = false;
  var timer = null;
  var lastRead = 0;

  function read() {
    timer = null;
    if (inFlight) { dirty = true; return; }
    inFlight = true;
    dirty = false;
    lastRead = Date.now();
    reads += 1;
    fetch('/api/v1/live', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { window.location.reload(); return null; }
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (body) {
        if (!body) { return; }
        state = body;
        $('read-failed').hidden = true;
        render();
      })
      .catch(function () { $('read-failed').hidden = false; dirty = true; })
      .then(function () {
        inFlight = false;
        if (dirty) { schedule(); }
      });
  }

  function schedule() {
    if (timer !== null) { return; }
    var wait = Math.max(0, MIN_GAP_MS - (Date.now() - lastRead));
    timer = setTimeout(read, wait);
  }

  function onEvent() {
    events += 1;
    schedule();
  }

  function setLive(status) {
    var online = status === 'online';
    $('live-state').dataset.state = online ? 'online' : status === 'connecting' ? 'connecting' : 'offline';
    $('live-label').textContent = tr(online ? 'live_online' : 'live_offline');
    if (online) { schedule(); }
  }

  var live = new window.MotcuaLive({ auth: {}, onStatus: setLive });
  ['snapshot', 'ticket_issued', 'ticket_called', 'ticket_updated', 'queue_changed', 'counter_changed',
   'printer_status_changed', 'print_status_changed', 'health_changed', 'notice_changed'
  ].forEach(function (name) { live.on(name, onEvent); });
  setLive('connecting');
  setInterval(schedule, SLOW_POLL_MS);
  read();
})();
