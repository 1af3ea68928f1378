/*
 * Hall display board: the number being called, the counters and what each serves now, the last
 * calls, waiting counts per service, date and clock.
 *
 * Everything comes over Socket.IO through window.MotcuaLive: a snapshot on connect (and after any
 * gap in the event sequence), then events. The page draws only from `state`, so a snapshot simply
 * replaces what was shown. Every new call and every recall goes through the in-page queue and
 * then through announce(call), one at a time and in order: a burst is shown and heard call after
 * call, and no two announcements overlap. A call whose turn has not come yet is dropped from the
 * queue once it is over (its counter has called another number, or finished, missed or transferred
 * it): it goes to the last calls unannounced, never shown late as "now calling". While calls wait,
 * the one being made is held on screen shorter, and still said in full (DOMAIN.md: said twice). The voice
 * itself is window.MotcuaAnnouncer (announcer.js); this page picks its engine, unlocks it with the
 * first touch and shows its status.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('board-config').textContent);
  var TEXTS = config.texts;
  var HOLD_MS = Math.max(1000, (Number(config.hold_s) || 6) * 1000);   // a new call stays highlighted
  var BURST_MS = Math.max(HOLD_MS / 2, Math.min(HOLD_MS, 3000));        // …shorter while more are waiting
  var MAX_ANNOUNCE_MS = 60000;   // an announcement that never ends must not stop the queue
  var FRESH_MS = 120000;         // a call missed while offline is still announced if this recent
  var KEEP_CALLS = 40;
  // The waiting list, as board.css draws it (rem): two columns of rows sharing the list's height
  var WAIT_COLS = 2;
  var WAIT_MAX_ROW = 4.6;
  var WAIT_GAP = { full: 0.4, short: 0.25 };       // between rows
  var WAIT_MIN_ROW = { full: 2.42, short: 1.1 };   // full: names ≥ .8rem and English ≥ .75rem; short: Vietnamese only
  var NAME_MIN_REM = 0.8;                          // 16 px at 1080: a name never shrinks below this
  var PAGE_MS = 8000;                              // services that do not fit take turns, a page at a time
  var VN_OFFSET_MS = 7 * 3600 * 1000;   // Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving)
  var STORE = 'motcua.display.';
  var WEEKDAYS_VI = ['Chủ Nhật', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy'];
  var WEEKDAYS_EN = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  var MONTHS_EN = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
    'October', 'November', 'December'];

  // settings ------------------------------------------------------------------------------------
  function stored(name) {
    try { return window.localStorage.getItem(STORE + name); } catch (e) { return null; }
  }
  function store(name, value) {
    try {
      if (value) { window.localStorage.setItem(STORE + name, value); } else { window.localStorage.removeItem(STORE + name); }
    } catch (e) { /* private mode: the address still works */ }
  }

  if (config.token !== null) {
    store('token', config.token);      // "" forgets the remembered token
    // The token stays in this browser, not in the address bar for anyone to read.
    var address = new URL(window.location.href);
    address.searchParams.delete('token');
    window.history.replaceState(null, '', address.pathname + address.search);
  }
  var token = config.token !== null ? config.token || null : stored('token');
  // The sound of this board (?voice=clips|browser|chime|off), remembered like the token; "" forgets it.
  if (config.voice !== null) { store('voice', config.voice); }
  var engine = (config.voice !== null ? config.voice : stored('voice')) || 'clips';
  var officeQuery = config.office ? '?office=' + encodeURIComponent(config.office) : '';

  var el = {};
  ['office-name', 'office-name-en', 'board-scope', 'offline', 'clock', 'date-vi', 'date-en', 'now', 'now-label-vi',
    'now-label-en', 'call-number', 'call-counter', 'call-service', 'call-service-en', 'counter-list', 'recent-list',
    'no-recent', 'waiting-list', 'waiting-page', 'loading', 'refused', 'refused-staff-vi', 'refused-staff-en', 'refused-detail',
    'unlock', 'sound', 'sound-vi', 'sound-en', 'notice', 'notice-track', 'notice-vi', 'notice-en', 'notice-sep'
  ].forEach(function (id) {
    el[id.replace(/-([a-z])/g, function (m, c) { return c.toUpperCase(); })] = document.getElementById(id);
  });

  var state = {
    loaded: false,
    office: null,
    businessDate: null,
    board: null,          // {counters: [numbers], services: [codes]} when this board shows part of the hall
    counters: [],         // in the office's order: {number, name, name_en, state, reason, current}
    waiting: [],          // [{service, name_vi, name_en, waiting}]
    names: {},            // service code → {vi, en}
    calls: [],            // newest first: {ticket, number, service, counter, recall, at, shown, over, dropped}
    announcing: null,     // the call the queue is busy with: shown as the current call
    highlighted: null,    // the call announce() highlights
    skewMs: 0,            // server clock minus this machine's clock
    live: 'connecting',
    refused: null,        // {code, vi, en}: the server refuses this board
    sound: null,          // the announcer's status: {wanted, engine, reason, detail, reasons, locked}
    notice: null          // the admin's notice {vi, en}, or null
  };
  var queue = [];         // calls waiting for their turn, oldest first
  var retime = noop;      // the current call's hold looks again at the queue (announce sets it)

  // words ---------------------------------------------------------------------------------------
  function tr(key, lang, values) {
    var text = (TEXTS[key] || [key, key])[lang === 'en' ? 1 : 0];
    Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
    return text;
  }

  function serviceName(code) {
    return state.names[code] || { vi: code || '', en: '' };
  }

  function node(tag, className, text) {
    var n = document.createElement(tag);
    if (className) { n.className = className; }
    if (text !== undefined && text !== null) { n.textContent = text; }
    return n;
  }

  function setText(target, text) {
    if (target.textContent !== text) { target.textContent = text; }   // no needless change for screen readers
  }

  /* HTTP as this board: its device token if any, never the cookies of someone signed in on this browser. */
  function apiHeaders() {
    var headers = { 'Accept': 'application/json' };
    if (token) { headers['Authorization'] = 'Bearer ' + token; }
    return headers;
  }

  function noop() {}

  function serverNow() { return Date.now() + state.skewMs; }

  // what this board shows ---------------------------------------------------------------------
  function showsCounter(number) {
    return !state.board || (state.board.counters || []).indexOf(number) >= 0;
  }

  function showsService(code) {
    return !state.board || (state.board.services || []).indexOf(code) >= 0;
  }

  function counterRow(number) {
    for (var i = 0; i < state.counters.length; i++) {
      if (state.counters[i].number === number) { return state.counters[i]; }
    }
    return null;
  }

  function isCurrent(call) {
    var row = counterRow(call.counter);
    return !!row && row.current === call.number;
  }

  /* The call the big panel shows: the one being announced (until its sound is over), else the latest
     one announced while its ticket is still being served at that counter — never a call that is over. */
  function heroCall() {
    if (state.announcing) { return state.announcing; }
    for (var i = 0; i < state.calls.length; i++) {
      var call = state.calls[i];
      if (call.shown && !call.dropped) { return isCurrent(call) ? call : null; }
    }
    return null;
  }

  /* A call is over once its counter serves another number or none (a later call, a finish, a no-show, a
     transfer), as the events and snapshots tell. Once over, always over: the same number called again
     later is a new call. A waiting call that is over will be dropped; the one being made is cut short
     (its hold ends, the browser's voice does not say it again) but its sound is never cut mid-word. */
  function markOver() {
    queue.forEach(function (call) {
      if (!call.over && !isCurrent(call)) { call.over = true; }
    });
    var now = state.announcing;
    if (now && !now.over && !isCurrent(now)) { now.over = true; }
    retime();
  }

  function waitingBehind() {
    return queue.some(function (call) { return !call.over; });
  }

  function sameCall(a, b) {
    return a.ticket === b.ticket && a.counter === b.counter && a.recall === b.recall;
  }

  // the snapshot --------------------------------------------------------------------------------
  function applySnapshot(snapshot) {
    if (!snapshot || !snapshot.office) { return; }
    var at = Date.parse(snapshot.server_time);
    if (!isNaN(at)) { state.skewMs = at - Date.now(); }
    var board = snapshot.board || null;
    var history = !state.loaded || JSON.stringify(board) !== JSON.stringify(state.board);
    var newDay = state.loaded && snapshot.business_date !== state.businessDate;
    state.office = snapshot.office;
    state.notice = snapshot.notice || null;
    state.businessDate = snapshot.business_date;
    state.board = board;
    state.counters = (snapshot.counters || []).filter(function (c) { return showsCounter(c.number); }).map(function (c) {
      return { number: c.number, name: c.name, name_en: c.name_en, state: c.state, reason: c.reason,
               current: c.current || null };
    });
    state.waiting = (snapshot.waiting || []).filter(function (w) { return showsService(w.service); }).map(function (w) {
      state.names[w.service] = { vi: w.name_vi, en: w.name_en };
      return { service: w.service, name_vi: w.name_vi, name_en: w.name_en, waiting: w.waiting };
    });
    var incoming = (snapshot.recent_calls || []).filter(function (c) { return showsCounter(c.counter); }).map(function (c) {
      return { ticket: c.ticket, number: c.number, service: c.service, counter: c.counter, recall: !!c.recall,
               at: c.called_at, shown: true };
    });
    if (history || newDay) {
      // What happened before this page (or this board setting, or this day) is history, not news.
      queue = [];
      state.calls = [];
    }
    if (history) {
      state.calls = incoming;
      loadServiceNames();
    } else {
      mergeCalls(incoming, isNaN(at) ? serverNow() : at);
    }
    state.loaded = true;
    markOver();
    render();
    pump();
  }

  /* A board limited to some services still shows calls for the other services of its counters: their
     names come from the services list (the snapshot's waiting list holds only this board's). */
  function loadServiceNames() {
    fetch('/api/v1/services' + officeQuery, { headers: apiHeaders(), credentials: 'omit', cache: 'no-store' })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        ((body && body.services) || []).forEach(function (s) {
          state.names[s.code] = state.names[s.code] || { vi: s.name_vi, en: s.name_en };
        });
        render();
      })
      .catch(function () { /* the codes stay until the next snapshot */ });
  }

  /* A snapshot after a gap or a reconnect: the calls it lists that this page has not seen (missed
     while offline, or dropped for a sequence gap) are queued like live ones if they are recent.
     Both lists are newest first; the new calls are the snapshot's head before it lines up with ours. */
  function mergeCalls(incoming, now) {
    var known = state.calls;
    var head = incoming.length;
    for (var k = 0; k < incoming.length; k++) {
      var overlap = Math.min(incoming.length - k, known.length);
      if (overlap === 0) { break; }
      var match = true;
      for (var i = 0; i < overlap && match; i++) { match = sameCall(incoming[k + i], known[i]); }
      if (match) { head = k; break; }
    }
    var news = incoming.slice(0, head);
    news.slice().reverse().forEach(function (call) {      // oldest first, as they happened
      var age = now - Date.parse(call.at);
      if (!(age > FRESH_MS)) {
        call.shown = false;
        queue.push(call);
      }
    });
    state.calls = news.concat(known).slice(0, KEEP_CALLS);
  }

  // live events ---------------------------------------------------------------------------------
  function onCalled(e) {
    if (!state.loaded || !e || !e.ticket || !showsCounter(e.counter)) { return; }
    var call = { ticket: e.ticket.id, number: e.ticket.number, service: e.ticket.service, counter: e.counter,
                 recall: !!e.recall, at: e.recall ? new Date(serverNow()).toISOString() : e.called_at, shown: false,
                 // the sentence; null: the server cannot read this number; absent from an older server
                 announcement: typeof e.announcement === 'string' || e.announcement === null ? e.announcement
                   : undefined };
    var row = counterRow(e.counter);
    if (row) { row.current = call.number; }           // a recall too: the server recalls only the current one
    state.calls.unshift(call);
    state.calls = state.calls.slice(0, KEEP_CALLS);
    queue.push(call);
    markOver();                                        // …the counter's earlier call, still waiting, is over
    render();
    pump();
  }

  function onCounterChanged(e) {
    if (!state.loaded || !e) { return; }
    var row = counterRow(e.counter);
    if (!row) { return; }
    row.current = e.current || null;
    row.state = e.state || row.state;
    row.reason = e.reason || null;
    markOver();
    render();
    pump();
  }

  function onTicketUpdated(e) {
    var ticket = e && e.ticket;
    if (!state.loaded || !ticket || ticket.status === 'called') { return; }
    var row = counterRow(ticket.counter);
    if (row && row.current === ticket.number) {
      row.current = null;
      markOver();
      render();
      pump();
    }
  }

  function onQueueChanged(e) {
    if (!state.loaded || !e) { return; }
    state.waiting.forEach(function (w) {
      if (w.service === e.service && typeof e.waiting === 'number') { w.waiting = e.waiting; }
    });
    renderWaiting();
  }

  /* The notice scrolls at about 12 characters a second, so a long one is as readable as a short one. */
  function renderNotice() {
    var notice = state.notice;
    el.notice.hidden = !notice;
    if (!notice) { return; }
    var key = notice.vi + '\u0000' + notice.en;
    if (el.notice.dataset.key === key) { return; }      // re-setting the text would restart the scroll
    el.notice.dataset.key = key;
    el.noticeVi.textContent = notice.vi;
    el.noticeEn.textContent = notice.en;
    el.noticeSep.hidden = !(notice.vi && notice.en);
    var length = (notice.vi + notice.en).length;
    el.noticeTrack.style.setProperty('--notice-s', Math.max(12, Math.round(length / 12 + 8)) + 's');
    el.noticeTrack.style.animation = 'none';           // start the new text from the right edge
    void el.noticeTrack.offsetWidth;
    el.noticeTrack.style.animation = '';
  }

  function onNotice(event) {
    if (!state.loaded || !event) { return; }
    state.notice = event.notice || null;
    renderNotice();
  }

  // the queue of calls ----------------------------------------------------------------------------
  function pump() {
    if (state.announcing || !queue.length) { return; }
    var call = queue.shift();
    call.shown = true;                 // in the last calls from now on, announced or not
    if (call.over) {                   // over before its turn: not announced
      call.dropped = true;
      render();
      pump();
      return;
    }
    state.announcing = call;
    render();
    var over = false;
    var guard = setTimeout(function () {
      announcer.hush();          // whatever still sounds stops: the next call is never spoken over it
      next();
    }, MAX_ANNOUNCE_MS);
    function next() {
      if (over) { return; }
      over = true;
      clearTimeout(guard);
      if (state.highlighted === call) { state.highlighted = null; }
      state.announcing = null;
      render();
      pump();
    }
    var done;
    try { done = announce(call); } catch (err) { console.error('announce failed', err); }
    Promise.resolve(done).then(next, function (err) { console.error('announce failed', err); next(); });
  }

  /*
   * Every new call and every recall passes through here, one at a time and in the order they
   * happened; the board already shows `call` as the current one: {ticket (id), number, service
   * (code), counter (number), recall, announcement (the sentence to say, from the live event; null
   * when the server could not read the number; absent for a call found in a snapshot after a
   * reconnect)}. Return a promise that
   * settles when the announcement is over: the next call waits for it (at most MAX_ANNOUNCE_MS).
   * The call stays highlighted for the hold time and while it is heard (chime, then "Xin mời công
   * dân có số thứ tự … đến quầy số …", as many times as the office says it); before the first touch
   * unlocks sound it is only shown. While other calls wait, the hold is BURST_MS; the sentence is still
   * said as many times as the office says it (a citizen who misses the first saying hears the second),
   * except once the call is over (call.repeat = 1): the browser's voice then does not say it again.
   */
  function announce(call) {
    state.highlighted = call;
    render();
    var shown = hold(call);
    return Promise.all([shown, announcer.say(call)]).then(function () {
      if (state.highlighted === call) {
        state.highlighted = null;
        render();
      }
    });
  }

  /* Resolves when `call` has been highlighted long enough: HOLD_MS, or BURST_MS from its start once
     others wait (also when they come during it), or at once when it is over. */
  function hold(call) {
    var start = Date.now();
    return new Promise(function (resolve) {
      var timer = null;
      function check() {
        clearTimeout(timer);
        var behind = waitingBehind();
        if (call.over) { call.repeat = 1; }   // the browser's voice checks before saying it again
        var left = call.over ? 0 : (behind ? BURST_MS : HOLD_MS) - (Date.now() - start);
        if (left > 0) {
          timer = setTimeout(check, left);
          return;
        }
        if (retime === check) { retime = noop; }
        resolve();
      }
      retime = check;
      check();
    });
  }

  // drawing ---------------------------------------------------------------------------------------
  function render() {
    document.body.dataset.loaded = String(state.loaded);
    el.loading.hidden = state.loaded || !!state.refused;
    el.loading.classList.toggle('offline', state.live === 'offline');
    renderStatus();
    if (!state.loaded) { return; }
    renderHead();
    renderHero();
    renderCounters();
    renderRecent();
    renderWaiting();
    renderNotice();
  }

  function renderStatus() {
    renderSound();
    document.body.dataset.live = state.refused ? 'refused' : state.live;
    el.offline.hidden = !!state.refused || state.live === 'online' || (state.live === 'connecting' && !state.loaded);
    el.refused.hidden = !state.refused;
    if (state.refused) {
      var kind = refusalKind(state.refused.code);
      el.refusedStaffVi.textContent = tr('refused_' + kind, 'vi');
      el.refusedStaffEn.textContent = tr('refused_' + kind, 'en');
      var detail = [state.refused.vi, state.refused.en].filter(Boolean).join(' · ');
      el.refusedDetail.textContent = detail + (state.refused.code ? ' [' + state.refused.code + ']' : '');
    }
  }

  /* The unlock banner until the first touch, then one small line saying which engine spoke last and,
     when it is not the one this board is set to, why (a missing clip, no server, no Vietnamese voice). */
  function renderSound() {
    var sound = state.sound;
    el.unlock.hidden = !sound.locked;
    document.body.dataset.sound = sound.locked ? 'locked' : sound.engine;
    var key = sound.locked ? 'sound_locked' : 'sound_' + sound.engine;
    var reason = sound.locked || !sound.reason ? null
      : 'why_' + sound.reason + (sound.reason === 'clip_missing' && sound.detail ? '_word' : '');
    ['vi', 'en'].forEach(function (lang) {
      var text = tr('sound', lang) + ': ' + tr(key, lang);
      if (reason && TEXTS[reason]) { text += ' — ' + tr(reason, lang, { word: sound.detail }); }
      setText(lang === 'en' ? el.soundEn : el.soundVi, text);
    });
    fitAll(el.sound);
    el.sound.dataset.engine = sound.locked ? 'locked' : sound.engine;
    el.sound.dataset.wanted = sound.wanted;
    el.sound.dataset.reason = sound.locked ? '' : sound.reason || '';
    el.sound.classList.toggle('fallback', !sound.locked && sound.engine !== sound.wanted);
  }

  function renderHead() {
    setText(el.officeName, state.office.name || '');
    setText(el.officeNameEn, state.office.name_en || '');
    var scope = state.board && state.board.counters && state.board.counters.length ? state.board.counters.join(', ') : '';
    el.boardScope.hidden = !scope;
    el.boardScope.textContent = scope
      ? tr('board_of', 'vi', { list: scope }) + ' · ' + tr('board_of', 'en', { list: scope }) : '';
  }

  function renderHero() {
    var call = heroCall();
    el.now.dataset.mode = call ? (call.recall ? 'recall' : 'call') : 'idle';
    el.now.classList.toggle('fresh', !!call && call === state.highlighted);
    if (!call) {
      el.now.removeAttribute('data-ticket');
      fitHero();
      return;
    }
    el.now.dataset.ticket = String(call.ticket);
    setText(el.nowLabelVi, tr(call.recall ? 'calling_again' : 'now_calling', 'vi'));
    setText(el.nowLabelEn, tr(call.recall ? 'calling_again' : 'now_calling', 'en'));
    setText(el.callNumber, call.number);
    setText(el.callCounter, String(call.counter));
    var name = serviceName(call.service);
    setText(el.callService, name.vi);
    setText(el.callServiceEn, name.en);
    fitHero();
  }

  /* The big panel keeps its proportions: when its box is short (a long office name above it, an odd
     screen) all of it shrinks together instead of being cut. */
  function fitHero() {
    var panel = el.now;
    panel.style.fontSize = '';
    fitAll(panel);
    var content = panel.querySelector(panel.dataset.mode === 'idle' ? '.now-idle' : '.now-call');
    var style = window.getComputedStyle(panel);
    var room = panel.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (content.scrollHeight > room && room > 0) {
      panel.style.fontSize = parseFloat(style.fontSize) * (room / content.scrollHeight) * 0.97 + 'px';
      fitAll(panel);
    }
  }

  function renderCounters() {
    var list = el.counterList;
    list.textContent = '';
    var table = list.parentNode;
    var cols = state.counters.length > 10 ? 2 : 1;
    table.dataset.cols = String(cols);
    table.style.setProperty('--rows', String(Math.max(1, Math.ceil(state.counters.length / cols))));
    state.counters.forEach(function (c) {
      var row = node('div', 'counter-row');
      row.setAttribute('role', 'row');
      row.dataset.counter = String(c.number);
      row.dataset.state = c.state;
      if (state.highlighted && state.highlighted.counter === c.number) { row.classList.add('fresh'); }
      var number = node('span', 'c-num', String(c.number));
      var name = node('span', 'c-name lines');
      name.appendChild(node('span', 'vi fit', c.name));
      var en = node('span', 'en fit', c.name_en && c.name_en !== c.name ? c.name_en : '');
      en.lang = 'en';
      name.appendChild(en);
      var current = node('span', 'c-current');
      if (c.state === 'paused' || c.state === 'offline') {
        current.classList.add('c-state');
        current.appendChild(node('span', 'vi fit', tr('state_' + c.state, 'vi')));
        var stateEn = node('span', 'en fit', tr('state_' + c.state, 'en'));
        stateEn.lang = 'en';
        current.appendChild(stateEn);
      } else {
        current.appendChild(node('span', 'c-ticket fit', c.current || '—'));
      }
      [number, name, current].forEach(function (cell) {
        cell.setAttribute('role', 'cell');
        row.appendChild(cell);
      });
      list.appendChild(row);
    });
    fitAll(list);
  }

  function gridSize(list, name, fallback) {
    var value = parseInt(window.getComputedStyle(list).getPropertyValue(name), 10);
    return value > 0 ? value : fallback;
  }

  function renderRecent() {
    var list = el.recentList;
    var max = gridSize(list, '--recent-cols', 4) * gridSize(list, '--recent-rows', 2);
    var seen = [];
    var shown = state.calls.filter(function (c) {
      if (!c.shown) { return false; }
      var key = c.ticket + ':' + c.counter;      // a recall moves the number up instead of repeating it
      if (seen.indexOf(key) >= 0) { return false; }
      seen.push(key);
      return true;
    }).slice(0, max);
    list.textContent = '';
    shown.forEach(function (c) {
      var item = node('li', 'recent-call');
      item.dataset.ticket = String(c.ticket);
      item.dataset.counter = String(c.counter);
      item.dataset.recall = String(c.recall);
      if (c === state.highlighted) { item.classList.add('fresh'); }
      item.appendChild(node('span', 'r-number fit', c.number));
      var where = node('span', 'r-counter fit', tr('counter_n', 'vi', { n: c.counter }));
      if (c.recall) { where.appendChild(node('span', 'r-recall', ' ↻')); }
      item.appendChild(where);
      list.appendChild(item);
    });
    el.noRecent.hidden = shown.length > 0;
    fitAll(list);
  }

  /*
   * How the waiting list fits its box without text too small to read across the hall: each service with
   * its English line while rows are tall enough ("full"), else in Vietnamese only ("short"), at least
   * NAME_MIN_REM either way; when even that does not fit, pages of services take turns (PAGE_MS).
   */
  function waitingLayout(count, height) {
    function fits(k) {
      var rows = Math.max(1, Math.ceil(k / WAIT_COLS));
      var modes = ['full', 'short'];
      for (var i = 0; i < modes.length; i++) {
        var h = Math.min(WAIT_MAX_ROW, (height - (rows - 1) * WAIT_GAP[modes[i]]) / rows);
        if (h >= WAIT_MIN_ROW[modes[i]]) { return { mode: modes[i], rows: rows }; }
      }
      return null;
    }
    var layout = fits(count);
    var pages = 1;
    if (!layout) {
      var rows = Math.max(1, Math.floor((height + WAIT_GAP.short) / (WAIT_MIN_ROW.short + WAIT_GAP.short)));
      pages = Math.ceil(count / (rows * WAIT_COLS));
      layout = fits(Math.ceil(count / pages)) || { mode: 'short', rows: rows };
    }
    layout.pages = pages;
    layout.perPage = Math.ceil(count / pages);
    return layout;
  }

  var waitPage = 0;
  var waitPages = 1;
  setInterval(function () {
    if (waitPages < 2) { return; }
    waitPage = (waitPage + 1) % waitPages;
    renderWaiting();
  }, PAGE_MS);

  function renderWaiting() {
    if (!state.loaded) { return; }
    var list = el.waitingList;
    var rem = parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 16;
    var layout = waitingLayout(state.waiting.length, list.clientHeight / rem);
    waitPages = layout.pages;
    if (waitPage >= waitPages) { waitPage = 0; }
    list.textContent = '';
    list.dataset.mode = layout.mode;
    list.style.setProperty('--rows', String(layout.rows));
    el.waitingPage.hidden = waitPages < 2;
    setText(el.waitingPage, (waitPage + 1) + '/' + waitPages);
    state.waiting.slice(waitPage * layout.perPage, (waitPage + 1) * layout.perPage).forEach(function (w) {
      var item = node('li', 'wait');
      item.dataset.service = w.service;
      item.dataset.count = String(w.waiting);
      var name = node('span', 'w-name');
      var vi = node('span', 'vi fit', w.name_vi);
      vi.dataset.minRem = String(NAME_MIN_REM);
      name.appendChild(vi);
      if (layout.mode === 'full') {            // two lines: a long Vietnamese name may take both (fit)
        name.classList.add('lines');
        var en = node('span', 'en fit', w.name_en && w.name_en !== w.name_vi ? w.name_en : '');
        en.lang = 'en';
        name.appendChild(en);
      }
      item.appendChild(name);
      item.appendChild(node('span', 'w-count', String(w.waiting)));
      list.appendChild(item);
    });
    fitAll(list);
  }

  /* Long names and numbers shrink to their box rather than spill out of it (down to 45 %, and never
     below data-min-rem). A Vietnamese name that would shrink a lot takes two lines instead, and its
     English line gives up its room. */
  function fit(box) {
    box.style.fontSize = '';
    var lines = box.classList.contains('vi') && box.parentNode.classList.contains('lines') ? box.parentNode : null;
    if (lines) { lines.classList.remove('wrapped'); }
    if (!box.clientWidth || box.scrollWidth <= box.clientWidth + 1) { return; }
    var base = parseFloat(window.getComputedStyle(box).fontSize);
    var least = base * 0.45;
    if (Number(box.dataset.minRem) > 0) {
      least = Math.max(least, Number(box.dataset.minRem) *
        parseFloat(window.getComputedStyle(document.documentElement).fontSize));
    }
    var size = base;
    var i;
    if (lines && box.clientWidth / box.scrollWidth < 0.8) {
      lines.classList.add('wrapped');
      for (i = 0; i < 8 && box.scrollHeight > box.clientHeight + 1 && size > least; i++) {
        size = Math.max(least, size * 0.9);
        box.style.fontSize = size + 'px';
      }
      return;
    }
    for (i = 0; i < 6 && box.scrollWidth > box.clientWidth + 1 && size > least; i++) {
      size = Math.max(least, size * (box.clientWidth / box.scrollWidth) * 0.98);
      box.style.fontSize = size + 'px';
    }
  }

  function fitAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll('.fit'), fit);
  }

  var resizing = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(render, 100);
  });

  // date and clock ----------------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function tick() {
    var local = new Date(serverNow() + VN_OFFSET_MS);     // read with getUTC*: Vietnam's wall clock
    var day = local.getUTCDate();
    var month = local.getUTCMonth();
    var year = local.getUTCFullYear();
    var weekday = local.getUTCDay();
    setText(el.clock, pad(local.getUTCHours()) + ':' + pad(local.getUTCMinutes()));
    setText(el.dateVi, WEEKDAYS_VI[weekday] + ', ' + pad(day) + '/' + pad(month + 1) + '/' + year);
    setText(el.dateEn, WEEKDAYS_EN[weekday] + ', ' + day + ' ' + MONTHS_EN[month] + ' ' + year);
    var today = year + '-' + pad(month + 1) + '-' + pad(day);
    if (state.loaded && state.live === 'online' && today !== state.businessDate && Date.now() - lastDayCheck > 60000) {
      lastDayCheck = Date.now();
      live.resync();         // a new day: yesterday's calls leave the board
    }
    setTimeout(tick, 1000 - (serverNow() % 1000) + 20);
  }
  var lastDayCheck = 0;

  // refusals ----------------------------------------------------------------------------------------
  function refusalKind(code) {
    if (code === 'invalid_token' || code === 'login_required' || code === 'device_token_required') { return 'token'; }
    if (code === 'empty_board') { return 'empty'; }
    if (code === 'device_scope' || code === 'device_kind_mismatch') { return 'scope'; }
    if (code === 'office_not_found') { return 'office'; }
    return 'other';
  }

  /* The refusal arrives as {code, message, message_en} or as python-socketio's {message, data}; when
     its code cannot be read, the same question over HTTP gets the server's structured answer. */
  function refuse(detail) {
    detail = detail && typeof detail === 'object' ? detail : {};
    var data = detail.data && typeof detail.data === 'object' ? detail.data : {};
    var message = typeof detail.message === 'string' ? detail.message : '';
    var refusal = {
      code: detail.code || data.code || null,
      vi: data.message_vi || (message.charAt(0) !== '{' ? message : '') || data.message || '',
      en: detail.message_en || data.message_en || ''
    };
    var shown = state.refused;
    state.refused = refusal.code || !shown ? refusal : shown;   // keep a precise reason already on screen
    render();
    if (refusal.code) { return; }
    fetch('/api/v1/display/state' + officeQuery,
          { headers: apiHeaders(), credentials: 'omit', cache: 'no-store' }).then(function (response) {
      if (response.ok) { return null; }
      return response.json().then(function (body) { return body && body.error; });
    }).then(function (error) {
      if (error && state.refused) {
        state.refused = { code: error.code || null, vi: error.message_vi || error.message || '', en: error.message_en || '' };
        render();
      }
    }).catch(function () { /* the live link keeps retrying; the generic message stays */ });
  }

  // sound -------------------------------------------------------------------------------------------
  function announcementQuery(call) {
    var params = new URLSearchParams({ number: call.number, counter: String(call.counter) });
    var office = config.office || (state.office && state.office.code);
    if (office) { params.set('office', office); }      // the office's own phrase and clips
    return params.toString();
  }

  var announcer = new window.MotcuaAnnouncer({
    engine: engine,
    audioUrl: function (call) { return '/api/v1/announcements/audio?' + announcementQuery(call); },
    textUrl: function (call) { return '/api/v1/announcements/preview?' + announcementQuery(call); },
    headers: apiHeaders,
    onStatus: function (status) {
      state.sound = status;
      renderSound();
      reportSound(status);
    }
  });

  /* The admin's live view hears when this board could not speak with its engine, and when it can again. */
  var soundReported = null;
  function reportSound(status) {
    if (status.locked || !status.engine || status.wanted === 'off' || !live) { return; }
    var report = { wanted: status.wanted, engine: status.engine, reason: status.reason || null,
                   detail: status.detail || null };
    var key = JSON.stringify(report);
    if (key === soundReported && status.engine === status.wanted) { return; }
    if (live.emit('sound_status', report)) { soundReported = key; }
  }
  state.sound = announcer.statusCopy();

  /* Browsers let a page make sound only after a touch, click or key; touchstart and some keys do not
     count, so those wait for the next event. Kept listening: a browser may ask again. */
  function unlockSound() {
    if (!state.sound.locked) { return; }
    var activation = window.navigator.userActivation;
    if (activation && !activation.isActive) { return; }
    announcer.unlock();
  }
  ['click', 'keydown', 'touchend', 'pointerup'].forEach(function (name) {
    document.addEventListener(name, unlockSound, true);
  });

  // live --------------------------------------------------------------------------------------------
  var auth = { board: true };
  if (token) { auth.token = token; }
  if (config.office) { auth.office = config.office; }
  var live = new window.MotcuaLive({
    auth: auth,
    onStatus: function (status, detail) {
      if (status === 'refused') {
        state.live = 'offline';
        refuse(detail);
        return;
      }
      if (status === 'online') { state.refused = null; }
      state.live = status;
      render();
    }
  });
  live.on('snapshot', applySnapshot);
  live.on('ticket_called', onCalled);
  live.on('counter_changed', onCounterChanged);
  live.on('ticket_updated', onTicketUpdated);
  live.on('queue_changed', onQueueChanged);
  live.on('notice_changed', onNotice);
  live.on('settings_changed', function () { live.resync(); });    // counters or services renamed: read again

  render();
  tick();
})();
