/* citywall wall control: a screen follows the wall's current preset without reloading.
 *
 * Each screen's overlay (a live part pushed like any panel) carries the current preset in
 * data-wall-preset; the page root says which preset it was drawn with (data-page-preset).
 * When they differ, the page asks Dash's router to draw it again with ?preset=<name>: a
 * client-side navigation (history.pushState plus Dash's own "_dashprivate_pushstate"
 * event), so the websocket, the stores and the browser's state stay as they are.
 */
(function () {
  "use strict";
  var asked = null;
  function follow() {
    var page = document.querySelector("[data-page-preset]");
    var mark = document.querySelector("[data-wall-preset]");
    if (!page || !mark) return;
    var want = mark.getAttribute("data-wall-preset");
    var have = page.getAttribute("data-page-preset");
    if (!want || want === have) { asked = null; return; }
    if (want === asked) return;
    asked = want;
    var url = new URL(window.location.href);
    if (want === "default") url.searchParams.delete("preset"); else url.searchParams.set("preset", want);
    window.history.pushState({}, "", url.pathname + url.search + url.hash);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  }
  // at once when the overlay changes, and every half second in case an update was missed
  function start() {
    new MutationObserver(follow).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                          attributeFilter: ["data-wall-preset"]});
    window.setInterval(follow, 500);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
