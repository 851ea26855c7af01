// Chinese input for the on-screen keyboards (templates/_ime.html): a writing pad recognised by
// the terminal itself (POST /ime/handwriting) and pinyin candidates (GET /ime/pinyin) for the
// lower-case letters just typed before the caret. The keyboard that hosts it (citizen.js for the
// forms, touch.js for search) says which field it types into; this file only edits that field
// through setRangeText and an "input" event, like the keys do.
(function () {
  "use strict";

  var MAX_STROKES = 40, MAX_POINTS = 400;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function limit(input) {
    var max = parseInt(input.getAttribute("maxlength"), 10);
    return max > 0 ? max : 1000;
  }

  // The caret, or the end of the value when the field does not have the focus (search's box).
  function caret(input) {
    if (document.activeElement === input && input.selectionEnd !== null) return input.selectionEnd;
    return input.value.length;
  }

  // Replace the `count` characters before the caret with `text`, within maxlength.
  function replaceBefore(input, count, text) {
    var end = caret(input), start = Math.max(0, end - count);
    var room = limit(input) - (input.value.length - (end - start));
    if (room <= 0) return;
    input.setRangeText(Array.from(text).slice(0, room).join(""), start, end, "end");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The run of lower-case letters just before the caret: the pinyin being typed.
  function pinyinBefore(input) {
    var m = /[a-z]{1,40}$/.exec(input.value.slice(0, caret(input)));
    return m ? m[0] : "";
  }

  // ------------------------------------------------------------ the writing pad
  function Pad(canvas, onStrokes) {
    var strokes = [], current = null, pointer = null, ctx = canvas.getContext("2d"), size = null;

    function grid() {
      var r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
      size = { w: r.width, h: r.height };
      canvas.width = Math.round(r.width * dpr);
      canvas.height = Math.round(r.height * dpr);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, r.width, r.height);
      // 米字格: light guides that help to place a character, as in a school exercise book.
      ctx.strokeStyle = "#d9b9b9";
      ctx.lineWidth = 2;
      ctx.setLineDash([10, 8]);
      ctx.beginPath();
      ctx.moveTo(r.width / 2, 0); ctx.lineTo(r.width / 2, r.height);
      ctx.moveTo(0, r.height / 2); ctx.lineTo(r.width, r.height / 2);
      ctx.moveTo(0, 0); ctx.lineTo(r.width, r.height);
      ctx.moveTo(r.width, 0); ctx.lineTo(0, r.height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.strokeStyle = "#111";
      ctx.lineWidth = Math.max(8, r.width / 40);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      strokes.forEach(function (s) { draw(s, 0); });
    }

    function draw(stroke, from) {
      ctx.beginPath();
      var p = stroke[Math.max(0, from - 1)];
      ctx.moveTo(p[0], p[1]);
      for (var i = Math.max(1, from); i < stroke.length; i++) ctx.lineTo(stroke[i][0], stroke[i][1]);
      if (stroke.length === 1) ctx.lineTo(p[0] + 0.1, p[1]);   // a dot is a stroke too (、)
      ctx.stroke();
    }

    function at(event) {
      var r = canvas.getBoundingClientRect();
      var x = Math.min(Math.max(event.clientX - r.left, 0), r.width);
      var y = Math.min(Math.max(event.clientY - r.top, 0), r.height);
      return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
    }

    // Writing is not a gesture: without this, Chromium reads a stroke lifted in motion as a
    // fling and swallows the next tap (the resident's touch on a candidate) to stop it.
    ["touchstart", "touchmove", "touchend"].forEach(function (type) {
      canvas.addEventListener(type, function (event) { event.preventDefault(); }, { passive: false });
    });
    canvas.addEventListener("pointerdown", function (event) {
      if (pointer !== null || strokes.length >= MAX_STROKES) return;
      event.preventDefault();
      if (!size || !size.w) grid();
      pointer = event.pointerId;
      try { canvas.setPointerCapture(pointer); } catch (e) { /* synthetic pointer */ }
      current = [at(event)];
      strokes.push(current);
      draw(current, 0);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (event.pointerId !== pointer || !current) return;
      event.preventDefault();
      var p = at(event), last = current[current.length - 1];
      if (Math.abs(p[0] - last[0]) + Math.abs(p[1] - last[1]) < 3 || current.length >= MAX_POINTS) return;
      current.push(p);
      draw(current, current.length - 1);
    });
    function end(event) {
      if (event.pointerId !== pointer) return;
      pointer = null;
      current = null;
      onStrokes(strokes, size);
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    return {
      clear: function () { strokes = []; current = null; pointer = null; grid(); },
      resize: grid,
      empty: function () { return strokes.length === 0; }
    };
  }

  // ------------------------------------------------------------ one keyboard's IME
  function attach(root, host) {
    var bar = root.querySelector(".ime-cands");
    var status = root.querySelector(".ime-status");
    var keyboard = root.closest("[data-ime-host]") || root.parentNode;
    var padBox = root.querySelector("[data-ime-pad]");
    var items = [], start = 0, next = 0, source = null, seq = 0, lookup = null;
    var pad = null;

    root.hidden = false;
    root.querySelectorAll("[data-ime-mode]").forEach(function (b) { b.hidden = false; });

    function mode() { return keyboard.getAttribute("data-ime-mode") || "pinyin"; }

    function say(text) { if (status) status.textContent = text || ""; }

    // As many candidates as fit in one row of large cells (words are wider): the pad must not
    // move under the finger. "更多" goes on to the next row's worth, and round again.
    function cell(item) {
      var b = el("button", "ime-cand", item.text);
      b.type = "button";
      b.setAttribute("data-ime-text", item.text);
      b.setAttribute("data-ime-letters", String(item.letters || 0));
      return b;
    }

    function render() {
      bar.textContent = "";
      var more = el("button", "ime-cand ime-more", "更多 ›");
      more.type = "button";
      more.setAttribute("data-ime-page", "1");
      if (items.length) bar.appendChild(more);
      var i = start;
      for (; i < items.length; i++) {
        var b = bar.insertBefore(cell(items[i]), more);
        if (i > start && bar.scrollWidth > bar.clientWidth + 1) { bar.removeChild(b); break; }
      }
      next = i < items.length ? i : 0;
      if (start === 0 && next === 0) more.remove();
      else if (next === 0) more.textContent = "‹ 回到开头";
      bar.classList.toggle("ime-cands-empty", !items.length);
    }

    function show(list, from) {
      items = list; start = 0; source = from;
      render();
    }

    function clear() {
      seq++;
      show([], null);
      say(mode() === "hand" ? "在框里用手指写一个字" : "");
      if (pad) pad.clear();
    }

    // -------------------------------------------- pinyin
    function pinyin() {
      var input = host.target();
      if (!input || mode() !== "pinyin") return;
      var letters = pinyinBefore(input);
      clearTimeout(lookup);
      if (!letters) { if (source === "pinyin") show([], null); return; }
      var mine = ++seq;
      lookup = setTimeout(function () {
        fetch("/ime/pinyin?q=" + encodeURIComponent(letters), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (mine !== seq) return;
            show(data.candidates || [], "pinyin");
            say(data.preparing ? "拼音候选正在准备，请稍等片刻再试" :
                (data.candidates && data.candidates.length ? "" : "没有找到“" + letters + "”对应的字"));
          })
          .catch(function () { if (mine === seq) say("暂时无法显示拼音候选"); });
      }, 120);
    }

    // -------------------------------------------- handwriting
    function recognise(strokes, size) {
      var mine = ++seq;
      say("正在识别…");
      fetch("/ime/handwriting", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ width: size.w, height: size.h, strokes: strokes })
      })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (res) {
          if (mine !== seq) return;
          if (!res.ok) { show([], null); say(res.data.error || "识别失败，请点“重写”"); return; }
          show(res.data.candidates.map(function (t) { return { text: t, letters: 0 }; }), "hand");
          say(res.data.candidates.length ? "请点要输入的字" : "认不出来，请点“重写”");
        })
        .catch(function () { if (mine === seq) say("暂时无法识别，请用拼音"); });
    }

    if (padBox) {
      pad = Pad(padBox.querySelector("canvas"), recognise);
      padBox.hidden = false;
    }

    function setMode(next) {
      if (next === "hand" && !pad) next = "pinyin";
      keyboard.setAttribute("data-ime-mode", next);
      root.querySelectorAll("[data-ime-mode]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-ime-mode") === next));
      });
      clear();
      if (next === "hand" && pad) pad.resize();
      if (next === "pinyin") pinyin();
      if (host.relayout) host.relayout();
    }

    root.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !root.contains(button)) return;
      event.preventDefault();
      if (button.hasAttribute("data-ime-mode")) { setMode(button.getAttribute("data-ime-mode")); return; }
      if (button.hasAttribute("data-ime-page")) {
        start = next;
        render();
        return;
      }
      if (button.getAttribute("data-ime-cmd") === "rewrite") { clear(); return; }
      var text = button.getAttribute("data-ime-text");
      var input = host.target();
      if (text === null || !input) return;
      var letters = parseInt(button.getAttribute("data-ime-letters"), 10) || 0;
      var typed = source === "pinyin" ? pinyinBefore(input) : "";
      // A pinyin candidate replaces the letters it stands for (张 for "zhang" of "zhangsan").
      var count = source === "pinyin" ? typed.length : 0;
      var rest = source === "pinyin" ? typed.slice(letters) : "";
      clear();
      replaceBefore(input, count, text + rest);   // the caret ends after letters still to choose
      if (host.afterInsert) host.afterInsert(input);
    });

    // Touching the pad or a candidate must not take the focus away from the field.
    root.addEventListener("pointerdown", function (event) {
      if (event.target.closest("button, canvas")) event.preventDefault();
    });
    root.addEventListener("mousedown", function (event) { event.preventDefault(); });

    var initial = keyboard.getAttribute("data-ime-mode") || (pad ? "hand" : "pinyin");
    var controller = { clear: clear, mode: mode, setMode: setMode, refresh: pinyin, target: host.target,
                       resize: function () { if (pad && mode() === "hand") pad.resize(); } };
    keyboard.kioskIme = controller;
    setMode(initial);
    return controller;
  }

  // Keyboards say which field they type into: KioskIME.host(selector of the keyboard, options).
  var hosts = [];

  function start(root) {
    (root || document).querySelectorAll("[data-ime]").forEach(function (ime) {
      var keyboard = ime.closest("[data-ime-host]");
      if (!keyboard || keyboard.kioskIme) return;
      for (var i = 0; i < hosts.length; i++) {
        if (keyboard.matches(hosts[i].selector)) { attach(ime, hosts[i].options); return; }
      }
    });
  }

  // The keys (and the kiosk's own input method) send "input": look the letters up again.
  document.addEventListener("input", function (event) {
    document.querySelectorAll("[data-ime-host]").forEach(function (keyboard) {
      var c = keyboard.kioskIme;
      if (c && c.target() === event.target) c.refresh();
    });
  });
  document.addEventListener("DOMContentLoaded", function () { start(document); });
  // Pages that htmx swaps in, or restores from its history cache (‹ 返回), get theirs too.
  ["htmx:afterSettle", "htmx:historyRestore"].forEach(function (type) {
    document.addEventListener(type, function () { start(document); });
  });

  window.KioskIME = {
    host: function (selector, options) { hosts.push({ selector: selector, options: options }); },
    replaceBefore: replaceBefore
  };
})();
