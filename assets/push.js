/* The page's end of the push (layouts/push.py): one websocket, frames in, answers out.
 *
 * On connecting, the page says which live parts it holds (the `data-cw-parts` attribute its
 * layout carries), and again whenever that changes. Each frame is
 *   {v: version, u: [[content_role, instance, prop, value, digest], ...], f: freshness or null}
 * Trees go straight to their part (`citywall_trees.deliver`, assets/html_tree.js), other props
 * (a figure's Patch) through Dash's `set_props`; `cw-pushed` tells the poll the push is alive.
 * The answer {ack: v} goes once the frame is drawn: the server sends the next one only then.
 *
 * The socket reconnects by itself for ever, with a pause growing to 5 s, and is replaced when
 * it has been silent for three heartbeats, or past one when the poll finds it behind (`citywall_push.nudge`,
 * from assets/citywall.js): a kiosk never stays on the slower poll after a restart.
 */
(function () {
  'use strict';
  var PATH = '/_citywall/push';
  var OFF = 4000;          // the server's push is switched off: stop asking
  var SILENT_MS = 7000;    // the server sends at least every 2 s
  var NUDGE_MS = 2500;
  var FIRST_FRAME_MS = 30000;
  var frames = 0;          // frames on the current socket
  var socket = null;
  var claimed = null;
  var pause = 250;
  var timer = null;
  var off = false;
  var lastFrame = 0;
  var pushed = null;       // the version last marked in cw-pushed
  var answer = null;       // sends the answer to the frame being drawn
  var ANSWER_LATEST_MS = 1000;

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

  function apply(frame) {
    var trees = window.citywall_trees;
    var redrawing = false;
    (frame.u || []).forEach(function (u) {
      if (u[2] === 'tree') {
        if (trees && trees.deliver(u[0], u[1], u[3])) redrawing = true;
      } else {
        var props = {};
        props[u[2]] = u[3];
        setProps({role: u[0], instance: u[1]}, props);
      }
    });
    if (frame.v !== pushed) {
      pushed = frame.v;
      setProps('cw-pushed', {data: frame.v});
    }
    if (frame.f) setProps('cw-fresh', {data: frame.f});
    return redrawing;
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
      var redrawing = apply(frame);
      lastFrame = Date.now();  // after applying: a big first frame on a busy machine is no silence
      var mine = answer = function () {
        answer = null;
        if (ws.readyState === 1) ws.send('{"ack":' + JSON.stringify(frame.v) + '}');
      };
      // The answer goes once the frame is on screen (the first part drawn after it says so),
      // so the server never sends faster than the page draws; at once when nothing redraws.
      setTimeout(function () { if (answer === mine) mine(); }, redrawing ? ANSWER_LATEST_MS : 0);
    };
    ws.onclose = function (event) {
      if (socket === ws) socket = null;
      if (event.code === OFF) {
        off = true;
        return;
      }
      schedule();
    };
  }

  function reconnect() {
    var ws = socket;
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

  // The socket opens while the layout is still being drawn; the parts go as soon as it is.
  connect();
  (function firstClaim() {
    if (claimed === null) {
      claim();
      setTimeout(firstClaim, 25);
    }
  })();
  setInterval(function () {
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
    /* A part has been drawn (assets/html_tree.js): the frame is on screen, answer it. */
    drawn: function () {
      var mine = answer;
      if (mine) setTimeout(function () { if (answer === mine) mine(); }, 0);
    },
    /* The poll found the page behind: a socket that has been quiet past a heartbeat is
     * replaced; one that delivers is left alone (the change is on its way). */
    nudge: function () {
      if (off || (socket && socket.readyState === 0)) return;  // still connecting
      if (!socket || (frames > 0 && Date.now() - lastFrame > NUDGE_MS)) reconnect();
    },
    resend: function () {
      if (socket && socket.readyState === 1) socket.send('{"resend":1}');
    }
  };
})();
