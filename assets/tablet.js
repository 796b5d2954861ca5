/* citywall tablet: the browser's share of the mayor's tablet (layouts/mayor/callbacks.py).
 *
 * toggle: opens and closes pillars and switches the trend span with no server trip, so the
 *   page answers at once, offline too. It sets the root's data-open / data-range (CSS shows
 *   the open section right under the tapped card's row) and each card's aria-expanded, and
 *   writes the open pillar into the address (?pillar=...), so that the link the mayor's staff
 *   copy, and a reload, land on the pillar on screen. The address is replaced, not added to:
 *   Back still leaves the page rather than stepping through every pillar tapped.
 * exportBusy: printing takes a second or two, so the PDF button shows it is working and
 *   nobody taps twice.
 * Escape closes an open pillar, as its close button does (a tablet with a keyboard cover, or
 *   the page on a desk).
 */
(function () {
  "use strict";

  function remember(pillar) {
    if (!window.URL || !window.history || !window.history.replaceState) return;
    var url = new URL(window.location.href);
    if (pillar) url.searchParams.set("pillar", pillar); else url.searchParams.delete("pillar");
    if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url.href);
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.citywall_tablet = {
    toggle: function (clicks, closeClicks, range, open) {
      var c = window.dash_clientside.callback_context;
      var next = open || "";
      (c.triggered || []).forEach(function (trig) {
        var p = trig.prop_id || "";
        if (p === "tb-close.n_clicks") { next = ""; return; }
        if (p.indexOf("tb-card") < 0 || p.slice(-9) !== ".n_clicks" || !trig.value) return;
        var id = JSON.parse(p.slice(0, -9));
        next = next === id.pillar ? "" : id.pillar;
      });
      var cards = c.outputs_list[2] || [];
      var expanded = cards.map(function (o) { return o.id.pillar === next ? "true" : "false"; });
      var index = expanded.indexOf("true");
      remember(next);
      if (next && next !== open) {
        // When the opened KPIs do not all show, the tapped card goes to the top with its KPIs
        // under it. Scrolled to the KPIs themselves, a phone lost the card above the screen,
        // and with it which pillar was open.
        window.setTimeout(function () {
          var el = document.getElementById("tb-detail");
          var card = document.querySelector('[data-pillar="' + next + '"]');
          if (!el || !card || !card.scrollIntoView) return;
          var r = el.getBoundingClientRect();
          if (r.top < 0 || r.bottom > window.innerHeight) card.scrollIntoView({block: "start", behavior: "smooth"});
        }, 60);
      }
      return [next, range || "day", expanded, index < 0 ? "" : String(index)];
    },

    exportBusy: function (clicks) {
      var el = document.getElementById("tb-export");
      if (clicks && el) {
        el.setAttribute("data-busy", "true");
        window.setTimeout(function () { el.removeAttribute("data-busy"); }, 4000);
      }
      return window.dash_clientside.no_update;
    }
  };

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    var close = document.getElementById("tb-close");
    var root = close && close.closest ? close.closest(".tb-root") : null;
    var open = root ? root.getAttribute("data-open") : "";
    if (!open) return;
    var card = root.querySelector('[data-pillar="' + open + '"]');
    close.click();
    if (card && card.focus) card.focus();  // not lost to the page with the detail it was in
  });
})();
