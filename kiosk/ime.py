"""Chinese input for the on-screen keyboards: a handwriting pad recognised offline on this machine
(kiosk.handwriting) and pinyin candidates from a table prepared in the data folder
(kiosk.pinyin_table). Both answer JSON to static/ime.js; neither keeps anything typed."""
from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request

from content.security import csrf

from . import handwriting, pinyin_table

bp = Blueprint("ime", __name__, url_prefix="/ime")
log = logging.getLogger(__name__)

# Bounds on one handwriting request: a Chinese character has at most about 30 strokes; a finger
# moving for a few seconds gives a few hundred points. Anything larger is refused unread.
MAX_BODY = 64 * 1024
MAX_STROKES = 40
MAX_POINTS_PER_STROKE = 400
MAX_POINTS = 2000
MAX_SIDE = 10_000
# Coordinates a little outside the box (a finger sliding past the edge) are clamped, not refused.
EDGE = 0.1

# The writing pad needs the JSON body to be the request itself: another site's page cannot send
# application/json without a CORS preflight, which this server never grants, and the answer is a
# list of characters that changes nothing and reveals nothing. So no CSRF token is asked for;
# asking would start a session for every resident who writes a character.
csrf.exempt(bp)


class BadInput(ValueError):
    """Refused request; the message is shown to the resident."""


def _model() -> str:
    return current_app.config.get("HANDWRITING_MODEL") or handwriting.DEFAULT_MODEL


def table_path(app: Flask) -> Path:
    """Where this instance's pinyin table lives (``ime_table`` in kiosk.toml overrides)."""
    if app.config.get("IME_TABLE"):
        return Path(app.config["IME_TABLE"])
    base = app.config.get("DATA_DIR") or os.path.dirname(app.config["DATABASE"])
    return Path(base) / pinyin_table.FILE_NAME


@bp.app_template_global()
def handwriting_available() -> bool:
    """Offer the writing pad only where the recogniser and its model are installed."""
    return handwriting.available(_model())


def _number(value, name: str, low: float, high: float) -> float:
    # bool is an int in Python; JSON true is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{name}必须是数字")
    # Compared before any conversion: a 400-digit JSON integer is an int too large for a float.
    if isinstance(value, float) and not math.isfinite(value) or not low <= value <= high:
        raise BadInput(f"{name}超出范围")
    return float(value)


def parse_strokes(data) -> tuple[float, float, list[list[tuple[float, float]]]]:
    """Check a handwriting request strictly; BadInput says what is wrong, in Chinese."""
    if not isinstance(data, dict):
        raise BadInput("请求格式不对：应为 JSON 对象")
    width = _number(data.get("width"), "宽度", 1, MAX_SIDE)
    height = _number(data.get("height"), "高度", 1, MAX_SIDE)
    strokes = data.get("strokes")
    if not isinstance(strokes, list) or not strokes:
        raise BadInput("没有笔画：请在写字板上写字")
    if len(strokes) > MAX_STROKES:
        raise BadInput(f"笔画太多（最多 {MAX_STROKES} 笔），请点“重写”后再写")
    parsed, total = [], 0
    for stroke in strokes:
        if not isinstance(stroke, list) or not stroke:
            raise BadInput("笔画格式不对")
        if len(stroke) > MAX_POINTS_PER_STROKE:
            raise BadInput("一笔太长，请点“重写”后再写")
        total += len(stroke)
        if total > MAX_POINTS:
            raise BadInput("笔画太多，请点“重写”后再写")
        points = []
        for point in stroke:
            if not isinstance(point, list) or len(point) != 2:
                raise BadInput("笔画的点格式不对：应为 [x, y]")
            x = _number(point[0], "横坐标", -EDGE * width, (1 + EDGE) * width)
            y = _number(point[1], "纵坐标", -EDGE * height, (1 + EDGE) * height)
            points.append((min(max(x, 0.0), width), min(max(y, 0.0), height)))
        parsed.append(points)
    return width, height, parsed


def _refuse(message: str, status: int = 400):
    response = jsonify(error=message)
    response.status_code = status
    response.cache_control.no_store = True
    return response


@bp.route("/handwriting", methods=["POST"])
def recognise():
    """``{"width": W, "height": H, "strokes": [[[x, y], …], …]}`` → ``{"candidates": […]}``."""
    if request.mimetype != "application/json":
        return _refuse("请求格式不对：应为 JSON")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _refuse("笔画数据太大，请点“重写”后再写", 413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _refuse("笔画数据太大，请点“重写”后再写", 413)
    try:
        data = json.loads(body.decode("utf-8"))
        width, height, strokes = parse_strokes(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        message = str(e) if isinstance(e, BadInput) else "请求格式不对：不是有效的 JSON"
        return _refuse(message)
    try:
        candidates = handwriting.classify(_model(), width, height, strokes)
    except handwriting.Unavailable:
        log.warning("handwriting requested but the model is unavailable: %s", _model())
        return _refuse("本机没有安装手写识别，请用拼音或请工作人员代填", 503)
    response = jsonify(candidates=candidates)
    response.cache_control.no_store = True
    return response


# ---------------------------------------------------------------- pinyin

_tables: dict[str, pinyin_table.Table] = {}
_builders: dict[str, subprocess.Popen] = {}
_lock = threading.Lock()


def prepare_table(app: Flask) -> None:
    """Build the pinyin table in a child process if this instance has none (or an old one).
    The serving process never loads pypinyin for it (about 55 MB)."""
    path = table_path(app)
    with _lock:
        running = _builders.get(str(path))
        if (running and running.poll() is None) or pinyin_table.is_current(path):
            return
        log.info("preparing the pinyin table in the background: %s", path)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "kiosk.pinyin_table", str(path)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError:
            log.exception("cannot start the pinyin table builder")
            return
        _builders[str(path)] = proc
    threading.Thread(target=proc.wait, name="pinyin-table", daemon=True).start()   # no zombie


def _table() -> pinyin_table.Table | None:
    path = table_path(current_app._get_current_object())
    key = str(path)
    table = _tables.get(key)
    if table is None:
        if not pinyin_table.is_current(path):
            prepare_table(current_app._get_current_object())
            return None
        with _lock:
            table = _tables.get(key) or _tables.setdefault(key, pinyin_table.Table(path))
    return table


@bp.route("/pinyin")
def pinyin():
    """``?q=zhangsan`` → ``{"candidates": [{"text": "张", "letters": 5}, …]}``: ``letters`` is
    how many of the typed letters (from the left) the candidate replaces."""
    q = request.args.get("q", "")
    if not pinyin_table.LETTERS.fullmatch(q):
        return _refuse(f"拼音只能是 1 到 {pinyin_table.MAX_LETTERS} 个小写字母")
    table = _table()
    if table is None:
        response = jsonify(candidates=[], preparing=True)
    else:
        response = jsonify(candidates=[{"text": c.text, "letters": c.letters}
                                       for c in table.candidates(q)])
    response.cache_control.no_store = True
    return response
