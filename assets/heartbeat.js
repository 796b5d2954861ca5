/* citywall: each open screen says it is alive.
 *
 * Every heartbeat the page builds a small report (its own id for this tab, the page it
 * shows, the last store version it applied, its JS heap where the browser tells, how many
 * script errors it has seen, and whether the push delivers to it); the page's regular poll carries it to the server, so no
 * extra connection is opened. A screen whose reports stop is flagged by the server.
 */
(function () {
  "use strict";
  var errors = 0;
  window.addEventListener("error", function () { errors += 1; });
  window.addEventListener("unhandledrejection", function () { errors += 1; });

  var id = null;
  try { id = window.sessionStorage.getItem("cw-screen-id"); } catch (e) { id = null; }
  if (!id) {
    id = Math.random().toString(36).slice(2, 14);
    try { window.sessionStorage.setItem("cw-screen-id", id); } catch (e) { /* private mode: one id per load */ }
  }
  var seq = 0;

  function applied(pushed, version) {
    var a = typeof pushed === "number" ? pushed : -1;
    var b = typeof version === "number" ? version : -1;
    return Math.max(a, b);
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.citywall_beat = {
    beat: function (n, pushed, version) {
      seq += 1;
      var memory = window.performance && window.performance.memory;
      return {
        id: id,
        page: window.location.pathname,
        applied: applied(pushed, version),
        heap: memory ? memory.usedJSHeapSize : null,
        errors: errors,
        push: typeof pushed === "number" && pushed >= 0,  // its data come by the push, not the poll
        seq: seq
      };
    }
  };
})();
