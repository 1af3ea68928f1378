/*
 * The kiosk: a citizen picks a service (optionally a priority group first) and gets a number.
 *
 * Rules this page keeps:
 * - One tap, one ticket: every tap gets an Idempotency-Key; a retry of that tap (network error,
 *   server restart) reuses it, so the server answers with the same ticket instead of a second one.
 *   Buttons of a screen that has just appeared ignore taps for a moment (a double tap must not
 *   land on the next screen).
 * - The server is the source of truth: tiles come from GET /services, waiting counts follow the
 *   live events, the print result comes from the agent through the server.
 * - Every state is explained on screen in Vietnamese or English, and every state ends by itself:
 *   idle screens return to the start, a lost connection recovers without a reload.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('kiosk-config').textContent);
  var TEXTS = config.texts;
  var FAULTS = config.faults;
  var body = document.body;
  var IDLE_TICKET_MS = Number(body.dataset.idleTicket) * 1000;
  var IDLE_STEP_MS = Number(body.dataset.idleStep) * 1000;
  var PRINT_WAIT_MS = Number(body.dataset.printWait) * 1000;
  var GUARD_MS = 450;             // a new screen ignores taps this long (double taps, bouncy fingers)
  var RECOVER_MS = 3000;          // how often to re-read while the server is unreachable
  var REFRESH_MS = 60000;         // services re-read now and then: opening hours change by the clock
  var PENDING_MS = 120000;        // a failed tap's key is reused for the same choice this long
  var ISSUE_RETRIES = [1000, 2000];
  var STORE = 'motcua.kiosk.';

  function stored(name) {
    try { return window.localStorage.getItem(STORE + name); } catch (e) { return null; }
  }
  function store(name, value) {
    try { window.localStorage.setItem(STORE + name, value); } catch (e) { /* private mode: fine */ }
  }

  if (config.kiosk) { store('code', config.kiosk); }
  if (config.token) {
    store('token', config.token);
    // The token stays in this browser, not in the address bar for anyone to read.
    var url = new URL(window.location.href);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search);
  }
  var kioskCode = config.kiosk || stored('code') || config.default_kiosk;
  var token = config.token || stored('token');

  var el = {};
  ['office-name', 'lang-button', 'offline-banner', 'start-title', 'screen-start', 'screen-priority', 'screen-issuing',
    'screen-ticket', 'screen-fatal', 'priority-chosen', 'priority-chosen-text', 'priority-cancel',
    'printer-notice', 'message', 'message-text', 'message-close', 'tiles', 'no-services', 'priority-button',
    'priority-groups-preview', 'groups', 'priority-back', 'ticket-number', 'ticket-service', 'ticket-priority',
    'ticket-ahead', 'ticket-wait', 'print-status', 'done-button', 'fatal-staff', 'fatal-detail'
  ].forEach(function (id) {
    el[id.replace(/-([a-z])/g, function (m, c) { return c.toUpperCase(); })] = document.getElementById(id);
  });
  var screens = {
    start: el.screenStart, priority: el.screenPriority, issuing: el.screenIssuing,
    ticket: el.screenTicket, fatal: el.screenFatal
  };

  var state = {
    lang: 'vi',
    screen: 'start',
    office: null,
    services: null,          // active services, in the office's order
    groups: [],
    waiting: {},             // service code → people waiting
    priority: null,          // the chosen priority group (code) while choosing a service
    message: null,           // {vi, en}: why the last tap gave no ticket
    live: 'connecting',
    unreachable: false,      // the last HTTP request failed to reach the server
    fatal: null,             // {kind, detail_vi, detail_en}: this kiosk is refused
    kioskState: null,        // GET /kiosks/<code> or printer_status_changed: {agent_online, printer}
    ticket: null,
    print: null,             // {state: printing|printed|fault|slow|none, fault}
    busy: false,
    pending: null            // {service, priority, key, at}: a tap whose outcome is unknown
  };
  var results = {};          // ticket id → the latest print_status_changed for it (may come before the ticket)
  var resultOrder = [];
  var tileButtons = {};
  var tileSignature = '';
  var timers = { idle: null, countdown: null, guard: null, print: null, recover: null };
  var idleDeadline = 0;

  // words ----------------------------------------------------------------------------
  function tr(key, values) {
    var pair = TEXTS[key];
    var text = pair ? pair[state.lang === 'en' ? 1 : 0] : key;
    Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
    return text;
  }

  function pick(vi, en) { return state.lang === 'en' ? (en || vi) : (vi || en); }

  function serviceName(s) { return pick(s.name_vi, s.name_en); }

  function waitText(seconds) {
    var s = Math.max(0, Number(seconds) || 0);
    if (s < 60) { return tr('wait_under_minute'); }
    var minutes = Math.ceil(s / 60);
    if (minutes < 90) { return tr('wait_minutes', { m: minutes }); }
    return tr('wait_hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
  }

  // talking to the server --------------------------------------------------------------
  function api(method, path, payload, options) {
    options = options || {};
    var headers = { 'Accept': 'application/json' };
    if (payload !== undefined) { headers['Content-Type'] = 'application/json'; }
    if (token) { headers['Authorization'] = 'Bearer ' + token; }
    if (options.key) { headers['Idempotency-Key'] = options.key; }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, options.timeout || 8000) : null;
    return fetch('/api/v1' + path, {
      // No cookies: the kiosk speaks for itself (or its device token), never for someone signed in here.
      method: method, headers: headers, cache: 'no-store', credentials: 'omit',
      body: payload === undefined ? undefined : JSON.stringify(payload),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      clearTimeout(timer);
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (response.ok && (data === null || typeof data !== 'object')) {
          throw new Error('not an answer from the server');   // e.g. a proxy's page: as good as unreachable
        }
        return { ok: response.ok, status: response.status, data: data };
      });
    }, function (err) {
      clearTimeout(timer);
      throw err;
    });
  }

  function errorOf(result) {
    return (result.data && result.data.error) || {};
  }

  function reached() {
    if (state.unreachable) {
      state.unreachable = false;
      render();
    }
  }

  function unreachable() {
    state.unreachable = true;
    render();
    scheduleRecovery();
  }

  /* While the server cannot be reached, read again every few seconds until it answers. */
  function scheduleRecovery() {
    if (timers.recover !== null) { return; }
    timers.recover = setTimeout(function () {
      timers.recover = null;
      if (state.unreachable || state.live === 'offline') {
        loadServices();
        loadKioskState();
      }
    }, RECOVER_MS);
  }

  /* A refusal that staff must fix: unknown kiosk, bad or revoked device token. */
  function refuse(code, message_vi, message_en) {
    var kind = code === 'kiosk_not_found' ? 'kiosk'
      : code === 'kiosk_token_required' ? 'token_required'
        : (code === 'invalid_token' || code === 'device_token_required' || code === 'device_scope' ||
           code === 'device_kind_mismatch') ? 'token' : 'other';
    if (kind === 'other' && state.fatal) { return; }     // keep the more precise reason already shown
    state.fatal = { kind: kind, detail_vi: message_vi || '', detail_en: message_en || message_vi || '' };
    state.busy = false;
    state.priority = null;
    state.message = null;
    if (state.screen === 'ticket') {   // a number on screen stays until its citizen is done with it
      render();
      return;
    }
    show('fatal');
  }

  function loadServices() {
    return api('GET', '/services').then(function (result) {
      reached();
      if (!result.ok) {
        var error = errorOf(result);
        if (result.status === 401 || result.status === 403) {
          refuse(error.code, error.message_vi, error.message_en);
        } else if (result.status >= 500) {
          unreachable();
        }
        return;
      }
      state.office = result.data.office;
      state.services = result.data.services.filter(function (s) { return s.active; });
      state.groups = result.data.priority_groups || [];
      state.services.forEach(function (s) { state.waiting[s.code] = s.waiting; });
      if (state.priority && !state.groups.some(function (g) { return g.code === state.priority; })) {
        state.priority = null;
      }
      render();
    }, unreachable);
  }

  function loadKioskState() {
    return api('GET', '/kiosks/' + encodeURIComponent(kioskCode)).then(function (result) {
      reached();
      if (result.ok) {
        setKioskState(result.data);
      } else if (result.status === 404 || result.status === 401 || result.status === 403) {
        var error = errorOf(result);
        refuse(error.code || 'kiosk_not_found', error.message_vi, error.message_en);
      }
    }, unreachable);
  }

  function setKioskState(data) {
    if (!data || (data.kiosk && data.kiosk !== kioskCode)) { return; }
    state.kioskState = { agent_online: !!data.agent_online, printer: data.printer || null };
    if (state.print && state.print.state === 'slow') { state.print.fault = printerFault() || null; }
    render();
  }

  /* What the last known printer state says is wrong, as one of the server's fault texts. */
  function printerFault() {
    var k = state.kioskState;
    if (!k || !k.printer) { return k && !k.agent_online ? FAULTS.agent_offline : null; }
    if (!k.agent_online) { return FAULTS.agent_offline; }
    if (k.printer.paper === 'out') { return FAULTS.paper_out; }
    if (k.printer.online === false) { return FAULTS.offline; }
    return null;
  }

  // screens and idling ------------------------------------------------------------------
  function show(name) {
    if (state.fatal && name !== 'fatal') { name = 'fatal'; }
    var changed = state.screen !== name;
    state.screen = name;
    body.dataset.screen = name;
    Object.keys(screens).forEach(function (key) { screens[key].hidden = key !== name; });
    if (changed) {
      // The finger that tapped the last screen may tap again here by accident.
      var screen = screens[name];
      screen.setAttribute('aria-disabled', 'true');
      clearTimeout(timers.guard);
      timers.guard = setTimeout(function () { screen.removeAttribute('aria-disabled'); }, GUARD_MS);
      Object.keys(screens).forEach(function (key) {
        if (key !== name) { screens[key].removeAttribute('aria-disabled'); }
      });
    }
    render();
    armIdle();
  }

  function pristine() {
    return state.screen === 'start' && state.lang === 'vi' && !state.priority && !state.message;
  }

  /* Every screen but the untouched start screen goes back to it after a while without a touch. */
  function armIdle() {
    clearTimeout(timers.idle);
    clearInterval(timers.countdown);
    timers.idle = timers.countdown = null;
    idleDeadline = 0;
    if (state.screen === 'fatal' || state.screen === 'issuing' || pristine()) { renderCountdown(); return; }
    var ms = IDLE_STEP_MS;
    if (state.screen === 'ticket') {
      var p = state.print ? state.print.state : 'none';
      // The citizen waits for the slip: the countdown starts once the printer has answered (or
      // PRINT_WAIT_MS has passed). Without a slip, the number needs time to be noted down.
      if (p === 'printing') { renderCountdown(); return; }
      ms = p === 'printed' ? IDLE_TICKET_MS : IDLE_TICKET_MS * 2;
    }
    idleDeadline = Date.now() + ms;
    timers.idle = setTimeout(startOver, ms);
    if (state.screen === 'ticket') { timers.countdown = setInterval(renderCountdown, 250); }
    renderCountdown();
  }

  function startOver() {
    state.lang = 'vi';
    state.priority = null;
    state.message = null;
    state.ticket = null;
    state.print = null;
    clearTimeout(timers.print);
    show('start');
    loadServices();
  }

  ['pointerdown', 'keydown'].forEach(function (type) {
    document.addEventListener(type, function () { if (idleDeadline) { armIdle(); } }, true);
  });

  // Taps on a screen that is still arming, or while a ticket is being issued, do nothing.
  document.addEventListener('click', function (e) {
    var screen = e.target.closest && e.target.closest('.screen');
    if (screen && screen.getAttribute('aria-disabled') === 'true') {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // No zoom, selection, drag or context menu on a public touchscreen.
  ['contextmenu', 'selectstart', 'dragstart', 'gesturestart'].forEach(function (type) {
    document.addEventListener(type, function (e) { e.preventDefault(); }, { passive: false });
  });
  document.addEventListener('touchmove', function (e) { if (e.touches && e.touches.length > 1) { e.preventDefault(); } },
    { passive: false });

  // rendering ----------------------------------------------------------------------------
  function canIssue() {
    return !state.busy && !state.fatal && !state.unreachable && state.live !== 'offline';
  }

  function render() {
    document.documentElement.lang = state.lang;
    document.title = tr('page_title');
    Array.prototype.forEach.call(document.querySelectorAll('[data-t]'), function (node) {
      node.textContent = tr(node.dataset.t);
    });
    el.langButton.textContent = tr('lang_switch');
    el.langButton.lang = state.lang === 'en' ? 'vi' : 'en';
    el.officeName.textContent = state.office ? pick(state.office.name, state.office.name_en) : '';

    body.dataset.live = state.live;
    var offline = !state.fatal && (state.unreachable || state.live === 'offline');
    el.offlineBanner.hidden = !offline;
    body.classList.toggle('is-offline', offline);

    renderStart();
    renderGroups();
    renderTicket();
    renderFatal();
    renderCountdown();
  }

  function renderStart() {
    var group = state.priority && state.groups.filter(function (g) { return g.code === state.priority; })[0];
    el.priorityChosen.hidden = !group;
    el.startTitle.hidden = !!group;          // the choice takes the title's place: room for the tiles
    el.priorityChosenText.textContent = group ? tr('priority_chosen', { group: pick(group.name_vi, group.name_en) }) : '';
    body.classList.toggle('priority-mode', !!group);

    var fault = printerFault();
    var paperOut = state.kioskState && state.kioskState.printer && state.kioskState.printer.paper === 'out';
    // Before a tap, say so only for a printer that exists (an agent has reported for this kiosk).
    var notice = state.kioskState && state.kioskState.printer ? fault : null;
    el.printerNotice.hidden = !notice || !!state.message;   // one notice at a time: the newest matters most
    el.printerNotice.textContent = notice ? tr(paperOut ? 'printer_paper_out' : 'printer_down') : '';
    el.printerNotice.dataset.code = notice ? (paperOut ? 'paper_out' : 'printer_down') : '';

    el.message.hidden = !state.message;
    el.messageText.textContent = state.message ? pick(state.message.vi, state.message.en) : '';

    el.priorityButton.hidden = !state.groups.length || !!group;
    el.priorityButton.disabled = !canIssue();
    el.priorityGroupsPreview.textContent = state.groups.slice(0, 3).map(function (g) {
      return pick(g.name_vi, g.name_en);
    }).join(', ') + (state.groups.length > 3 ? ', …' : '');

    renderTiles();
  }

  function renderTiles() {
    if (state.services === null) { return; }
    var services = state.services;
    var signature = services.map(function (s) { return s.code; }).join('|');
    if (signature !== tileSignature) {
      // Rebuilt only when the list itself changes: a tile under a finger must not be replaced.
      tileSignature = signature;
      tileButtons = {};
      el.tiles.textContent = '';
      services.forEach(function (s) {
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'tile';
        b.dataset.service = s.code;
        b.innerHTML = '<span class="tile-mark" aria-hidden="true"></span><span class="tile-name"></span>' +
          '<span class="tile-info"></span>';
        b.addEventListener('click', function () { takeNumber(s.code); });
        el.tiles.appendChild(b);
        tileButtons[s.code] = b;
      });
      el.tiles.removeAttribute('aria-busy');
    }
    var columns = body.clientWidth >= body.clientHeight ? 4 : 2;
    if (services.length <= 4 && body.clientWidth >= body.clientHeight) { columns = Math.max(1, Math.min(2, services.length)); }
    el.tiles.style.setProperty('--columns', String(columns));
    el.tiles.style.setProperty('--rows', String(Math.max(1, Math.ceil(services.length / columns))));
    el.noServices.hidden = services.length > 0;

    var usable = canIssue();
    services.forEach(function (s) {
      var b = tileButtons[s.code];
      var reason = s.open_now ? '' : (s.limit_reached ? 'closed_limit' : 'closed_hours');
      b.querySelector('.tile-mark').textContent = s.numbering === 'block' ? String(s.block || '') : (s.prefix || '');
      b.querySelector('.tile-name').textContent = serviceName(s);
      var info = b.querySelector('.tile-info');
      info.textContent = reason ? tr(reason) : tr('waiting_n', { n: state.waiting[s.code] || 0 });
      b.classList.toggle('closed', !!reason);
      b.dataset.state = reason ? (s.limit_reached ? 'limit' : 'closed') : 'open';
      b.disabled = !!reason || !usable;
    });
  }

  function renderGroups() {
    var signature = state.groups.map(function (g) { return g.code + ':' + pick(g.name_vi, g.name_en); }).join('|');
    if (el.groups.dataset.signature !== signature) {
      el.groups.dataset.signature = signature;
      el.groups.textContent = '';
      state.groups.forEach(function (g) {
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'group';
        b.dataset.group = g.code;
        b.textContent = pick(g.name_vi, g.name_en);
        b.addEventListener('click', function () { choosePriority(g.code); });
        el.groups.appendChild(b);
      });
    }
  }

  function renderTicket() {
    var t = state.ticket;
    if (!t) { return; }
    var service = (state.services || []).filter(function (s) { return s.code === t.service; })[0];
    el.ticketNumber.textContent = t.number;
    el.ticketService.textContent = service ? serviceName(service) : t.service;
    el.ticketPriority.hidden = !t.priority;
    el.ticketAhead.textContent = t.position === null || t.position === undefined ? '—' : String(t.position);
    el.ticketWait.textContent = waitText(t.estimated_wait_s);

    var p = state.print || { state: 'none' };
    var text;
    if (p.state === 'printing') { text = tr('printing'); }
    else if (p.state === 'printed') { text = tr('printed'); }
    else if (p.state === 'none') { text = tr('no_printer'); }
    else if (p.fault) { text = pick(p.fault.message_vi, p.fault.message_en); }
    else { text = tr('print_slow'); }
    el.printStatus.textContent = text;
    el.printStatus.dataset.state = p.state;
    el.printStatus.dataset.code = (p.fault && p.fault.code) || '';
  }

  function renderCountdown() {
    if (state.screen !== 'ticket' || !idleDeadline) {
      el.doneButton.textContent = tr('done');
      return;
    }
    var s = Math.max(0, Math.ceil((idleDeadline - Date.now()) / 1000));
    el.doneButton.textContent = tr('done_in', { s: s });
  }

  function renderFatal() {
    var f = state.fatal;
    if (!f) { return; }
    el.fatalStaff.textContent = tr('fatal_' + f.kind, { kiosk: kioskCode });
    el.fatalDetail.textContent = pick(f.detail_vi, f.detail_en);
  }

  // choosing ------------------------------------------------------------------------------
  el.langButton.addEventListener('click', function () {
    state.lang = state.lang === 'en' ? 'vi' : 'en';
    render();
    armIdle();
  });

  el.priorityButton.addEventListener('click', function () {
    if (!canIssue()) { return; }
    state.message = null;
    show('priority');
  });

  el.priorityBack.addEventListener('click', function () { show('start'); });

  function choosePriority(code) {
    state.priority = code;
    state.message = null;
    show('start');
  }

  el.priorityCancel.addEventListener('click', function () {
    state.priority = null;
    render();
    armIdle();
  });

  el.messageClose.addEventListener('click', function () {
    state.message = null;
    render();
    armIdle();
  });

  el.doneButton.addEventListener('click', startOver);

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return 'kiosk-' + Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); })
      .join('');
  }

  // issuing ---------------------------------------------------------------------------------
  function takeNumber(service) {
    if (!canIssue() || state.screen !== 'start') { return; }
    var priority = state.priority;
    var lang = state.lang;
    var pending = state.pending;
    // The same choice again soon after a tap whose answer was lost: it may have made a ticket.
    var key = pending && pending.service === service && pending.priority === priority &&
      Date.now() - pending.at < PENDING_MS ? pending.key : newKey();
    state.pending = { service: service, priority: priority, key: key, at: Date.now() };
    state.busy = true;
    state.message = null;
    show('issuing');

    var payload = { service: service, priority: priority, kiosk: kioskCode, lang: lang };
    var attempt = 0;
    function send() {
      api('POST', '/tickets', payload, { key: key, timeout: 10000 }).then(function (result) {
        reached();
        if (result.ok) {
          state.pending = null;
          state.busy = false;
          issued(result.data, result.status);
        } else if (result.status >= 500 && attempt < ISSUE_RETRIES.length) {
          setTimeout(send, ISSUE_RETRIES[attempt++]);
        } else {
          state.busy = false;
          if (result.status < 500) { state.pending = null; }   // answered: no ticket was made
          refused(result);
        }
      }, function () {
        if (attempt < ISSUE_RETRIES.length) {
          setTimeout(send, ISSUE_RETRIES[attempt++]);
          return;
        }
        state.busy = false;
        state.message = { vi: TEXTS.issue_failed_network[0], en: TEXTS.issue_failed_network[1] };
        show('start');
        unreachable();
      });
    }
    send();
  }

  function refused(result) {
    var error = errorOf(result);
    if (result.status === 401 || result.status === 403) {
      refuse(error.code, error.message_vi, error.message_en);
      return;
    }
    state.message = error.message_vi
      ? { vi: error.message_vi, en: error.message_en || error.message_vi }
      : { vi: TEXTS.issue_failed[0], en: TEXTS.issue_failed[1] };
    show('start');
    loadServices();     // closed or limit reached: the tiles say so now
  }

  function issued(ticket, status) {
    state.ticket = ticket;
    state.priority = null;
    clearTimeout(timers.print);
    var printerKnown = state.kioskState && state.kioskState.printer;
    if (ticket.print_job || (status === 200 && printerKnown)) {
      // A replayed ticket comes without its job: its print result is still matched by ticket id.
      state.print = { state: 'printing', fault: null };
      timers.print = setTimeout(printTooSlow, PRINT_WAIT_MS);
    } else {
      state.print = { state: 'none', fault: null };
    }
    if (results[ticket.id]) { applyResult(results[ticket.id]); }
    show('ticket');
  }

  /* No answer from the printer in time: say what the last known printer state suggests. */
  function printTooSlow() {
    if (!state.print || state.print.state !== 'printing') { return; }
    state.print = { state: 'slow', fault: printerFault() };
    render();
    armIdle();
    loadKioskState();
  }

  function remember(payload) {
    var id = payload.job.ticket_id;
    if (id === null || id === undefined) { return; }
    if (!results[id]) { resultOrder.push(id); }
    results[id] = payload;
    while (resultOrder.length > 50) { delete results[resultOrder.shift()]; }
  }

  function applyResult(payload) {
    var job = payload.job;
    if (!state.ticket || job.ticket_id !== state.ticket.id || !state.print) { return; }
    if (job.status === 'printed') {
      clearTimeout(timers.print);
      state.print = { state: 'printed', fault: null };
    } else if (job.status === 'failed' || job.status === 'uncertain') {
      clearTimeout(timers.print);
      var fault = payload.fault || FAULTS[job.status === 'uncertain' ? 'uncertain' : 'error'];
      state.print = { state: 'fault', fault: fault };
    } else {
      return;
    }
    render();
    if (state.screen === 'ticket') { armIdle(); }
  }

  // live ------------------------------------------------------------------------------------
  var auth = { kiosk: kioskCode };
  if (token) { auth.token = token; }
  var live = new window.MotcuaLive({
    auth: auth,
    onStatus: function (status, detail) {
      var was = state.live;
      state.live = status;
      if (status === 'refused') {
        // {code, message, message_en}, or python-socketio's {message, data: {...}} shape.
        detail = detail || {};
        var data = detail.data && typeof detail.data === 'object' ? detail.data : detail;
        var message = typeof detail.message === 'string' && detail.message.charAt(0) !== '{' ? detail.message : '';
        refuse(data.code, data.message_vi || message, data.message_en);
        return;
      }
      if (status === 'online') {
        if (state.fatal) {      // staff fixed the setting: start afresh
          state.fatal = null;
          if (state.screen === 'fatal') { startOver(); }
          loadKioskState();
        } else if (was !== 'online') {
          loadServices();
          loadKioskState();
        }
      } else if (status === 'offline') {
        scheduleRecovery();
      }
      render();
    }
  });

  live.on('snapshot', function (snapshot) {
    (snapshot && snapshot.waiting || []).forEach(function (w) { state.waiting[w.service] = w.waiting; });
    render();
  });
  live.on('queue_changed', function (e) {
    if (e && e.service) {
      state.waiting[e.service] = e.waiting;
      renderTiles();
    }
  });
  live.on('printer_status_changed', setKioskState);
  live.on('print_status_changed', function (payload) {
    if (!payload || !payload.job || payload.device && payload.device !== kioskCode) { return; }
    remember(payload);
    applyResult(payload);
  });

  window.addEventListener('resize', renderTiles);
  setInterval(function () {
    if (state.screen === 'start' && !state.busy && !state.fatal) { loadServices(); }
  }, REFRESH_MS);

  render();
  loadServices();
  loadKioskState();
})();
