// Relance admin: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Profile criteria: an "Add a criterion" button that clones the row template.
  var addButton = document.getElementById("add-criterion");
  var template = document.getElementById("criterion-template");
  var list = document.getElementById("criteria");
  if (addButton && template && list) {
    addButton.hidden = false;
    addButton.addEventListener("click", function () {
      var rows = list.querySelectorAll("[data-row]");
      var next = 0;
      rows.forEach(function (row) { next = Math.max(next, parseInt(row.dataset.row, 10) + 1); });
      var html = template.innerHTML.split("__i__").join(String(next));
      var holder = document.createElement("div");
      holder.innerHTML = html;  // our own server-rendered template: no user data in it
      var row = holder.firstElementChild;
      list.appendChild(row);
      var first = row.querySelector("select, input");
      if (first) { first.focus(); }
    });
  }

  // Live preview of the offer email: the draft goes to the server, which renders it exactly as
  // offers are rendered; the answer is inserted as text (textContent), never as HTML.
  var preview = document.getElementById("preview");
  var form = document.getElementById("rules-form");
  if (preview && form) {
    var timer = null;
    var subject = preview.querySelector("[data-subject]");
    var text = preview.querySelector("[data-text]");
    var errors = preview.querySelector("[data-errors]");
    var token = form.querySelector("input[name=csrf_token]");
    var refresh = function () {
      var body = new FormData(form);
      fetch(preview.dataset.url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" }
      }).then(function (response) { return response.json(); }).then(function (data) {
        if (data.ok) {
          subject.textContent = data.subject;
          text.textContent = data.text;
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
    form.querySelectorAll("[data-preview], [name='campaign.discount_kind'], [name='campaign.discount_value'], [name='campaign.code_expiry_hours'], [name='campaign.sender_name']")
      .forEach(function (field) {
        field.addEventListener("input", function () {
          clearTimeout(timer);
          timer = setTimeout(refresh, 350);
        });
      });
  }
})();
