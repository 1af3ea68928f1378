/*
 * The report page: a date range in the form (and the address, so a reload or a shared link shows the
 * same report), the summary from /api/v1/reports/summary drawn as cards, tables and four Chart.js charts,
 * and export links for the same range. Every figure comes from the server already rounded; this page
 * only formats it (Vietnamese: 9,2 and 1.234). Without Chart.js the tables still show, with a note.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('reports-config').textContent);
  var lang = config.lang === 'en' ? 'en' : 'vi';
  var locale = lang === 'en' ? 'en-GB' : 'vi-VN';
  var hasCharts = typeof window.Chart !== 'undefined';
  var charts = {};
  var today = null;            // the office's business date, from the report on screen
  var current = null;          // the report on screen
  var asked = 0;               // the latest request: an older answer arriving late is dropped
  var COLORS = { early: '#0a6b2d', on_time: '#1565c0', late: '#b00020', bar: '#a1121b', waits: '#8a5a00' };
  var TONES = { great: '#0a6b2d', good: '#1565c0', neutral: '#8a5a00', bad: '#b00020' };

  var plural = new Intl.PluralRules(locale);
  /* A text with its values; with `count`, the singular form ("1 day") where the language has one. */
  function tr(key, values, count) {
    var pair = config.texts[key];
    if (count !== undefined && config.texts[key + '_one'] && plural.select(count) === 'one') { pair = config.texts[key + '_one']; }
    var text = pair ? pair[lang === 'en' ? 1 : 0] : key;
    Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
    return text;
  }
  function $(id) { return document.getElementById(id); }
  function make(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (props[key] === null || props[key] === undefined) { return; }
      if (key === 'text') { node.textContent = props[key]; } else if (key === 'className') { node.className = props[key]; }
      else { node.setAttribute(key, props[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  // numbers and dates --------------------------------------------------------------------------------
  function number(value, decimals) {
    if (value === null || value === undefined) { return '—'; }
    return value.toLocaleString(locale, { minimumFractionDigits: decimals || 0, maximumFractionDigits: decimals || 0 });
  }
  function minutes(value) { return value === null || value === undefined ? '—' : number(value, 1); }
  function percent(value) { return value === null || value === undefined ? '—' : number(value, 1) + '%'; }
  function iso(d) {
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }
  function parseDay(text) { var p = text.split('-').map(Number); return new Date(p[0], p[1] - 1, p[2]); }
  function showDay(text) { return parseDay(text).toLocaleDateString(locale, { day: '2-digit', month: '2-digit', year: 'numeric' }); }
  function quickRange(name) {
    var t = parseDay(today);
    if (name === 'last7') { return [iso(new Date(t.getFullYear(), t.getMonth(), t.getDate() - 6)), today]; }
    if (name === 'this_month') { return [iso(new Date(t.getFullYear(), t.getMonth(), 1)), today]; }
    if (name === 'last_month') {
      return [iso(new Date(t.getFullYear(), t.getMonth() - 1, 1)), iso(new Date(t.getFullYear(), t.getMonth(), 0))];
    }
    return [today, today];
  }

  // loading ---------------------------------------------------------------------------------------
  function query(from, to) {
    var parts = [];
    if (from) { parts.push('from=' + encodeURIComponent(from)); }
    if (to) { parts.push('to=' + encodeURIComponent(to)); }
    return parts.length ? '?' + parts.join('&') : '';
  }

  function load(from, to, remember) {
    var mine = ++asked;
    $('report-status').textContent = tr('loading');
    $('range-error').hidden = true;
    document.body.setAttribute('aria-busy', 'true');
    $('report-figures').classList.add('stale');       // the figures on screen are for the dates before
    return fetch(config.summary_url + query(from, to), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (mine !== asked) { return null; }
        if (response.status === 401) {
          $('report-status').textContent = tr('signed_out');
          window.location.href = config.login_url;
          return null;
        }
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error((body.error && body.error.message) || tr('network_error')); }
          return body;
        });
      })
      .then(function (report) {
        if (!report || mine !== asked) { return; }
        today = report.generated_at.slice(0, 10);     // the office's date: generated_at is on its clock
        current = report;
        $('range-from').value = report.from;
        $('range-to').value = report.to;
        if (remember) {
          var url = new URL(window.location.href);
          url.searchParams.set('from', report.from);
          url.searchParams.set('to', report.to);
          window.history.replaceState(null, '', url.pathname + url.search);
        }
        draw(report);
      })
      .catch(function (error) {
        if (mine !== asked) { return; }
        failed(error && error.message && error.message !== 'Failed to fetch' ? error.message : tr('network_error'));
      })
      .then(function () { if (mine === asked) { document.body.removeAttribute('aria-busy'); } });
  }

  /* No report for the dates in the form: say why, and take the last report's figures away with it. */
  function failed(message) {
    $('range-error').textContent = message;
    $('range-error').hidden = false;
    $('report-status').textContent = tr('failed');
    $('no-data').hidden = true;
    $('report-figures').hidden = true;
    current = null;
    ['csv', 'xlsx'].forEach(function (kind) {
      $('export-' + kind).removeAttribute('href');
      $('export-' + kind).setAttribute('aria-disabled', 'true');
    });
  }

  // drawing ---------------------------------------------------------------------------------------
  function draw(report) {
    $('report-figures').hidden = false;
    $('report-figures').classList.remove('stale');
    var totals = report.totals;
    var dossiers = report.dossiers;
    var sat = report.satisfaction;
    var at = new Date(report.generated_at).toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short', timeZone: report.office.timezone });
    $('report-status').textContent = tr('loaded', { from: showDay(report.from), to: showDay(report.to), days: report.days, at: at },
                                        report.days);
    var empty = totals.issued === 0 && totals.called === 0 && sat.count === 0 && dossiers.total === 0;
    $('no-data').hidden = !empty;
    document.body.classList.toggle('report-empty', empty);

    setCard('issued', number(totals.issued), totals.issued, tr('card_issued_note', { days: report.days }, report.days));
    setCard('served', number(totals.served), totals.served, tr('card_served_note', { called: number(totals.called) }));
    setCard('no_show', number(totals.no_show), totals.no_show, tr('card_no_show_note', { transferred: number(totals.transferred) }));
    setCard('wait', totals.wait.mean_min === null ? '—' : minutes(totals.wait.mean_min) + ' ' + tr('minutes_unit'), totals.wait.mean_min,
            tr('card_wait_note', { median: minutes(totals.wait.median_min), p90: minutes(totals.wait.p90_min) }));
    setCard('satisfied', percent(sat.satisfied_pct), sat.satisfied_pct, tr('card_satisfied_note', { n: number(sat.count) }, sat.count));
    setCard('in_time', percent(dossiers.in_time_pct), dossiers.in_time_pct, tr('card_in_time_note', { n: number(dossiers.total) }, dossiers.total));

    fillTable('table-service', report.by_service, function (row) { return lang === 'en' ? row.name_en || row.name_vi : row.name_vi; }, true);
    fillTable('table-counter', report.by_counter, function (row) {
      var name = lang === 'en' ? row.name_en || row.name : row.name;
      return tr('counter_n', { n: row.number }) + (name ? ' — ' + name : '');
    }, false);
    fillTable('table-officer', report.by_officer, function (row) { return row.full_name || row.username || tr('unknown_officer'); }, false);
    drawCharts(report);
    $('export-csv').href = config.csv_url + query(report.from, report.to);
    $('export-xlsx').href = config.xlsx_url + query(report.from, report.to);
    $('export-csv').removeAttribute('aria-disabled');
    $('export-xlsx').removeAttribute('aria-disabled');
  }

  function setCard(name, text, value, note) {
    var node = $('card-' + name);
    node.textContent = text;
    node.setAttribute('data-value', value === null || value === undefined ? '' : String(value));
    $('card-' + name + '-note').textContent = note;
  }

  function cell(text, value, isNumber) {
    var td = make('td', { text: text, className: isNumber ? 'num' : null });
    if (isNumber) { td.setAttribute('data-value', value === null || value === undefined ? '' : String(value)); }
    return td;
  }

  function fillTable(id, rows, label, withIssued) {
    var body = $(id).querySelector('tbody');
    body.textContent = '';
    if (!rows.length) {
      body.appendChild(make('tr', {}, [make('td', { colspan: withIssued ? 14 : 13, className: 'muted', text: tr('no_rows') })]));
      return;
    }
    rows.forEach(function (row) {
      var cells = [make('th', { scope: 'row', text: label(row) })];
      if (withIssued) { cells.push(cell(number(row.issued), row.issued, true)); }
      ['called', 'served', 'no_show', 'transferred'].forEach(function (k) { cells.push(cell(number(row[k]), row[k], true)); });
      ['wait', 'service_time'].forEach(function (k) {
        ['mean_min', 'median_min', 'p90_min'].forEach(function (s) { cells.push(cell(minutes(row[k][s]), row[k][s], true)); });
      });
      cells.push(cell(number(row.ratings.count), row.ratings.count, true));
      cells.push(cell(percent(row.ratings.satisfied_pct), row.ratings.satisfied_pct, true));
      body.appendChild(make('tr', { 'data-key': row.code || row.number || row.username || '' }, cells));
    });
  }

  // charts ----------------------------------------------------------------------------------------
  function chartData(report) {
    var hours = report.hours.filter(function (h) { return h.issued > 0; });
    var first = hours.length ? hours[0].hour : 7;
    var last = hours.length ? hours[hours.length - 1].hour : 17;
    var hourRows = report.hours.slice(Math.min(first, 7), Math.max(last, 16) + 1);
    var levels = report.satisfaction.levels;
    var counters = report.satisfaction.by_counter;
    var tones = levels.map(function (level, i) {
      if (!level.satisfied) { return TONES.bad; }
      return i === 0 ? TONES.great : TONES.good;
    });
    return {
      hours: { labels: hourRows.map(function (h) { return String(h.hour).padStart(2, '0') + 'h'; }),
               datasets: [{ label: tr('tickets'), data: hourRows.map(function (h) { return h.issued; }), backgroundColor: COLORS.bar }],
               rows: hourRows.map(function (h) {
                 return [String(h.hour).padStart(2, '0') + ':00–' + String((h.hour + 1) % 24).padStart(2, '0') + ':00', number(h.issued)];
               }), head: [tr('hour'), tr('tickets')] },
      waits: { labels: report.wait_distribution.map(band),
               datasets: [{ label: tr('people'), data: report.wait_distribution.map(function (b) { return b.count; }), backgroundColor: COLORS.waits }],
               rows: report.wait_distribution.map(function (b) { return [band(b), number(b.count), percent(b.pct)]; }),
               head: [tr('wait_band'), tr('people'), tr('share')] },
      satisfaction: { labels: counters.map(function (c) { return tr('counter_n', { n: c.number }); }),
                      datasets: levels.map(function (level, i) {
                        return { label: lang === 'en' ? level.name_en : level.name_vi, backgroundColor: tones[i],
                                 data: counters.map(function (c) { return c.levels[level.level] || 0; }) };
                      }),
                      rows: levels.map(function (level) {
                        return [lang === 'en' ? level.name_en : level.name_vi, number(level.count), percent(level.pct)];
                      }).concat([[tr('total'), number(report.satisfaction.count), percent(report.satisfaction.satisfied_pct)]]),
                      head: [tr('level'), tr('people'), tr('share')] },
      dossiers: { labels: [tr('early'), tr('on_time'), tr('late')],
                  datasets: [{ label: tr('dossier_count'), data: [report.dossiers.early, report.dossiers.on_time, report.dossiers.late],
                               backgroundColor: [COLORS.early, COLORS.on_time, COLORS.late] }],
                  rows: ['early', 'on_time', 'late'].map(function (k) {
                    return [tr(k), number(report.dossiers[k]), percent(report.dossiers[k + '_pct'])];
                  }).concat([[tr('total'), number(report.dossiers.total), '']]),
                  head: [tr('dossier_result'), tr('dossier_count'), tr('share')] }
    };
  }

  function band(b) {
    return b.to_min === null ? '≥ ' + b.from_min : b.from_min + '–' + b.to_min;
  }

  function figureTable(name, data) {
    var table = make('table', { className: 'data compact' }, [
      make('thead', {}, [make('tr', {}, data.head.map(function (h) { return make('th', { scope: 'col', text: h }); }))]),
      make('tbody', {}, data.rows.map(function (r) {
        return make('tr', {}, r.map(function (v, i) { return make(i ? 'td' : 'th', { text: v, className: i ? 'num' : null, scope: i ? null : 'row' }); }));
      }))
    ]);
    var box = $('chart-' + name + '-table');
    box.textContent = '';
    box.appendChild(table);
  }

  function options(name) {
    var base = { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { display: name === 'satisfaction' || name === 'dossiers', position: 'bottom' } } };
    if (name === 'satisfaction') { base.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }; }
    else if (name !== 'dossiers') { base.scales = { y: { beginAtZero: true, ticks: { precision: 0 } } }; }
    return base;
  }

  function drawCharts(report) {
    var all = chartData(report);
    Object.keys(all).forEach(function (name) {
      figureTable(name, all[name]);
      if (!hasCharts) { return; }
      var data = { labels: all[name].labels, datasets: all[name].datasets };
      if (charts[name]) {
        charts[name].data = data;
        charts[name].update();
      } else {
        charts[name] = new window.Chart($('chart-' + name), { type: name === 'dossiers' ? 'doughnut' : 'bar', data: data, options: options(name) });
      }
    });
  }

  // wiring ----------------------------------------------------------------------------------------
  if (!hasCharts) {
    $('charts-unavailable').hidden = false;
    document.body.classList.add('no-charts');
    document.querySelectorAll('.chart-figures').forEach(function (details) { details.open = true; });
  }
  $('range-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var from = $('range-from').value;
    var to = $('range-to').value;
    if (!from || !to) {
      asked += 1;                  // an answer still on its way is for other dates
      failed(tr('from') + ' / ' + tr('to') + ': YYYY-MM-DD');
      document.body.removeAttribute('aria-busy');
      return;
    }
    load(from, to, true);
  });
  document.querySelectorAll('[data-range]').forEach(function (button) {
    button.addEventListener('click', function () {
      if (today === null) { return; }
      var range = quickRange(button.getAttribute('data-range'));
      load(range[0], range[1], true);
    });
  });
  ['csv', 'xlsx'].forEach(function (kind) {
    $('export-' + kind).addEventListener('click', function (event) {
      if (!current) { event.preventDefault(); }      // nothing on screen yet: nothing to export
    });
  });
  var params = new URLSearchParams(window.location.search);
  load(params.get('from'), params.get('to'), false);     // none: today's report
})();
