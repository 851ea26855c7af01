"""Chinese input for the on-screen keyboards (kiosk/ime.py, kiosk/handwriting.py,
kiosk/pinyin_table.py): the recogniser's answers, strict checks of what it is sent, the pinyin
table's order, and an instance without the handwriting model."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kiosk import create_app, handwriting, ime, pinyin_table

SHI = [[[40, 150], [260, 150]], [[150, 40], [150, 260]]]
WANG = [[[60, 60], [240, 60]], [[80, 150], [220, 150]], [[150, 60], [150, 250]],
        [[40, 250], [260, 250]]]



@pytest.fixture
def model():
    """The recogniser is part of the product: a machine without it fails, it does not skip."""
    if not handwriting.available():
        pytest.fail("libzinnia0 / tegaki-zinnia-simplified-chinese missing: run tools/system-deps.sh")


needs_model = pytest.mark.usefixtures("model")


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/ime/handwriting", data=data, content_type=content_type)


@needs_model
@pytest.mark.parametrize("strokes,expected", [(SHI, "十"), (WANG, "王")])
def test_strokes_come_back_as_their_character_first(client, strokes, expected):
    r = post(client, {"width": 300, "height": 300, "strokes": strokes})
    assert r.status_code == 200
    candidates = r.get_json()["candidates"]
    assert candidates[0] == expected
    assert 1 < len(candidates) <= 10 and len(set(candidates)) == len(candidates)
    assert r.headers["Cache-Control"] == "no-store"


@needs_model
def test_scale_and_fractions_do_not_change_the_answer(client):
    """A 2000-px pad with fractional points reads like a 300-px one: strokes are scaled, not cut."""
    big = [[[x * 20 / 3 + 0.25, y * 20 / 3 + 0.5] for x, y in s] for s in WANG]
    r = post(client, {"width": 2000, "height": 2000, "strokes": big})
    assert r.get_json()["candidates"][0] == "王"


@needs_model
def test_one_recognizer_per_process_shared_by_threads(app):
    from concurrent.futures import ThreadPoolExecutor
    model = handwriting.DEFAULT_MODEL
    first = handwriting.recognizer(model)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda s: handwriting.recognizer(model).classify(300, 300, s)[0],
                            [SHI, WANG] * 8))
    assert got == ["十", "王"] * 8
    assert handwriting.recognizer(model) is first


@pytest.mark.parametrize("body,message", [
    ({"width": 300, "height": 300, "strokes": []}, "没有笔画"),
    ({"width": 300, "height": 300}, "没有笔画"),
    ({"width": "300", "height": 300, "strokes": SHI}, "宽度必须是数字"),
    ({"width": 0, "height": 300, "strokes": SHI}, "宽度超出范围"),
    ({"width": 300, "height": 1e9, "strokes": SHI}, "高度超出范围"),
    ('{"width": 1e999, "height": 300, "strokes": [[[1, 1]]]}', "宽度超出范围"),
    ('{"width": 300, "height": 300, "strokes": [[[1%s, 1]]]}' % ("0" * 400), "横坐标超出范围"),
    ('{"width": NaN, "height": 300, "strokes": [[[1, 1]]]}', "宽度超出范围"),
    ({"width": True, "height": 300, "strokes": SHI}, "宽度必须是数字"),
    ({"width": 300, "height": 300, "strokes": [[[1, 2, 3]]]}, "点格式不对"),
    ({"width": 300, "height": 300, "strokes": [[[1, None]]]}, "纵坐标必须是数字"),
    ({"width": 300, "height": 300, "strokes": [[[900, 10]]]}, "横坐标超出范围"),
    ({"width": 300, "height": 300, "strokes": [[]]}, "笔画格式不对"),
    ({"width": 300, "height": 300, "strokes": ["abc"]}, "笔画格式不对"),
    ({"width": 300, "height": 300, "strokes": [[[1, 1]]] * 41}, "笔画太多"),
    ({"width": 300, "height": 300, "strokes": [[[1, 1]] * 401]}, "一笔太长"),
    ({"width": 300, "height": 300, "strokes": [[[1, 1]] * 300] * 7}, "笔画太多"),
    ([1, 2], "应为 JSON 对象"),
])
def test_bad_input_is_refused_with_a_chinese_message(client, body, message):
    r = post(client, body)
    assert r.status_code == 400
    assert message in r.get_json()["error"]


def test_not_json_is_refused(client):
    assert "应为 JSON" in post(client, "width=1", "application/x-www-form-urlencoded").get_json()["error"]
    assert post(client, "{not json").status_code == 400
    assert "不是有效的 JSON" in post(client, b"\xff\xfe").get_json()["error"]
    assert post(client, "[" * 30_000 + "]" * 30_000).status_code == 400   # too deep: no 500
    assert post(client, "1" * 5000).status_code == 400                     # too long a number


def test_too_large_a_body_is_refused_unread(client):
    body = {"width": 300, "height": 300, "strokes": SHI, "padding": " " * ime.MAX_BODY}
    r = post(client, body)
    assert r.status_code == 413 and "太大" in r.get_json()["error"]


@needs_model
def test_points_a_little_outside_the_box_are_clamped(client):
    strokes = [[[-10, 150], [310, 150]], [[150, -20], [150, 320]]]
    r = post(client, {"width": 300, "height": 300, "strokes": strokes})
    assert r.status_code == 200 and r.get_json()["candidates"][0] == "十"


def test_no_csrf_token_needed_but_json_is(app):
    """Read-only: exempt from CSRF (no session for a resident who writes); a cross-site form
    cannot send application/json, which is required."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    r = post(client, {"width": 300, "height": 300, "strokes": SHI})
    assert r.status_code in (200, 503)
    assert "Set-Cookie" not in r.headers
    assert post(client, json.dumps({"width": 300}), "text/plain").status_code == 400


