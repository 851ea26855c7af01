// Touchscreen behaviour: on-screen keyboard (its Chinese input is ime.js), idle reset with countdown, external links as QR
// codes, printing, and a little hardening. Works with or without htmx.
(function () {
  "use strict";

  // ------------------------------------------------------------ on-screen keyboard
  var submitTimer = null;

  function applyKey(input, key) {
    var chars = Array.from(input.value);
    if (key === "del") chars.pop();
    else if (key === "clear") chars = [];
    else chars.push(key);
    input.value = chars.join("").slice(0, parseInt(input.getAttribute("maxlength") || "50", 10));
  }

  document.addEventListener("click", function (event) {
    var key = event.target.closest("button[data-key]");
    if (!key) return;
    var form = key.closest("form");
    var input = form && form.querySelector("input[name=q]");
    if (!input) return;
    event.preventDefault();
    applyKey(input, key.getAttribute("data-key"));
    if (window.htmx) {
      // htmx listens for "input" on the field and asks for results after a short pause.
      input.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      // Without htmx: the same pause, then a plain page load.
      clearTimeout(submitTimer);
      submitTimer = setTimeout(function () { form.submit(); }, 700);
    }
  });

  // On a kiosk the box takes only the screen's keys (no system keyboard pops up over them); a
  // phone that opened the page from a QR code keeps its own keyboard and input method.
  var kioskScreen = window.matchMedia("(min-width: 700px) and (min-height: 700px)");
  function ownKeysOnly() {
    var box = document.getElementById("q");
    if (box && kioskScreen.matches) box.setAttribute("inputmode", "none");
  }
  ownKeysOnly();
  document.addEventListener("htmx:afterSettle", ownKeysOnly);

  // Chinese on the search keyboard: pinyin candidates for the letters typed, or the writing pad
  // (ime.js). A candidate replaces the letters and asks for results like a key does.
  if (window.KioskIME) {
    window.KioskIME.host(".osk", {
      target: function () { return document.getElementById("q"); }
    });
  }

  // The elderly switch returns to the screen the resident is on now (htmx may have moved on).
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-elderly-form]");
    if (!form) return;
    form.querySelector("input[name=next]").value = window.location.pathname + window.location.search;
  }, true);

  // ------------------------------------------------------------ printing
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });

  // ------------------------------------------------------------ links never leave the kiosk
  var dialog = null;

  function closeDialog() {
    if (dialog) { dialog.remove(); dialog = null; }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function showQR(url) {
    closeDialog();
    dialog = el("div", "kiosk-dialog");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", "请用手机扫码打开");
    var box = el("div", "kiosk-dialog-box");
    box.appendChild(el("h2", "", "这是外部网址，请用手机扫码打开"));
    if (/^https?:\/\//i.test(url) && url.length <= 1000) {
      var img = el("img", "qr-img");
      img.src = "/qr.png?url=" + encodeURIComponent(url);
      img.alt = "二维码：" + url;
      img.width = 300; img.height = 300;
      box.appendChild(img);
    } else {
      box.appendChild(el("p", "", "本机不能打开这个地址。"));
    }
    var close = el("button", "bigbtn", "关闭");
    close.type = "button";
    close.addEventListener("click", closeDialog);
    box.appendChild(close);
    dialog.appendChild(box);
    document.body.appendChild(dialog);
    close.focus();
  }

  document.addEventListener("click", function (event) {
    var a = event.target.closest("a[href]");
    if (!a) return;
    var url;
    try { url = new URL(a.getAttribute("href"), window.location.href); } catch (e) { return; }
    if (url.origin !== window.location.origin || a.target === "_blank" || a.hasAttribute("download")) {
      event.preventDefault();
      event.stopPropagation();
      showQR(url.href);
    }
  }, true);
  window.open = function () { return null; };

  // ------------------------------------------------------------ hardening
  document.addEventListener("dragstart", function (event) { event.preventDefault(); });
  document.addEventListener("gesturestart", function (event) { event.preventDefault(); });
  document.addEventListener("wheel", function (event) {
    if (event.ctrlKey) event.preventDefault();   // no ctrl+wheel zoom on a public screen
  }, { passive: false });

  // ------------------------------------------------------------ idle reset
  var body = document.body;
  var idleSeconds = parseInt(body.getAttribute("data-idle-seconds"), 10);
  if (!(idleSeconds > 0)) idleSeconds = 120;
  var countdownSeconds = Math.min(10, idleSeconds);
  var lastActivity = Date.now();
  var overlay = null;
  var resetting = false;

  function hideOverlay() {
    if (overlay) { overlay.remove(); overlay = null; }
  }

  function activity(event) {
    lastActivity = Date.now();
    // A touch on the countdown only dismisses it: it goes away on the click that follows,
    // so the tap cannot also press whatever lies underneath.
    if (event.type !== "pointerdown" && event.type !== "touchstart") hideOverlay();
  }
  ["pointerdown", "touchstart", "keydown", "wheel", "input"].forEach(function (type) {
    document.addEventListener(type, activity, { capture: true, passive: true });
  });

  function showOverlay(remaining) {
    if (!overlay) {
      overlay = el("div", "idle-overlay");
      overlay.setAttribute("role", "alertdialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-labelledby", "idle-title");
      var box = el("div", "idle-box");
      var title = el("h2", "", "长时间没有操作");
      title.id = "idle-title";
      box.appendChild(title);
      var line = el("p", "idle-line");
      line.appendChild(document.createTextNode("将在 "));
      line.appendChild(el("strong", "idle-count", ""));
      line.appendChild(document.createTextNode(" 秒后回到首页"));
      box.appendChild(line);
      var stay = el("button", "bigbtn idle-stay", "继续使用");
      stay.type = "button";
      box.appendChild(stay);
      overlay.appendChild(box);
      overlay.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        hideOverlay();
      });
      body.appendChild(overlay);
    }
    overlay.querySelector(".idle-count").textContent = String(remaining);
  }

  function clearEverything() {
    // Half-filled forms must not greet the next resident, nor survive in htmx's history cache.
    document.querySelectorAll("form").forEach(function (form) {
      form.reset();
      form.querySelectorAll("input:not([type=hidden]):not([type=submit]):not([type=button]), textarea")
        .forEach(function (field) {
          if (field.type === "checkbox" || field.type === "radio") field.checked = false;
          else field.value = "";
        });
    });
    try { window.localStorage.removeItem("htmx-history-cache"); } catch (e) { /* storage off */ }
    try { window.sessionStorage.clear(); } catch (e) { /* storage off */ }
  }

  function reset() {
    resetting = true;
    hideOverlay();
    closeDialog();
    clearEverything();
    window.location.replace("/attract");
  }

  setInterval(function () {
    if (resetting) return;
    if (document.querySelector("[data-attract]")) { lastActivity = Date.now(); return; }
    var idle = (Date.now() - lastActivity) / 1000;
    if (idle >= idleSeconds) reset();
    else if (idle >= idleSeconds - countdownSeconds) showOverlay(Math.ceil(idleSeconds - idle));
    else if (overlay && idle > 0.6) hideOverlay();   // touched, but no click followed
  }, 250);
})();
