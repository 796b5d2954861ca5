/* citywall: the browser's share of the work, so the server does as little as possible.
 *
 * - freshness: once a second, from the last freshness the server sent, each panel's age and
 *   stale state. A panel turns stale on its own when data stops arriving (feed down, server
 *   down, network down) and never blanks: only its frame's data-stale and age label change.
 *   Each listed incident's age too (data-age-since), on the server's clock.
 * - clock: WIB date and time, formatted here with Intl, so a wall of clocks costs nothing;
 *   on the server's clock (serverNow), as the ages are, not the kiosk's own.
 * - page kind: a class on <html> for the kind of page shown (see markPage);
 * - fit: lists marked .cw-fit show as many rows as their box holds and hide the rest, so a
 *   panel never overflows or scrolls whatever screen or grid cell it lands in; a .cw-fit-more
 *   line right after the box says how many are not shown (the word fit_more).
 * - playlists: screens with a playlist show one slide at a time, turning with the clock;
 * - kiosk fit: a screen page in a viewport of another size is scaled to fit it whole;
 * - reconnect: when the push falls behind, its websocket is replaced (assets/push.js), so a
 *   kiosk never stays on the slower poll after a restart;
 * - kiosk upkeep: a daily reload at reload_at (WIB) bounds browser memory, done only when
 *   the server answers, so a reload never trades a working page for a browser error page;
 *   and a watchdog that reloads (again only when the server answers) if the page content
 *   failed to load, e.g. after the server restarted mid-navigation.
 * Dash's own interval keeps firing while the server is away; a failed callback leaves the
 * last content in place, and the first answer after a restart carries on.
 */
