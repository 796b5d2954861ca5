/* Keeps Dash's undo history empty, so a kiosk tab does not grow for weeks.
 *
 * Dash's renderer records an undo entry for every change of a callback input that did not
 * come from a callback response: each tick of a dcc.Interval, each value the websocket push
 * sets. The list is never trimmed, and each new entry copies it whole. On a wall screen that
 * is about four entries a second (the poll tick, the second tick, the freshness message),
 * some 14,000 an hour: the JS heap grew by megabytes an hour and each change cost more than
 * the last. citywall offers no undo, so the list is emptied every few seconds.
 *
 * This is the one place that reaches into the renderer's private state (the Redux stores in
 * ``window.dash_stores`` and their ``history.past``). tests/test_kiosk_heap.py fails loudly
 * if a Dash upgrade moves either, so the leak cannot come back unnoticed.
 */
(function () {
  "use strict";
  var EVERY_MS = 5000;

  /* Empty the undo list of every Dash store on the page; returns how many entries went, or
   * -1 when the renderer's state no longer has the shape this relies on. The list is a fresh
   * array after every recorded change and only the undo buttons (never shown here) read it,
   * so truncating it in place is safe. */
  function trim() {
    var stores = window.dash_stores;
    if (!Array.isArray(stores) || !stores.length) return -1;
    var removed = 0;
    for (var i = 0; i < stores.length; i++) {
      var state = stores[i] && typeof stores[i].getState === "function" ? stores[i].getState() : null;
      var past = state && state.history && state.history.past;
      if (!Array.isArray(past)) return -1;
      removed += past.length;
      past.length = 0;
    }
    return removed;
  }

  window.citywall_dash = Object.assign({}, window.citywall_dash, {trimHistory: trim});
  window.setInterval(trim, EVERY_MS);
})();
