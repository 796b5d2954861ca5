/* The login page's form: posts to /api/v1/login and goes on to the page asked for.
 * A file of its own, not inline, because the Content-Security-Policy admits no inline script
 * but Dash's own; Dash does not load it on its pages (assets_ignore in dashboard/app.py).
 * Its messages come with the form (data-wrong, data-failed, data-silent), from the catalogs. */
(function () {
  "use strict";
  var form = document.getElementById("login"), error = document.getElementById("error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.classList.add("d-none");
    fetch("/api/v1/login", {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: form.username.value, password: form.password.value})
    }).then(function (response) {
      if (response.ok) { window.location.assign(form.dataset.next); return; }
      error.textContent = response.status === 401
        ? form.dataset.wrong
        : form.dataset.failed.split("{status}").join(String(response.status));
      error.classList.remove("d-none");
    }).catch(function () {
      error.textContent = form.dataset.silent;
      error.classList.remove("d-none");
    });
  });
})();
