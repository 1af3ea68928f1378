/*
 * Admin settings: one section at a time (the address's #hash picks it), each a form or a table that
 * reads and writes /api/v1/admin/… with the signed-in session. The server checks everything: a refused
 * change comes back as 422 with details naming each field, and its message goes beside that field.
 * Supervisors get the same page with every control disabled and no save buttons.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('settings-config').textContent);
  var lang = config.lang === 'en' ? 'en' : 'vi';
  var canEdit = !!config.can_edit;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  var PRESETS = {
    office: { mon: [['07:30', '11:30'], ['13:30', '17:00']], tue: [['07:30', '11:30'], ['13:30', '17:00']],
              wed: [['07:30', '11:30'], ['13:30', '17:00']], thu: [['07:30', '11:30'], ['13:30', '17:00']],
              fri: [['07:30', '11:30'], ['13:30', '17:00']], sat: [], sun: [] },
    always: { mon: [['00:00', '24:00']], tue: [['00:00', '24:00']], wed: [['00:00', '24:00']],
              thu: [['00:00', '24:00']], fri: [['00:00', '24:00']], sat: [['00:00', '24:00']],
              sun: [['00:00', '24:00']] }
  };
  var PHOTO_MAX = 2 * 1024 * 1024;
  var state = { office: null, services: [], counters: [], users: [], devices: [] };

  // words and elements -------------------------------------------------------------------------
  function tr(key, values) {
    var pair = config.texts[key];
    var text = pair ? pair[lang === 'en' ? 1 : 0] : key;
    Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
    return text;
  }

  function $(selector, root) { return (root || document).querySelector(selector); }

  function make(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === 'text') { node.textContent = value; } else if (key === 'className') { node.className = value; }
      else if (key === 'onclick') { node.addEventListener('click', value); }
      else if (key in node && key !== 'list') { node[key] = value; } else { node.setAttribute(key, value === true ? '' : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function name(item) { return lang === 'en' ? (item.name_en || item.name_vi || item.name) : (item.name_vi || item.name); }
  function serviceName(code) {
    var s = state.services.filter(function (x) { return x.code === code; })[0];
    return s ? name(s) : code;
  }
  function when(iso) {
    if (!iso) { return tr('never'); }
    var options = { dateStyle: 'short', timeStyle: 'short' };
    if (state.office && state.office.timezone) { options.timeZone = state.office.timezone; }
    try { return new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN', options); } catch (e) { return iso; }
  }

  // talking to the server ------------------------------------------------------------------------
  function api(method, path, body, options) {
    options = options || {};
    var init = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (method !== 'GET') {
      init.headers['X-CSRFToken'] = csrf;
      if (options.raw) {
        init.headers['Content-Type'] = options.contentType || 'application/octet-stream';
        init.body = body;
      } else if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
    }
    return fetch((options.absolute ? '' : '/api/v1') + path, init).then(function (response) {
      if (response.status === 401) {
        window.location.assign(config.login_url);
        return new Promise(function () {});
      }
      if (response.status === 204) { return { ok: true, status: 204, data: null }; }
      if (response.ok && options.binary) {
        return response.blob().then(function (blob) { return { ok: true, status: response.status, data: blob }; });
      }
      return response.json().catch(function () { return null; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }, function () { return { ok: false, status: 0, data: null }; });
  }

  function errorText(result) {
    var error = result && result.data && result.data.error;
    if (error) { return (lang === 'en' ? error.message_en : error.message_vi) || error.message; }
    return tr('network_error') + (result && result.status ? ' (HTTP ' + result.status + ')' : '');
  }

  // messages beside fields -------------------------------------------------------------------------
  /* "opening_hours.mon[1]" → the element marked with that field, else the nearest one above it. */
  function fieldFor(form, path) {
    while (path) {
      var found = form.querySelector('[data-field="' + path.replace(/"/g, '') + '"]');
      if (found) { return found; }
      var shorter = path.replace(/(\[\d+\]|\.[^.[\]]+)$/, '');
      if (shorter === path) { break; }
      path = shorter;
    }
    return null;
  }

  function ownError(container) {
    var children = container.children;
    for (var i = children.length - 1; i >= 0; i--) {
      if (children[i].classList.contains('field-error')) { return children[i]; }
    }
    return container.appendChild(make('p', { className: 'field-error' }));
  }

  function problemsOf(result) {
    var error = result && result.data && result.data.error;
    var details = error && error.details;
    if (!details) { return []; }
    if (Array.isArray(details)) {        // the request's shape, checked by the schema
      return details.map(function (d) {
        return { field: String(d.field || '').replace(/\.(\d+)/g, '[$1]'), message: tr('invalid_value') };
      });
    }
    if (Array.isArray(details.fields)) {
      return details.fields.map(function (p) {
        return { field: p.field, message: lang === 'en' ? p.message_en : p.message_vi };
      });
    }
    return details.field ? [{ field: details.field, message: errorText(result) }] : [];
  }

  function clearMessages(form) {
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (p) { p.hidden = true; p.textContent = ''; });
    Array.prototype.forEach.call(form.querySelectorAll('.invalid'), function (f) { f.classList.remove('invalid'); });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (f) { f.removeAttribute('aria-invalid'); });
    var alert = $('.form-alert', form);
    if (alert) { alert.hidden = true; alert.textContent = ''; }
    var note = $('.form-note', form);
    if (note) { note.textContent = ''; }
  }

  function showErrors(form, result) {
    var placed = 0;
    problemsOf(result).forEach(function (problem) {
      var container = fieldFor(form, problem.field);
      if (!container) { return; }
      var box = ownError(container);
      box.textContent = box.textContent ? box.textContent + ' ' + problem.message : problem.message;
      box.hidden = false;
      container.classList.add('invalid');
      var input = container.querySelector('input, select, textarea');
      if (input) { input.setAttribute('aria-invalid', 'true'); }
      placed += 1;
    });
    var alert = $('.form-alert', form);
    if (alert) {
      alert.textContent = placed ? tr('fix_fields') : errorText(result);
      alert.hidden = false;
    }
    var first = form.querySelector('.invalid input, .invalid select, .invalid textarea');
    if (first && !first.disabled) { first.focus(); }
  }

  function noteIn(form, text) {
    var note = $('.form-note', form);
    if (note) { note.textContent = text; }
  }

  function listNote(id, text, bad) {
    var note = document.getElementById(id);
    note.textContent = text;
    note.classList.toggle('bad', !!bad);
  }

  // reading form controls ------------------------------------------------------------------------
  function value(form, field) { return (form.elements[field].value || '').trim(); }
  function checked(form, field) { return !!form.elements[field].checked; }
  /* A number box: empty is null; what is not a number goes as typed, so the server names the field. */
  function number(text) {
    text = String(text || '').trim();
    if (text === '') { return null; }
    var n = Number(text);
    return isFinite(n) ? n : text;
  }
  function fill(form, values) {
    Object.keys(values).forEach(function (field) {
      var control = form.elements[field];
      if (!control) { return; }
      if (control.type === 'checkbox') { control.checked = !!values[field]; }
      else { control.value = values[field] === null || values[field] === undefined ? '' : values[field]; }
    });
  }

  function onSubmit(form, handler) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (!canEdit) { return; }
      clearMessages(form);
      var button = form.querySelector('button[type="submit"]');
      if (button) { button.disabled = true; }
      Promise.resolve(handler()).then(function () { if (button) { button.disabled = false; } });
    });
  }

  /* ↑ and ↓ for a row of an ordered list; `sync` first reads what was typed into the list (in place). */
  function moveButtons(list, index, after, sync) {
    if (!canEdit) { return []; }
    var move = function (to) { return function () { if (sync) { sync(); } after(swap(list, index, to)); }; };
    return [
      make('button', { type: 'button', className: 'small', text: '↑', title: tr('move_up'), 'aria-label': tr('move_up'),
                       disabled: index === 0, onclick: move(index - 1) }),
      make('button', { type: 'button', className: 'small', text: '↓', title: tr('move_down'),
                       'aria-label': tr('move_down'), disabled: index === list.length - 1, onclick: move(index + 1) })
    ];
  }
  function replaceAll(list, items) { list.length = 0; Array.prototype.push.apply(list, items); return list; }
  function swap(list, a, b) { var x = list[a]; list[a] = list[b]; list[b] = x; return list; }

  function copyFrom(button) {
    var input = button.parentNode.querySelector('input');
    var done = function () { button.textContent = tr('copied'); setTimeout(function () { button.textContent = tr('copy'); }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { input.select(); document.execCommand('copy'); done(); });
    } else {
      input.select();
      document.execCommand('copy');
      done();
    }
  }
  document.addEventListener('click', function (event) {
    if (event.target.matches('button[data-copy]')) { copyFrom(event.target); }
  });

  function showSecret(box, label, secret) {
    $('.secret-label', box).textContent = label;
    $('.secret-value', box).value = secret;
    box.hidden = false;
  }

  // reference lists shared by the sections -------------------------------------------------------
  function loadOffice() {
    return api('GET', '/admin/office').then(function (r) { if (r.ok) { state.office = r.data; } return r; });
  }
  function loadServiceList() {
    return api('GET', '/admin/services').then(function (r) { if (r.ok) { state.services = r.data.services; } return r; });
  }
  function loadCounterList() {
    return api('GET', '/admin/counters').then(function (r) { if (r.ok) { state.counters = r.data.counters; } return r; });
  }

  // the office --------------------------------------------------------------------------------------
  var officeForm = document.getElementById('office-form');
  function showOffice() {
    return loadOffice().then(function (r) {
      if (!r.ok) { showErrors(officeForm, r); return; }
      fill(officeForm, r.data);
    });
  }
  onSubmit(officeForm, function () {
    var body = { name: value(officeForm, 'name'), name_en: value(officeForm, 'name_en'),
                 address: value(officeForm, 'address'), timezone: value(officeForm, 'timezone'),
                 agency_code: value(officeForm, 'agency_code') || null,
                 kiosk_token_required: checked(officeForm, 'kiosk_token_required') };
    return api('PUT', '/admin/office', body).then(function (r) {
      if (!r.ok) { showErrors(officeForm, r); return; }
      state.office = r.data;
      fill(officeForm, r.data);
      noteIn(officeForm, tr('saved'));
    });
  });

  // services ----------------------------------------------------------------------------------------
  var serviceForm = document.getElementById('service-form');
  var serviceEditing = null;     // the service being edited; null when adding one
  var hours = {};

  function sampleNumber(s) {
    var seq = '1';
    while (seq.length < s.digits) { seq = '0' + seq; }
    return s.numbering === 'prefix' ? (s.prefix || '') + seq : String(s.block * Math.pow(10, s.digits) + 1);
  }
  function hoursSummary(h) {
    var open = DAYS.filter(function (d) { return (h[d] || []).length; });
    if (!open.length) { return tr('closed_day'); }
    var first = h[open[0]].map(function (w) { return w[0] + '–' + w[1]; }).join(', ');
    return open.map(function (d) { return tr('day_' + d); }).length === 7 && first === '00:00–24:00'
      ? tr('preset_always') : first + ' (' + open.length + '/7)';
  }

  function renderServices() {
    var body = $('#services-table tbody');
    body.textContent = '';
    state.services.forEach(function (s, i) {
      body.appendChild(make('tr', { 'data-service': s.code, className: s.active ? '' : 'inactive' }, [
        make('td', { text: s.code }), make('td', { text: name(s) }), make('td', { text: sampleNumber(s) }),
        make('td', { className: 'num', text: s.daily_limit === null ? tr('no_limit') : String(s.daily_limit) }),
        make('td', { text: hoursSummary(s.opening_hours) }), make('td', { text: s.counters.join(', ') || tr('none') }),
        make('td', { text: s.active ? tr('yes') : tr('no') }),
        make('td', { className: 'actions' }, moveButtons(state.services, i, function () {
          renderServices();
          var save = document.getElementById('save-order');
          if (save) { save.hidden = false; }
        }).concat([make('button', { type: 'button', className: 'small', text: canEdit ? tr('edit') : tr('view'),
                                    onclick: function () { openService(s); } })]))
      ]));
    });
  }

  function showServices() {
    return loadServiceList().then(function (r) {
      if (!r.ok) { listNote('services-note', errorText(r), true); return; }
      renderServices();
    });
  }

  var saveOrder = document.getElementById('save-order');
  if (saveOrder) {
    saveOrder.addEventListener('click', function () {
      api('PUT', '/admin/services/order', { codes: state.services.map(function (s) { return s.code; }) }).then(function (r) {
        if (!r.ok) { listNote('services-note', errorText(r), true); return; }
        state.services = r.data.services;
        saveOrder.hidden = true;
        renderServices();
        listNote('services-note', tr('order_saved'));
      });
    });
  }

  function syncHours() {
    var out = {};
    Array.prototype.forEach.call(serviceForm.querySelectorAll('.hours-day'), function (row) {
      out[row.dataset.day] = Array.prototype.map.call(row.querySelectorAll('.window'), function (w) {
        return [w.querySelector('.start').value.trim(), w.querySelector('.end').value.trim()];
      });
    });
    hours = out;
    return out;
  }

  function renderHours() {
    var box = $('.hours-days', serviceForm);
    box.textContent = '';
    DAYS.forEach(function (day) {
      var windows = hours[day] || [];
      var list = make('div', { className: 'windows' });
      windows.forEach(function (w, j) {
        var field = 'opening_hours.' + day + '[' + j + ']';
        list.appendChild(make('span', { className: 'window', 'data-field': field }, [
          make('input', { className: 'start', value: w[0], maxLength: 5, size: 5, inputMode: 'numeric',
                          placeholder: '07:30', 'aria-label': tr('day_' + day) + ' ' + (j + 1) + ' — ' + tr('from') }),
          make('span', { text: '–' }),
          make('input', { className: 'end', value: w[1], maxLength: 5, size: 5, inputMode: 'numeric',
                          placeholder: '11:30', 'aria-label': tr('day_' + day) + ' ' + (j + 1) + ' — ' + tr('to') }),
          canEdit ? make('button', { type: 'button', className: 'small', text: '✕', 'aria-label': tr('remove'),
                                     onclick: function () { syncHours(); hours[day].splice(j, 1); renderHours(); } }) : null,
          make('p', { className: 'field-error', hidden: true })
        ]));
      });
      if (!windows.length) { list.appendChild(make('span', { className: 'muted closed', text: tr('closed_day') })); }
      box.appendChild(make('div', { className: 'hours-day', 'data-day': day, 'data-field': 'opening_hours.' + day }, [
        make('span', { className: 'day-name', text: tr('day_' + day) }), list,
        canEdit ? make('button', { type: 'button', className: 'small', text: tr('add_window'), onclick: function () {
          syncHours();
          var spans = hours[day] = hours[day] || [];
          spans.push(spans.length ? ['13:30', '17:00'] : ['07:30', '11:30']);
          renderHours();
        } }) : null,
        make('p', { className: 'field-error', hidden: true })
      ]));
    });
  }

  Array.prototype.forEach.call(serviceForm.querySelectorAll('button[data-preset]'), function (button) {
    button.addEventListener('click', function () {
      hours = JSON.parse(JSON.stringify(PRESETS[button.dataset.preset]));
      renderHours();
    });
  });

  function numberingChanged() {
    var style = serviceForm.elements.numbering.value;
    $('.by-prefix', serviceForm).hidden = style !== 'prefix';
    $('.by-block', serviceForm).hidden = style !== 'block';
  }
  serviceForm.elements.numbering.addEventListener('change', numberingChanged);

  function openService(s) {
    serviceEditing = s;
    clearMessages(serviceForm);
    $('.editor-title', serviceForm).textContent = s ? tr('edit_service', { code: s.code }) : tr('new_service');
    fill(serviceForm, s || { code: '', name_vi: '', name_en: '', numbering: 'prefix', prefix: '', block: '', digits: 3,
                             daily_limit: null, avg_service_s: 300, active: true });
    serviceForm.elements.code.readOnly = !!s;
    hours = JSON.parse(JSON.stringify(s ? s.opening_hours : PRESETS.office));
    renderHours();
    numberingChanged();
    var del = serviceForm.querySelector('[data-delete]');
    if (del) { del.hidden = !s; }
    serviceForm.hidden = false;
    serviceForm.scrollIntoView({ block: 'nearest' });
    (s ? serviceForm.elements.name_vi : serviceForm.elements.code).focus();
  }
  var addService = document.getElementById('add-service');
  if (addService) { addService.addEventListener('click', function () { openService(null); }); }

  onSubmit(serviceForm, function () {
    var numbering = serviceForm.elements.numbering.value;
    var body = { name_vi: value(serviceForm, 'name_vi'), name_en: value(serviceForm, 'name_en'), numbering: numbering,
                 prefix: numbering === 'prefix' ? value(serviceForm, 'prefix').toUpperCase() || null : null,
                 block: numbering === 'block' ? number(value(serviceForm, 'block')) : null,
                 digits: number(value(serviceForm, 'digits')), daily_limit: number(value(serviceForm, 'daily_limit')),
                 opening_hours: syncHours(), active: checked(serviceForm, 'active'),
                 avg_service_s: number(value(serviceForm, 'avg_service_s')) };
    var call = serviceEditing
      ? api('PUT', '/admin/services/' + encodeURIComponent(serviceEditing.code), body)
      : api('POST', '/admin/services', Object.assign({ code: value(serviceForm, 'code') }, body));
    return call.then(function (r) {
      if (!r.ok) { showErrors(serviceForm, r); return; }
      return showServices().then(function () {
        openService(state.services.filter(function (s) { return s.code === r.data.code; })[0] || r.data);
        noteIn(serviceForm, tr('saved'));
      });
    });
  });

  function bindDelete(form, label, path, done) {
    var button = form.querySelector('[data-delete]');
    if (!button) { return; }
    button.addEventListener('click', function () {
      if (!window.confirm(tr('confirm_delete', { name: label() }))) { return; }
      clearMessages(form);
      api('DELETE', path()).then(function (r) {
        if (!r.ok) { showErrors(form, r); return; }
        form.hidden = true;
        done(r.data);
      });
    });
  }
  bindDelete(serviceForm, function () { return name(serviceEditing); },
             function () { return '/admin/services/' + encodeURIComponent(serviceEditing.code); },
             function (data) {
               showServices().then(function () {
                 listNote('services-note', data.deleted ? tr('service_deleted') : tr('service_deactivated'));
               });
             });

  // counters ----------------------------------------------------------------------------------------
  var counterForm = document.getElementById('counter-form');
  var counterEditing = null;
  var counterServices = [];

  function renderCounters() {
    var body = $('#counters-table tbody');
    body.textContent = '';
    state.counters.forEach(function (c) {
      body.appendChild(make('tr', { 'data-counter': c.number }, [
        make('td', { className: 'num', text: String(c.number) }), make('td', { text: name(c) }),
        make('td', { text: c.services.map(serviceName).join(' → ') || tr('none') }),
        make('td', { className: 'num', text: c.led_address === null ? tr('none') : String(c.led_address) }),
        make('td', { className: 'actions' }, [make('button', { type: 'button', className: 'small',
          text: canEdit ? tr('edit') : tr('view'), onclick: function () { openCounter(c); } })])
      ]));
    });
  }

  function showCounters() {
    return Promise.all([loadServiceList(), loadCounterList()]).then(function (rs) {
      var failed = rs.filter(function (r) { return !r.ok; })[0];
      if (failed) { listNote('counters-note', errorText(failed), true); return; }
      renderCounters();
    });
  }

  function renderCounterServices() {
    var list = document.getElementById('counter-services');
    list.textContent = '';
    counterServices.forEach(function (code, i) {
      list.appendChild(make('li', { 'data-field': 'services[' + i + ']' }, [
        make('span', { text: serviceName(code) + ' (' + code + ')' })
      ].concat(moveButtons(counterServices, i, renderCounterServices)).concat([
        canEdit ? make('button', { type: 'button', className: 'small', text: '✕', 'aria-label': tr('remove'),
                                   onclick: function () { counterServices.splice(i, 1); renderCounterServices(); } }) : null,
        make('p', { className: 'field-error', hidden: true })
      ])));
    });
    var select = document.getElementById('counter-service-add');
    if (select) {
      select.textContent = '';
      state.services.filter(function (s) { return counterServices.indexOf(s.code) < 0; }).forEach(function (s) {
        select.appendChild(make('option', { value: s.code, text: name(s) }));
      });
      document.getElementById('counter-service-add-button').disabled = !select.options.length;
    }
  }
  var addCounterService = document.getElementById('counter-service-add-button');
  if (addCounterService) {
    addCounterService.addEventListener('click', function () {
      var code = document.getElementById('counter-service-add').value;
      if (code) { counterServices.push(code); renderCounterServices(); }
    });
  }

  function openCounter(c) {
    counterEditing = c;
    clearMessages(counterForm);
    $('.editor-title', counterForm).textContent = c ? tr('edit_counter', { n: c.number }) : tr('new_counter');
    var next = state.counters.reduce(function (m, x) { return Math.max(m, x.number); }, 0) + 1;
    fill(counterForm, c || { number: next, name: '', name_en: '', led_address: null });
    counterForm.elements.number.readOnly = !!c;
    counterServices = c ? c.services.slice() : [];
    renderCounterServices();
    var del = counterForm.querySelector('[data-delete]');
    if (del) { del.hidden = !c; }
    counterForm.hidden = false;
    counterForm.scrollIntoView({ block: 'nearest' });
  }
  var addCounter = document.getElementById('add-counter');
  if (addCounter) { addCounter.addEventListener('click', function () { openCounter(null); }); }

  onSubmit(counterForm, function () {
    var body = { name: value(counterForm, 'name'), name_en: value(counterForm, 'name_en'),
                 led_address: number(value(counterForm, 'led_address')), services: counterServices.slice() };
    var call = counterEditing ? api('PUT', '/admin/counters/' + counterEditing.number, body)
      : api('POST', '/admin/counters', Object.assign({ number: number(value(counterForm, 'number')) }, body));
    return call.then(function (r) {
      if (!r.ok) { showErrors(counterForm, r); return; }
      return showCounters().then(function () {
        openCounter(state.counters.filter(function (c) { return c.number === r.data.number; })[0]);
        noteIn(counterForm, tr('saved'));
      });
    });
  });
  bindDelete(counterForm, function () { return tr('edit_counter', { n: counterEditing.number }); },
             function () { return '/admin/counters/' + counterEditing.number; },
             function () { showCounters().then(function () { listNote('counters-note', tr('counter_deleted')); }); });

  // staff -------------------------------------------------------------------------------------------
  var userForm = document.getElementById('user-form');
  var userEditing = null;

  function photoUrl(u) { return '/api/v1/users/' + u.id + '/photo?v=' + u.photo_version; }

  function renderUsers() {
    var body = $('#users-table tbody');
    body.textContent = '';
    state.users.forEach(function (u) {
      body.appendChild(make('tr', { 'data-user': u.username, className: u.active ? '' : 'inactive' }, [
        make('td', {}, [u.photo_version ? make('img', { className: 'photo-mini', src: photoUrl(u), alt: '' }) : null]),
        make('td', { text: u.username }), make('td', { text: u.full_name }), make('td', { text: tr('role_' + u.role) }),
        make('td', { text: u.counters.join(', ') || tr('none') }), make('td', { text: u.active ? tr('yes') : tr('no') }),
        make('td', { className: 'actions' }, [make('button', { type: 'button', className: 'small',
          text: canEdit ? tr('edit') : tr('view'), onclick: function () { openUser(u); } })])
      ]));
    });
  }

  function showStaff() {
    return Promise.all([api('GET', '/admin/users'), loadCounterList()]).then(function (rs) {
      if (!rs[0].ok) { return; }
      state.users = rs[0].data.users;
      renderUsers();
    });
  }

  function openUser(u) {
    userEditing = u;
    clearMessages(userForm);
    document.getElementById('user-secret').hidden = true;
    $('.editor-title', userForm).textContent = u ? tr('edit_user', { u: u.username }) : tr('new_user');
    fill(userForm, u || { username: '', full_name: '', role: 'staff', active: true, password: '' });
    userForm.elements.username.readOnly = !!u;
    Array.prototype.forEach.call(userForm.querySelectorAll('.for-create'), function (x) { x.hidden = !!u; });
    Array.prototype.forEach.call(userForm.querySelectorAll('.for-edit'), function (x) { x.hidden = !u; });
    var boxes = document.getElementById('user-counters');
    boxes.textContent = '';
    state.counters.forEach(function (c) {
      boxes.appendChild(make('label', { className: 'inline' }, [
        make('input', { type: 'checkbox', name: 'counter', value: String(c.number),
                        checked: !!(u && u.counters.indexOf(c.number) >= 0) }),
        document.createTextNode(' ' + c.number + ' — ' + name(c))
      ]));
    });
    showPhoto(u);
    userForm.hidden = false;
    userForm.scrollIntoView({ block: 'nearest' });
  }

  function showPhoto(u) {
    var img = document.getElementById('user-photo-img');
    img.hidden = !(u && u.photo_version);
    if (u && u.photo_version) { img.src = photoUrl(u); }
    var remove = document.getElementById('user-photo-remove');
    if (remove) { remove.hidden = !(u && u.photo_version); }
    var input = document.getElementById('user-photo');
    if (input) { input.value = ''; }
  }

  var addUser = document.getElementById('add-user');
  if (addUser) { addUser.addEventListener('click', function () { openUser(null); }); }

  function afterUserSaved(username) {
    return showStaff().then(function () {
      var u = state.users.filter(function (x) { return x.username === username; })[0];
      var secret = document.getElementById('user-secret');
      var shown = !secret.hidden && secret;
      openUser(u);
      if (shown) { secret.hidden = false; }
    });
  }

  onSubmit(userForm, function () {
    var counters = Array.prototype.filter.call(userForm.querySelectorAll('input[name="counter"]'), function (b) {
      return b.checked;
    }).map(function (b) { return Number(b.value); });
    var body = { full_name: value(userForm, 'full_name'), role: userForm.elements.role.value,
                 active: checked(userForm, 'active'), counters: counters };
    var creating = !userEditing;
    var username = creating ? value(userForm, 'username') : userEditing.username;
    var call = creating
      ? api('POST', '/admin/users', Object.assign({ username: username, password: value(userForm, 'password') || null }, body))
      : api('PUT', '/admin/users/' + encodeURIComponent(username), body);
    return call.then(function (r) {
      if (!r.ok) { showErrors(userForm, r); return; }
      var secret = document.getElementById('user-secret');
      secret.hidden = true;
      if (r.data.password) { showSecret(secret, tr('new_password', { u: username }), r.data.password); }
      return afterUserSaved(username).then(function () { noteIn(userForm, tr('saved')); });
    });
  });

  var resetButton = document.getElementById('reset-password');
  if (resetButton) {
    resetButton.addEventListener('click', function () {
      var username = userEditing.username;
      if (!window.confirm(tr('confirm_reset', { u: username }))) { return; }
      clearMessages(userForm);
      api('POST', '/admin/users/' + encodeURIComponent(username) + '/password', {}).then(function (r) {
        if (!r.ok) { showErrors(userForm, r); return; }
        showSecret(document.getElementById('user-secret'), tr('new_password', { u: username }), r.data.password);
      });
    });
  }

  function photoProblem(text) {
    var container = userForm.querySelector('[data-field="photo"]');
    var box = ownError(container);
    box.textContent = text;
    box.hidden = false;
    container.classList.add('invalid');
  }

  var photoInput = document.getElementById('user-photo');
  if (photoInput) {
    photoInput.addEventListener('change', function () {
      clearMessages(userForm);
      var file = photoInput.files[0];
      if (!file || !userEditing) { return; }
      if (file.size > PHOTO_MAX) {
        photoProblem(tr('photo_too_large', { mb: (file.size / 1048576).toFixed(1) }));
        photoInput.value = '';
        return;
      }
      api('PUT', '/users/' + userEditing.id + '/photo', file,
          { raw: true, contentType: file.type || 'application/octet-stream' }).then(function (r) {
        if (!r.ok) { photoProblem(errorText(r)); photoInput.value = ''; return; }
        afterUserSaved(userEditing.username).then(function () { noteIn(userForm, tr('photo_saved')); });
      });
    });
    document.getElementById('user-photo-remove').addEventListener('click', function () {
      clearMessages(userForm);
      api('DELETE', '/users/' + userEditing.id + '/photo').then(function (r) {
        if (!r.ok) { photoProblem(errorText(r)); return; }
        afterUserSaved(userEditing.username).then(function () { noteIn(userForm, tr('photo_removed')); });
      });
    });
  }

  // devices -----------------------------------------------------------------------------------------
  var deviceForm = document.getElementById('device-form');
  var deviceEditing = null;
  var COUNTER_KINDS = ['printer', 'kiosk', 'rating'];

  function renderDevices() {
    var body = $('#devices-table tbody');
    body.textContent = '';
    state.devices.forEach(function (d) {
      var actions = [make('button', { type: 'button', className: 'small', text: canEdit ? tr('edit') : tr('view'),
                                      onclick: function () { openDevice(d); } })];
      if (canEdit) {
        actions.push(make('button', { type: 'button', className: 'small', text: tr('new_token'),
                                      onclick: function () { issue(d); } }));
        actions.push(make('button', { type: 'button', className: 'small danger', text: tr('revoke'),
                                      disabled: !d.tokens, onclick: function () { revoke(d); } }));
      }
      body.appendChild(make('tr', { 'data-device': d.code }, [
        make('td', { text: tr('kind_' + d.kind) }), make('td', { text: d.code }), make('td', { text: d.name }),
        make('td', { text: when(d.last_seen) }),
        make('td', { text: d.online === null ? tr('none') : (d.online ? tr('online') : tr('offline')) }),
        make('td', { className: 'num', text: String(d.tokens) }), make('td', { className: 'actions' }, actions)
      ]));
    });
  }

  function showDevices() {
    return Promise.all([api('GET', '/admin/devices'), loadServiceList(), loadCounterList(),
                        state.office ? null : loadOffice()]).then(function (rs) {
      if (!rs[0].ok) { listNote('devices-note', errorText(rs[0]), true); return; }
      state.devices = rs[0].data.devices;
      renderDevices();
    });
  }

  function showToken(data) {
    var box = document.getElementById('device-secret');
    showSecret(box, tr('token_once', { code: data.code }), data.token);
    var url = $('.secret-url', box);
    url.hidden = !data.open_url;
    document.getElementById('device-url').value = data.open_url ? window.location.origin + data.open_url : '';
    $('.secret-agent', box).hidden = ['agent', 'printer'].indexOf(data.kind) < 0;
    box.scrollIntoView({ block: 'nearest' });
  }

  function deviceBody(d, form) {
    if (!form) {     // a new token for a listed device: it keeps its settings
      var body = { kind: d.kind, code: d.code, name: d.name };
      if (d.settings.board) { body.board = d.settings.board; }
      if (d.settings.counter) { body.counter = d.settings.counter; }
      return body;
    }
    var kind = form.elements.kind.value;
    var out = { name: value(form, 'name') };
    if (kind === 'display') {
      var pick = function (id, asNumber) {
        return Array.prototype.filter.call(document.querySelectorAll('#' + id + ' input'), function (b) { return b.checked; })
          .map(function (b) { return asNumber ? Number(b.value) : b.value; });
      };
      var board = { counters: pick('device-board-counters', true), services: pick('device-board-services', false) };
      out.board = board.counters.length || board.services.length ? board : null;
    }
    if (COUNTER_KINDS.indexOf(kind) >= 0) { out.counter = number(form.elements.counter.value); }
    return out;
  }

  function issue(d) {
    listNote('devices-note', '');
    api('POST', '/admin/devices', deviceBody(d)).then(function (r) {
      if (!r.ok) { listNote('devices-note', errorText(r), true); return; }
      showToken(r.data);
      showDevices();
    });
  }

  function revoke(d) {
    if (!window.confirm(tr('confirm_revoke', { code: d.code }))) { return; }
    api('POST', '/admin/devices/' + encodeURIComponent(d.code) + '/revoke', {}).then(function (r) {
      if (!r.ok) { listNote('devices-note', errorText(r), true); return; }
      document.getElementById('device-secret').hidden = true;
      showDevices().then(function () { listNote('devices-note', tr('revoked', { code: d.code })); });
    });
  }

  function kindChanged() {
    var kind = deviceForm.elements.kind.value;
    $('.for-board', deviceForm).hidden = kind !== 'display';
    $('.for-counter', deviceForm).hidden = COUNTER_KINDS.indexOf(kind) < 0;
  }
  deviceForm.elements.kind.addEventListener('change', kindChanged);

  function openDevice(d) {
    deviceEditing = d;
    clearMessages(deviceForm);
    $('.editor-title', deviceForm).textContent = d ? tr('edit_device', { code: d.code }) : tr('issue_device');
    fill(deviceForm, d ? { kind: d.kind, code: d.code, name: d.name } : { kind: 'kiosk', code: '', name: '' });
    deviceForm.elements.code.readOnly = !!d;
    deviceForm.elements.kind.disabled = !!d || !canEdit;
    var counter = deviceForm.elements.counter;
    counter.textContent = '';
    counter.appendChild(make('option', { value: '', text: tr('none') }));
    state.counters.forEach(function (c) { counter.appendChild(make('option', { value: String(c.number), text: c.number + ' — ' + name(c) })); });
    counter.value = d && d.settings.counter ? String(d.settings.counter) : '';
    var board = (d && d.settings.board) || { counters: [], services: [] };
    var boxes = function (id, items, key, chosen) {
      var box = document.getElementById(id);
      box.textContent = '';
      items.forEach(function (item) {
        box.appendChild(make('label', { className: 'inline' }, [
          make('input', { type: 'checkbox', value: String(item[key]), checked: chosen.indexOf(item[key]) >= 0 }),
          document.createTextNode(' ' + (key === 'number' ? item.number + ' — ' : '') + name(item))
        ]));
      });
    };
    boxes('device-board-counters', state.counters, 'number', board.counters || []);
    boxes('device-board-services', state.services, 'code', board.services || []);
    var submit = deviceForm.querySelector('button[type="submit"]');
    if (submit) { submit.textContent = d ? tr('save') : tr('issue'); }
    kindChanged();
    deviceForm.hidden = false;
    deviceForm.scrollIntoView({ block: 'nearest' });
  }
  var addDevice = document.getElementById('add-device');
  if (addDevice) { addDevice.addEventListener('click', function () { openDevice(null); }); }

  onSubmit(deviceForm, function () {
    var body = deviceBody(null, deviceForm);
    var call = deviceEditing ? api('PUT', '/admin/devices/' + encodeURIComponent(deviceEditing.code), body)
      : api('POST', '/admin/devices', Object.assign({ kind: deviceForm.elements.kind.value,
                                                      code: value(deviceForm, 'code') }, body));
    return call.then(function (r) {
      if (!r.ok) { showErrors(deviceForm, r); return; }
      if (r.data.token) { showToken(r.data); }
      deviceForm.hidden = true;
      return showDevices().then(function () { listNote('devices-note', tr('saved')); });
    });
  });

  // priority ----------------------------------------------------------------------------------------
  var priorityForm = document.getElementById('priority-form');
  var groups = [];

  function syncGroups() {
    return replaceAll(groups, Array.prototype.map.call(document.querySelectorAll('#priority-groups tr'), function (row, i) {
      return { code: row.querySelector('.code').value.trim(), name_vi: row.querySelector('.name-vi').value.trim(),
               name_en: row.querySelector('.name-en').value.trim(), active: row.querySelector('.active').checked,
               fresh: groups[i] && groups[i].fresh };
    }));
  }

  function cell(field, input) {
    return make('td', { 'data-field': field }, [input, make('p', { className: 'field-error', hidden: true })]);
  }

  function renderGroups() {
    var body = document.getElementById('priority-groups');
    body.textContent = '';
    groups.forEach(function (g, i) {
      var at = 'groups[' + i + ']';
      body.appendChild(make('tr', { 'data-field': at }, [
        cell(at + '.code', make('input', { className: 'code', value: g.code, maxLength: 32, size: 8, readOnly: !g.fresh,
                                           'aria-label': tr('f_group_code') })),
        cell(at + '.name_vi', make('input', { className: 'name-vi', value: g.name_vi, maxLength: 200,
                                              'aria-label': tr('f_group_name_vi') })),
        cell(at + '.name_en', make('input', { className: 'name-en', value: g.name_en, maxLength: 200,
                                              'aria-label': tr('f_group_name_en') })),
        make('td', {}, [make('input', { type: 'checkbox', className: 'active', checked: g.active,
                                        'aria-label': tr('f_group_active') })]),
        make('td', { className: 'actions' }, moveButtons(groups, i, renderGroups, syncGroups).concat([
          canEdit ? make('button', { type: 'button', className: 'small', text: '✕', 'aria-label': tr('remove'),
                                     onclick: function () { syncGroups(); groups.splice(i, 1); renderGroups(); } }) : null
        ]))
      ]));
    });
  }

  function showPriority() {
    return api('GET', '/admin/priority').then(function (r) {
      if (!r.ok) { showErrors(priorityForm, r); return; }
      fill(priorityForm, { policy: r.data.policy, interleave: r.data.interleave });
      groups = r.data.groups;
      renderGroups();
    });
  }
  var addGroup = document.getElementById('add-group');
  if (addGroup) {
    addGroup.addEventListener('click', function () {
      syncGroups();
      groups.push({ code: '', name_vi: '', name_en: '', active: true, fresh: true });
      renderGroups();
      var codes = document.querySelectorAll('#priority-groups .code');
      codes[codes.length - 1].focus();
    });
  }
  onSubmit(priorityForm, function () {
    var body = { policy: priorityForm.elements.policy.value, interleave: number(value(priorityForm, 'interleave')),
                 groups: syncGroups().map(function (g) {
                   return { code: g.code, name_vi: g.name_vi, name_en: g.name_en, active: g.active };
                 }) };
    return api('PUT', '/admin/priority', body).then(function (r) {
      if (!r.ok) { showErrors(priorityForm, r); return; }
      groups = r.data.groups;
      renderGroups();
      noteIn(priorityForm, tr('saved'));
    });
  });

  // voice -------------------------------------------------------------------------------------------
  var voiceForm = document.getElementById('voice-form');
  function showVoice() {
    return api('GET', '/admin/voice').then(function (r) {
      if (!r.ok) { showErrors(voiceForm, r); return; }
      fill(voiceForm, r.data);
      var sample = document.getElementById('listen-number');
      if (!sample.value) { sample.value = r.data.sample_number; }
    });
  }
  onSubmit(voiceForm, function () {
    var body = { template: value(voiceForm, 'template'), dialect: voiceForm.elements.dialect.value,
                 reading: voiceForm.elements.reading.value, keep_leading_zeros: checked(voiceForm, 'keep_leading_zeros'),
                 four_as_tu: checked(voiceForm, 'four_as_tu'), repeat: number(value(voiceForm, 'repeat')),
                 engine: voiceForm.elements.engine.value };
    return api('PUT', '/admin/voice', body).then(function (r) {
      if (!r.ok) { showErrors(voiceForm, r); return; }
      fill(voiceForm, r.data);
      noteIn(voiceForm, tr('saved'));
    });
  });

  /* The saved settings, heard through the announcements' own preview: the sentence and its WAV. */
  document.getElementById('listen').addEventListener('click', function () {
    var note = document.getElementById('listen-note');
    var query = '?number=' + encodeURIComponent(document.getElementById('listen-number').value.trim()) +
      '&counter=' + encodeURIComponent(document.getElementById('listen-counter').value.trim());
    api('GET', '/announcements/preview' + query).then(function (r) {
      if (!r.ok) { note.textContent = errorText(r); return; }
      note.textContent = tr('playing', { text: r.data.text });
      var fallback = function () {
        if (r.data.missing_clips && r.data.missing_clips.length) {
          note.textContent += ' ' + tr('clips_missing', { words: r.data.missing_clips.join(', ') });
        }
        if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
          var utterance = new window.SpeechSynthesisUtterance(r.data.text);
          utterance.lang = 'vi-VN';
          window.speechSynthesis.speak(utterance);
        }
      };
      if (r.data.missing_clips && r.data.missing_clips.length) { fallback(); return; }
      var audio = new Audio(r.data.audio_url);
      audio.play().catch(fallback);
    });
  });

  // ticket template -----------------------------------------------------------------------------------
  var ticketForm = document.getElementById('ticket-form');
  var preview = document.getElementById('ticket-preview');
  var previewTimer = null;
  var previewSeq = 0;

  function ticketBody() {
    return { header_lines: ticketForm.elements.header_lines.value.split('\n').map(function (l) { return l.trim(); })
               .filter(function (l) { return l; }),
             footer: ticketForm.elements.footer.value.trim(), qr: checked(ticketForm, 'qr'),
             paper_width: number(ticketForm.elements.paper_width.value) };
  }

  /* Draws the ticket being typed: the newest answer wins, an older one arriving late is dropped. */
  function refreshPreview() {
    var seq = ++previewSeq;
    api('POST', '/admin/ticket-template/preview', ticketBody(), { binary: true }).then(function (r) {
      if (seq !== previewSeq) { return; }
      clearMessages(ticketForm);
      if (!r.ok) { showErrors(ticketForm, r); return; }
      var old = preview.src;
      preview.src = URL.createObjectURL(r.data);
      preview.dataset.bytes = String(r.data.size);
      preview.dataset.seq = String(seq);
      if (old && old.indexOf('blob:') === 0) { URL.revokeObjectURL(old); }
    });
  }
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 350);
  }
  preview.addEventListener('load', function () {      // half size: the paper's 203 dpi at a screen's ~100
    preview.style.width = Math.round(preview.naturalWidth / 2) + 'px';
  });
  ticketForm.addEventListener('input', schedulePreview);
  ticketForm.addEventListener('change', schedulePreview);

  function showTicket() {
    return api('GET', '/admin/ticket-template').then(function (r) {
      if (!r.ok) { showErrors(ticketForm, r); return; }
      fill(ticketForm, { header_lines: r.data.header_lines.join('\n'), footer: r.data.footer, qr: r.data.qr,
                         paper_width: String(r.data.paper_width) });
      refreshPreview();
    });
  }
  onSubmit(ticketForm, function () {
    return api('PUT', '/admin/ticket-template', ticketBody()).then(function (r) {
      if (!r.ok) { showErrors(ticketForm, r); return; }
      noteIn(ticketForm, tr('saved'));
    });
  });

  // board notice --------------------------------------------------------------------------------------
  var noticeForm = document.getElementById('notice-form');
  function showNotice() {
    return loadOffice().then(function (r) {
      if (!r.ok) { showErrors(noticeForm, r); return; }
      fill(noticeForm, r.data.notice || { vi: '', en: '' });
    });
  }
  onSubmit(noticeForm, function () {
    return api('PUT', '/office/notice', { vi: value(noticeForm, 'vi'), en: value(noticeForm, 'en') }).then(function (r) {
      if (!r.ok) { showErrors(noticeForm, r); return; }
      fill(noticeForm, r.data.notice || { vi: '', en: '' });
      noteIn(noticeForm, tr('saved'));
    });
  });

  // rating scale ----------------------------------------------------------------------------------------
  var ratingForm = document.getElementById('rating-form');
  var levels = [];
  function syncLevels() {
    return replaceAll(levels, Array.prototype.map.call(document.querySelectorAll('#rating-levels tr'), function (row) {
      return { code: row.querySelector('.code').value.trim(), vi: row.querySelector('.vi').value.trim(),
               en: row.querySelector('.en').value.trim(), satisfied: row.querySelector('.satisfied').checked };
    }));
  }
  function renderLevels() {
    var body = document.getElementById('rating-levels');
    body.textContent = '';
    levels.forEach(function (lv, i) {
      body.appendChild(make('tr', {}, [
        make('td', {}, [make('input', { className: 'code', value: lv.code, maxLength: 32, size: 12, 'aria-label': tr('f_level_code') })]),
        make('td', {}, [make('input', { className: 'vi', value: lv.vi, maxLength: 60, 'aria-label': tr('f_level_vi') })]),
        make('td', {}, [make('input', { className: 'en', value: lv.en, maxLength: 60, 'aria-label': tr('f_level_en') })]),
        make('td', {}, [make('input', { type: 'checkbox', className: 'satisfied', checked: lv.satisfied,
                                        'aria-label': tr('f_level_satisfied') })]),
        make('td', { className: 'actions' }, moveButtons(levels, i, renderLevels, syncLevels).concat([
          canEdit ? make('button', { type: 'button', className: 'small', text: '✕', 'aria-label': tr('remove'),
                                     onclick: function () { syncLevels(); levels.splice(i, 1); renderLevels(); } }) : null
        ]))
      ]));
    });
  }
  function showRating() {
    return api('GET', '/admin/rating').then(function (r) {
      if (!r.ok) { showErrors(ratingForm, r); return; }
      levels = r.data.levels;
      renderLevels();
      document.getElementById('rating-question-vi').value = r.data.question.vi;
      document.getElementById('rating-question-en').value = r.data.question.en;
      ratingForm.elements.window_minutes.value = r.data.window_minutes;
    });
  }
  var addLevel = document.getElementById('add-level');
  if (addLevel) {
    addLevel.addEventListener('click', function () {
      syncLevels();
      levels.push({ code: '', vi: '', en: '', satisfied: false });
      renderLevels();
    });
  }
  onSubmit(ratingForm, function () {
    var body = { levels: syncLevels(), window_minutes: number(value(ratingForm, 'window_minutes')),
                 question: { vi: document.getElementById('rating-question-vi').value.trim(),
                             en: document.getElementById('rating-question-en').value.trim() } };
    return api('PUT', '/admin/rating', body).then(function (r) {
      if (!r.ok) { showErrors(ratingForm, r); return; }
      levels = r.data.levels;
      renderLevels();
      noteIn(ratingForm, tr('saved'));
    });
  });

  // editors close, sections switch ---------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll('form.editor [data-close]'), function (button) {
    button.addEventListener('click', function () { button.closest('form').hidden = true; });
  });

  var SECTIONS = { office: showOffice, services: showServices, counters: showCounters, staff: showStaff,
                   devices: showDevices, priority: showPriority, voice: showVoice, ticket: showTicket,
                   notice: showNotice, rating: showRating };

  /* Each visit to a section reads it afresh: another admin may have changed it meanwhile. */
  function route() {
    var current = (window.location.hash || '#office').slice(1);
    if (!SECTIONS[current]) { current = 'office'; }
    Array.prototype.forEach.call(document.querySelectorAll('.settings-section'), function (section) {
      section.hidden = section.dataset.section !== current;
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-section-link]'), function (link) {
      if (link.dataset.sectionLink === current) { link.setAttribute('aria-current', 'page'); }
      else { link.removeAttribute('aria-current'); }
    });
    var section = document.getElementById('sec-' + current);
    Array.prototype.forEach.call(section.querySelectorAll('form.editor'), function (f) { f.hidden = true; });
    var done = SECTIONS[current]();
    Promise.resolve(done).then(function () { document.body.dataset.section = current; });
  }
  window.addEventListener('hashchange', function () { document.body.dataset.section = ''; route(); });
  route();
})();
