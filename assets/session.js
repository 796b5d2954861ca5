/* citywall: a page whose sign-in or token has ended says so, or goes to the login page.
 *
 * A session lasts its configured hours (auth.session_ttl_h) and is not renewed. When it
 * ends, every callback gets 401: the console's queue stood still and its buttons did nothing,
 * with the operator's name still in the corner, and a signed-in tablet froze on old numbers.
 * On the first 401 of a callback, the console, the report and a tablet opened without a kiosk
 * token go to /login, which brings the user back here once signed in. A wall screen, or a
 * tablet on a kiosk token, has no one to sign in: it asks the server about itself
 * (`citywall_push.check`, assets/push.js), which says across the page that it is refused.
 */
(function () {
  "use strict";
  var SIGNED_IN_PAGES = '[data-page="console"], [data-page="report"]';
  var plainFetch = window.fetch;
  var leaving = false;

  function signedIn() {
    if (document.querySelector(SIGNED_IN_PAGES)) return true;
    var tablet = document.querySelector('[data-panel="tablet"]');
    return !!tablet && !new URLSearchParams(window.location.search).has("token");
  }

  window.fetch = function (input, init) {
    return plainFetch.apply(window, arguments).then(function (response) {
      var url = input && input.url ? input.url : String(input);  // a string, a URL or a Request
      if (response.status === 401 && !leaving && url.indexOf("/_dash-update-component") !== -1) {
        if (signedIn()) {
          leaving = true;
          window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
        } else if (window.citywall_push) {
          window.citywall_push.check();
        }
      }
      return response;
    });
  };
})();
