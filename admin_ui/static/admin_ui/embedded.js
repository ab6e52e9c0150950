// Inside the Shopify admin: every page load and form post carries a fresh App Bridge session token
// (`id_token`), because the iframe cannot rely on cookies. App Bridge itself adds the token to fetch().
(function () {
  "use strict";
  if (typeof window.shopify === "undefined" || !window.shopify.idToken) { return; }

  function withToken(href, token) {
    var url = new URL(href, window.location.href);
    url.searchParams.set("id_token", token);
    return url.toString();
  }

  if (document.body && document.body.dataset.bounce === "1") {
    // First load without a valid token: make sure the store is connected, then load again with one.
    window.shopify.idToken().then(function (token) {
      return fetch("/auth/shopify/session", { method: "POST", headers: { Authorization: "Bearer " + token } })
        .catch(function () { return null; })
        .then(function () { window.location.replace(withToken(window.location.href, token)); });
    });
    return;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
    var url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname.indexOf("/admin") !== 0) { return; }
    event.preventDefault();
    window.shopify.idToken().then(function (token) { window.location.assign(withToken(url.toString(), token)); });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.tokenized === "1") { return; }
    event.preventDefault();
    var submitter = event.submitter || null;
    window.shopify.idToken().then(function (token) {
      if (form.method.toLowerCase() === "get") {
        var field = form.querySelector("input[name=id_token]") || document.createElement("input");
        field.type = "hidden"; field.name = "id_token"; field.value = token;
        form.appendChild(field);
      } else {
        form.action = withToken(form.action, token);
      }
      form.dataset.tokenized = "1";
      if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
      form.dataset.tokenized = "";
    });
  });
})();
