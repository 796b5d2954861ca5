/* citywall: a page whose sign-in or token has ended says so, or goes to the login page.
 *
 * A session lasts its configured hours (auth.session_ttl_h) and is not renewed. When it
 * ends, every callback gets 401: the console's queue stood still and its buttons did nothing,
 * with the operator's name still in the corner, and a signed-in tablet froze on old numbers.
 * On the first 401 of a callback, the console, the report and a tablet opened without a kiosk
 * token go to /login, which brings the user back here once signed in. A wall screen, or a
 * tablet on a kiosk token, has no one to sign in: it asks the server about itself
 * (`citywall_push.check`, assets/push.js), which says across the page that it is refused.
 *
 * The console's and the report's sign-out button (#cw-sign-out, layouts/console/account.py) posts
 * the sign-out with the CSRF token, as every write does, and goes to the login page, which
 * brings the next person back to this page. Should the server not answer, the page says the
 * sign-out may not have gone through and stays: a desk that only looked signed out would let
 * the next person act under the last one's name.
 */
(function () {
  "use strict";
  var SIGNED_IN_PAGES = '[data-page="console"], [data-page="report"]';
  var KIOSK_KEY = "citywall_kiosk";
  var CSRF_COOKIE = "citywall_csrf";  // dashboard/auth/csrf.py
  var plainFetch = window.fetch;
  var leaving = false;
  var openedOnToken = false;

  /* A kiosk address carries its token (`?token=`), and the first answer sets the kiosk cookie
   * that every later request carries. Left in the tablet's address bar, the token showed in
   * any photo of the tablet, where anyone could copy the mayor's access; it is taken out of
   * the address (and of this tab's entry in its history) as soon as the page starts. The tab
   * remembers that it was opened on a token, so a refused tablet says so instead of asking
   * for a sign-in that nobody holding it has. Wall screens keep it: they show no address
   * bar, and their nightly reload on the token's own address renews the cookie, so a screen
   * left alone for weeks outlives a cookie the server no longer knows (a new secret key, a
   * desk's sign-out). */
  (function forgetTokenInTabletAddress() {
    var params = new URLSearchParams(window.location.search);
    if (!/^\/tablet\/?$/.test(window.location.pathname) || !params.has("token")) return;
    openedOnToken = true;
    try { window.sessionStorage.setItem(KIOSK_KEY, "1"); } catch (e) { /* storage off: this load still knows */ }
    params.delete("token");
    var query = params.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  })();

  function onKioskToken() {
    if (openedOnToken) return true;
    try { return window.sessionStorage.getItem(KIOSK_KEY) === "1"; } catch (e) { return false; }
  }

  function signedIn() {
    if (document.querySelector(SIGNED_IN_PAGES)) return true;
    return !!document.querySelector('[data-panel="tablet"]') && !onKioskToken();
  }

  /* An action the desk sent (acknowledge, assign, a push, a broadcast: every callback that
   * answers in the console's or the wall card's message line) that got no answer, or an
   * error, said nothing at all: with the server away, a press looked taken, and its buttons
   * stayed greyed (Dash undoes ``running`` only when an answer comes). It now says, at the
   * top, that the action may not have been recorded, and gives the buttons back; the next
   * action that is answered takes the notice away. Only a request sent just after a press or
   * a key counts: the wall card's station buttons, drawn again, send one of their own, and
   * a 204 (nothing to do) judges nothing. */
  var ACTION_OUTPUT = /cw-(?:console|wall)-msg\.children/;  // in the request's "output"
  var PRESSED_WITHIN_MS = 3000;
  var pressedAt = -Infinity;
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, function () { pressedAt = Date.now(); }, true);
  });

  function isAction(url, init) {
    return url.indexOf("/_dash-update-component") !== -1 && Date.now() - pressedAt < PRESSED_WITHIN_MS &&
      !!init && typeof init.body === "string" && ACTION_OUTPUT.test(init.body);
  }

  function notSent(on) {
    var el = document.getElementById("cw-not-sent");
    if (!on) {
      if (el) el.remove();
      return;
    }
    if (!el) {
      el = document.createElement("div");
      el.id = "cw-not-sent";
      el.className = "cw-notice cw-not-sent";
      el.setAttribute("role", "alert");
      document.body.appendChild(el);
    }
    el.textContent = window.citywallWords ? window.citywallWords.word("console_not_sent") : "";
    // after Dash has handled the failure itself: through its own store, so that the next
    // press greys them again while it runs
    setTimeout(function () {
      var setProps = window.dash_clientside && window.dash_clientside.set_props;
      if (!setProps) return;
      document.querySelectorAll('button[id^="cw-act-"][disabled]').forEach(function (button) {
        setProps(button.id, {disabled: false});
      });
    }, 0);
  }

  /* A refused sign-out is no failure when there was no session left to end (its hours ran
   * out, or it was ended elsewhere): the server then says who is here without one. */
  function stillSignedIn() {
    return plainFetch("/api/v1/me", {credentials: "same-origin"}).then(function (me) {
      if (me.status === 401) return false;
      if (!me.ok) throw new Error(String(me.status));
      return me.json().then(function (who) { return who.via === "session"; });
    });
  }

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest ? e.target.closest("#cw-sign-out") : null;
    if (!button) return;
    button.disabled = true;
    var back = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    plainFetch("/api/v1/logout", {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": cookie(CSRF_COOKIE)}})
      .then(function (response) {
        return response.ok || stillSignedIn().then(function (still) { return !still; });
      })
      .then(function (out) {
        if (!out) throw new Error("sign-out refused");
        leaving = true;
        window.location.assign(back);
      })
      .catch(function () {
        button.disabled = false;
        notSent(true);
      });
  });

  /* Dash's renderer reads a refused callback's body twice (once for an expired JWT, then for
   * its error), and the second read threw "body stream already read" as an uncaught error, on
   * every poll of a refused kiosk: the page's heartbeat counted them as script errors. Its
   * body is read once here and kept for every later read. */
  function readableTwice(response) {
    var text = null;
    response.text = function () {
      if (text === null) text = Response.prototype.text.call(response);
      return text;
    };
    response.json = function () { return response.text().then(JSON.parse); };
    return response;
  }

  window.fetch = function (input, init) {
    var url = input && input.url ? input.url : String(input);  // a string, a URL or a Request
    var action = isAction(url, init);
    return plainFetch.apply(window, arguments).then(function (response) {
      if (!response.ok && url.indexOf("/_dash-update-component") !== -1) readableTwice(response);
      if (action && response.status !== 401 && response.status !== 204) notSent(!response.ok);
      if (response.status === 401 && !leaving && url.indexOf("/_dash-update-component") !== -1) {
        if (signedIn()) {
          leaving = true;
          window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
        } else if (window.citywall_push) {
          window.citywall_push.check();
        }
      }
      return response;
    }, function (error) {
      if (action) notSent(true);
      throw error;
    });
  };
})();
