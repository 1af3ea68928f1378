/*
 * The change log: GET /api/v1/admin/audit, newest first, filtered by what changed. Each row shows only
 * what differs between before and after, as compact JSON: "name_vi: "Hộ tịch" → "Hộ tịch (mới)"".
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('audit-config').textContent);
  var lang = config.lang === 'en' ? 'en' : 'vi';
  var form = document.getElementById('audit-filter');
  var status = document.getElementById('audit-status');
  var body = document.querySelector('#audit-table tbody');
  var timeZone = null;

  function tr(key) {
    var pair = config.texts[key];
    return pair ? pair[lang === 'en' ? 1 : 0] : key;
  }

  /* Times on the office's clock, as its staff read them. */
  function when(iso) {
    var at = new Date(iso);
    if (isNaN(at)) { return iso; }
    var options = timeZone ? { timeZone: timeZone } : {};
    try { return at.toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN', options); } catch (e) { return at.toLocaleString(); }
  }

  function json(value) { return value === undefined ? tr('none') : JSON.stringify(value); }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  /* One line per changed key: "key: before → after"; a creation or a deletion shows the whole value. */
  function diff(before, after) {
    if (before === null || after === null || typeof before !== 'object' || typeof after !== 'object' ||
        Array.isArray(before) || Array.isArray(after)) {
      return [json(before === null ? undefined : before) + ' → ' + json(after === null ? undefined : after)];
    }
    var keys = Object.keys(before).concat(Object.keys(after).filter(function (k) { return !(k in before); }));
    return keys.filter(function (k) { return !same(before[k], after[k]); }).map(function (k) {
      return k + ': ' + json(before[k]) + ' → ' + json(after[k]);
    });
  }

  function cell(text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) { td.className = className; }
    return td;
  }

  function render(entries) {
    body.textContent = '';
    entries.forEach(function (e) {
      var row = document.createElement('tr');
      row.dataset.entity = e.entity;
      row.appendChild(cell(when(e.at)));
      row.appendChild(cell(e.username));
      row.appendChild(cell(tr('entity_' + e.entity) + ' «' + e.key + '» — ' + tr('action_' + e.action)));
      var change = cell('', 'diff');
      diff(e.before, e.after).forEach(function (line) {
        var div = document.createElement('div');
        div.textContent = line;
        change.appendChild(div);
      });
      row.appendChild(change);
      body.appendChild(row);
    });
    status.textContent = entries.length ? '' : tr('empty');
  }

  function load() {
    var query = '?limit=' + encodeURIComponent(form.elements.limit.value) +
      (form.elements.entity.value ? '&entity=' + encodeURIComponent(form.elements.entity.value) : '');
    status.textContent = tr('loading');
    fetch('/api/v1/admin/audit' + query, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (response) {
        if (response.status === 401) { window.location.assign(config.login_url); return null; }
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error((data && data.error && data.error.message) || response.status); }
          return data;
        });
      })
      .then(function (data) { if (data) { render(data.entries); document.body.dataset.loaded = 'true'; } })
      .catch(function (error) { status.textContent = tr('network_error') + ' (' + error.message + ')'; });
  }

  form.addEventListener('change', load);
  form.addEventListener('submit', function (event) { event.preventDefault(); load(); });
  fetch('/api/v1/admin/office', { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (office) { timeZone = office && office.timezone; }, function () {})
    .then(load);
})();
