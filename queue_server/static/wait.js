/* The estimated wait in words, as the kiosk and the ticket-tracking page both say it. `say(key, values)` is
   the page's own translator; the words are i18n.py's "wait_under_minute", "wait_minutes" and "wait_hours". */
(function (global) {
  'use strict';
  global.motcuaWaitText = function (seconds, say) {
    var s = Math.max(0, Number(seconds) || 0);
    if (s < 60) { return say('wait_under_minute'); }
    var minutes = Math.ceil(s / 60);
    if (minutes < 90) { return say('wait_minutes', { m: minutes }); }
    return say('wait_hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
  };
})(window);
