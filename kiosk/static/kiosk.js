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
 * - A dossier can be looked up from any screen by scanning its receipt, at the kiosk box's scanner
 *   (the agent sends the scan to the server, which answers with dossier_scanned) or with a
 *   keyboard-wedge scanner typing into this page; or typed on the lookup screen's keypad. The page
 *   shows only what the server's public view holds, and forgets it when the citizen is done.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('kiosk-config').textContent);
  var TEXTS = config.texts;
  var FAULTS = config.faults;
  var body = document.body;
  var IDLE_TICKET_MS = Number(body.dataset.idleTicket) * 1000;
  var IDLE_STEP_MS = Number(body.dataset.idleStep) * 1000;
  var IDLE_RESULT_MS = Number(body.dataset.idleResult) * 1000;
  var PRINT_WAIT_MS = Number(body.dataset.printWait) * 1000;
  var GUARD_MS = 450;             // a new screen ignores taps this long (double taps, bouncy fingers)
  var RECOVER_MS = 3000;          // how often to re-read while the server is unreachable
  var REFRESH_MS = 60000;         // services re-read now and then: opening hours change by the clock
  var PENDING_MS = 120000;        // a failed tap's key is reused for the same choice this long
  var ISSUE_RETRIES = [1000, 2000];
  var STORE = 'motcua.kiosk.';
  var STATUSES = config.statuses;          // dossier status → [vi, en], the citizen's words
  var MAX_ENTRY = 60;                      // a dossier code has at most 35 + 12 characters
  var ENDED = [3, 7, 8, 10];               // statuses with nothing left to collect
  // A keyboard-wedge scanner types a whole code in a burst: keys typically less than WEDGE_GAP_MS apart
  // (the median gap counts, so a few late keys from a busy browser do not matter), at least
  // WEDGE_MIN_CHARS characters, ending in Enter. Only a pause of WEDGE_BREAK_MS ends a burst, so the
  // Enter between the lines of a QR text block is not taken for the end. A person types far slower.
  var WEDGE_GAP_MS = Number(body.dataset.wedgeGap);
  var WEDGE_BREAK_MS = Math.max(300, 6 * WEDGE_GAP_MS);
  var WEDGE_MIN_CHARS = 8;
  var WEDGE_MAX_CHARS = 2000;              // what the lookup accepts; longer is noise
  // Tile type: at most TILE_MAX_REM, as large as every tile allows (readable for elderly citizens at
  // arm's length); the waiting count about three quarters of the name, never under 16 px unless the
  // names themselves are smaller.
  var TILE_MAX_REM = 1.7;
  var TILE_MIN_PX = 12;
  var TILE_INFO_MIN_PX = 16;

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
    'ticket-ahead', 'ticket-wait', 'print-status', 'done-button', 'fatal-staff', 'fatal-detail',
    'scan-sink', 'lookup-button', 'screen-lookup', 'screen-searching', 'screen-result', 'lookup-scan', 'lookup-error',
    'lookup-error-title', 'lookup-error-text', 'lookup-entry', 'keypad', 'lookup-back', 'key-backspace', 'key-clear',
    'key-ok', 'result-code', 'result-owner', 'result-procedure', 'result-status', 'result-late', 'result-received',
    'result-appointment', 'result-new-date-row', 'result-new-date', 'result-collect-row', 'result-collect',
    'result-apology', 'result-steps-box', 'result-steps', 'result-again', 'result-done'
  ].forEach(function (id) {
    el[id.replace(/-([a-z])/g, function (m, c) { return c.toUpperCase(); })] = document.getElementById(id);
  });
  var screens = {
    start: el.screenStart, priority: el.screenPriority, issuing: el.screenIssuing,
    ticket: el.screenTicket, fatal: el.screenFatal, lookup: el.screenLookup, searching: el.screenSearching,
    result: el.screenResult
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
    pending: null,           // {service, priority, key, at}: a tap whose outcome is unknown
    entry: '',               // the dossier code typed on the keypad
    lookupError: null,       // {kind: not_found|malformed|limited|failed, vi, en}: why the last lookup found nothing
    dossier: null,           // the public view of the dossier on the result screen
    lookupSeq: 0             // only the answer to the latest lookup or scan counts
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
    if (state.screen === 'fatal' || state.screen === 'issuing' || state.screen === 'searching' || pristine()) {
      renderCountdown();
      return;
    }
    var ms = state.screen === 'result' ? IDLE_RESULT_MS : IDLE_STEP_MS;
    if (state.screen === 'ticket') {
      var p = state.print ? state.print.state : 'none';
      // The citizen waits for the slip: the countdown starts once the printer has answered (or
      // PRINT_WAIT_MS has passed). Without a slip, the number needs time to be noted down.
      if (p === 'printing') { renderCountdown(); return; }
      ms = p === 'printed' ? IDLE_TICKET_MS : IDLE_TICKET_MS * 2;
    }
    idleDeadline = Date.now() + ms;
    timers.idle = setTimeout(startOver, ms);
    if (state.screen === 'ticket' || state.screen === 'result') { timers.countdown = setInterval(renderCountdown, 250); }
    renderCountdown();
  }

  function startOver() {
    state.lang = 'vi';
    state.priority = null;
    state.message = null;
    state.ticket = null;
    state.print = null;
    forgetDossier();
    clearTimeout(timers.print);
    show('start');
    loadServices();
  }

  /* The next citizen finds nothing of the last one's dossier, on screen or in the page. */
  function forgetDossier() {
    state.entry = '';
    state.lookupError = null;
    state.dossier = null;
    state.lookupSeq += 1;       // an answer still on its way is not shown
    renderResult();
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
    renderLookup();
    renderResult();
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

    el.lookupButton.disabled = !!state.fatal || state.unreachable || state.live === 'offline';
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
    el.tiles.classList.toggle('dense', Math.ceil(services.length / columns) > 5);
    fitTiles();
  }

  /* One type size for every tile: the largest at which each name (wrapped onto as many lines as it
     needs) and its waiting count fit inside the tile, so many services mean more lines, not tiny text. */
  var fitSignature = '';
  function fitTiles() {
    var buttons = Object.keys(tileButtons).map(function (code) { return tileButtons[code]; });
    if (!buttons.length || el.tiles.offsetParent === null) { return; }    // not on screen: fitted when shown
    var signature = [body.clientWidth, body.clientHeight, el.tiles.clientHeight, el.tiles.className].concat(
      buttons.map(function (b) { return b.textContent + (b.disabled ? '0' : '1'); })).join('|');
    if (signature === fitSignature) { return; }
    fitSignature = signature;
    var rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    var low = TILE_MIN_PX;
    var high = Math.floor(rem * TILE_MAX_REM);
    if (!tilesFit(high)) {
      while (high - low > 1) {           // fits at low (or nothing fits: low is the least bad)
        var middle = Math.floor((low + high) / 2);
        if (tilesFit(middle)) { low = middle; } else { high = middle; }
      }
      tilesFit(low);
    }
  }

  function tilesFit(size) {
    el.tiles.style.setProperty('--tile-name-size', size + 'px');
    var info = Math.max(Math.min(TILE_INFO_MIN_PX, size), Math.round(size * 0.74));
    el.tiles.style.setProperty('--tile-info-size', info + 'px');
    return Object.keys(tileButtons).every(function (code) {
      var b = tileButtons[code];
      var style = getComputedStyle(b);
      var width = b.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      var height = b.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      var shown = Array.prototype.filter.call(b.children, function (c) { return c.offsetHeight > 0; });
      var needed = (shown.length - 1) * (parseFloat(style.rowGap) || 0);
      var widest = 0;
      shown.forEach(function (c) {
        needed += c.offsetHeight;
        widest = Math.max(widest, c.offsetWidth);
      });
      return needed <= height + 0.5 && widest <= width + 0.5;
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
    el.ticketWait.textContent = window.motcuaWaitText(t.estimated_wait_s, tr);

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
    var s = Math.max(0, Math.ceil((idleDeadline - Date.now()) / 1000));
    el.doneButton.textContent = state.screen === 'ticket' && idleDeadline ? tr('done_in', { s: s }) : tr('done');
    el.resultDone.textContent = state.screen === 'result' && idleDeadline ? tr('done_in', { s: s }) : tr('done');
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

  // looking up a dossier ------------------------------------------------------------------------
  var MALFORMED = ['malformed_code', 'bad_date', 'bad_sequence', 'agency_too_long', 'no_code_in_url', 'no_code_label',
    'empty', 'too_long'];
  var VN_TIME = new Intl.DateTimeFormat('en-GB', {
    timeZone: config.time_zone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23'
  });

  /* An instant from the server (ISO 8601, UTC) as the office's calendar shows it: dd/mm/yyyy. */
  function localParts(iso) {
    var date = iso ? new Date(iso) : null;
    if (!date || isNaN(date.getTime())) { return null; }
    var parts = {};
    VN_TIME.formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }

  function dateText(iso) {
    var p = localParts(iso);
    return p ? p.day + '/' + p.month + '/' + p.year : '—';
  }

  function dateTimeText(iso) {
    var p = localParts(iso);
    return p ? p.day + '/' + p.month + '/' + p.year + ' ' + p.hour + ':' + p.minute : '—';
  }

  function statusWords(status) {
    var words = STATUSES[String(status)];
    return words ? pick(words[0], words[1]) : '';
  }

  function collectText(d) {
    if (ENDED.indexOf(d.status) >= 0) { return ''; }
    if (d.postal) { return tr('collect_postal'); }
    if (d.return_counter) { return tr('collect_counter', { n: d.return_counter }); }
    return tr('collect_desk');
  }

  function renderLookup() {
    var empty = !state.entry;
    el.lookupEntry.dataset.empty = String(empty);
    el.lookupEntry.classList.toggle('long', state.entry.length > 26);
    el.lookupEntry.textContent = empty ? tr('lookup_example') : state.entry;
    el.keyOk.disabled = empty;
    el.keyBackspace.disabled = empty;
    el.keyClear.disabled = empty;
    var error = state.lookupError;
    el.lookupError.hidden = !error;
    el.lookupScan.hidden = !!error;          // one notice at a time: the error says what to do
    el.lookupError.dataset.kind = error ? error.kind : '';
    // The server's words say what is wrong; ours say what to do about it.
    var title = error && TEXTS['lookup_' + error.kind] ? tr('lookup_' + error.kind) : '';
    el.lookupErrorTitle.textContent = title;
    el.lookupErrorTitle.hidden = !title;
    el.lookupErrorText.textContent = error ? pick(error.vi, error.en) +
      (error.kind === 'malformed' ? ' ' + tr('lookup_malformed_hint') : '') : '';
  }

  /* Only these fields of the public view ever reach the screen: nothing else personal. */
  function renderResult() {
    var d = state.dossier;
    el.screenResult.dataset.status = d ? String(d.status) : '';
    el.resultCode.textContent = d ? d.code : '';
    el.resultOwner.textContent = d ? d.owner || '—' : '';
    el.resultProcedure.textContent = d ? d.procedure || '' : '';
    el.resultStatus.textContent = d ? pick(d.status_text_vi, d.status_text_en) || statusWords(d.status) : '';
    el.resultLate.hidden = !(d && d.overdue);
    el.resultReceived.textContent = d ? dateText(d.received_at) : '';
    el.resultAppointment.textContent = d ? dateText(d.appointment_at) : '';
    var newDate = d ? d.apology_new_date : null;
    el.resultNewDateRow.hidden = !newDate;
    el.resultApology.hidden = !newDate;
    el.resultNewDate.textContent = newDate ? dateText(newDate) : '';
    var collect = d ? collectText(d) : '';
    el.resultCollectRow.hidden = !collect;
    el.resultCollect.textContent = collect;

    var steps = d && Array.isArray(d.steps) ? d.steps.slice(0, 5) : [];      // newest first
    el.resultStepsBox.hidden = !steps.length;
    el.resultSteps.textContent = '';
    steps.forEach(function (step) {
      var item = document.createElement('li');
      [['step-when', dateTimeText(step.at)], ['step-what', statusWords(step.status) || step.status_text || ''],
        ['step-detail', [step.action, step.unit].filter(Boolean).join(' · ')]].forEach(function (part) {
        if (!part[1]) { return; }
        var span = document.createElement('span');
        span.className = part[0];
        span.textContent = part[1];
        item.appendChild(span);
      });
      el.resultSteps.appendChild(item);
    });
    // The newest steps that fit: a small screen shows fewer rather than cutting one in half.
    var box = el.resultStepsBox;
    while (el.resultSteps.children.length > 1 && box.scrollHeight > box.clientHeight + 1) {
      el.resultSteps.removeChild(el.resultSteps.lastChild);
    }
  }

  function lookupKind(code, status) {
    if (code === 'dossier_not_found' || status === 404) { return 'not_found'; }
    if (code === 'too_many_lookups' || status === 429) { return 'limited'; }
    if (MALFORMED.indexOf(code) >= 0 || status === 422 || status === 400) { return 'malformed'; }
    return 'failed';
  }

  /* No dossier to show: back to the keypad, saying why in the server's words (or ours). */
  function lookupFailed(error, status) {
    var kind = lookupKind(error.code, status);
    var vi = error.message_vi;
    var en = error.message_en || vi;
    if (kind === 'failed' || !vi) {
      var key = status === 0 ? 'lookup_failed_network' : 'lookup_failed_other';
      vi = TEXTS[key][0];
      en = TEXTS[key][1];
    }
    state.dossier = null;
    state.lookupError = { kind: kind, vi: vi, en: en };
    show('lookup');
  }

  function showDossier(view) {
    state.dossier = view;
    state.entry = '';
    state.lookupError = null;
    show('result');
  }

  /* What was typed or scanned goes to the server as it is: the server finds the code in it. */
  function lookUp(text) {
    if (state.fatal || state.busy) { return; }
    state.lookupSeq += 1;
    var seq = state.lookupSeq;
    state.lookupError = null;
    show('searching');
    api('POST', '/dossiers/lookup', { text: text, kiosk: kioskCode, lang: state.lang }).then(function (result) {
      if (seq !== state.lookupSeq) { return; }
      reached();
      if (result.ok) {
        showDossier(result.data);
        return;
      }
      var error = errorOf(result);
      if (result.status === 401 || result.status === 403) {
        refuse(error.code, error.message_vi, error.message_en);
        return;
      }
      lookupFailed(error, result.status);
    }, function () {
      if (seq !== state.lookupSeq) { return; }
      lookupFailed({}, 0);
      unreachable();
    });
  }

  el.lookupButton.addEventListener('click', function () {
    forgetDossier();
    state.message = null;
    show('lookup');
  });

  el.keypad.addEventListener('click', function (e) {
    var key = e.target.closest && e.target.closest('[data-key]');
    if (!key) { return; }
    if (state.entry.length < MAX_ENTRY) { state.entry += key.dataset.key; }
    state.lookupError = null;
    renderLookup();
  });

  el.keyBackspace.addEventListener('click', function () {
    state.entry = state.entry.slice(0, -1);
    state.lookupError = null;
    renderLookup();
  });

  el.keyClear.addEventListener('click', function () {
    state.entry = '';
    state.lookupError = null;
    renderLookup();
  });

  el.keyOk.addEventListener('click', function () {
    if (state.entry) { lookUp(state.entry); }
  });

  el.lookupBack.addEventListener('click', function () {
    forgetDossier();
    show('start');
  });

  el.resultAgain.addEventListener('click', function () {
    forgetDossier();
    show('lookup');
  });

  el.resultDone.addEventListener('click', startOver);

  /* A scan, from this page's wedge scanner or the kiosk box's: from any screen but a ticket being issued. */
  function scanned(text) {
    if (state.fatal || state.busy) { return; }
    state.entry = '';
    lookUp(text);
  }

  // keyboard-wedge scanners ---------------------------------------------------------------------
  function newBurst() {
    return { text: '', chars: 0, gaps: [], last: null, ended: false, joiner: '', timer: null };
  }
  var burst = newBurst();

  function burstReset() {
    clearTimeout(burst.timer);
    burst = newBurst();
  }

  function burstText(text, at) {
    if (burst.ended) {
      if (at - burst.last <= WEDGE_BREAK_MS) {     // more right after an Enter: the next line of a QR text
        clearTimeout(burst.timer);
        burst.ended = false;
        burst.text += burst.joiner;
      } else {
        burstFinish();
      }
    } else if (burst.last !== null && at - burst.last > WEDGE_BREAK_MS) {
      burstReset();                               // a pause: whatever came before was not a scan
    }
    if (burst.chars <= WEDGE_MAX_CHARS) { burst.text += text; }
    burst.chars += text.length;
    burstKey(at);
  }

  function burstKey(at) {
    if (burst.last !== null) { burst.gaps.push(Math.max(0, at - burst.last)); }
    burst.last = at;
  }

  function burstEnd(joiner, at) {
    if (burst.last === null) { return; }
    if (at - burst.last > WEDGE_BREAK_MS) {
      if (burst.ended) { burstFinish(); } else { burstReset(); }
      return;
    }
    if (burst.ended) { burst.text += burst.joiner; }     // two in a row: an empty line
    clearTimeout(burst.timer);
    burst.ended = true;
    burst.joiner = joiner;
    burstKey(at);
    burst.timer = setTimeout(burstFinish, WEDGE_BREAK_MS);
  }

  function median(values) {
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  function burstFinish() {
    var b = burst;
    burstReset();
    if (!b.ended || b.chars < WEDGE_MIN_CHARS || b.chars > WEDGE_MAX_CHARS) { return; }
    if (median(b.gaps) >= WEDGE_GAP_MS) { return; }     // typed by a person
    scanned(b.text);
  }

  // Every key is the scanner's: there is no text box, and Enter or Space must not press the last
  // button touched.
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey || e.isComposing) { return; }
    var key = e.key || '';
    if (key === 'Enter' || key === 'Tab') {
      e.preventDefault();
      if (!e.repeat) { burstEnd(key === 'Tab' ? '\t' : '\n', e.timeStamp); }
    } else if (key.length === 1 || /^[\uD800-\uDBFF][\uDC00-\uDFFF]$/.test(key)) {
      e.preventDefault();
      if (!e.repeat) { burstText(key, e.timeStamp); }
    }
  }, true);

  /* Text that arrives without a key of its own (input methods: a scanner's "ồ") lands in the sink. */
  function takeSink(e) {
    if (e.isComposing) { return; }
    var text = el.scanSink.value.replace(/\r\n?/g, '\n');
    el.scanSink.value = '';
    text.split('\n').forEach(function (line, i) {
      if (i) { burstEnd('\n', e.timeStamp); }
      if (line) { burstText(line, e.timeStamp); }
    });
  }
  el.scanSink.addEventListener('input', takeSink);
  el.scanSink.addEventListener('compositionend', takeSink);

  function focusSink() {
    if (document.activeElement !== el.scanSink) { el.scanSink.focus({ preventScroll: true }); }
  }
  el.scanSink.addEventListener('blur', function () { setTimeout(focusSink, 0); });
  window.addEventListener('focus', focusSink);
  focusSink();

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
  live.on('settings_changed', function () { loadServices(); });   // the admin changed services or hours
  live.on('printer_status_changed', setKioskState);
  live.on('print_status_changed', function (payload) {
    if (!payload || !payload.job || payload.device && payload.device !== kioskCode) { return; }
    remember(payload);
    applyResult(payload);
  });

  // A receipt scanned at the kiosk box's own scanner, looked up by the server.
  live.on('dossier_scanned', function (payload) {
    if (!payload || (payload.device && payload.device !== kioskCode) || state.fatal || state.busy) { return; }
    state.lookupSeq += 1;            // this answer wins over a lookup still on its way
    state.entry = '';
    if (payload.ok && payload.dossier) {
      showDossier(payload.dossier);
    } else {
      lookupFailed(payload.error || {}, -1);
    }
  });

  window.addEventListener('resize', function () {
    renderTiles();
    if (state.screen === 'result') { renderResult(); }
  });
  setInterval(function () {
    if (state.screen === 'start' && !state.busy && !state.fatal) { loadServices(); }
  }, REFRESH_MS);

  render();
  loadServices();
  loadKioskState();
})();