def test_without_the_model_the_pad_is_hidden_and_nothing_breaks(data_dir):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True,
                      "HANDWRITING_MODEL": str(data_dir / "missing.model")})
    client = app.test_client()
    r = post(client, {"width": 300, "height": 300, "strokes": SHI})
    assert r.status_code == 503 and "没有安装手写识别" in r.get_json()["error"]
    for path in ("/apply", "/search"):
        html = client.get(path).get_data(as_text=True)
        assert 'data-ime-mode="pinyin"' in html and 'data-ime-mode="hand"' not in html
        assert "ime-canvas" not in html and "data-ime-pad" not in html
    r = client.get("/ime/pinyin?q=wang")
    assert r.get_json()["candidates"][0]["text"] == "王"


@needs_model
def test_with_the_model_the_pad_is_offered(client):
    html = client.get("/apply").get_data(as_text=True)
    assert 'data-ime-mode="hand"' in html and "ime-canvas" in html
    assert 'data-ime-host' in html


# ---------------------------------------------------------------- pinyin

@pytest.mark.parametrize("letters,first", [
    ("wang", "王"), ("dibao", "低保"), ("gongshi", "公示"), ("xingming", "姓名"),
    ("shenqing", "申请"), ("beijing", "北京"), ("db", "低保"), ("lv", "绿"), ("nv", "女"),
])
def test_common_characters_and_words_come_first(client, letters, first):
    r = client.get(f"/ime/pinyin?q={letters}")
    got = [c["text"] for c in r.get_json()["candidates"]]
    assert first in got[:3], got[:10]


def test_letters_beyond_a_word_give_the_first_syllables_characters(client):
    got = client.get("/ime/pinyin?q=zhangsan").get_json()["candidates"]
    chars = {c["text"]: c["letters"] for c in got if len(c["text"]) == 1}
    assert chars["张"] == 5          # 张 stands for "zhang"; "san" stays to be chosen
    assert all(c["letters"] == 8 for c in got if len(c["text"]) > 1)


def test_the_start_of_a_syllable_offers_its_characters(client):
    got = [c["text"] for c in client.get("/ime/pinyin?q=zh").get_json()["candidates"]]
    assert {"这", "中"} <= set(got[:5]) and len(got) <= 30


@pytest.mark.parametrize("q", ["", "Wang", "wang1", "王", "a" * 41, "wang san"])
def test_pinyin_takes_lower_case_letters_only(client, q):
    r = client.get("/ime/pinyin", query_string={"q": q})
    assert r.status_code == 400 and "小写字母" in r.get_json()["error"]


def test_segment_splits_longest_syllables_first():
    syllables = {"zhang", "zha", "san", "xi", "an", "xian"}
    assert pinyin_table.segment("zhangsan", syllables) == ["zhang", "san"]
    assert pinyin_table.segment("zhangs", syllables) == ["zhang", "s"]
    assert pinyin_table.segment("xian", syllables) == ["xian"]


def test_gb2312_has_both_levels():
    chars = pinyin_table.gb2312_characters()
    assert len(chars) == 6763
    assert sum(1 for _, level in chars if level == 1) == 3755
    assert ("啊", 1) in chars and ("亍", 2) in chars


def test_table_is_missing_then_built_in_a_child_process(tmp_path, data_dir, monkeypatch):
    """An instance without a table answers "preparing" and builds one in a child process;
    the serving process never imports pypinyin or jieba for it."""
    target = tmp_path / "ime" / pinyin_table.FILE_NAME
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "IME_TABLE": str(target)})
    started = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(ime.subprocess, "Popen",
                        lambda cmd, **kw: started.append(cmd) or real_popen(cmd, **kw))
    r = app.test_client().get("/ime/pinyin?q=wang")
    assert r.get_json() == {"candidates": [], "preparing": True}
    assert started and started[0][1:3] == ["-m", "kiosk.pinyin_table"]
    ime._builders[str(target)].wait(120)
    assert pinyin_table.is_current(target)
    assert app.test_client().get("/ime/pinyin?q=wang").get_json()["candidates"][0]["text"] == "王"


def test_serving_pinyin_loads_neither_pypinyin_nor_jieba(data_dir):
    # Both made unimportable (a terminal's serve process loads pypinyin only for a search).
    code = f"""
import sys
sys.modules["pypinyin"] = sys.modules["jieba"] = None
from kiosk import create_app
app = create_app({{"DATA_DIR": {str(data_dir)!r}, "TESTING": True, "ROLE": "terminal"}})
r = app.test_client().get("/ime/pinyin?q=dibao")
assert r.get_json()["candidates"][0]["text"] == "低保", r.get_json()
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_an_old_format_table_is_not_used(tmp_path):
    import sqlite3
    path = tmp_path / pinyin_table.FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    assert not pinyin_table.is_current(path)
    path.write_bytes(b"not a database at all")
    assert not pinyin_table.is_current(path)


def test_an_idle_model_is_closed_and_opened_again_on_the_next_stroke():
    """The model's mapped pages leave the terminal's memory when nobody writes for a while."""
    from kiosk import handwriting
    model = handwriting.DEFAULT_MODEL
    ten = [[(20, 150), (280, 150)], [(150, 20), (150, 280)]]
    assert handwriting.classify(model, 300, 300, ten)[0] == "十"
    assert not handwriting.close_if_idle(model)                 # used just now
    assert handwriting.close_if_idle(model, idle=0)
    assert model not in handwriting._recognizers
    assert handwriting.classify(model, 300, 300, ten)[0] == "十"   # opened again
    assert model in handwriting._recognizers
