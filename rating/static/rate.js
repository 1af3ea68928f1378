/*
 * The rating tablet at a counter. Idle, it shows who serves at the counter; when the counter finishes a
 * visit, it asks the citizen about the officer's attitude with the office's levels, then thanks them and
 * returns to idle. One rating per visit: the server refuses a second one, and the page never asks again
 * about a visit it has seen rated.
 *
 * What to show comes from GET /api/v1/rating/state (as this device: its token, never the cookies of
 * someone signed in on this browser). Socket.IO (window.MotcuaLive) says when to ask again: a visit of
 * this counter finished (ticket_updated), another call at this counter (the officer may have changed),
 * a rating arrived from the keypad (ticket_rated), and every (re)connect (snapshot).
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('rate-config').textContent);
  var TEXTS = config.texts;
  var COUNTER = config.counter;
  var THANKS_MS = Math.max(1000, (Number(config.thanks_s) || 5) * 1000);
  var ASK_MS = Math.max(5000, (Number(config.ask_s) || 120) * 1000);
  var RETRY_MS = 5000;
  var REFUSED_RETRY_MS = 30000;
  var STORE = 'motcua.rating.' + COUNTER + '.';
  var MOUTHS = {
    great: '<path class="mouth fill" d="M28 56 Q50 90 72 56 Z"/>',
    good: '<path class="mouth" d="M32 60 Q50 76 68 60"/>',
    neutral: '<path class="mouth" d="M33 66 L67 66"/>',
    bad: '<path class="mouth" d="M32 72 Q50 54 68 72"/>'
  };

  // the device token ------------------------------------------------------------------------------
  function stored(name) {
    try { return window.localStorage.getItem(STORE + name); } catch (e) { return null; }
  }
  function store(name, value) {
    try {
      if (value) { window.localStorage.setItem(STORE + name, value); } else { window.localStorage.removeItem(STORE + name); }
    } catch (e) { /* private mode: the address still works */ }
  }
  if (config.token !== null) {
    store('token', config.token);          // "" forgets the remembered token
    var address = new URL(window.location.href);
    address.searchParams.delete('token');  // the token stays in this browser, not in the address bar
    window.history.replaceState(null, '', address.pathname + address.search);
  }
  var token = config.token !== null ? config.token || null : stored('token');

  var el = {};
  ['counter-number', 'counter-name', 'counter-name-en', 'offline', 'idle', 'photo-img', 'photo-blank',
    'officer-label-vi', 'officer-label-en', 'officer-name', 'ask', 'question-vi', 'question-en', 'visit', 'levels',
    'ask-error', 'reason', 'reason-list', 'reason-text', 'reason-back', 'reason-skip', 'reason-send', 'thanks',
    'notice', 'notice-title', 'notice-title-en', 'notice-vi', 'notice-en', 'loading', 'refused', 'refused-staff-vi',
    'refused-staff-en', 'refused-detail'
  ].forEach(function (id) {
    el[id.replace(/-([a-z])/g, function (m, c) { return c.toUpperCase(); })] = document.getElementById(id);
  });
  var SCREENS = ['idle', 'ask', 'reason', 'thanks', 'notice', 'loading'];

  var state = {
    screen: 'loading',
    info: null,          // the last answer of /api/v1/rating/state
    live: 'connecting',
    refused: null,       // {code, vi, en}: the server refuses this device
    asking: null,        // the visit on the question screen: {ticket_id, number, service, finished_at}
    level: null,         // the level chosen, while the reason screen is open
    reasons: [],         // preset reasons picked on the reason screen (indexes)
    busy: false,         // a rating is on its way: no second tap counts
    error: null,         // a key of TEXTS shown under the levels (the last tap could not be sent)
    settled: {},         // ticket id → true: rated (here, by the keypad, or refused): never asked again
    dismissed: {}        // ticket id → true: asked, nobody answered in time
  };
  var screenTimer = null;
  var retryTimer = null;

  // words -----------------------------------------------------------------------------------------
  function tr(key, lang, values) {
    var text = (TEXTS[key] || [key, key])[lang === 'en' ? 1 : 0];
    Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
    return text;
  }

  function node(tag, className, text) {
    var n = document.createElement(tag);
    if (className) { n.className = className; }
    if (text !== undefined && text !== null) { n.textContent = text; }
    return n;
  }

  // HTTP ------------------------------------------------------------------------------------------
  function headers() {
    var h = { 'Accept': 'application/json' };
    if (token) { h['Authorization'] = 'Bearer ' + token; }
    return h;
  }

  /* Resolves {status, body} for any answer of the server; rejects only when it could not be reached. */
  function api(method, path, body) {
    var options = { method: method, headers: headers(), credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
        return { status: response.status, body: parsed };
      });
    });
  }

  function errorOf(answer) {
    var error = (answer && answer.body && answer.body.error) || {};
    return { code: error.code || null, vi: error.message_vi || error.message || '', en: error.message_en || '' };
  }

  // the counter's state -----------------------------------------------------------------------------
  var refreshing = false;
  var refreshAgain = false;

  function refresh() {
    if (!token) {
      refuse({ code: 'missing' });
      return;
    }
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    clearTimeout(retryTimer);
    api('GET', '/api/v1/rating/state?counter=' + COUNTER).then(function (answer) {
      if (answer.status === 200 && answer.body) {
        state.refused = null;
        state.info = answer.body;
        apply();
      } else if (answer.status === 401 || answer.status === 403 || answer.status === 404) {
        refuse(errorOf(answer));
        retryTimer = setTimeout(refresh, REFUSED_RETRY_MS);
      } else {
        retryTimer = setTimeout(refresh, RETRY_MS);      // 5xx, 429: the server will be back
      }
    }).catch(function () {
      retryTimer = setTimeout(refresh, RETRY_MS);     // unreachable: the live link shows the offline sign
    }).then(function () {
      refreshing = false;
      if (refreshAgain) { refreshAgain = false; refresh(); }
    });
  }

  function askable(visit) {
    return !!visit && !state.settled[visit.ticket_id] && !state.dismissed[visit.ticket_id];
  }

  function apply() {
    renderHead();
    renderOfficer();
    var pending = state.info.pending;
    if (state.screen === 'loading' || state.screen === 'idle') {
      if (askable(pending)) { ask(pending); } else { show('idle'); }
    } else if ((state.screen === 'ask' || state.screen === 'reason') && !state.busy) {
      if (!pending) {
        show('idle');                                   // rated elsewhere, or the time is over
      } else if (!state.asking || pending.ticket_id !== state.asking.ticket_id) {
        if (askable(pending)) { ask(pending); } else { show('idle'); }   // a newer visit ended meanwhile
      }
    }
    render();
  }

  // screens -----------------------------------------------------------------------------------------
  function show(screen) {
    clearTimeout(screenTimer);
    state.screen = screen;
    if (screen === 'idle') {
      state.asking = null;
      state.level = null;
      state.error = null;
    }
    if (screen === 'ask' || screen === 'reason') {
      armAskTimer();
    } else if (screen === 'thanks' || screen === 'notice') {
      screenTimer = setTimeout(function () { show('idle'); refresh(); }, THANKS_MS);
    }
    render();
  }

  /* Nobody touched the question in time: back to idle, and that visit is not asked again. A level
     already chosen (the reason screen) is still a rating: it is sent without a reason. */
  function armAskTimer() {
    clearTimeout(screenTimer);
    screenTimer = setTimeout(function () {
      if (state.busy) { return; }
      if (state.screen === 'reason' && state.level) {
        submit(state.level, reasonText());
        return;
      }
      if (state.asking) { state.dismissed[state.asking.ticket_id] = true; }
      show('idle');
    }, ASK_MS);
  }

  function ask(visit) {
    state.asking = visit;
    state.level = null;
    state.error = null;
    renderQuestion();
    show('ask');
  }

  function choose(level) {
    if (state.busy || !state.asking || state.screen !== 'ask') { return; }   // a tap queued behind the thanks
    state.error = null;
    if (level.asks_reason) {
      state.level = level;
      state.reasons = [];
      el.reasonText.value = '';
      renderReasons();
      show('reason');
      return;
    }
    submit(level, null);
  }

  function reasonText() {
    var offered = (state.info && state.info.reasons) || [];
    var parts = state.reasons.map(function (i) { return offered[i] && offered[i].vi; }).filter(Boolean);
    var typed = el.reasonText.value.trim();
    if (typed) { parts.push(typed); }
    return parts.length ? parts.join('; ').slice(0, 300) : null;
  }

  function submit(level, reason) {
    if (state.busy || !state.asking || (state.screen !== 'ask' && state.screen !== 'reason')) { return; }
    var visit = state.asking;
    state.busy = true;
    render();
    api('POST', '/api/v1/ratings', { ticket_id: visit.ticket_id, level: level.code, reason: reason })
      .then(function (answer) {
        state.busy = false;
        if (answer.status === 201) {
          state.settled[visit.ticket_id] = true;
          show('thanks');
          return;
        }
        var error = errorOf(answer);
        if (answer.status === 401) {
          refuse(error);
          return;
        }
        if (answer.status >= 500 || answer.status === 429) {
          state.error = 'not_sent';
          show('ask');
          return;
        }
        state.settled[visit.ticket_id] = true;        // already rated, too late, another counter's: over
        showNotice(error.code === 'already_rated' ? 'already_title' : 'notice_title', error);
      })
      .catch(function () {
        state.busy = false;
        state.error = 'not_sent';                      // still this visit's question: touch again
        show('ask');
      });
  }

  function showNotice(titleKey, error) {
    el.noticeTitle.textContent = tr(titleKey, 'vi');
    el.noticeTitleEn.textContent = tr(titleKey, 'en');
    el.noticeVi.textContent = error.vi || '';
    el.noticeEn.textContent = error.en || '';
    document.body.dataset.notice = error.code || '';
    show('notice');
  }

  /* A rating of this counter's visit arrived from elsewhere (the keypad): the citizen sees thanks. */
  function onRated(event) {
    if (!event || event.counter !== COUNTER || !event.ticket) { return; }
    var id = event.ticket.id;
    var wasAsking = state.asking && state.asking.ticket_id === id;
    state.settled[id] = true;
    if (wasAsking && !state.busy && (state.screen === 'ask' || state.screen === 'reason')) {
      show('thanks');
    }
  }

  // refusals ----------------------------------------------------------------------------------------
  function refusalKind(code) {
    if (code === 'missing') { return 'missing'; }
    if (code === 'invalid_token' || code === 'login_required' || code === 'device_token_required') { return 'token'; }
    if (code === 'not_a_rating_device' || code === 'device_scope' || code === 'device_kind_mismatch') { return 'scope'; }
    if (code === 'staff_cannot_rate') { return 'staff'; }
    if (code === 'device_without_counter') { return 'no_counter'; }
    if (code === 'wrong_counter') { return 'wrong_counter'; }
    return 'other';
  }

  /* From the HTTP API ({code, vi, en}) or the live link (python-socketio's {message, data}). */
  function refuse(detail) {
    detail = detail && typeof detail === 'object' ? detail : {};
    var data = detail.data && typeof detail.data === 'object' ? detail.data : {};
    var message = typeof detail.message === 'string' ? detail.message : '';
    var refusal = {
      code: detail.code || data.code || null,
      vi: detail.vi || data.message_vi || (message.charAt(0) !== '{' ? message : '') || '',
      en: detail.en || detail.message_en || data.message_en || ''
    };
    if (!refusal.code && state.refused) { return; }     // keep the precise reason already on screen
    state.refused = refusal;
    clearTimeout(screenTimer);
    render();
  }

  // drawing -----------------------------------------------------------------------------------------
  function render() {
    var screen = state.refused ? 'refused' : state.screen;
    document.body.dataset.screen = screen;
    document.body.dataset.live = state.refused ? 'refused' : state.live;
    document.body.classList.toggle('busy', state.busy);
    SCREENS.forEach(function (name) { el[name].hidden = state.refused || name !== state.screen; });
    el.refused.hidden = !state.refused;
    el.offline.hidden = !!state.refused || state.live === 'online' || (state.live === 'connecting' && !state.info);
    var buttons = document.querySelectorAll('.level, .action');
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = state.busy; }
    el.ask.setAttribute('aria-busy', String(state.busy));
    el.askError.hidden = !state.error;
    if (state.error) { el.askError.textContent = tr(state.error, 'vi') + ' · ' + tr(state.error, 'en'); }
    if (state.refused) {
      var kind = refusalKind(state.refused.code);
      el.refusedStaffVi.textContent = tr('refused_' + kind, 'vi', { n: COUNTER });
      el.refusedStaffEn.textContent = tr('refused_' + kind, 'en', { n: COUNTER });
      var detail = [state.refused.vi, state.refused.en].filter(Boolean).join(' · ');
      el.refusedDetail.textContent = detail + (state.refused.code && state.refused.code !== 'missing'
        ? ' [' + state.refused.code + ']' : '');
      el.refusedDetail.hidden = !detail;
    }
  }

  function renderHead() {
    var counter = state.info.counter;
    el.counterNumber.textContent = tr('counter_n', 'vi', { n: counter.number });
    el.counterName.textContent = counter.name || '';
    el.counterNameEn.textContent = counter.name_en || '';
  }

  function renderOfficer() {
    var officer = state.info.officer;
    var url = officer && officer.photo_url;
    if (url && el.photoImg.getAttribute('src') !== url) { el.photoImg.src = url; }
    el.photoImg.hidden = !url;
    el.photoBlank.style.display = url ? 'none' : '';
    el.officerLabelVi.textContent = tr(officer ? 'officer' : 'no_officer', 'vi');
    el.officerLabelEn.textContent = tr(officer ? 'officer' : 'no_officer', 'en');
    el.officerName.textContent = officer ? officer.full_name : state.info.counter.name || '';
  }
  el.photoImg.addEventListener('error', function () {      // a photo that will not load: the silhouette
    el.photoImg.hidden = true;
    el.photoBlank.style.display = '';
  });

  function face(tone) {
    return '<svg class="face" viewBox="0 0 100 100" aria-hidden="true"><circle class="ring" cx="50" cy="50" r="44"/>' +
      '<circle class="eye" cx="35" cy="40" r="5.5"/><circle class="eye" cx="65" cy="40" r="5.5"/>' +
      (MOUTHS[tone] || MOUTHS.neutral) + '</svg>';
  }

  function renderQuestion() {
    var info = state.info;
    el.questionVi.textContent = info.question.vi;
    el.questionEn.textContent = info.question.en;
    var visit = state.asking;
    el.visit.textContent = visit ? tr('visit_of', 'vi', { number: visit.number, service: visit.service.name_vi }) : '';
    el.levels.textContent = '';
    el.levels.style.setProperty('--levels', String(info.levels.length));
    info.levels.forEach(function (level) {
      var button = node('button', 'level');
      button.type = 'button';
      button.dataset.level = level.code;
      button.dataset.tone = level.tone;
      button.innerHTML = face(level.tone);
      button.appendChild(node('span', 'level-vi', level.vi));
      var en = node('span', 'level-en', level.en);
      en.lang = 'en';
      button.appendChild(en);
      button.addEventListener('click', function () { choose(level); });
      el.levels.appendChild(button);
    });
  }

  function renderReasons() {
    el.reasonList.textContent = '';
    ((state.info && state.info.reasons) || []).forEach(function (reason, i) {
      var chip = node('button', 'chip action');
      chip.type = 'button';
      chip.setAttribute('aria-pressed', 'false');
      chip.appendChild(node('span', 'chip-vi', reason.vi));
      var en = node('span', 'chip-en', reason.en);
      en.lang = 'en';
      chip.appendChild(en);
      chip.addEventListener('click', function () {
        var at = state.reasons.indexOf(i);
        if (at >= 0) { state.reasons.splice(at, 1); } else { state.reasons.push(i); }
        chip.setAttribute('aria-pressed', String(at < 0));
      });
      el.reasonList.appendChild(chip);
    });
  }

  el.reasonSend.addEventListener('click', function () { if (state.level) { submit(state.level, reasonText()); } });
  el.reasonSkip.addEventListener('click', function () { if (state.level) { submit(state.level, null); } });
  el.reasonBack.addEventListener('click', function () { if (!state.busy) { state.level = null; show('ask'); } });
  el.reasonText.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && state.level) { e.preventDefault(); submit(state.level, reasonText()); }
  });
  // Any touch while a question is open gives the citizen the full time again.
  ['pointerdown', 'keydown', 'input'].forEach(function (name) {
    document.addEventListener(name, function () {
      if (state.screen === 'ask' || state.screen === 'reason') { armAskTimer(); }
    }, true);
  });

  // live --------------------------------------------------------------------------------------------
  render();
  if (!token) {
    refuse({ code: 'missing' });
    return;
  }
  var live = new window.MotcuaLive({
    auth: { token: token },
    onStatus: function (status, detail) {
      if (status === 'refused') {
        state.live = 'offline';
        refuse(detail);
        return;
      }
      state.live = status;
      render();
    }
  });
  live.on('snapshot', refresh);                   // every (re)connect: what happened meanwhile
  live.on('ticket_updated', function (event) {
    var ticket = event && event.ticket;
    if (ticket && ticket.counter === COUNTER && ticket.status === 'finished') { refresh(); }
  });
  live.on('ticket_called', function (event) {
    if (event && event.counter === COUNTER && (state.screen === 'idle' || state.screen === 'loading')) { refresh(); }
  });
  live.on('ticket_rated', onRated);
  refresh();
})();
