// Relance journey editor: the live preview of each step's message per locale. The page works without it
// (the previews are rendered with the page, and again after each submit).
(function () {
  "use strict";
  var form = document.getElementById("journey-form");
  if (!form) { return; }
  var token = form.querySelector("input[name=csrf_token]");
  var timers = {};

  // The draft goes to the server, which renders it exactly as the step's emails are rendered; the answer
  // is inserted as text (textContent), never as HTML.
  var refresh = function (panel) {
    var body = new FormData(form);
    body.set("preview_step", panel.dataset.step);
    body.set("preview_locale", panel.dataset.locale);
    fetch(form.dataset.previewUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" }
    }).then(function (response) { return response.json(); }).then(function (data) {
      var errors = panel.querySelector("[data-errors]");
      if (data.ok) {
        panel.querySelector("[data-subject]").textContent = data.subject;
        panel.querySelector("[data-text]").textContent = data.text;
        errors.hidden = true;
        errors.textContent = "";
      } else {
        var messages = [];
        Object.keys(data.errors || {}).forEach(function (k) { messages = messages.concat(data.errors[k]); });
        errors.textContent = messages.join(" ");
        errors.hidden = false;
      }
    }).catch(function () { /* keep the last preview */ });
  };

  // A message field refreshes its own locale's panel; a step's offer refreshes all of the step's panels.
  var panelsFor = function (field) {
    var locale = field.closest("[data-locale]");
    var scope = locale || field.closest("fieldset.step");
    return scope ? scope.querySelectorAll(".preview[data-step]") : [];
  };
  form.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches("[data-preview], [name$='.offer.value'], [name$='.offer.expires_hours']")) { return; }
    panelsFor(field).forEach(function (panel) {
      var id = panel.dataset.step + "/" + panel.dataset.locale;
      clearTimeout(timers[id]);
      timers[id] = setTimeout(function () { refresh(panel); }, 350);
    });
  });
  form.addEventListener("change", function (event) {
    if (event.target.matches("select[data-preview]")) { panelsFor(event.target).forEach(refresh); }
  });
})();
