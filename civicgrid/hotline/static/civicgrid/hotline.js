// The hotline desk's keyboard helpers. Progressive enhancement only: without them the form still works
// (Enter presses the look-up button, the buttons post the form). Nothing typed is put into HTML here.
(function () {
  "use strict";

  // Alt+letter shortcuts (listed on the page). By key code, not character, so they also work with
  // another keyboard layout or macOS's Option key; handled here rather than with accesskey, whose
  // modifiers differ between browsers. Ctrl or Meta held: the browser's own shortcut, left alone.
  var CLICK = { KeyS: "create-case", KeyD: "answer-directly", KeyN: "next-call" };
  var FOCUS = { KeyP: "id_phone", KeyK: "id_q" };
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.isComposing) { return; }
    var click = CLICK[event.code] && document.getElementById(CLICK[event.code]);
    var focus = FOCUS[event.code] && document.getElementById(FOCUS[event.code]);
    if (click) {
      event.preventDefault();
      click.click();
    } else if (focus) {
      event.preventDefault();
      focus.focus();
      if (focus.select) { focus.select(); }
    }
  });

  var form = document.getElementById("intake");
  if (!form) { return; }
  var phone = document.getElementById("id_phone");
  var search = document.getElementById("id_q");
  var category = document.getElementById("id_category");
  var filter = document.getElementById("category-filter");

  // Enter in the phone field presses the form's first button (look up the caller). Elsewhere in a one-line
  // field it must not: in the knowledge base search it searches, in the category filter it moves to the
  // list, and otherwise it does nothing, so only the explicit buttons (Alt+S, Alt+D) take a call in.
  // While an input method is composing (pinyin), Enter belongs to it.
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.isComposing || !(target instanceof HTMLInputElement)) { return; }
    if (target === phone) { return; }
    event.preventDefault();
    if (target === search && window.htmx) {
      window.htmx.trigger(search, "kb-search");
    } else if (target === filter && category) {
      category.focus();
    }
  });

  // Picking a knowledge base entry swaps the answer box in: give the call the entry's question as its
  // title when none is typed yet, and put the cursor in the answer so it can be adapted.
  if (window.htmx) {
    window.htmx.onLoad(function (element) {
      if (!(element instanceof HTMLElement) || element.id !== "answer-box") { return; }
      var title = document.getElementById("id_title");
      var question = element.getAttribute("data-entry-title");
      if (title && question && !title.value.trim()) { title.value = question; }
      var answer = document.getElementById("id_answer");
      if (answer) { answer.focus(); }
    });
  }

  // Typing in the category filter keeps the matching categories (and their groups) in the list and
  // selects the first match, so "燃气" then Tab lands on a gas category.
  if (filter && category) {
    filter.closest(".category-filter").hidden = false;
    filter.addEventListener("input", function () {
      var term = filter.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(category.querySelectorAll("optgroup"), function (group) {
        var groupHit = group.label.toLowerCase().indexOf(term) >= 0;
        var any = false;
        Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
          var hit = !term || groupHit || option.text.toLowerCase().indexOf(term) >= 0;
          option.hidden = !hit;
          if (hit) {
            any = true;
            if (!first) { first = option; }
          }
        });
        group.hidden = !any;
      });
      var current = category.options[category.selectedIndex];
      if (term && first && (!current || current.hidden || !current.value)) { category.value = first.value; }
    });
  }
})();
