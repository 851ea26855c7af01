// Picture viewer for residents: tap a picture (a[data-viewer]) to see it full screen, zoom
// with two fingers or the big 放大/缩小 buttons, drag to move, 上一页/下一页 through the
// pages of one attachment, 关闭 (or Esc) to go back. Pages load through htmx, so everything
// is bound once, on the document.
(function () {
  "use strict";
  var MIN = 1, MAX = 6, STEP = 1.6;
  var box = null, img = null, caption = null, prevBtn = null, nextBtn = null, level = null;
  var items = [], index = 0, opener = null;
  var scale = 1, tx = 0, ty = 0;
  var pointers = new Map(), pinch = null, drag = null, gesture = null, lastTap = 0;

  function button(cls, label, text, handler) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "viewer-btn " + cls;
    b.setAttribute("aria-label", label);
    b.innerHTML = text;
    b.addEventListener("click", handler);
    return b;
  }

  function build() {
    box = document.createElement("div");
    box.className = "viewer";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "查看图片");
    box.hidden = true;
    var stage = document.createElement("div");
    stage.className = "viewer-stage";
    img = document.createElement("img");
    img.className = "viewer-img";
    img.alt = "";
    img.draggable = false;
    stage.appendChild(img);
    caption = document.createElement("p");
    caption.className = "viewer-caption";
    caption.setAttribute("aria-live", "polite");
    var bar = document.createElement("div");
    bar.className = "viewer-bar";
    prevBtn = button("viewer-prev", "上一页", "<span aria-hidden=\"true\">‹</span> 上一页", function () { go(-1); });
    nextBtn = button("viewer-next", "下一页", "下一页 <span aria-hidden=\"true\">›</span>", function () { go(1); });
    level = document.createElement("span");
    level.className = "viewer-level";
    bar.appendChild(prevBtn);
    bar.appendChild(button("viewer-out", "缩小", "<span aria-hidden=\"true\">－</span> 缩小", function () { zoomBy(1 / STEP); }));
    bar.appendChild(level);
    bar.appendChild(button("viewer-in", "放大", "<span aria-hidden=\"true\">＋</span> 放大", function () { zoomBy(STEP); }));
    bar.appendChild(nextBtn);
    var close = button("viewer-close", "关闭", "<span aria-hidden=\"true\">✕</span> 关闭", hide);
    box.appendChild(close);
    box.appendChild(stage);
    box.appendChild(caption);
    box.appendChild(bar);
    document.body.appendChild(box);

    stage.addEventListener("pointerdown", down);
    stage.addEventListener("pointermove", move);
    stage.addEventListener("pointerup", up);
    stage.addEventListener("pointercancel", up);
    stage.addEventListener("wheel", function (e) {
      e.preventDefault();
      zoomBy(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX, e.clientY);
    }, { passive: false });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); hide(); }
      else if (e.key === "ArrowLeft") go(-1);
      else if (e.key === "ArrowRight") go(1);
      else if (e.key === "+" || e.key === "=") zoomBy(STEP);
      else if (e.key === "-") zoomBy(1 / STEP);
      else if (e.key === "Tab") trapFocus(e);
    });
  }

  function trapFocus(e) {
    var focusable = Array.prototype.filter.call(box.querySelectorAll("button"), function (b) {
      return !b.disabled;
    });
    if (!focusable.length) return;
    var first = focusable[0], last = focusable[focusable.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  }

  function apply() {
    img.style.transform = "translate(" + tx + "px, " + ty + "px) scale(" + scale + ")";
    level.textContent = Math.round(scale * 100) + "%";
    box.classList.toggle("is-zoomed", scale > 1);
    box.querySelector(".viewer-out").disabled = scale <= MIN;
    box.querySelector(".viewer-in").disabled = scale >= MAX;
  }

  function clampPan() {
    // Keep some of the picture on screen: no panning it away entirely.
    var r = img.parentNode.getBoundingClientRect();
    var w = img.offsetWidth * scale, h = img.offsetHeight * scale;
    var mx = Math.max(0, (w - r.width) / 2), my = Math.max(0, (h - r.height) / 2);
    tx = Math.min(mx, Math.max(-mx, tx));
    ty = Math.min(my, Math.max(-my, ty));
  }

  function zoomTo(next, cx, cy) {
    next = Math.min(MAX, Math.max(MIN, next));
    if (next < MIN * 1.02) next = MIN;     // 放大 then 缩小 lands back on the whole picture
    var r = img.parentNode.getBoundingClientRect();
    // Zoom about the given point (the fingers' midpoint), the stage's centre otherwise.
    var px = (cx === undefined ? r.left + r.width / 2 : cx) - (r.left + r.width / 2);
    var py = (cy === undefined ? r.top + r.height / 2 : cy) - (r.top + r.height / 2);
    tx = px - (px - tx) * (next / scale);
    ty = py - (py - ty) * (next / scale);
    scale = next;
    if (scale === MIN) { tx = 0; ty = 0; }
    clampPan();
    apply();
  }

  function zoomBy(factor, cx, cy) { zoomTo(scale * factor, cx, cy); }

  function distance(a, b) { return Math.hypot(a.x - b.x, a.y - b.y); }

  function down(e) {
    e.preventDefault();
    try { e.currentTarget.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pointers.size === 1) {
      gesture = { x: e.clientX, y: e.clientY, t: Date.now(), multi: false, moved: false };
      drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty };
    } else if (pointers.size === 2) {
      var p = Array.from(pointers.values());
      pinch = { d: distance(p[0], p[1]) || 1, scale: scale };
      drag = null;
      if (gesture) gesture.multi = true;
    }
  }

  function move(e) {
    if (!pointers.has(e.pointerId)) return;
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (gesture && Math.hypot(e.clientX - gesture.x, e.clientY - gesture.y) > 12) gesture.moved = true;
    if (pinch && pointers.size >= 2) {
      var p = Array.from(pointers.values());
      zoomTo(pinch.scale * distance(p[0], p[1]) / pinch.d, (p[0].x + p[1].x) / 2, (p[0].y + p[1].y) / 2);
    } else if (drag && scale > 1) {
      tx = drag.tx + e.clientX - drag.x;
      ty = drag.ty + e.clientY - drag.y;
      clampPan();
      apply();
    }
  }

  function up(e) {
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size > 0) return;
    drag = null;
    // A quick tap of one finger; two of them close together zoom in (or back out).
    if (gesture && !gesture.multi && !gesture.moved && Date.now() - gesture.t < 300) {
      var now = Date.now();
      if (now - lastTap < 350) { zoomTo(scale > 1 ? 1 : 2.5, e.clientX, e.clientY); lastTap = 0; }
      else lastTap = now;
    }
    gesture = null;
  }

  function show(i) {
    index = (i + items.length) % items.length;
    var link = items[index];
    img.src = link.getAttribute("href");
    img.alt = link.getAttribute("data-caption") || "";
    caption.textContent = link.getAttribute("data-caption") || "";
    prevBtn.hidden = nextBtn.hidden = items.length < 2;
    scale = 1; tx = 0; ty = 0;
    apply();
  }

  function go(step) { if (items.length > 1) show(index + step); }

  function open(link) {
    if (!box) build();
    var group = link.closest("[data-viewer-group]");
    items = group ? Array.prototype.slice.call(group.querySelectorAll("a[data-viewer]")) : [link];
    opener = link;
    box.hidden = false;
    document.body.classList.add("viewer-open");
    show(Math.max(0, items.indexOf(link)));
    box.querySelector(".viewer-close").focus();
  }

  function hide() {
    if (!box || box.hidden) return;
    box.hidden = true;
    img.removeAttribute("src");
    document.body.classList.remove("viewer-open");
    pointers.clear();
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  }

  // Capture: before htmx's boosted-link handler sees the click.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[data-viewer]");
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    e.stopPropagation();
    open(link);
  }, true);
  document.addEventListener("htmx:beforeRequest", hide);
  window.addEventListener("pageshow", hide);
  window.kioskViewer = { open: open, close: hide };
})();
