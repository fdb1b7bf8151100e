// The service window: print buttons, and the registration form's outcome following the ticked materials.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var form = document.getElementById("visit-form");
  if (!form) { return; }
  var summary = document.getElementById("missing-summary");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=materials]"));
  var chosenByHand = !!form.querySelector("input[name=outcome]:checked");

  function missing() {
    return boxes.filter(function (b) { return b.dataset.required === "true" && !b.checked; })
      .map(function (b) { return b.closest("label") ? b.closest("label").textContent.trim() : b.value; });
  }

  function pick(value) {
    var radio = form.querySelector("input[name=outcome][value='" + value + "']");
    if (radio) { radio.checked = true; }
  }

  function update() {
    var names = missing();
    // textContent: material names are data, never markup.
    summary.textContent = names.length ? (summary.dataset.label || "") + names.join(summary.dataset.separator || ", ") : "";
    if (!chosenByHand) { pick(names.length ? "notice" : "accepted"); }
  }

  form.querySelectorAll("input[name=outcome]").forEach(function (radio) {
    radio.addEventListener("change", function () { chosenByHand = true; });
  });
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  if (boxes.length) { update(); }
})();
