/*
 * The hall board's voice. Each call is heard as a chime, then the sentence ("Xin mời công dân có số
 * thứ tự … đến quầy số …") said as many times as the office repeats it, through the first engine that
 * works, starting from the one the board is set to:
 *
 *   clips    the server joins the office's recorded clips into one WAV per announcement
 *            (GET /api/v1/announcements/audio); downloaded whole first, so a slow network cannot cut it
 *   browser  the browser's own Vietnamese voice (speechSynthesis), when it has one
 *   chime    a two-tone chime made here with Web Audio
 *   off      silence
 *
 * An engine that fails hands the call to the next one, and onStatus hears which engine spoke and why
 * the one wanted did not, so the board can say so. say() returns a promise that settles when the sound
 * is over, never later than its guards allow, and never rejects: the board's queue waits for it, so
 * announcements never overlap, and a stuck one cannot hold the queue.
 *
 * Browsers keep a page silent until someone touches it: unlock() must run inside a touch, click or key
 * handler. A browser started with --autoplay-policy=no-user-gesture-required needs no touch.
 */
(function (global) {
  'use strict';

  var ENGINES = ['clips', 'browser', 'chime', 'off'];
  var FALLBACKS = { clips: ['clips', 'browser', 'chime'], browser: ['browser', 'chime'], chime: ['chime'], off: [] };
  var REPEAT = 2;              // the browser's voice says the sentence twice (the WAV carries the office's count)
  var REPEAT_PAUSE_MS = 700;   // between the two, as in the server's WAV
  var FETCH_MS = 8000;         // a server slower than this to send the audio is treated as absent
  var START_MS = 8000;         // audio or speech that has not started by then is not going to
  var SLACK_MS = 3000;         // on top of a sound's own length before its guard stops it
  var CHIME = [[1318.5, 0.35], [1046.5, 0.6]];   // E6 then C6 (Hz, s), the server's chime

  function noop() {}

  function failure(reason, detail) {
    var error = new Error(reason);
    error.reason = reason;
    error.detail = detail || null;
    return error;
  }

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /* A request and the reading of its body, both within `ms`: a server that stops halfway counts as absent. */
  function fetchWithin(url, options, ms, read) {
    var abort = global.AbortController ? new global.AbortController() : null;
    var timer = setTimeout(function () { if (abort) { abort.abort(); } }, ms);
    if (abort) { options.signal = abort.signal; }
    return global.fetch(url, options).then(read).then(function (value) {
      clearTimeout(timer);
      return value;
    }, function (error) {
      clearTimeout(timer);
      throw error && error.reason ? error : failure('server');
    });
  }

  /* A short silent WAV: played inside the unlocking touch, it lets Safari play the element later too. */
  function silence() {
    var samples = 1102;                                    // 50 ms at 22050 Hz, 16-bit mono
    var bytes = new DataView(new ArrayBuffer(44 + 2 * samples));
    var ascii = function (at, text) {
      for (var i = 0; i < text.length; i++) { bytes.setUint8(at + i, text.charCodeAt(i)); }
    };
    ascii(0, 'RIFF');
    bytes.setUint32(4, 36 + 2 * samples, true);
    ascii(8, 'WAVEfmt ');
    bytes.setUint32(16, 16, true);
    bytes.setUint16(20, 1, true);
    bytes.setUint16(22, 1, true);
    bytes.setUint32(24, 22050, true);
    bytes.setUint32(28, 44100, true);
    bytes.setUint16(32, 2, true);
    bytes.setUint16(34, 16, true);
    ascii(36, 'data');
    bytes.setUint32(40, 2 * samples, true);
    return global.URL.createObjectURL(new global.Blob([bytes.buffer], { type: 'audio/wav' }));
  }

  /*
   * options: engine ('clips' | 'browser' | 'chime' | 'off'); audioUrl(call) and textUrl(call), the
   * addresses of a call's WAV and of its sentence; headers() for those requests; onStatus(status).
   * A call is the board's: {number, counter, announcement, repeat} where announcement is the sentence,
   * null when the server could not read the number, undefined when the call came without it; repeat is
   * how many times the browser's voice says it (unset: as usual). The board lowers it once the call is
   * over while it is being said; the voice looks at it before each saying. A WAV is heard to its end.
   */
  function Announcer(options) {
    options = options || {};
    this.engine = ENGINES.indexOf(options.engine) >= 0 ? options.engine : 'clips';
    this.audioUrl = options.audioUrl;
    this.textUrl = options.textUrl;
    this.headers = options.headers || function () { return {}; };
    this.onStatus = options.onStatus || noop;
    this.context = null;
    this.audio = null;
    this.turn = 0;               // which say() may make sound; hush() moves it on
    this.stopCurrent = noop;
    // engine: the one that spoke last ('none' when none could); reason/detail: why the wanted one did not
    this.status = { wanted: this.engine, engine: this.engine, reason: null, detail: null, reasons: [],
                    locked: this.engine !== 'off' };
    if (this.engine === 'off') { return; }
    if (global.speechSynthesis) { global.speechSynthesis.getVoices(); }   // starts loading the voice list
    var context = this._context();
    if (context && context.state === 'running') { this.status.locked = false; }   // sound allowed already
  }

  Announcer.ENGINES = ENGINES;

  Announcer.prototype._report = function (change) {
    var status = this.status;
    Object.keys(change).forEach(function (key) { status[key] = change[key]; });
    try { this.onStatus(this.statusCopy()); } catch (e) { console.error(e); }
  };

  Announcer.prototype.statusCopy = function () {
    var copy = {};
    var status = this.status;
    Object.keys(status).forEach(function (key) { copy[key] = status[key]; });
    copy.reasons = status.reasons.slice();
    return copy;
  };

  Announcer.prototype._context = function () {
    if (!this.context) {
      var Context = global.AudioContext || global.webkitAudioContext;
      try { this.context = Context ? new Context() : null; } catch (e) { this.context = null; }
    }
    return this.context;
  };

  Announcer.prototype._element = function () {
    if (!this.audio) {
      var audio = global.document.createElement('audio');
      audio.id = 'announcement-audio';
      audio.preload = 'auto';
      global.document.body.appendChild(audio);
      this.audio = audio;
    }
    return this.audio;
  };

  /* Inside a touch, click or key handler: from now on the page may make sound. */
  Announcer.prototype.unlock = function () {
    if (this.engine === 'off') { return; }
    var context = this._context();
    if (context && context.state !== 'running' && context.resume) { context.resume().catch(noop); }
    if (this.engine === 'clips' && !this.audio) {
      var audio = this._element();
      audio.src = silence();
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(noop); }
    }
    if (this.status.locked) { this._report({ locked: false }); }
  };

  /* Stops whatever is sounding now; a say() still preparing will not start. */
  Announcer.prototype.hush = function () {
    this.turn += 1;
    var stop = this.stopCurrent;
    this.stopCurrent = noop;
    stop();
  };

  /* Announces one call; resolves with the engine that spoke (null: none), when the sound is over. */
  Announcer.prototype.say = function (call) {
    if (this.engine === 'off' || this.status.locked) { return Promise.resolve(null); }
    var self = this;
    var turn = ++this.turn;
    var engines = FALLBACKS[this.engine];
    var reasons = [];
    var first = null;            // why the wanted engine did not speak
    function started(engine) {
      if (turn !== self.turn) { throw failure('cancelled'); }     // hushed while preparing: stay silent
      self._report({ engine: engine, reason: first && first.reason, detail: first && first.detail,
                     reasons: reasons.slice() });
    }
    function attempt(i) {
      if (i >= engines.length) {
        self._report({ engine: 'none', reason: first.reason, detail: first.detail, reasons: reasons.slice() });
        return null;
      }
      var engine = engines[i];
      return Promise.resolve().then(function () {
        return self['_' + engine](call, function () { started(engine); });
      }).then(function () { return engine; }, function (error) {
        var reason = (error && error.reason) || 'failed';
        if (!error || !error.reason) { console.error('announcement failed', error); }
        if (reason === 'cancelled' || turn !== self.turn) { return null; }
        if (reason === 'blocked') {          // the browser wants a touch again: no engine can sound now
          self._report({ locked: true });
          return null;
        }
        reasons.push(reason);
        first = first || { reason: reason, detail: error.detail };
        return attempt(i + 1);
      });
    }
    return attempt(0).then(function (engine) {
      if (turn === self.turn) { self.stopCurrent = noop; }
      return engine;
    }, function (error) {
      console.error('announcement failed', error);
      return null;
    });
  };

  // clips: one WAV from the server ------------------------------------------------------------------
  Announcer.prototype._clips = function (call, started) {
    if (call.announcement === null) { return Promise.reject(failure('unreadable')); }
    var self = this;
    var source = this.audioUrl(call);
    return fetchWithin(source, { headers: this.headers(), credentials: 'omit' }, FETCH_MS, function (response) {
      var type = response.headers.get('Content-Type') || '';
      if (response.ok && type.indexOf('audio/') === 0) { return response.blob(); }
      return response.json().catch(function () { return null; }).then(function (body) {
        var error = (body && body.error) || {};
        if (error.code === 'clip_missing') { throw failure('clip_missing', error.details && error.details.word); }
        if (response.status === 422) { throw failure('unreadable'); }
        throw failure('server', String(response.status));
      });
    }).then(function (blob) {
      var url = global.URL.createObjectURL(blob);
      var release = function () { global.URL.revokeObjectURL(url); };
      return self._play(url, source, started).then(release, function (error) {
        release();
        throw error;
      });
    });
  };

  /* Plays on the one audio element; resolves when it ends. Fails only if no sound came out at all. */
  Announcer.prototype._play = function (url, source, started) {
    var self = this;
    var audio = this._element();
    return new Promise(function (resolve, reject) {
      var done = false;
      var playing = false;
      var timer = setTimeout(function () { finish(failure('playback', 'no start')); }, START_MS);
      function finish(error) {
        if (done) { return; }
        done = true;
        clearTimeout(timer);
        audio.onplaying = audio.onended = audio.onerror = null;
        if (!audio.ended) { audio.pause(); }
        if (error && !playing) {
          reject(error);
        } else {
          resolve();
        }
      }
      self.stopCurrent = function () { finish(failure('cancelled')); };
      audio.onplaying = function () {
        if (playing) { return; }
        try { started(); } catch (error) { finish(error); return; }
        playing = true;
        clearTimeout(timer);
        var rate = audio.playbackRate > 0 ? audio.playbackRate : 1;
        var length = isFinite(audio.duration) ? audio.duration * 1000 / Math.min(1, rate) : 60000;
        timer = setTimeout(function () { finish(null); }, length + SLACK_MS);      // stuck halfway: give up
      };
      audio.onended = function () { finish(null); };
      audio.onerror = function () { finish(failure('playback', audio.error && String(audio.error.code))); };
      audio.dataset.source = source;
      audio.src = url;
      var play;
      try { play = audio.play(); } catch (error) { finish(failure('playback')); return; }
      if (play && play.catch) {
        play.catch(function (error) {
          finish(failure(error && error.name === 'NotAllowedError' ? 'blocked' : 'playback', error && error.name));
        });
      }
    });
  };

  // browser: the browser's own Vietnamese voice -------------------------------------------------------
  Announcer.prototype.vietnameseVoice = function () {
    var synth = global.speechSynthesis;
    if (!synth || !global.SpeechSynthesisUtterance) { return null; }
    var best = null;
    var bestScore = 0;
    synth.getVoices().forEach(function (voice) {
      var lang = String(voice.lang || '').replace('_', '-').toLowerCase();
      if (lang.slice(0, 2) !== 'vi') { return; }
      var score = 1 + (lang === 'vi-vn' ? 2 : 0) + (voice.localService ? 1 : 0);   // offline halls: local first
      if (score > bestScore) {
        best = voice;
        bestScore = score;
      }
    });
    return best;
  };

  Announcer.prototype._browser = function (call, started) {
    var voice = this.vietnameseVoice();
    if (!voice) { return Promise.reject(failure('no_voice')); }
    var self = this;
    var turn = this.turn;
    return this._sentence(call).then(function (text) {
      started();
      return self._chime().catch(noop).then(function () {
        if (turn !== self.turn) { throw failure('cancelled'); }
        return self._speak(text, voice, call);
      });
    });
  };

  /* The sentence: from the live event, else (a call found in a snapshot) from the server. */
  Announcer.prototype._sentence = function (call) {
    if (typeof call.announcement === 'string' && call.announcement) { return Promise.resolve(call.announcement); }
    if (call.announcement === null) { return Promise.reject(failure('unreadable')); }
    return fetchWithin(this.textUrl(call), { headers: this.headers(), credentials: 'omit' }, FETCH_MS,
      function (response) {
        if (response.status === 422) { throw failure('unreadable'); }
        if (!response.ok) { throw failure('server', String(response.status)); }
        return response.json();
      }).then(function (body) {
      if (!body || typeof body.text !== 'string' || !body.text) { throw failure('server'); }
      return body.text;
    });
  };

  Announcer.prototype._speak = function (text, voice, call) {
    var self = this;
    var synth = global.speechSynthesis;
    var turn = this.turn;
    synth.cancel();                        // anything left over would delay this
    function more(index) {                 // read each time: the board may have lowered it meanwhile
      var times = call && call.repeat > 0 ? call.repeat : REPEAT;
      return index + 1 < times && turn === self.turn;
    }
    function once(index) {
      return new Promise(function (resolve, reject) {
        var done = false;
        var utterance = new global.SpeechSynthesisUtterance(text);
        utterance.lang = 'vi-VN';
        utterance.voice = voice;
        utterance.rate = 0.9;
        var timer = setTimeout(function () {
          synth.cancel();
          finish(index ? null : failure('speech', 'no start'));
        }, START_MS);
        function finish(error) {
          if (done) { return; }
          done = true;
          clearTimeout(timer);
          if (error) { reject(error); } else { resolve(); }
        }
        self.stopCurrent = function () {
          synth.cancel();
          finish(failure('cancelled'));
        };
        utterance.onstart = function () {
          clearTimeout(timer);
          timer = setTimeout(function () {            // long utterances can hang in some browsers
            synth.cancel();
            finish(null);
          }, Math.max(4000, text.length * 150) + SLACK_MS);
        };
        utterance.onend = function () { finish(null); };
        utterance.onerror = function (event) {
          var code = event && event.error;
          if (code === 'not-allowed') { finish(failure('blocked')); return; }
          finish(index || code === 'interrupted' || code === 'canceled' ? null : failure('speech', code));
        };
        synth.speak(utterance);
      }).then(function () {
        if (!more(index)) { return null; }
        return delay(REPEAT_PAUSE_MS).then(function () { return more(index) ? once(index + 1) : null; });
      });
    }
    return once(0);
  };

  // chime: made here --------------------------------------------------------------------------------
  Announcer.prototype._chime = function (call, started) {
    var context = this._context();
    if (!context || !context.createOscillator) { return Promise.reject(failure('no_audio')); }
    if (context.state !== 'running' && context.resume) { context.resume().catch(noop); }
    if (started) { started(); }
    var self = this;
    return new Promise(function (resolve) {
      var at = context.currentTime + 0.03;
      var oscillators = [];
      CHIME.forEach(function (tone) {
        var frequency = tone[0];
        var length = tone[1];
        var envelope = context.createGain();     // 10 ms attack, then the bell's decay, faded before the cut
        envelope.gain.setValueAtTime(0, at);
        envelope.gain.linearRampToValueAtTime(0.3, at + 0.01);
        envelope.gain.setTargetAtTime(0, at + 0.01, 1 / 3.2);
        envelope.gain.setTargetAtTime(0, at + length - 0.04, 0.01);
        envelope.connect(context.destination);
        [[1, 0.6], [2, 0.25]].forEach(function (partial) {    // the tone and its octave
          var oscillator = context.createOscillator();
          var level = context.createGain();
          oscillator.frequency.value = frequency * partial[0];
          level.gain.value = partial[1];
          oscillator.connect(level);
          level.connect(envelope);
          oscillator.start(at);
          oscillator.stop(at + length);
          oscillators.push(oscillator);
        });
        at += length;
      });
      var done = false;
      function finish() {
        if (done) { return; }
        done = true;
        clearTimeout(timer);
        oscillators.forEach(function (o) { o.onended = null; try { o.stop(); } catch (e) { /* already over */ } });
        resolve();
      }
      var timer = setTimeout(finish, (at - context.currentTime) * 1000 + SLACK_MS);   // a context that never runs
      oscillators[oscillators.length - 1].onended = finish;
      self.stopCurrent = finish;
    });
  };

  global.MotcuaAnnouncer = Announcer;
})(window);