(function () {
  "use strict";
  var receivedAt = 0;      // browser clock when the last freshness message arrived
  var CLOCK_SKEW_S = 5;    // as dashboard/picture.py's
  var lastFresh = null;    // that message: {server_now, families: {name: {updated_at, stale}}}
  var settings = {};       // the cw-settings store, kept for the kiosk upkeep below
  var loadedAt = Date.now();
  var ALWAYS_FRESH = {clock: true};

  // The last computed state per family, also painted at once onto elements React adds later
  // (a re-rendered list replaces its rows, and must not show blank ages until the next tick):
  // each frame's `data-stale` and `data-updated-at`, its age label, and feed health's marks.
  var known = {};
  var knownLanguage = "id";
  // the third: frames and the tablet's root; the last: an incident's age (layouts/frame.py age_cell)
  var PAINTED = "[data-age-for], [data-stale-for], [data-panel][data-family], [data-age-since], [data-sla-due]";
  function painted(root) {
    var els = [];
    if (root.nodeType === 1 && root.matches(PAINTED)) els.push(root);
    root.querySelectorAll(PAINTED).forEach(function (el) { els.push(el); });
    return els;
  }
  function paint(root) {
    paintEach(painted(root));
  }
  function paintEach(els) {
    els.forEach(function (el) {
      var frameOf = el.hasAttribute("data-panel") ? el.getAttribute("data-family") : null;
      if (frameOf && known[frameOf]) {
        if (el.getAttribute("data-stale") !== known[frameOf].stale) el.setAttribute("data-stale", known[frameOf].stale);
        if (el.getAttribute("data-updated-at") !== known[frameOf].at) el.setAttribute("data-updated-at", known[frameOf].at);
      }
      var ageFor = el.getAttribute("data-age-for");
      if (ageFor && known[ageFor]) {
        var st = known[ageFor];
        var text = st.age === null ? "" : ageText(st.age, knownLanguage, el.hasAttribute("data-age-short"));
        if (el.textContent !== text) el.textContent = text;
      }
      var staleFor = el.getAttribute("data-stale-for");
      if (staleFor && known[staleFor] && el.getAttribute("data-stale") !== known[staleFor].stale) {
        el.setAttribute("data-stale", known[staleFor].stale);
      }
      var due = el.getAttribute("data-sla-due");
      if (due) paintDeadline(el, Date.parse(due) / 1000 - serverNow());
      var since = el.getAttribute("data-age-since");
      if (since) {
        var start = Date.parse(since);
        var age = isNaN(start) ? "–" : ageText(serverNow() - start / 1000, knownLanguage, true);
        if (el.textContent !== age) el.textContent = age;
      }
    });
  }

  /* An SLA clock of the console (layouts/console/detail.py): minutes and seconds left, or
   * hours and minutes from an hour on ("719:47" read like a time of day), red and negative
   * once overdue. The same text as the server's first drawing (``_minutes``). */
  function paintDeadline(el, left) {
    if (isNaN(left)) return;
    var s = Math.abs(Math.round(left));
    var words = window.citywallWords;
    var text = (left < -0.5 ? "-" : "") + (s >= 3600
      ? Math.floor(s / 3600) + " " + words.word("hours_short") + " " + Math.floor(s % 3600 / 60) + " " + words.word("min_short")
      : Math.floor(s / 60) + ":" + (s % 60 < 10 ? "0" : "") + (s % 60));
    if (el.textContent !== text) el.textContent = text;
    var over = left < -0.5;
    el.classList.toggle("cw-sla-over", over);
    el.classList.toggle("cw-sla-ok", !over);
  }

  /* The server's clock now, in seconds: the last freshness message's, plus the time since it
   * came (a kiosk's own clock may be off by minutes); the browser's until one came. */
  function serverNow() {
    var now = Date.now() / 1000;
    return lastFresh ? lastFresh.server_now + (now - receivedAt) : now;
  }

  function ageText(seconds, language, short) {
    var s = Math.max(0, Math.floor(seconds));
    var words = window.citywallWords;   // the configured language's catalog (assets/words.js)
    var v;
    if (s >= 86400) {  // "1 h" stood for anything from 24 to 47 hours: one night open, or two
      v = words.word("age_days", {n: Math.floor(s / 86400)});
      if (s % 86400 >= 3600) v += " " + words.word("age_hours", {n: Math.floor(s % 86400 / 3600)});
    }
    else if (s >= 3600) {  // "1 j" stood for anything from 60 to 119 minutes
      v = words.word("age_hours", {n: Math.floor(s / 3600)});
      if (s % 3600 >= 60) v += " " + words.word("age_minutes", {n: Math.floor(s % 3600 / 60)});
    }
    else if (s >= 60) v = words.word("age_minutes", {n: Math.floor(s / 60)});
    else v = words.word("age_seconds", {n: s});
    if (short) return v;
    return words.word("updated_ago", {age: v});
  }

  /* The newest update of a family. "a+b" means the newest of a and b (the ticker shows
   * incidents and reports); "feeds" falls back to the newest of all, until the server sends
   * a freshness entry of its own for the feeds. */
  function newestOf(family) {
    var fams = (lastFresh && lastFresh.families) || {};
    var names = family.split("+");
    if (family === "feeds" && !fams.feeds) names = Object.keys(fams);
    var best = null, bestT = -Infinity;
    names.forEach(function (name) {
      var info = fams[name];
      if (!info || !info.updated_at) return;
      var t = Date.parse(info.updated_at);
      if (t > bestT) { bestT = t; best = info.updated_at; }
    });
    return best;
  }

  // The longest silence a family (or "a+b") may keep before it is stale: each feed has its
  // own rhythm (a closed MPP reports rarely), so the server sends a limit per family.
  function limitOf(family, fallback) {
    var fams = (lastFresh && lastFresh.families) || {};
    var limit = 0;
    family.split("+").forEach(function (name) {
      var info = fams[name];
      if (info && info.stale_after_s > limit) limit = info.stale_after_s;
    });
    return limit || fallback;
  }

  // --- freshness -------------------------------------------------------------------------
  /* Written straight into the DOM, once a second and shortly after a freshness message (from
   * the push, assets/push.js, or the poll's cw-fresh store). As a Dash callback with every
   * frame's two attributes for outputs, each run cost the full wall's browser Dash's
   * bookkeeping over ~300 outputs (deep comparisons of its callback lists), several times a
   * second: a CPU profile at 500 messages a second put a sixth of the main thread there. */
  function freshen() {
    var staleAfter = settings.stale_after_s || 60;
    var nowBrowser = Date.now() / 1000;
    var memo = {};
    // {at, age, stale} of a family (or "a+b"), from the last message plus the time since
    function state(family) {
      if (memo[family]) return memo[family];
      var at = ALWAYS_FRESH[family] ? null : (lastFresh ? newestOf(family) : null);
      var result;
      if (ALWAYS_FRESH[family]) result = {at: "", age: null, stale: "false"};
      else if (!at) result = {at: "", age: null, stale: "true"};
      else {
        // age as the server saw it when it sent the message, plus the time since then
        var age = (lastFresh.server_now - Date.parse(at) / 1000) + (nowBrowser - receivedAt);
        // an arrival stamped ahead of now (past the hosts' usual skew): the clock was set back
        var stale = age > limitOf(family, staleAfter) || age < -CLOCK_SKEW_S;
        result = {at: at, age: age, stale: stale ? "true" : "false"};
      }
      memo[family] = result;
      return result;
    }
    var els = painted(document);
    els.forEach(function (el) {
      var family = el.getAttribute("data-age-for") || el.getAttribute("data-stale-for") || el.getAttribute("data-family");
      if (family) known[family] = state(family);
    });
    knownLanguage = settings.language || "id";
    paintEach(els);
  }

  var freshenTimer = null;
  var freshenedAt = -Infinity;
  /* A new freshness message: applied at once, or, within a quarter second of the last, when
   * that quarter is up: at most four times a second (at 500 changes a second every pushed frame
   * carries one). */
  function take(message) {
    if (message && message !== lastFresh) {
      lastFresh = message;
      receivedAt = Date.now() / 1000;
    }
  }
  function fresh(message) {
    take(message);
    if (freshenTimer !== null) return;
    var wait = freshenedAt + 250 - performance.now();
    if (wait <= 0) {
      freshenedAt = performance.now();
      freshen();
    } else {
      freshenTimer = setTimeout(function () { freshenTimer = null; freshenedAt = performance.now(); freshen(); }, wait);
    }
  }

  // --- clock ---------------------------------------------------------------------------
  var formatters = {};
  function formatter(key, locale, options) {
    if (!formatters[key]) formatters[key] = new Intl.DateTimeFormat(locale, options);
    return formatters[key];
  }
  /* Every clock on the page, once a second, written here rather than through a Dash callback:
   * each Dash store update makes the renderer check every component of the page, which on the
   * full wall took 15-20 ms a time. Until the page's settings are known (the first freshness
   * call, at load) the clocks keep the time the server drew them with. */
  function setText(el, text) {
    var first = el.firstChild;
    if (first && first.nodeType === 3 && !first.nextSibling) {
      if (first.data !== text) first.data = text;
    } else if (el.textContent !== text) {
      el.textContent = text;
    }
  }
  function tickClocks() {
    var tz = settings.timezone;
    if (!tz) return;
    var his = document.querySelectorAll(".cw-clock-hm");
    if (!his.length) return;
    var locale = settings.language === "en" ? "en-GB" : "id-ID";
    // the server's time, as the ages beside it: a kiosk PC weeks without NTP showed its own
    var now = new Date(serverNow() * 1000);
    var h = "", m = "", sec = "";
    formatter("t:" + tz, "en-GB", {timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"})
      .formatToParts(now).forEach(function (p) {
        if (p.type === "hour") h = p.value;
        if (p.type === "minute") m = p.value;
        if (p.type === "second") sec = p.value;
      });
    var date = formatter("d:" + tz + locale, locale, {timeZone: tz, weekday: "long", day: "numeric", month: "long", year: "numeric"})
      .format(now);
    his.forEach(function (el) { setText(el, h + ":" + m); });
    document.querySelectorAll(".cw-clock-s").forEach(function (el) { setText(el, ":" + sec); });
    document.querySelectorAll(".cw-clock-date").forEach(function (el) { setText(el, date); });
  }

  // --- fit: hide the rows that do not fit -----------------------------------------------
  /* In three passes over every box due, so the page is laid out once, not once per row:
   * show every row; read each box's inner edges and its rows' boxes; hide the rows from
   * the first one that crosses an edge on (the first row always shows). */
  function overflows(box) {
    return box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1;
  }
  function firstCut(box, below) {   // below: screen pixels the box could grow down by
    var outer = box.getBoundingClientRect();
    var scale = box.offsetHeight ? outer.height / box.offsetHeight : 1;   // the /wall preview is scaled
    var cs = window.getComputedStyle(box);
    /* The inner edges from the outer ones, less the border and padding: offsetHeight is
     * rounded, so a box 649.625 px high (under the broadcast banner) read as scaled by
     * 0.9994, and its right edge, measured from the left across the whole width, fell short
     * of every row's by a pixel: all rows but the first were cut. */
    var bottom = outer.bottom - (parseFloat(cs.borderBottomWidth) + parseFloat(cs.paddingBottom)) * scale + 1 + (below || 0);
    var right = outer.right - (parseFloat(cs.borderRightWidth) + parseFloat(cs.paddingRight)) * scale + 1;
    var kids = box.children;
    for (var i = 1; i < kids.length; i++) {
      var r = kids[i].getBoundingClientRect();
      if (r.bottom > bottom || r.right > right) return i;
    }
    return kids.length;
  }
  /* A box followed by a .cw-fit-more line (layouts/panels/drainage.py, more_line) says how
   * many rows are not shown, so no row goes unsaid: its data-hidden counts those the server
   * left out, the rows cut here are added. The line shows while the box is measured, so the
   * rows make room for it, and is hidden when nothing is left out: when every row would fit
   * in the room the line takes under the box, none gives way to a "+1". */
  function moreOf(box) {
    var next = box.nextElementSibling;
    return next && next.classList.contains("cw-fit-more") ? next : null;
  }
  function hiddenBy(more) {
    return parseInt(more.getAttribute("data-hidden"), 10) || 0;
  }
  function cutOf(box) {
    if (!overflows(box)) return box.children.length;
    var more = moreOf(box);
    if (more && !hiddenBy(more)) {
      var under = more.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom;
      if (under > 0 && firstCut(box, under) === box.children.length) return box.children.length;
    }
    return firstCut(box, 0);
  }
  function fitAll(boxes) {
    boxes.forEach(function (box) {
      Array.prototype.forEach.call(box.children, function (kid) { kid.removeAttribute("data-cut"); });
      var more = moreOf(box);
      if (more) more.removeAttribute("data-cut");
    });
    var cuts = boxes.map(cutOf);
    boxes.forEach(function (box, b) {
      for (var i = cuts[b]; i < box.children.length; i++) box.children[i].setAttribute("data-cut", "");
      var more = moreOf(box);
      if (!more) return;
      var n = hiddenBy(more) + box.children.length - cuts[b];
      if (n > 0) setText(more, window.citywallWords.word("fit_more", {n: n}));
      else more.setAttribute("data-cut", "");
    });
  }
  var pending = null;
  var dirty = new Set();
  function scheduleFit(box) {
    if (box) dirty.add(box); else document.querySelectorAll(".cw-fit").forEach(function (b) { dirty.add(b); });
    if (pending) return;
    pending = window.requestAnimationFrame(function () {
      pending = null;
      var boxes = Array.from(dirty).filter(function (b) { return b.isConnected; });
      dirty.clear();
      fitAll(boxes);
    });
  }
  // --- the page's kind, on <html> -------------------------------------------------------
  /* <html> and <body> take their background, margins and scrollbars from the kind of page
   * drawn inside them (a wall screen, a kiosk, the tablet, the printed summary), which a class
   * on <html> names. The CSS once said it with `html:has(.cw-screen)`; that made the browser
   * recheck the style of the whole document on every change anywhere in it, a few ms a frame. */
  var PAGE_KINDS = {"cw-screen": "cw-page-screen", "cw-wall": "cw-page-wall", "cw-kiosk": "cw-page-kiosk",
                    "tb-root": "cw-page-tablet", "tb-print": "cw-page-print"};
  function markPage() {
    var html = document.documentElement;
    Object.keys(PAGE_KINDS).forEach(function (inner) {
      var has = document.querySelector("." + inner) !== null;
      if (html.classList.contains(PAGE_KINDS[inner]) !== has) html.classList.toggle(PAGE_KINDS[inner], has);
    });
    wallSheets(html.classList.contains("cw-page-screen") || html.classList.contains("cw-page-wall"));
  }

  /* A wall page draws with citywall.css and operations.css alone, so the console's Bootstrap
   * and the tablet's sheet are switched off while one is shown (every box and style of the 24
   * screens and the wall compared the same with and without them). Their ~1,500 rules were
   * matched again by every style pass, and a kiosk restyles with each pushed row: a new row at
   * the top of the queue took 2.5 ms of style and layout with them, 1.4 without. */
  var NOT_ON_THE_WALL = /\/assets\/(vendor\/bootstrap\/|tablet\.css)/;
  function wallSheets(wall) {
    Array.prototype.forEach.call(document.querySelectorAll('link[rel="stylesheet"]'), function (link) {
      if (NOT_ON_THE_WALL.test(link.href) && link.disabled !== wall) link.disabled = wall;
    });
  }

  function watchFit() {
    var observer = new MutationObserver(function (mutations) {
      // a page drawn or replaced, not a panel's content (every pushed frame changes those)
      if (mutations.some(function (m) { return m.type === "childList" && !(m.target.closest && m.target.closest(".cw-panel")); })) markPage();
      mutations.forEach(function (m) {
        var node = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        if (!node) return;
        var box = node.closest(".cw-fit");
        if (box) scheduleFit(box);
        var more = node.closest(".cw-fit-more");   // the server's count changed: add the cut rows again
        if (more && more.previousElementSibling && more.previousElementSibling.classList.contains("cw-fit")) {
          scheduleFit(more.previousElementSibling);
        }
        if (m.type === "childList") {
          m.addedNodes.forEach(function (n) {
            if (n.nodeType === 1) {
              paint(n);
              if (n.classList.contains("cw-fit")) watchBox(n);
              n.querySelectorAll(".cw-fit").forEach(watchBox);
            }
          });
        }
      });
    });
    observer.observe(document.body, {childList: true, subtree: true, characterData: true});
    document.querySelectorAll(".cw-fit").forEach(watchBox);
  }
  /* A list's box changes size with the window, and with what shares its panel (the ticker's
   * held critical lines above its flow): each change of its size fits it again. A box taken
   * off the page shrinks to nothing, which reports it here once more: it is let go, so a
   * kiosk that redraws its pages for weeks keeps no old boxes alive. */
  var sizes = new ResizeObserver(function (entries) {
    entries.forEach(function (e) {
      if (e.target.isConnected) scheduleFit(e.target); else sizes.unobserve(e.target);
    });
  });
  function watchBox(box) {
    sizes.observe(box);
    scheduleFit(box);
  }

  // --- kiosk upkeep ----------------------------------------------------------------------
  /* True when the server would draw this very page again. A page whose token no longer holds
   * gets a 401 page saying so, and one whose session ended is sent on to the login form,
   * which fetch follows to a 200: reloading into either left a screen with no keyboard on
   * it, where the page it showed, stale marks and all, at least says what it last knew. */
  function serverAnswers() {
    return fetch(window.location.href, {cache: "no-store", credentials: "same-origin"})
      .then(function (r) {
        var refused = r.status === 401 || r.status === 403;  // its address no longer valid (the guard's page)
        if ((r.ok && r.redirected) || refused) {
          console.warn("citywall: the server " + (refused ? "no longer lets this page in (" + r.status + ")"
            : "sends this page to " + new URL(r.url).pathname) + "; staying");
          if (window.citywall_push) window.citywall_push.refused(true);
        }
        return r.ok && !r.redirected;
      })
      .catch(function () { return false; });
  }
  function reloadWhenServerAnswers() {
    serverAnswers().then(function (ok) { if (ok) window.location.reload(); });
  }
  /* When the next reload is due: the next time the city's clock reads reload_at ("03:00")
   * after ``nowMs``, as a browser timestamp. A page loaded at 03:00:20 reloads tomorrow. */
  function nextReload(reloadAt, tz, nowMs) {
    var hm = /^(\d{1,2}):(\d{2})$/.exec(reloadAt || "");
    if (!hm) return null;
    var parts = formatter("hms:" + tz, "en-GB", {timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"})
      .formatToParts(new Date(nowMs));
    var h = 0, m = 0, sec = 0;
    parts.forEach(function (p) {
      if (p.type === "hour") h = +p.value;
      if (p.type === "minute") m = +p.value;
      if (p.type === "second") sec = +p.value;
    });
    var minutes = ((+hm[1]) * 60 + (+hm[2]) - (h * 60 + m) + 1440) % 1440;
    if (minutes === 0) minutes = 1440;
    return nowMs + minutes * 60000 - sec * 1000 - (nowMs % 1000);
  }
  var reloadAtMs = null;
  var emptyChecks = 0;
  function upkeep() {
    // The scheduled reload: due from reload_at on, done as soon as the server answers.
    if (reloadAtMs === null && settings.reload_at) reloadAtMs = nextReload(settings.reload_at, settings.timezone || "Asia/Jakarta", loadedAt);
    if (reloadAtMs !== null && Date.now() >= reloadAtMs) reloadWhenServerAnswers();
    // The watchdog: the page content is missing (a layout request failed).
    var content = document.getElementById("cw-page");
    var root = document.querySelector(".cw-root");
    var blank = !root || (content && content.children.length === 0);
    emptyChecks = blank ? emptyChecks + 1 : 0;
    if (emptyChecks >= 2) { emptyChecks = 0; reloadWhenServerAnswers(); }
  }
  /* Playlists: each .cw-playlist shows its next slide every data-every seconds. The slide
   * index follows the clock, so every screen with the same playlist turns in step. */
  function rotate() {
    document.querySelectorAll(".cw-playlist").forEach(function (list) {
      var slides = list.querySelectorAll(":scope > .cw-slide");
      var every = Math.max(5, +list.getAttribute("data-every") || 30);
      if (!slides.length) return;
      var active = Math.floor(Date.now() / 1000 / every) % slides.length;
      slides.forEach(function (slide, i) {
        if ((i === active) !== slide.hasAttribute("data-active")) {
          if (i === active) slide.setAttribute("data-active", ""); else slide.removeAttribute("data-active");
          if (i === active) slide.querySelectorAll(".cw-fit").forEach(function (b) { scheduleFit(b); });
        }
      });
    });
  }

  /* A kiosk whose viewport is not the screen's size (a 1366 x 768 panel, a browser zoom)
   * shows the whole screen scaled to fit, rather than a cut-off corner or scrollbars. */
  function fitKiosk() {
    document.querySelectorAll(".cw-screen.cw-kiosk").forEach(function (screen) {
      var w = screen.offsetWidth, h = screen.offsetHeight;
      if (!w || !h) return;
      var s = Math.min(window.innerWidth / w, window.innerHeight / h);
      var transform = Math.abs(s - 1) < 0.01 ? "" : "scale(" + s.toFixed(4) + ")";
      if (screen.style.transform !== transform) {
        screen.style.transformOrigin = "0 0";
        screen.style.transform = transform;
      }
    });
  }

  /* "14:05": the browser's moment ``ms`` on the server's clock, in the city's time zone, for
   * a notice that says since when (assets/push.js). */
  function clockAt(ms) {
    var tz = settings.timezone || "Asia/Jakarta";
    var at = new Date(ms + (serverNow() * 1000 - Date.now()));
    return formatter("hm:" + tz, "en-GB", {timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23"}).format(at);
  }

  /* The clocks turn as the server's second does: on a plain one-second interval the seconds
   * shown changed anywhere up to a second after the real ones. */
  function tickOnTheSecond() {
    tickClocks();
    window.setTimeout(tickOnTheSecond, 1005 - Math.floor(serverNow() * 1000) % 1000);
  }

  // for tests and for an integrator's console
  window.citywall = {nextReload: nextReload, reloadWhenServerAnswers: reloadWhenServerAnswers, upkeep: upkeep,
                     reloadAt: function () { return reloadAtMs; }, fresh: fresh, clockAt: clockAt};

  function start() {
    markPage();
    watchFit();
    scheduleFit(null);
    window.setInterval(upkeep, window.CITYWALL_UPKEEP_MS || 15000);
    window.setInterval(rotate, 1000);
    window.setInterval(fitKiosk, 1000);
    window.setInterval(markPage, 1000);  // a page that only changed its root's class (/wall?scale=0.5 -> /wall)
    window.setInterval(freshen, 1000);
    tickOnTheSecond();
    window.addEventListener("resize", fitKiosk);
    rotate();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    citywall: {
      /* A freshness message the poll brought (the push hands its own to citywall.fresh),
       * applied at once: the poll brings one a second at most. */
      fresh: function (message, cwSettings) {
        if (cwSettings) settings = cwSettings;
        take(message);
        freshen();
        return Date.now();
      },

      /* The poll found the page behind the push (cw-lag moved): the socket may be half-open
       * behind a proxy that went away (assets/push.js replaces it if it has gone quiet). */
      reconnect: function (lag) {
        if (window.citywall_push) window.citywall_push.nudge();
        return Date.now();
      }
    }
  });
})();
