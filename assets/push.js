/* The page's end of the push (layouts/push.py): one websocket, frames in, answers out.
 *
 * On connecting, the page says which live parts it holds (the `data-cw-parts` attribute its
 * layout carries), and again whenever that changes. Each frame is
 *   {v: version, u: [[content_role, instance, prop, value, digest], ...], f: freshness or null,
 *    s: [[content_role, instance, digest], ...] or null}
 * Trees go straight to their part (`citywall_trees.deliver`, assets/html_tree.js) and are drawn
 * at once, into the DOM, before anything else the frame causes; other props
 * (a figure's Patch) go through Dash's `set_props`. The freshness goes to `citywall.fresh`
 * (assets/citywall.js), which marks the frames itself. `cw-pushed` (the poll's sign that the
 * push is alive) is written to Dash's store later, at most once a second (`storeLater`):
 * each write re-runs Dash's selectors over the whole page, which must not stand between a
 * frame and its text.
 *
 * About every heartbeat, `s` lists what the server believes each text part shows; a part that
 * draws something else (a race took an older tree over a pushed one) makes the page ask for
 * everything again (`check`).
 *
 * The answer {ack: v} goes in the next task: the server sends the next frame only then, so a
 * page that draws slower than the city changes gets fewer, newer frames.
 *
 * While a socket delivers, the poll (`cw-tick`) slows to the pace the layout gives in
 * `data-cw-poll-pushed-ms`; when the socket drops it goes back to `data-cw-poll-ms` (`pollAt`).
 *
 * When the server closes the socket because the page's token or sign-in no longer holds
 * (4401, 4403), the page says so across its foot (`refused`) and keeps what it shows: a kiosk
 * whose token was revoked went on looking alive until its panels turned stale. A later socket
 * that opens takes the notice away.
 *
 * A refusal can also come before a socket opens: the guard then answers the handshake with a
 * plain 401, which the browser reports as a drop (1006) like any other. And a server or proxy
 * that is away leaves the page drawing its last picture as if live. So while no socket has
 * been open for `PROBE_AFTER_MS`, the page asks for itself every `PROBE_EVERY_MS` (`probe`):
 * sent to the login form or refused, it shows `refused`; no answer, or a proxy's error, shows
 * `offline` ("no connection to the server since 14:05"). A socket that opens takes both away.
 *
 * The socket reconnects by itself for ever, with a pause growing to 5 s, and is replaced when
 * it has been silent for three heartbeats, or past one when the poll finds it behind
 * (`citywall_push.nudge`, from assets/citywall.js): a kiosk never stays on the slower poll
 * after a restart.
 */
