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
  function api(method, path, body) {
    var options = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
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
      resume: !!counter && !active
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
    return api('POST', '/counters/' + counterId + path, body).then(function (result) {
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
    }
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
    return !!target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
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
      if (!busy) { notify(tr('not_now')); }
      return;
    }
    button.click();
  });

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
