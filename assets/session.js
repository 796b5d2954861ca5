/* citywall: a console or report whose sign-in has ended goes to the login page.
 *
 * A session lasts its configured hours (auth.session_ttl_h) and is not renewed. When it
 * ends, every callback gets 401: the console's queue stood still and its buttons did nothing,
 * with the operator's name still in the corner. On the first 401 of a callback, this page
 * goes to /login, which brings the operator back here once signed in. Wall screens and the
 * tablet are left alone: they read with a kiosk token and have their own upkeep.
 */
(function () {
  "use strict";
  var PAGES = '[data-page="console"], [data-page="report"]';
  var plainFetch = window.fetch;
  var leaving = false;
  window.fetch = function (input, init) {
    return plainFetch.apply(window, arguments).then(function (response) {
      var url = input && input.url ? input.url : String(input);  // a string, a URL or a Request
      if (response.status === 401 && !leaving && url.indexOf("/_dash-update-component") !== -1 && document.querySelector(PAGES)) {
        leaving = true;
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
      }
      return response;
    });
  };
})();