(function () {
  'use strict';
  var PATH = '/_citywall/push';
  var OFF = 4000;          // the server's push is switched off: stop asking
  var REFUSED = [4401, 4403];  // the guard's "who are you" and "not for you" (dashboard/auth/guard.py)
  var SILENT_MS = 7000;    // the server sends at least every 2 s
  var NUDGE_MS = 2500;
  var FIRST_FRAME_MS = 30000;
  var QUICK_CLAIM_TRIES = 200;  // every 25 ms: 5 s
  // a restart's reconnect takes 1-2 s: only a longer outage is said (tests set it shorter)
  var PROBE_AFTER_MS = window.CITYWALL_PROBE_MS || 10000;
  var PROBE_EVERY_MS = PROBE_AFTER_MS;
  var downSince = Date.now();  // since when no socket has been open; null while one is
  var probedAt = -Infinity;
  var frames = 0;          // frames on the current socket
  var socket = null;
  var claimed = null;
  var pause = 250;
  var timer = null;
  var off = false;
  var lastFrame = 0;
  var pushed = null;       // the version last marked in cw-pushed
  var STORE_EVERY_MS = 1000;
  var storeTimer = null;   // the pending write of cw-pushed
  var storedAt = -Infinity;  // performance.now() of the last write
  var owedVersion = null;  // what that write will mark

  function partsText() {
    var holder = document.querySelector('[data-cw-parts]');
    return holder ? holder.getAttribute('data-cw-parts') : null;
  }

  function claim() {
    var parts = partsText();
    if (parts !== null && parts !== claimed && socket && socket.readyState === 1) {
      claimed = parts;
      socket.send('{"parts":' + parts + '}');
    }
  }

  function setProps(id, props) {
    var clientside = window.dash_clientside;
    if (clientside && clientside.set_props) clientside.set_props(id, props);
  }

  /* The poll's pace: slow while the push delivers, the configured one otherwise. Written only
   * when it changes: each write is a pass of Dash's renderer over the page. */
  var pollPace = null;     // 'pushed' or 'plain', as last written
  function pollAt(pace) {
    var holder = document.querySelector('[data-cw-poll-ms]');
    if (pace === pollPace || !holder) return;
    var ms = Number(holder.getAttribute(pace === 'pushed' ? 'data-cw-poll-pushed-ms' : 'data-cw-poll-ms'));
    if (!(ms > 0)) return;
    pollPace = pace;
    setProps('cw-tick', {interval: ms});
  }

  /* Every tree of the frame, drawn before this returns (assets/html_tree.js writes the DOM itself). */
  function drawTrees(updates) {
    var trees = window.citywall_trees;
    if (!trees) return;
    updates.forEach(function (u) { trees.deliver(u[0], u[1], u[3]); });
  }

  function apply(frame) {
    var updates = frame.u || [];
    drawTrees(updates.filter(function (u) { return u[2] === 'tree'; }));
    updates.forEach(function (u) {
      if (u[2] !== 'tree') {
        var props = {};
        props[u[2]] = u[3];
        setProps({role: u[0], instance: u[1]}, props);
      }
    });
    if (frame.f && window.citywall && window.citywall.fresh) window.citywall.fresh(frame.f);
    storeLater(frame);
    if (frame.s) check(frame.s);
  }

  /* The server's belief of what each text part shows against what it draws: on any
   * difference, everything again, once. `healed` counts them, for the tests and benchmarks. */
  var healed = 0;
  function check(expected) {
    var trees = window.citywall_trees;
    if (!trees) return;
    var wrong = expected.some(function (e) { return trees.digestOf(e[0], e[1]) !== e[2]; });
    if (wrong) {
      healed += 1;
      console.warn('citywall push: a part showed something other than what it was sent; asking for everything');
      window.citywall_push.resend();
    }
  }

  /* cw-pushed in Dash's store: in a later task, and at most every STORE_EVERY_MS (the newest
   * of what came meanwhile), since each write costs the page a pass over all its components and
   * at 500 changes a second frames come every few tens of ms. Not rarer than the poll ticks
   * while the push delivers (every half heartbeat, `pollAt`): the poll takes a cw-pushed that
   * did not move between two of its ticks for a push that stalled, and takes over. */
  function storeLater(frame) {
    owedVersion = frame.v;
    if (storeTimer === null) storeTimer = setTimeout(writeStore, Math.max(0, storedAt + STORE_EVERY_MS - performance.now()));
  }

  function writeStore() {
    storeTimer = null;
    storedAt = performance.now();  // not Date.now(): a kiosk's clock set back must not hold the writes up
    if (owedVersion !== pushed) {
      pushed = owedVersion;
      setProps('cw-pushed', {data: pushed});
    }
  }

  function schedule() {
    if (timer === null && !off) {
      timer = setTimeout(connect, pause);
      pause = Math.min(pause * 2, 5000);
    }
  }

  function connect() {
    timer = null;
    if (off || socket) return;
    var ws;
    try {
      ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + PATH);
    } catch (e) {
      schedule();
      return;
    }
    socket = ws;
    claimed = null;
    frames = 0;
    ws.onopen = function () {
      refused(false);
      offline(false);
      downSince = null;
      pause = 250;
      lastFrame = Date.now();
      console.log('citywall push: connected');
      claim();
    };
    ws.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      frames += 1;
      apply(frame);
      if (frames === 1) pollAt('pushed');
      lastFrame = Date.now();  // after applying: a big first frame on a busy machine is no silence
      // in the next task, once the frame's own work is done: the server never sends faster
      // than the page takes frames in
      setTimeout(function () {
        if (ws.readyState === 1) ws.send('{"ack":' + JSON.stringify(frame.v) + '}');
      }, 0);
    };
    ws.onclose = function (event) {
      if (socket === ws) socket = null;
      if (downSince === null) downSince = Date.now();
      pollAt('plain');
      if (event.code === OFF) {
        off = true;
        return;
      }
      if (REFUSED.indexOf(event.code) >= 0) refused(true);
      schedule();
    };
  }

  /* The notice that the server no longer lets this page in. */
  function refused(on) {
    if (on) offline(false);
    notice('cw-refused', on ? 'screen_refused' : null);
  }

  /* The notice that the page has had no answer from the server since the socket dropped. */
  function offline(on) {
    var clock = window.citywall && window.citywall.clockAt;
    var since = on && clock ? clock(downSince === null ? Date.now() : downSince) : '';
    notice('cw-offline', on ? 'screen_offline' : null, {since: since});
  }

  function notice(id, key, fill) {
    var el = document.getElementById(id);
    if (!key) {
      if (el) el.remove();
      return;
    }
    if (!el) {
      el = document.createElement('div');
      el.id = id;
      el.className = 'cw-notice ' + id;
      el.setAttribute('role', 'alert');
      document.body.appendChild(el);
    }
    var text = window.citywallWords ? window.citywallWords.word(key, fill) : '';
    if (el.textContent !== text) el.textContent = text;
  }

  /* Asks for the page itself, as the kiosk would load it, to tell a refusal from an outage. */
  function probe() {
    probedAt = Date.now();
    fetch(location.href, {cache: 'no-store', credentials: 'same-origin'})
      .then(function (r) {
        if (r.status === 401 || r.status === 403 || (r.ok && r.redirected)) refused(true);
        else if (downSince === null) return;  // a socket opened meanwhile
        else if (r.ok) offline(false);  // the server answers: the next socket will open
        else offline(true);             // a proxy's 502 while the server is away
      })
      .catch(function () { if (downSince !== null) offline(true); });
  }

  function reconnect() {
    var ws = socket;
    pollAt('plain');
    if (ws) {
      socket = null;
      ws.onclose = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
    pause = 250;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    connect();
  }

  // A new layout's parts go as soon as it is drawn: the socket opens while the first layout is
  // still being drawn, and a client-side navigation (a preset's redraw, assets/wall_control.js)
  // draws another. Each time, the parts are looked for every 25 ms for a few seconds, until they
  // have been claimed (or the page turns out to hold none: the tablet, the console); looked for
  // all the time, a page woke 40 times a second for weeks. With only the once-a-second check
  // below, a screen showed a new preset's panels empty for up to a second.
  var quickTries = 0;
  var quickFrom = null;    // what was claimed when the new layout was asked for
  function quickClaim() {
    if (quickTries <= 0) return;
    quickTries -= 1;
    claim();
    if (claimed !== null && claimed !== quickFrom) quickTries = 0;
    else setTimeout(quickClaim, 25);
  }
  function claimSoon() {
    var idle = quickTries <= 0;
    quickFrom = claimed;
    quickTries = QUICK_CLAIM_TRIES;
    if (idle) quickClaim();
  }
  connect();
  claimSoon();
  window.addEventListener('_dashprivate_pushstate', claimSoon);
  window.addEventListener('popstate', claimSoon);
  setInterval(function () {
    var now = Date.now();
    if (!off && downSince !== null && now - downSince >= PROBE_AFTER_MS && now - probedAt >= PROBE_EVERY_MS) probe();
    if (!socket) schedule();
    else if (socket.readyState === 1) {
      // the first frame of a big page can take long on a busy machine: it gets more time
      if (claimed !== null && Date.now() - lastFrame > (frames > 0 ? SILENT_MS : FIRST_FRAME_MS)) reconnect();
      else claim();
    }
  }, 1000);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && !socket) reconnect();
  });

  window.citywall_push = {
    /* The poll found the page behind: a socket that has been quiet past a heartbeat is
     * replaced; one that delivers is left alone (the change is on its way). */
    nudge: function () {
      if (off || (socket && socket.readyState === 0)) return;  // still connecting
      if (!socket || (frames > 0 && Date.now() - lastFrame > NUDGE_MS)) reconnect();
    },
    resend: function () {
      if (socket && socket.readyState === 1) socket.send('{"resend":1}');
    },
    healed: function () { return healed; },
    refused: refused,
    offline: offline,
    /* A callback was refused (assets/session.js): ask the server about this page now, at
     * most once per probe interval, whether the socket is open or not. */
    check: function () {
      if (Date.now() - probedAt >= PROBE_EVERY_MS) probe();
    }
  };
})();
