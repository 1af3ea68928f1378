/*
 * Counter console: one counter's current ticket, its queues and the officer's actions.
 * The server is the only source of truth: after every action and on every live event the
 * page re-reads GET /api/v1/counters/<id> and renders it, so it cannot drift.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('console-config').textContent);
  var lang = config.lang === 'en' ? 'en' : 'vi';
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var storageKey = 'motcua.counter.' + config.username;

  var el = {
    picker: document.getElementById('picker'),
    pickerList: document.getElementById('picker-list'),
    pickerEmpty: document.getElementById('picker-empty'),
    console: document.getElementById('console'),
    title: document.getElementById('counter-title'),
    state: document.getElementById('counter-state'),
    switchButton: document.getElementById('switch-counter'),
    pausedBanner: document.getElementById('paused-banner'),
    number: document.getElementById('current-number'),
    service: document.getElementById('current-service'),
    noCurrent: document.getElementById('no-current'),
    meta: document.getElementById('current-meta'),
    timer: document.getElementById('current-timer'),
    recalls: document.getElementById('current-recalls'),
    total: document.getElementById('total-waiting'),
    queues: document.getElementById('queue-list'),
    notice: document.getElementById('notice'),
    pageAlert: document.getElementById('page-alert'),
    offline: document.getElementById('offline-banner'),
    liveLabel: document.getElementById('live-label'),
    transferDialog: document.getElementById('dialog-transfer'),
    transferTitle: document.getElementById('transfer-title'),
    transferList: document.getElementById('transfer-list'),
    callDialog: document.getElementById('dialog-call'),
    callForm: document.getElementById('call-form'),
    callInput: document.getElementById('call-input'),
    pauseDialog: document.getElementById('dialog-pause'),
    pauseForm: document.getElementById('pause-form'),
    pauseInput: document.getElementById('pause-input')
  };
  var buttons = {};
  Array.prototype.forEach.call(document.querySelectorAll('button[data-action]'), function (b) {
    buttons[b.dataset.action] = b;
  });

  var counters = [];
  var counterId = null;
  var view = null;          // the last GET /counters/<id> answer
  var skewMs = 0;           // server clock minus this machine's clock
  var busy = false;         // an action is in flight: no second one (a double call-next would skip a number)
  var refreshTimer = null;
  var fetchGeneration = 0;
  var readFailed = false;   // the page alert shows a failed read, to clear once reading works again
  var leaving = false;      // signing out: late answers must not send the page anywhere else

  // words --------------------------------------------------------------------
  function tr(key, values) {
    var pair = config.texts[key];
    var text = pair ? pair[lang === 'en' ? 1 : 0] : key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split('{' + name + '}').join(values[name]);
    });
    return text;
  }

  function serviceName(code) {
    var all = (view && view.services) || [];
    for (var i = 0; i < all.length; i++) {
      if (all[i].code === code) { return lang === 'en' ? all[i].name_en : all[i].name_vi; }
    }
    return code;
  }

  function counterName(c) { return lang === 'en' ? (c.name_en || c.name) : c.name; }

  function reasonText(reason) {
    var i = config.pause_reasons.vi.indexOf(reason);
    return i >= 0 ? config.pause_reasons[lang][i] : reason;
  }

  // messages -----------------------------------------------------------------
  function openDialog() { return document.querySelector('dialog[open]'); }

  function alertBox() {
    var dialog = openDialog();
    return dialog ? dialog.querySelector('.alert') : el.pageAlert;
  }

  function showError(text) {
    var box = alertBox();
    box.querySelector('.alert-text').textContent = text;
    box.hidden = false;
    el.notice.textContent = '';
  }

  function clearErrors() {
    Array.prototype.forEach.call(document.querySelectorAll('.alert'), function (box) {
      box.hidden = true;
      box.querySelector('.alert-text').textContent = '';
    });
  }

  function notify(text) { el.notice.textContent = text; }

  el.pageAlert.querySelector('.alert-close').addEventListener('click', clearErrors);

  // talking to the server ------------------------------------------------------
  function api(method, path, body, headers) {
    var options = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    Object.keys(headers || {}).forEach(function (name) { options.headers[name] = headers[name]; });
    if (method !== 'GET') {
      options.headers['X-CSRFToken'] = csrf;
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body || {});
    }
    return fetch('/api/v1' + path, options).then(function (response) {
      if (response.status === 401 || leaving) {
        if (!leaving) { window.location.assign(config.login_url); }
        return new Promise(function () {});   // the page is going away
      }
      if (response.status === 204) { return { ok: true, status: 204, data: null }; }
      return response.json().catch(function () { return null; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function errorText(result) {
    var error = result && result.data && result.data.error;
    if (error) { return (lang === 'en' ? error.message_en : error.message_vi) || error.message; }
    return tr('network_error') + ' (HTTP ' + (result ? result.status : '?') + ')';
  }

  // counters -----------------------------------------------------------------
  function loadCounters() {
    return api('GET', '/counters').then(function (result) {
      if (!result.ok) { showError(errorText(result)); setTimeout(loadCounters, 5000); return; }
      clearErrors();
      counters = result.data.counters || [];
      var remembered = Number(localStorage.getItem(storageKey));
      var known = counters.filter(function (c) { return c.id === remembered; })[0];
      if (known) {
        selectCounter(known.id);
      } else if (counters.length === 1) {
        selectCounter(counters[0].id);
      } else {
        showPicker();
      }
    }, function () {
      showError(tr('network_error'));
      setTimeout(loadCounters, 5000);
    });
  }

  function showPicker() {
    el.pickerList.textContent = '';
    counters.forEach(function (c) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'pick-counter' + (c.id === counterId ? ' selected' : '');
      b.dataset.counter = String(c.id);
      if (c.id === counterId) { b.setAttribute('aria-current', 'true'); }
      var title = document.createElement('strong');
      title.textContent = tr('counter_n', { n: c.number }) + ' — ' + counterName(c);
      var detail = document.createElement('span');
      detail.className = 'muted';
      detail.textContent = (c.services || []).join(', ');
      b.appendChild(title);
      b.appendChild(detail);
      b.addEventListener('click', function () { selectCounter(c.id); });
      el.pickerList.appendChild(b);
    });
    el.pickerEmpty.hidden = counters.length > 0;
    el.console.hidden = true;
    el.picker.hidden = false;
    var first = el.pickerList.querySelector('button');
    if (first) { first.focus(); }
  }

  function selectCounter(id) {
    counterId = id;
    view = null;
    localStorage.setItem(storageKey, String(id));
    el.picker.hidden = true;
    el.console.hidden = false;
    el.switchButton.hidden = counters.length < 2;
    clearErrors();
    notify('');
    render();
    refresh();
  }

  el.switchButton.addEventListener('click', showPicker);

  // reading state --------------------------------------------------------------
  function refresh() {
    if (counterId === null) { return Promise.resolve(); }
    var generation = ++fetchGeneration;
    var asked = counterId;
    var sentAt = Date.now();
    return api('GET', '/counters/' + asked).then(function (result) {
      if (generation !== fetchGeneration || asked !== counterId) { return; }   // a newer read is on its way
      if (!result.ok) {
        if (result.status === 403 || result.status === 404) {
          localStorage.removeItem(storageKey);
          counterId = null;
          showPicker();
        }
        showError(errorText(result));
        return;
      }
      if (readFailed) { readFailed = false; clearErrors(); }
      var now = Date.now();
      var serverMs = parseTime(result.data.server_time);
      if (!isNaN(serverMs)) { skewMs = serverMs - (sentAt + now) / 2; }
      view = result.data;
      render();
    }, function () {
      // While the live link is down the offline banner already says so; no second message.
      if (generation === fetchGeneration && el.offline.hidden && !openDialog()) {
        readFailed = true;
        showError(tr('network_error'));
      }
    });
  }

  /* Coalesces bursts of events into one read ~100 ms after the first. */
  function scheduleRefresh() {
    if (refreshTimer !== null) { return; }
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 100);
  }

  function parseTime(iso) {
    if (!iso) { return NaN; }
    // Python writes microseconds; keep milliseconds so every engine parses it.
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, '$1'));
  }

  // rendering ------------------------------------------------------------------
  function render() {
    var counter = view && view.counter;
    var current = view && view.current;
    var active = !!counter && counter.state === 'active';

    if (counter) {
      el.title.textContent = tr('counter_n', { n: counter.number }) + ' — ' + counterName(counter);
      el.state.textContent = tr('state_' + counter.state);
      el.state.className = 'state-badge state-' + counter.state;
      el.pausedBanner.hidden = active;
      el.pausedBanner.textContent = active ? '' : tr('paused_banner') + (counter.reason ? ' — ' + reasonText(counter.reason) : '');
      document.title = tr('counter_n', { n: counter.number }) + (current ? ' · ' + current.number : '') + ' — ' +
        document.querySelector('header.bar h1').textContent;
    }

    el.number.textContent = current ? current.number : '—';
    el.number.classList.toggle('empty', !current);
    el.service.textContent = '';
    if (current) {
      el.service.appendChild(document.createTextNode(serviceName(current.service)));
      if (current.priority) {
        var badge = document.createElement('span');
        badge.className = 'priority-badge';
        badge.textContent = tr('priority');
        el.service.appendChild(document.createTextNode(' '));
        el.service.appendChild(badge);
      }
    }
    el.noCurrent.hidden = !!current || !counter;
    el.meta.hidden = !current;
    el.recalls.textContent = current ? String(current.recall_count || 0) : '0';
    tick();

    renderQueues(view ? view.queues : []);

    var can = {
      call_next: active,
      call_number: active,
      recall: !!current,
      finish: !!current,
      no_show: !!current,
      transfer: !!current,
      pause: active,
      resume: !!counter && !active,
      dossiers: !!counter
    };
    Object.keys(buttons).forEach(function (name) { buttons[name].disabled = busy || !can[name]; });
  }

  function renderQueues(queues) {
    el.queues.textContent = '';
    var total = 0;
    queues.forEach(function (q) {
      total += q.waiting;
      var li = document.createElement('li');
      li.className = 'queue' + (q.waiting ? '' : ' queue-empty');
      li.dataset.service = q.service;

      var head = document.createElement('div');
      head.className = 'queue-head';
      var name = document.createElement('span');
      name.className = 'queue-name';
      name.textContent = lang === 'en' ? q.name_en : q.name_vi;
      var count = document.createElement('span');
      count.className = 'queue-count';
      var n = document.createElement('strong');
      n.className = 'waiting-count';
      n.textContent = String(q.waiting);
      count.appendChild(n);
      count.appendChild(document.createTextNode(' ' + tr('waiting')));
      head.appendChild(name);
      head.appendChild(count);
      li.appendChild(head);

      if (q.waiting) {
        var wait = document.createElement('p');
        wait.className = 'queue-wait muted';
        var minutes = Math.floor((q.longest_wait_s || 0) / 60);
        wait.textContent = minutes ? tr('longest_wait', { m: minutes }) : tr('longest_wait_short');
        li.appendChild(wait);
        var next = document.createElement('ol');
        next.className = 'next-numbers';
        next.setAttribute('aria-label', tr('next_numbers'));
        (q.next || []).forEach(function (t) {
          var item = document.createElement('li');
          item.className = 'chip' + (t.priority ? ' chip-priority' : '');
          item.textContent = t.number;
          if (t.priority) {
            var mark = document.createElement('span');
            mark.className = 'chip-mark';
            mark.textContent = tr('priority');
            item.appendChild(mark);
          }
          next.appendChild(item);
        });
        li.appendChild(next);
      } else {
        var empty = document.createElement('p');
        empty.className = 'queue-wait muted';
        empty.textContent = tr('queue_empty');
        li.appendChild(empty);
      }
      el.queues.appendChild(li);
    });
    if (view && !queues.length) {
      var none = document.createElement('li');
      none.className = 'muted';
      none.textContent = tr('no_queues');
      el.queues.appendChild(none);
    }
    el.total.textContent = String(total);
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /* The serving timer: time since called_at on the server's clock. */
  function tick() {
    var current = view && view.current;
    var calledMs = current ? parseTime(current.called_at) : NaN;
    if (isNaN(calledMs)) { el.timer.textContent = '00:00'; return; }
    var s = Math.max(0, Math.floor((Date.now() + skewMs - calledMs) / 1000));
    var h = Math.floor(s / 3600);
    var text = (h ? h + ':' : '') + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
    if (el.timer.textContent !== text) { el.timer.textContent = text; }
    el.timer.classList.toggle('long', s >= 15 * 60);
  }

  setInterval(tick, 250);

  // actions --------------------------------------------------------------------
  function act(path, body, onDone) {
    if (busy || counterId === null) { return Promise.resolve(); }
    busy = true;
    render();
    // What this screen shows as current: if another screen at this counter acted meanwhile, the server
    // refuses (counter_moved_on) instead of ending a visit this screen has not seen.
    var shown = view && view.current ? String(view.current.id) : 'none';
    return api('POST', '/counters/' + counterId + path, body, { 'X-Counter-Current': shown }).then(function (result) {
      busy = false;
      if (result.ok) {
        clearErrors();
        onDone(result);
      } else {
        showError(errorText(result));
      }
      return refresh();
    }, function () {
      busy = false;
      showError(tr('network_error'));
      return refresh();
    }).then(render, render);
  }

  var handlers = {
    call_next: function () {
      act('/call-next', null, function (r) {
        notify(r.status === 204 ? tr('nobody_waiting') : tr('done_called', { number: r.data.number }));
      });
    },
    recall: function () {
      act('/recall', null, function (r) { notify(tr('done_recalled', { number: r.data.number })); });
    },
    finish: function () {
      act('/finish', null, function (r) { notify(tr('done_finished', { number: r.data.number })); });
    },
    no_show: function () {
      act('/no-show', null, function (r) { notify(tr('done_no_show', { number: r.data.number })); });
    },
    transfer: openTransfer,
    call_number: function () { openModal(el.callDialog, el.callInput); },
    pause: function () { openModal(el.pauseDialog, el.pauseDialog.querySelector('[data-pick]')); },
    resume: function () {
      act('/resume', null, function () { notify(tr('done_resumed')); });
    },
    dossiers: openDossiers
  };

  Object.keys(buttons).forEach(function (name) {
    buttons[name].addEventListener('click', function () { handlers[name](); });
  });

  // dialogs --------------------------------------------------------------------
  function openModal(dialog, focus) {
    clearErrors();
    dialog.showModal();
    if (focus) { focus.focus(); }
  }

  function closeModal(dialog) {
    if (dialog.open) { dialog.close(); }
  }

  function openTransfer() {
    var current = view && view.current;
    if (!current) { return; }
    el.transferTitle.textContent = tr('transfer_title', { number: current.number });
    el.transferList.textContent = '';
    var index = 0;
    view.services.forEach(function (s) {
      if (s.code === current.service) { return; }
      index += 1;
      var b = document.createElement('button');
      b.type = 'button';
      b.dataset.pick = '';
      b.dataset.service = s.code;
      var label = document.createElement('span');
      label.textContent = lang === 'en' ? s.name_en : s.name_vi;
      b.appendChild(label);
      if (index <= 9) {
        var k = document.createElement('kbd');
        k.setAttribute('aria-hidden', 'true');
        k.textContent = String(index);
        b.appendChild(k);
      }
      b.addEventListener('click', function () {
        var number = current.number;
        act('/transfer', { service: s.code }, function () {
          closeModal(el.transferDialog);
          notify(tr('done_transferred', { number: number, service: label.textContent }));
        });
      });
      el.transferList.appendChild(b);
    });
    openModal(el.transferDialog, el.transferList.querySelector('button'));
  }

  el.callForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var number = el.callInput.value.trim().toUpperCase();
    if (!/^[A-Z]{0,3}[0-9]{1,7}$/.test(number)) {
      showError(tr('call_invalid'));
      el.callInput.focus();
      return;
    }
    act('/call', { number: number }, function (r) {
      closeModal(el.callDialog);
      el.callInput.value = '';
      notify(tr('done_called', { number: r.data.number }));
    }).then(function () {
      if (el.callDialog.open) { el.callInput.select(); }
    });
  });

  function pauseWith(reason) {
    act('/pause', { reason: reason }, function () {
      closeModal(el.pauseDialog);
      el.pauseInput.value = '';
      notify(tr('done_paused'));
    });
  }

  Array.prototype.forEach.call(el.pauseDialog.querySelectorAll('[data-reason]'), function (b) {
    b.addEventListener('click', function () { pauseWith(b.dataset.reason); });
  });

  el.pauseForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var reason = el.pauseInput.value.trim();
    if (!reason) { showError(tr('reason_missing')); el.pauseInput.focus(); return; }
    pauseWith(reason);
  });

  Array.prototype.forEach.call(document.querySelectorAll('dialog [data-close]'), function (b) {
    b.addEventListener('click', function () { closeModal(b.closest('dialog')); });
  });

  Array.prototype.forEach.call(document.querySelectorAll('dialog'), function (dialog) {
    dialog.addEventListener('close', function () {
      dialog.querySelector('.alert').hidden = true;
      // Leave focus on no button: a stray Enter must not repeat an action such as call-next.
      if (dialog.contains(document.activeElement)) { document.activeElement.blur(); }
    });
    // Inside a dialog, digits pick the numbered choice (unless typing in its text field).
    dialog.addEventListener('keydown', function (e) {
      if (!dialog.open) { return; }   // focus can linger in a dialog that has just closed
      var digit = digitOf(e);
      if (digit === null || isTyping(e.target) || e.repeat) { return; }
      var choices = dialog.querySelectorAll('[data-pick]');
      var choice = choices[digit - 1];
      if (choice && !choice.disabled) { e.preventDefault(); choice.click(); }
    });
  });

  // keyboard -------------------------------------------------------------------
  function isTyping(target) {
    if (!target || !(target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return false; }
    // Focus lingers in a field of a dialog just closed with Esc until its close event: not typing then.
    var dialog = target.closest('dialog');
    return !dialog || dialog.open;
  }

  /* Top-row digits, and number-pad keys whether Num Lock is on or not (a USB keypad works as is). */
  function digitOf(e) {
    if (e.ctrlKey || e.altKey || e.metaKey) { return null; }
    var m = /^(?:Digit|Numpad)([0-9])$/.exec(e.code || '') || /^([0-9])$/.exec(e.key || '');
    return m ? Number(m[1]) : null;
  }

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || openDialog() || isTyping(e.target) || el.console.hidden) { return; }
    var digit = digitOf(e);
    if (digit === null) { return; }
    var button = document.querySelector('button[data-action][data-key="' + digit + '"]');
    if (!button) { return; }
    e.preventDefault();            // the digit must not land in a dialog's field opened by this key
    if (e.repeat) { return; }      // holding a key must not call number after number
    if (button.disabled) {
      if (!busy) {
        var paused = view && view.counter && view.counter.state !== 'active' && digit !== 8;
        notify(tr(paused ? 'not_while_paused' : 'not_now'));
      }
      return;
    }
    button.click();
  });

  // dossiers: register at the counter, find, move the return date once, print slips ----------
  var CLOSED_STATUSES = [3, 7, 8, 9, 10];          // finished or stopped: no new return date
  var CODE_ERRORS = ['dossier_exists', 'dossier_not_found', 'malformed_code', 'agency_too_long', 'bad_date',
                     'bad_sequence', 'no_agency_code'];
  var FIELD_HINTS = { owner_id: 'err_owner_id', return_counter: 'err_return_counter', sets: 'err_sets',
                      documents: 'err_documents' };
  var POLL_MS = 500;
  var FOLLOW_MS = 20000;    // how long a print is followed before saying the printer has not answered

  var dz = {
    dialog: document.getElementById('dialog-dossiers'),
    title: document.getElementById('dossier-title'),
    printer: document.getElementById('dossier-printer'),
    printerState: document.getElementById('dossier-printer-state'),
    tabs: Array.prototype.slice.call(document.querySelectorAll('#dialog-dossiers [role="tab"]')),
    registerForm: document.getElementById('register-form'),
    fieldNames: document.getElementById('dossier-field-names'),
    findForm: document.getElementById('find-form'),
    findInput: document.getElementById('find-code'),
    card: document.getElementById('dossier-card'),
    receiptForm: document.getElementById('receipt-form'),
    rescheduleForm: document.getElementById('reschedule-form'),
    rescheduleNote: document.getElementById('reschedule-note'),
    apologyForm: document.getElementById('apology-form'),
    notice: document.getElementById('dossier-notice'),
    printStatus: document.getElementById('dossier-print-status')
  };
  var printerKey = 'motcua.printer.' + config.username;
  var printers = [];
  var printersTimer = null;
  var shown = null;           // the staff view on the find tab
  var dossierBusy = false;    // a dossier request is in flight: no second registration of the same form
  var printRun = 0;           // the print being followed; a newer print stops following the older one
  var registerReady = false;  // the register form has its defaults
  var defaultsCounter = null; // the counter number the return counter was prefilled with
  var officeZone = null;      // the office's IANA time zone; null: this machine's own
  var zoneFormat = null;
  var zoneAsked = null;

  function first(scope, selector) { return scope.querySelector(selector); }

  function localized(error) {
    return (lang === 'en' ? error.message_en : error.message_vi) || error.message || '';
  }

  // time on the office's clock ---------------------------------------------------
  /* The office's time zone comes from GET /services (the signed-in officer's office). Without it
     the browser's own zone is used, which is the office's on a counter PC set up for the hall. */
  function ensureZone() {
    if (zoneAsked) { return zoneAsked; }
    zoneAsked = api('GET', '/services').then(function (result) {
      var zone = result.ok && result.data && result.data.office && result.data.office.timezone;
      if (!zone) { zoneAsked = null; return; }
      try {
        zoneFormat = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric',
          month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
        officeZone = zone;
      } catch (err) { officeZone = null; }      // a zone this browser does not know: its own clock then
    }, function () { zoneAsked = null; });
    return zoneAsked;
  }

  function wallClock(ms) {
    var d = new Date(ms);
    if (!officeZone) {
      return { y: d.getFullYear(), m: d.getMonth() + 1, d: d.getDate(), h: d.getHours(), min: d.getMinutes() };
    }
    var p = {};
    zoneFormat.formatToParts(d).forEach(function (part) { p[part.type] = part.value; });
    return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour) % 24, min: Number(p.minute) };
  }

  function offsetMinutes(ms) {
    ms = Math.floor(ms / 60000) * 60000;
    if (!officeZone) { return -new Date(ms).getTimezoneOffset(); }
    var w = wallClock(ms);
    return Math.round((Date.UTC(w.y, w.m - 1, w.d, w.h, w.min) - ms) / 60000);
  }

  /* '2026-11-25' and '16:00' on the office's wall clock → '2026-11-25T16:00:00+07:00'. */
  function isoFromWall(dateText, timeText) {
    var d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateText || '');
    var t = /^(\d{2}):(\d{2})/.exec(timeText || '');
    if (!d || !t) { return null; }
    var wall = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2]));
    var offset = offsetMinutes(wall - offsetMinutes(wall) * 60000);
    var abs = Math.abs(offset);
    return dateText + 'T' + t[1] + ':' + t[2] + ':00' + (offset < 0 ? '-' : '+') + pad(Math.floor(abs / 60)) +
      ':' + pad(abs % 60);
  }

  /* dd/mm/yyyy HH:mm on the office's clock. */
  function formatTime(iso) {
    var ms = parseTime(iso);
    if (isNaN(ms)) { return ''; }
    var w = wallClock(ms);
    return pad(w.d) + '/' + pad(w.m) + '/' + w.y + ' ' + pad(w.h) + ':' + pad(w.min);
  }

  /* The default return date: three working days (Monday to Friday) after today, at 16:00. */
  function defaultReturnDate() {
    var today = wallClock(Date.now() + skewMs);
    var day = Date.UTC(today.y, today.m - 1, today.d);
    for (var added = 0; added < 3;) {
      day += 86400000;
      var weekday = new Date(day).getUTCDay();
      if (weekday !== 0 && weekday !== 6) { added += 1; }
    }
    return new Date(day).toISOString().slice(0, 10);
  }

  /* The chosen date spelled out (weekday, dd/mm/yyyy HH:mm): the browser's own date field follows
     the PC's locale, which may put the month first. */
  function showDatePreview(form) {
    var f = form.elements;
    var d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(f.date.value);
    var preview = form.querySelector('.date-preview');
    if (!d || !f.time.value) { preview.textContent = ''; return; }
    var weekday = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'vi-VN', { weekday: 'long', timeZone: 'UTC' })
      .format(new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))));
    preview.textContent = weekday + ', ' + d[3] + '/' + d[2] + '/' + d[1] + ' ' + f.time.value.slice(0, 5);
  }

  // messages and field errors --------------------------------------------------------
  function dossierAlert(text) {
    var box = first(dz.dialog, '.alert');
    box.querySelector('.alert-text').textContent = text;
    box.hidden = !text;
  }

  function dossierNotice(text) { dz.notice.textContent = text; }

  function setPrintStatus(text, tone) {
    dz.printStatus.textContent = text;
    dz.printStatus.className = 'print-status' + (tone ? ' ' + tone : '');
  }

  function clearFieldErrors(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll('.field.invalid'), function (field) {
      field.classList.remove('invalid');
    });
    Array.prototype.forEach.call(scope.querySelectorAll('.field-error'), function (p) {
      p.hidden = true;
      p.textContent = '';
    });
    Array.prototype.forEach.call(scope.querySelectorAll('[aria-invalid]'), function (control) {
      control.removeAttribute('aria-invalid');
    });
  }

  /* Puts each message beside its field inside `scope`; returns how many found a field, focusing the first. */
  function showFieldErrors(scope, messages) {
    var placed = [];
    Object.keys(messages).forEach(function (name) {
      var field = scope.querySelector('[data-field="' + name + '"]');
      if (!field) { return; }
      field.classList.add('invalid');
      var p = field.querySelector('.field-error');
      p.textContent = messages[name];
      p.hidden = false;
      Array.prototype.forEach.call(field.querySelectorAll('input, select, textarea'), function (control) {
        control.setAttribute('aria-invalid', 'true');
      });
      placed.push(field);
    });
    var first = null;
    Array.prototype.forEach.call(scope.querySelectorAll('.field.invalid'), function (field) {
      if (!first) { first = field; }
    });
    if (first) {
      var control = first.querySelector('input:not([type="hidden"]), select, textarea');
      if (control) { control.focus(); }
    }
    return placed.length;
  }

  /* The fields an API error is about: pydantic details (a list of {field, problem}), a domain
     error's details.field, or the code field for errors about the dossier code. */
  function errorFields(result, codeField) {
    var error = result && result.data && result.data.error;
    var out = {};
    if (!error) { return out; }
    if (Array.isArray(error.details)) {
      error.details.forEach(function (detail) {
        var name = String(detail.field || '').split('.')[0];
        if (name && !out[name]) { out[name] = tr(FIELD_HINTS[name] || 'err_invalid'); }
      });
    } else if (error.details && error.details.field) {
      out[error.details.field] = localized(error);
    } else if (codeField && CODE_ERRORS.indexOf(error.code) >= 0) {
      out[codeField] = localized(error);
    }
    return out;
  }

  function showFailure(scope, result, codeField) {
    if (showFieldErrors(scope, errorFields(result, codeField))) {
      dossierAlert(tr('err_fix_fields'));
    } else {
      dossierAlert(errorText(result));
    }
  }

  function clearDossierMessages() {
    clearFieldErrors(dz.dialog);
    dossierAlert('');
    dossierNotice('');
  }

  /* Wraps one request: nothing else starts while it runs; network failures say so. */
  function dossierRequest(method, path, body) {
    dossierBusy = true;
    dz.dialog.setAttribute('aria-busy', 'true');
    function done(result) {
      dossierBusy = false;
      dz.dialog.removeAttribute('aria-busy');
      return result;
    }
    return api(method, path, body).then(done, function () {
      done();
      dossierAlert(tr('network_error'));
      return null;
    });
  }

  // tabs ---------------------------------------------------------------------------
  var currentTab = 'register';

  function switchTab(name, focus) {
    currentTab = name;
    dz.tabs.forEach(function (tab) {
      var on = tab.dataset.tab === name;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')).hidden = !on;
    });
    if (focus) {
      var target = name === 'find' ? dz.findInput : dz.registerForm.elements.code;
      target.focus();
      if (name === 'find') { dz.findInput.select(); }
    }
  }

  dz.tabs.forEach(function (tab, index) {
    tab.addEventListener('click', function () { switchTab(tab.dataset.tab, true); });
    tab.addEventListener('keydown', function (e) {
      var step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) { return; }
      e.preventDefault();
      var next = dz.tabs[(index + step + dz.tabs.length) % dz.tabs.length];
      switchTab(next.dataset.tab, false);
      next.focus();
    });
  });

  // printers -------------------------------------------------------------------------
  function printerTone(p) {
    if (!p.agent_online) { return ['agent_offline', 'bad']; }
    if (!p.printer) { return ['unknown', 'warn']; }
    if (p.printer.paper === 'out') { return ['paper_out', 'bad']; }     // printers also report offline then
    if (p.printer.online === false) { return ['offline', 'bad']; }
    if (p.printer.paper === 'near_end') { return ['near_end', 'warn']; }
    return ['ready', 'ok'];
  }

  function printerByCode(code) {
    return printers.filter(function (p) { return p.code === code; })[0] || null;
  }

  function printerName(p) {
    return p.name + (p.counter ? ' (' + tr('counter_n', { n: p.counter }) + ')' : '');
  }

  /* This counter's own printer first, else the one the officer chose last on this PC, else the first. */
  function preferredPrinter() {
    var number = view && view.counter ? view.counter.number : null;
    var own = printers.filter(function (p) { return number !== null && p.counter === number; })[0];
    if (own) { return own.code; }
    var remembered = localStorage.getItem(printerKey);
    if (printerByCode(remembered)) { return remembered; }
    return printers.length ? printers[0].code : '';
  }

  function renderPrinters(fresh) {
    var keep = fresh ? '' : dz.printer.value;
    dz.printer.textContent = '';
    printers.forEach(function (p) {
      var option = document.createElement('option');
      option.value = p.code;
      option.textContent = printerName(p) + ' — ' + tr('printer_' + printerTone(p)[0]);
      dz.printer.appendChild(option);
    });
    if (!printers.length) {
      var none = document.createElement('option');
      none.value = '';
      none.textContent = tr('printer_none');
      dz.printer.appendChild(none);
    }
    dz.printer.value = printerByCode(keep) ? keep : preferredPrinter();
    dz.printer.disabled = !printers.length;
    renderPrinterState();
  }

  function renderPrinterState() {
    var p = printerByCode(dz.printer.value);
    var tone = p ? printerTone(p) : null;
    dz.printerState.textContent = tone ? tr('printer_' + tone[0]) : '';
    dz.printerState.className = 'printer-state' + (tone ? ' ' + tone[1] : '');
  }

  function loadPrinters(fresh) {
    return api('GET', '/printers').then(function (result) {
      if (!result.ok) { return; }          // keep the list shown; a later read may work
      printers = result.data.printers || [];
      renderPrinters(fresh);
    }, function () {});
  }

  dz.printer.addEventListener('change', function () {
    if (dz.printer.value) { localStorage.setItem(printerKey, dz.printer.value); }
    clearFieldErrors(first(dz.dialog, '.printer-pick'));
    renderPrinterState();
  });

  // printing ------------------------------------------------------------------------
  function faultText(job) {
    if (job.status === 'expired') { return tr('fault_expired'); }
    var code = job.fault && job.fault.code;
    if (code && config.texts['fault_' + code]) { return tr('fault_' + code); }
    return job.fault ? localized(job.fault) : tr('fault_error');
  }

  function selectedPrinter() {
    if (dz.printer.value && printerByCode(dz.printer.value)) { return dz.printer.value; }
    showFieldErrors(first(dz.dialog, '.printer-pick').parentNode, { printer: tr('printer_missing') });
    dossierAlert(tr('err_fix_fields'));
    return null;
  }

  /* The receipt's optional lines from a receipt fieldset; null (and errors shown) when out of range. */
  function receiptOptions(form) {
    var documents = form.elements.documents.value.split('\n').map(function (line) { return line.trim(); })
      .filter(Boolean);
    var setsText = form.elements.sets.value.trim();
    var sets = Number(setsText);
    var processing = form.elements.processing_time.value.trim();
    var problems = {};
    if (documents.length > 30 || documents.some(function (line) { return line.length > 200; })) {
      problems.documents = tr('err_documents');
    }
    if (form.elements.sets.validity.badInput || (setsText && !(sets >= 1 && sets <= 99 && sets % 1 === 0))) {
      problems.sets = tr('err_sets');
    }
    if (Object.keys(problems).length) { return { problems: problems }; }
    var options = { documents: documents };
    if (setsText) { options.sets = sets; }
    if (processing) { options.processing_time = processing; }
    return { options: options };
  }

  function printSlip(kind, options, form) {
    var code = shown && shown.code;
    var printer = selectedPrinter();
    if (!code || !printer) { return Promise.resolve(); }
    var body = { code: code, kind: kind, printer: printer };
    Object.keys(options).forEach(function (key) { body[key] = options[key]; });
    var run = ++printRun;
    setPrintStatus('', '');
    return dossierRequest('POST', '/dossier-slips', body).then(function (result) {
      if (!result) { return; }
      if (!result.ok) { showFailure(form, result); return; }
      follow(result.data, kind, run);
    });
  }

  /* Follows a print job until the printer reports it printed, or why not. */
  function follow(job, kind, run) {
    var slip = tr('slip_' + kind);
    var device = printerByCode(job.kiosk);
    var deadline = Date.now() + FOLLOW_MS;
    var faulted = false;
    setPrintStatus(tr('print_sent', { slip: slip, printer: device ? printerName(device) : job.kiosk }) +
      (device && !device.agent_online ? ' ' + tr('fault_agent_offline') : ''), 'pending');

    function finish(text, tone) {
      setPrintStatus(text, tone);
      if (!dz.dialog.open) { notify(text); }
      loadPrinters(false);
    }

    function poll() {
      if (run !== printRun) { return; }
      api('GET', '/print-jobs/' + job.id).then(function (result) {
        if (run !== printRun) { return; }
        if (result.ok) {
          var state = result.data;
          if (state.status === 'printed') { finish(tr('print_done', { slip: slip }), 'ok'); return; }
          if (state.status === 'uncertain' || state.status === 'expired') { finish(faultText(state), 'bad'); return; }
          if (state.status === 'failed') {       // the server sends it again once the printer is usable
            faulted = true;
            setPrintStatus(faultText(state), 'bad');
          } else if (state.status === 'sent' && !faulted) {
            setPrintStatus(tr('print_printing', { slip: slip }), 'pending');
          }
        }
        if (Date.now() > deadline) {
          if (!faulted) { finish(tr('print_no_answer'), 'warn'); }
          return;
        }
        setTimeout(poll, POLL_MS);
      }, function () {
        if (run !== printRun) { return; }
        if (Date.now() > deadline) { finish(tr('network_error'), 'bad'); return; }
        setTimeout(poll, POLL_MS * 2);
      });
    }
    setTimeout(poll, POLL_MS);
  }

  // the dossier as the officer sees it ----------------------------------------------------
  function setText(id, text) { document.getElementById(id).textContent = text; }

  function showDossier(d) {
    shown = d;
    dz.card.hidden = false;
    setText('dossier-code', d.code);
    setText('dossier-status', (lang === 'en' ? d.status_text_en : d.status_text_vi) || d.status_text);
    document.getElementById('dossier-overdue').hidden = !d.overdue;
    setText('dossier-owner', d.owner_name || d.owner);
    setText('dossier-procedure', d.procedure);
    setText('dossier-field', d.field || '—');
    setText('dossier-channel', config.texts['channel_' + d.channel] ? tr('channel_' + d.channel) : d.channel_text);
    setText('dossier-received', formatTime(d.received_at));
    setText('dossier-appointment', formatTime(d.appointment_at));
    document.getElementById('dossier-new-date-row').hidden = !d.apology_new_date;
    setText('dossier-new-date', d.apology_new_date ? formatTime(d.apology_new_date) : '');
    setText('dossier-collect', d.postal ? tr('collect_postal')
      : (d.return_counter ? tr('counter_n', { n: d.return_counter }) : '—'));

    var steps = document.getElementById('dossier-steps');
    steps.textContent = '';
    (d.steps || []).forEach(function (step) {
      var li = document.createElement('li');
      var at = document.createElement('time');
      at.dateTime = step.at;
      at.textContent = formatTime(step.at);
      li.appendChild(at);
      var words = [step.status_text, step.action, step.unit].filter(Boolean);
      li.appendChild(document.createTextNode(words.join(' — ')));
      steps.appendChild(li);
    });

    var closed = CLOSED_STATUSES.indexOf(d.status) >= 0;
    var movable = !closed && !d.apology_new_date;
    dz.rescheduleForm.hidden = !movable;
    Array.prototype.forEach.call(dz.rescheduleForm.elements, function (control) { control.disabled = !movable; });
    dz.rescheduleNote.hidden = movable;
    dz.rescheduleNote.textContent = d.apology_new_date ? tr('reschedule_done') : (closed ? tr('reschedule_closed') : '');
    Array.prototype.forEach.call(dz.apologyForm.elements, function (control) { control.disabled = !d.apology_new_date; });
  }

  function hideDossier() {
    shown = null;
    dz.card.hidden = true;
  }

  /* Reads one dossier again (after someone else changed it) without touching the messages shown. */
  function reloadDossier(code) {
    return api('POST', '/dossiers/find', { code: code }).then(function (result) {
      if (result.ok) { showDossier(result.data); }
    }, function () {});
  }

  [dz.registerForm, dz.rescheduleForm].forEach(function (form) {
    form.addEventListener('input', function (e) {
      if (e.target.name === 'date' || e.target.name === 'time') { showDatePreview(form); }
    });
  });

  // register -------------------------------------------------------------------------
  function fillRegisterDefaults() {
    var f = dz.registerForm.elements;
    var number = view && view.counter ? view.counter.number : null;
    if (number !== null && (!f.return_counter.value || Number(f.return_counter.value) === defaultsCounter)) {
      f.return_counter.value = String(number);
      defaultsCounter = number;
    }
    if (!f.date.value) { f.date.value = defaultReturnDate(); }
    if (!f.time.value) { f.time.value = '16:00'; }
    showDatePreview(dz.registerForm);
  }

  function resetRegisterForm() {
    dz.registerForm.reset();
    defaultsCounter = null;
    fillRegisterDefaults();
    registerReady = true;
  }

  function fillFieldNames() {
    dz.fieldNames.textContent = '';
    ((view && view.services) || []).forEach(function (s) {
      var option = document.createElement('option');
      option.value = s.name_vi;               // the one-stop system records lĩnh vực in Vietnamese
      if (lang === 'en' && s.name_en) { option.label = s.name_en; }
      dz.fieldNames.appendChild(option);
    });
  }

  dz.registerForm.addEventListener('submit', function (e) {
    e.preventDefault();
    if (dossierBusy) { return; }
    var andPrint = !!(e.submitter && e.submitter.hasAttribute('data-print'));
    var f = dz.registerForm.elements;
    clearDossierMessages();
    var body = {
      procedure_name: f.procedure_name.value.trim(),
      field_name: f.field_name.value.trim(),
      owner_name: f.owner_name.value.trim(),
      channel: Number(f.channel.value),
      postal: f.postal.checked
    };
    var problems = {};
    if (!body.procedure_name) { problems.procedure_name = tr('err_required_procedure'); }
    if (!body.owner_name) { problems.owner_name = tr('err_required_owner'); }
    if (!f.date.value || !f.time.value) { problems.appointment_at = tr('err_required_date'); }
    if (f.return_counter.validity.badInput) { problems.return_counter = tr('err_return_counter'); }
    var receipt = receiptOptions(dz.registerForm);
    Object.keys(receipt.problems || {}).forEach(function (name) { problems[name] = receipt.problems[name]; });
    if (Object.keys(problems).length) {
      showFieldErrors(dz.registerForm, problems);
      dossierAlert(tr('err_fix_fields'));
      return;
    }
    if (andPrint && !selectedPrinter()) { return; }
    var code = f.code.value.trim();
    if (code) { body.code = code; }
    var ownerId = f.owner_id.value.trim();
    if (ownerId) { body.owner_id = ownerId; }
    var returnCounter = f.return_counter.value.trim();
    if (returnCounter) { body.return_counter = Number(returnCounter); }

    ensureZone().then(function () {
      body.appointment_at = isoFromWall(f.date.value, f.time.value);
      return dossierRequest('POST', '/dossiers/register', body);
    }).then(function (result) {
      if (!result) { return; }
      if (!result.ok) { showFailure(dz.registerForm, result, 'code'); return; }
      var d = result.data;
      // The reprint fields start with what this receipt carries.
      ['documents', 'sets', 'processing_time'].forEach(function (name) {
        dz.receiptForm.elements[name].value = f[name].value;
      });
      resetRegisterForm();
      dz.findInput.value = d.code;
      showDossier(d);
      switchTab('find', false);
      dossierNotice(tr('registered', { code: d.code }));
      if (!dz.dialog.open) { notify(tr('registered', { code: d.code })); }
      dz.findInput.focus();
      dz.findInput.select();
      if (andPrint) { return printSlip('receipt', receipt.options, dz.receiptForm); }
    });
  });

  // find --------------------------------------------------------------------------------
  dz.findForm.addEventListener('submit', function (e) {
    e.preventDefault();
    if (dossierBusy) { return; }
    clearDossierMessages();
    var text = dz.findInput.value.trim();
    if (!text) {
      showFieldErrors(dz.findForm, { code: tr('err_required_code') });
      return;
    }
    dossierRequest('POST', '/dossiers/find', { code: text }).then(function (result) {
      if (!result) { return; }
      if (!result.ok) {
        hideDossier();
        showFailure(dz.findForm, result, 'code');
        dz.findInput.select();
        return;
      }
      showDossier(result.data);
      dz.findInput.select();             // the next scan replaces it
    });
  });

  // print the receipt again --------------------------------------------------------------
  dz.receiptForm.addEventListener('submit', function (e) {
    e.preventDefault();
    if (dossierBusy || !shown) { return; }
    clearDossierMessages();
    var receipt = receiptOptions(dz.receiptForm);
    if (receipt.problems) {
      showFieldErrors(dz.receiptForm, receipt.problems);
      dossierAlert(tr('err_fix_fields'));
      return;
    }
    printSlip('receipt', receipt.options, dz.receiptForm);
  });

  // a new return date, once, then the apology slip ------------------------------------------
  dz.rescheduleForm.addEventListener('submit', function (e) {
    e.preventDefault();
    if (dossierBusy || !shown) { return; }
    clearDossierMessages();
    var f = dz.rescheduleForm.elements;
    if (!f.date.value || !f.time.value) {
      showFieldErrors(dz.rescheduleForm, { new_date: tr('err_required_date') });
      dossierAlert(tr('err_fix_fields'));
      return;
    }
    var code = shown.code;
    var reason = f.reason.value.trim();
    ensureZone().then(function () {
      return dossierRequest('POST', '/dossiers/reschedule',
                            { code: code, new_date: isoFromWall(f.date.value, f.time.value), reason: reason });
    }).then(function (result) {
      if (!result) { return; }
      if (!result.ok) {
        showFailure(dz.rescheduleForm, result);
        // Someone else may have moved the date or closed the dossier meanwhile: show it as it is now.
        if (result.status === 409) { reloadDossier(code); }
        return;
      }
      dz.rescheduleForm.reset();
      showDatePreview(dz.rescheduleForm);
      dz.apologyForm.elements.reason.value = reason;
      showDossier(result.data);
      dossierNotice(tr('rescheduled', { date: formatTime(result.data.apology_new_date) }));
      document.getElementById('print-apology').focus();
    });
  });

  dz.apologyForm.addEventListener('submit', function (e) {
    e.preventDefault();
    if (dossierBusy || !shown || !shown.apology_new_date) { return; }
    clearDossierMessages();
    printSlip('apology', { reason: dz.apologyForm.elements.reason.value.trim() }, dz.apologyForm);
  });

  // opening and closing -----------------------------------------------------------------
  function openDossiers() {
    if (!view || !view.counter || dz.dialog.open) { return; }
    dz.title.textContent = tr('dossier_title', { n: view.counter.number });
    clearDossierMessages();
    fillFieldNames();
    if (!registerReady) { resetRegisterForm(); } else { fillRegisterDefaults(); }
    renderPrinters(true);
    openModal(dz.dialog, null);
    switchTab(currentTab, true);
    loadPrinters(true);
    clearInterval(printersTimer);
    printersTimer = setInterval(function () { loadPrinters(false); }, 5000);
    // Defaults were computed on this machine's clock if the office's zone was not known yet.
    ensureZone().then(function () { if (dz.dialog.open) { fillRegisterDefaults(); } });
  }

  dz.dialog.addEventListener('close', function () {
    clearInterval(printersTimer);
    printersTimer = null;
  });

  ensureZone();

  // live updates -----------------------------------------------------------------
  var pollTimer = null;

  function setLiveStatus(status) {
    document.body.classList.remove('status-online', 'status-offline', 'status-refused');
    document.body.classList.add('status-' + status);
    el.liveLabel.textContent = tr(status === 'online' || status === 'refused' || status === 'offline' ? status : 'connecting');
    el.offline.hidden = status === 'online';
    if (status === 'refused') { el.offline.textContent = tr('refused'); }
    else { el.offline.textContent = el.offline.dataset.text; }
    // While the live link is down, read the state every few seconds so the screen stays close.
    if (status === 'online') {
      clearInterval(pollTimer);
      pollTimer = null;
    } else if (pollTimer === null) {
      pollTimer = setInterval(refresh, 5000);
    }
  }

  el.offline.dataset.text = el.offline.textContent;
  el.offline.hidden = true;

  var live = new window.MotcuaLive({ auth: {}, onStatus: setLiveStatus });
  ['snapshot', 'ticket_called', 'ticket_issued', 'queue_changed', 'counter_changed', 'ticket_updated']
    .forEach(function (name) { live.on(name, scheduleRefresh); });

  document.querySelector('form.sign-out').addEventListener('submit', function () {
    leaving = true;
    live.close();
    clearInterval(pollTimer);
  });

  loadCounters();
})();
