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
})();
