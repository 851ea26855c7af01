// Citizen services: pick the matching ID type when the applicant type changes, and the forms'
// on-screen keyboard (citizen/_keys.html; its Chinese input is ime.js). Printing is touch.js's
// [data-print] handler.
(function () {
  "use strict";

  // ------------------------------------------------------------ applicant type → ID type
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name === "id_type") { relayout(); return; }
    if (input.name !== "applicant_type") return;
    var form = input.form;
    var wanted = input.value === "法人或其他组织" ? "统一社会信用代码" : "居民身份证";
    var current = form.querySelector('input[name="id_type"]:checked');
    var group = input.value === "法人或其他组织" ? ".org-only" : ".person-only";
    if (!current || !current.closest(group)) {
      var pick = form.querySelector('input[name="id_type"][value="' + wanted + '"]');
      if (pick) pick.checked = true;
    }
  });

  // ------------------------------------------------------------ on-screen keyboard
  // Fields say which keys they need in data-osk. The keyboard only edits the value through
  // setRangeText and an "input" event: it never handles keydown or composition events, so
  // the kiosk's pinyin input method (and a staff member's physical keyboard) work as usual.
  // It only notes whether the input method is composing (letters typed, characters not yet
  // chosen): a key touched then would land inside the composition and garble both, so the
  // touch is refused with a hint until the resident picks the characters.
  var PAD = { id: true, tel: true, digits: true };
  var OWN = { id: true, tel: true, digits: true, email: true, code: true, receipt: true };
  var wide = window.matchMedia("(min-width: 700px) and (min-height: 700px)");  // kiosk, not a phone
  var field = null;
  var composing = false;

  document.addEventListener("compositionstart", function () { composing = true; }, true);
  document.addEventListener("compositionend", function () {
    composing = false;
    var kb = panel();
    if (kb) kb.classList.remove("fkb-is-composing");
  }, true);

  function panel() { return document.getElementById("fkb"); }

  function layoutOf(input) {
    var name = input.getAttribute("data-osk");
    if (name === "id") {
      var type = input.form && input.form.querySelector('input[name="id_type"]:checked');
      if (type && type.value !== "居民身份证") return "code";   // letters in passports, credit codes
    }
    return name;
  }

  function prepare(root) {
    // Fields only this keyboard serves do not call up the system's own keyboard on the kiosk.
    if (!wide.matches) return;
    root.querySelectorAll("[data-osk]").forEach(function (input) {
      if (OWN[input.getAttribute("data-osk")]) input.setAttribute("inputmode", "none");
    });
  }

  // Chinese fields: the writing pad and pinyin candidates (ime.js) type into the same field.
  if (window.KioskIME) {
    window.KioskIME.host("#fkb", {
      target: function () { return field; },
      relayout: function () { relayout(false); },
      afterInsert: function (input) { reveal(input); }
    });
  }

  function ime() { var kb = panel(); return kb && kb.kioskIme; }

  function imeMode() {
    var kb = panel();
    return kb && kb.classList.contains("fkb-is-chinese") ? kb.getAttribute("data-ime-mode") : null;
  }

  function relayout(scroll) {
    var kb = panel();
    if (!kb || kb.hidden || !field) return;
    var layout = layoutOf(field);
    kb.setAttribute("data-layout", layout);
    kb.classList.toggle("fkb-is-pad", !!PAD[layout]);
    kb.classList.toggle("fkb-is-chinese", !OWN[layout]);
    kb.classList.toggle("fkb-is-lower", layout === "email" || imeMode() === "pinyin");
    if (ime()) ime().resize();
    kb.querySelectorAll("[data-layouts]").forEach(function (key) {
      key.hidden = key.getAttribute("data-layouts").split(" ").indexOf(layout) < 0;
    });
    kb.querySelector(".fkb-field").textContent = field.getAttribute("data-osk-label") || "";
    var h = kb.getBoundingClientRect().height;
    document.documentElement.style.setProperty("--fkb-h", Math.ceil(h) + "px");
    if (scroll !== false) reveal(field);
  }

  // Keep the whole field (label, hint, message, box) between the top bar and the keyboard.
  function reveal(input) {
    var kb = panel();
    var box = input.closest(".field") || input;
    var bar = document.querySelector(".topbar");
    var top = bar ? Math.max(0, bar.getBoundingClientRect().bottom) : 0;
    var docked = kb && !kb.hidden ? kb.getBoundingClientRect() : null;
    var bottom = window.innerHeight - (docked && docked.left < 10 ? docked.height : 0);   // not beside
    var r = box.getBoundingClientRect();
    if (r.height > bottom - top - 24) r = input.getBoundingClientRect();
    if (r.top < top + 8 || r.bottom > bottom - 8) {
      window.scrollBy({ top: r.top - top - 16, left: 0, behavior: "instant" });
    }
  }

  // Nothing may move under a finger that is still down: a tap focuses the field (or a button) on
  // touch, and the click follows at the same spot. Scrolling and giving back the room below the
  // page wait until the finger is lifted.
  var pressed = false, afterRelease = [], unpadTimer = null;

  function whenReleased(fn) {
    if (pressed) afterRelease.push(fn); else fn();
  }

  document.addEventListener("pointerdown", function () { pressed = true; }, true);
  ["pointerup", "pointercancel"].forEach(function (type) {
    document.addEventListener(type, function () {
      pressed = false;
      var todo = afterRelease; afterRelease = [];
      setTimeout(function () { todo.forEach(function (fn) { fn(); }); }, 0);
    }, true);
  });

  function open(input) {
    var kb = panel();
    if (!kb || !wide.matches) return;
    clearTimeout(unpadTimer);
    if (field !== input && ime()) ime().clear();   // another field: nothing half-written follows
    field = input;
    kb.hidden = false;
    document.body.classList.add("fkb-open");
    relayout(false);
    whenReleased(function () { if (field === input) reveal(input); });
  }

  function unpad() {
    var kb = panel();
    if (kb && !kb.hidden) return;
    document.body.classList.remove("fkb-open");
    document.documentElement.style.removeProperty("--fkb-h");
  }

  function close() {
    var kb = panel();
    if (kb) kb.hidden = true;
    field = null;
    whenReleased(function () { clearTimeout(unpadTimer); unpadTimer = setTimeout(unpad, 400); });
  }

  function limit(input) {
    var max = parseInt(input.getAttribute("maxlength"), 10);
    return max > 0 ? max : 1000;
  }

  function type(input, key) {
    var value = input.value;
    var start = input.selectionStart, end = input.selectionEnd;
    if (start === null || start === undefined) { start = end = value.length; }
    if (key === "clear") {
      input.value = "";
    } else if (key === "del") {
      if (start === end && start > 0) {
        var code = value.charCodeAt(start - 1);
        start -= (code >= 0xdc00 && code <= 0xdfff && start > 1) ? 2 : 1;   // a whole character
      }
      input.setRangeText("", start, end, "end");
    } else {
      var room = limit(input) - (value.length - (end - start));
      if (room <= 0) return;
      input.setRangeText(key.slice(0, room), start, end, "end");
    }
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function nextField(input) {
    var fields = Array.prototype.filter.call(input.form ? input.form.querySelectorAll("[data-osk]") : [],
      function (f) { return f.offsetParent !== null && !f.disabled; });
    return fields[fields.indexOf(input) + 1] || null;
  }

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-osk]")) { open(target); return; }
    var kb = panel();
    if (kb && !kb.hidden && !kb.contains(target)) close();   // a choice, a link, the submit button
  });

  // A field that already has focus opens the keyboard again when touched after 收起键盘.
  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-osk]");
    var kb = panel();
    if (target && kb && kb.hidden) open(target);
  });

  // Touching a key must not take the focus (and the caret) away from the field.
  // The pressed look is a class, not :active, which touch screens can leave stuck on a key.
  document.addEventListener("pointerdown", function (event) {
    var key = event.target.closest && event.target.closest("#fkb .fkb-key");
    if (event.target.closest && event.target.closest("#fkb")) event.preventDefault();
    if (!key) return;
    key.classList.add("fkb-hit");
    whenReleased(function () { setTimeout(function () { key.classList.remove("fkb-hit"); }, 120); });
  });
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("#fkb")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var key = event.target.closest && event.target.closest("#fkb [data-fkey]");
    if (!key) return;
    event.preventDefault();
    var input = field;
    if (!input || !document.contains(input)) { close(); return; }
    var name = key.getAttribute("data-fkey");
    if (name === "done") { close(); return; }
    if (composing) { panel().classList.add("fkb-is-composing"); return; }
    if (name === "next") {
      var next = nextField(input);
      if (next) { next.focus({ preventScroll: true }); open(next); return; }
      close();
      var submit = input.form && input.form.querySelector("[type=submit]");
      if (submit) { submit.scrollIntoView({ block: "center" }); submit.focus({ preventScroll: true }); }
      return;
    }
    var text = name;
    // Pinyin is typed in lower case: ime.js offers characters for the lower-case letters.
    if (name.length === 1 && /[A-Z]/.test(name) && (layoutOf(input) === "email" || imeMode() === "pinyin")) {
      text = name.toLowerCase();
    }
    type(input, text);
    if (document.activeElement !== input) input.focus({ preventScroll: true });
    reveal(input);
  });

  window.addEventListener("resize", relayout);
  document.addEventListener("htmx:beforeSwap", function () { close(); unpad(); });
  document.addEventListener("htmx:afterSettle", function () { prepare(document); });
  prepare(document);
})();
