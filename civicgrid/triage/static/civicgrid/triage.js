// Smart routing on the intake forms: a suggested category's button fills the category select it names
// (data-target), and moves the focus there so the operator can confirm with the keyboard. The select may
// be filtered (hotline.js hides non-matching options): a chosen option is shown again.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".suggest-pick") : null;
    if (!button) {
      return;
    }
    var select = document.getElementById(button.getAttribute("data-target") || "id_category");
    if (!select) {
      return;
    }
    var option = select.querySelector('option[value="' + button.getAttribute("data-category") + '"]');
    if (!option) {
      return;
    }
    option.hidden = false;
    if (option.parentElement && option.parentElement.tagName === "OPTGROUP") {
      option.parentElement.hidden = false;
    }
    select.value = option.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    Array.prototype.forEach.call(document.querySelectorAll(".suggest-pick"), function (b) {
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    });
    select.focus();
  });
})();
