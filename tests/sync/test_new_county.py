"""A new county from zero, built only through the public commands and admin pages (no SQL,
no demo code), following README's 新县上线 walkthrough command by command:

init hub → import divisions (an NBS-format file) → import a catalogue → bulk-create
accounts → a village editor signs in with the one-time password, sets a password, and
publishes through the supervisor → publish → enrol a village terminal → the terminal
shows the village's list and its QR codes carry the public URL.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from html import unescape
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kiosk import create_app

from conftest import ThreadServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from admin_util import token  # noqa: E402
from county_util import DIVISIONS_2024, xlsx_bytes  # noqa: E402

README = Path(__file__).resolve().parents[2] / "README.md"
KIOSK = str(Path(sys.executable).with_name("kiosk"))
PUBLIC_URL = "https://gk.example.gov.cn"
COUNTY, TOWNSHIP, VILLAGE = "340421000000", "340421100000", "340421100201"

# The statistics bureau's layout as counties download it (GBK, its own header and a
# urban-rural class written both ways), including the levels above the county.
DIVISIONS = DIVISIONS_2024.replace("名称\n", "名称\n340000000000,,安徽省\n340400000000,,淮南市\n", 1)

CATALOGUE = [
    ["序号", "领域", "一级事项", "二级事项", "公开内容(要素)", "公开依据", "公开时限", "公开主体",
     "公开渠道和载体", "公开对象", "公开方式", "公开层级"],
    [1, "社会救助", "最低生活保障", "办事指南", "办理事项、办理条件、申请材料、办理流程",
     "《社会救助暂行办法》", "制定或获取信息之日起10个工作日内", "县民政局", "政府网站、公开查阅点",
     "全社会", "主动", "县级、乡级"],
    [2, "涉农补贴", "农业生产发展资金", "耕地地力保护", "政策依据；补贴结果；监督渠道",
     "《中华人民共和国政府信息公开条例》", "信息形成或者变更之日起20个工作日内", "县农业农村局",
     "政府网站、村公示栏", "全社会", "主动", "县级、乡级"],
]

STAFF = [
    ["姓名", "手机", "角色", "区划代码"],
    ["张三", "13912345678", "村务编辑", VILLAGE],
    ["李四", "13987654321", "村务监督委员会", VILLAGE],
    ["王五", "13700001111", "village-editor", "340421200201"],
    ["赵六", "", "乡镇编辑", TOWNSHIP],
]


def walkthrough() -> list[tuple[str, list[str]]]:
    """README's 新县上线 section: each ```sh block as (where, kiosk command lines)."""
    text = README.read_text("utf-8")
    section = text.split("## 新县上线", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    out = []
    for block in blocks:
        lines = block.strip().splitlines()
        out.append((lines[0].lstrip("# ").strip(), [ln for ln in lines[1:] if ln.startswith("kiosk ")]))
    return out


def run(args: list[str]) -> str:
    r = subprocess.run([KIOSK, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1].strip()


def post(client, url, page=None, **data):
    return client.post(url, data={"csrf_token": token(client, page or url), **data})


def sign_in_first_time(client, username: str, one_time: str, new_password: str) -> None:
    """The first sign-in: the one-time password works once, then the account must set its own."""
    r = post(client, "/admin/login", username=username, password=one_time)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    r = client.get("/admin/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/password")
    assert client.get("/admin/review").headers["Location"].endswith("/admin/password")
    r = post(client, "/admin/password", current=one_time, new=new_password, again=new_password)
    assert r.status_code == 302, r.get_data(as_text=True)[:1000]
    assert client.get("/admin/").status_code == 200


@pytest.fixture
def new_county(tmp_path):
    """A county built through README's commands and the admin pages only."""
    hub_dir, term_dir = tmp_path / "hub", tmp_path / "terminal"
    files = {"统计用区划代码.csv": tmp_path / "divisions.csv", "县级目录.xlsx": tmp_path / "catalogue.xlsx"}
    files["统计用区划代码.csv"].write_bytes(DIVISIONS.encode("gbk"))
    files["县级目录.xlsx"].write_bytes(xlsx_bytes(CATALOGUE))
    steps = walkthrough()
    assert [where for where, _ in steps] == ["县级中心", "县级中心", "村查询机"]
    outputs = {}

    def hub_step(line: str) -> str:
        args = shlex.split(line)[1:]
        args = [str(hub_dir) if a == "/var/lib/kiosk" else str(files.get(a, a)) for a in args]
        out = run(args)
        outputs[args[0]] = out
        return out

    for line in steps[0][1]:
        hub_step(line)
    admin_password = last_line(outputs["init"])
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", admin_password)
    assert "村（社区）5 个" in outputs["import-divisions"] and "公开事项 2 条" in outputs["import-catalog"]

    app = create_app({"DATA_DIR": str(hub_dir), "TESTING": True})
    server = ThreadServer(app).start()
    yield {"hub_dir": hub_dir, "term_dir": term_dir, "app": app, "server": server, "steps": steps,
           "hub_step": hub_step, "outputs": outputs, "admin_password": admin_password}
    server.stop()


def test_a_new_county_reaches_a_village_terminal(new_county):
    app, steps = new_county["app"], new_county["steps"]

    # The county administrator signs in with the one-time password and must set their own.
    admin = app.test_client()
    sign_in_first_time(admin, "xian-admin", new_county["admin_password"], "Fengtai-county-hub-2027!")
    setup = admin.get("/admin/county").get_data(as_text=True)
    assert "乡镇（街道）<strong>3</strong>" in setup and PUBLIC_URL in setup
    users_page = admin.get("/admin/users").get_data(as_text=True)
    assert "xian-admin" in users_page

    # Bulk accounts for the villages: all created, one print page per township.
    r = admin.post("/admin/users/import", data={
        "csrf_token": token(admin, "/admin/users/import"),
        "file": (BytesIO(xlsx_bytes(STAFF)), "村干部名单.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]
    sheet = r.get_data(as_text=True)
    assert sheet.count('class="sheet-page"') == 2           # 刘集镇 and 大山乡
    passwords = dict(re.findall(r'<tr data-username="([^"]+)">.*?data-password>([^<]+)</td>', sheet, re.S))
    assert set(passwords) == {"zhangsan", "lisi", "wangwu", "zhaoliu"}
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "139****5678" in listing and "13912345678" not in listing     # phones masked

    # The village editor: first sign-in, a village-list entry and a notice, submitted.
    editor = app.test_client()
    sign_in_first_time(editor, "zhangsan", passwords["zhangsan"], "Liuji-cun-editor-2027!")
    r = post(editor, "/admin/village-items/new", jurisdiction_code=VILLAGE, category="村级财务",
             title="刘集村2027年一季度财务收支", content="每季度公开收支明细", frequency="每季度")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    item_id = r.headers["Location"].rstrip("/").split("/")[-1]
    r = post(editor, "/admin/notices/new", jurisdiction_code=VILLAGE, subject_code=VILLAGE, kind="公示",
             priority="普通", title="刘集村一季度财务公示", body="本季度收入 12,000 元，支出 8,000 元。")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    notice_id = r.headers["Location"].rstrip("/").split("/")[-1]
    for kind, oid in (("village-items", item_id), ("notices", notice_id)):
        page = f"/admin/{kind}/{oid}"
        assert post(editor, f"{page}/submit", page).status_code == 302

    # The supervisor reviews and publishes (the editor cannot approve their own work).
    supervisor = app.test_client()
    sign_in_first_time(supervisor, "lisi", passwords["lisi"], "Liuji-jianwei-2027!")
    queue = supervisor.get("/admin/review").get_data(as_text=True)
    assert "刘集村一季度财务公示" in queue
    for kind, oid in (("village-items", item_id), ("notices", notice_id)):
        page = f"/admin/{kind}/{oid}"
        assert post(supervisor, f"{page}/approve", page).status_code == 302

    # Publish and enrol the village terminal (README's next hub block).
    for line in steps[1][1]:
        new_county["hub_step"](line)
    enrol_token = last_line(new_county["outputs"]["enroll"])
    public_key = last_line(new_county["outputs"]["keygen"])

    # The village terminal (README's last block), pointed at the hub over loopback.
    term_dir = new_county["term_dir"]
    for line in steps[2][1]:
        args = shlex.split(line)[1:]
        swap = {"/var/lib/kiosk": str(term_dir), PUBLIC_URL: new_county["server"].url,
                "<公钥>": public_key, "<令牌>": enrol_token}
        run([swap.get(a, a) for a in args])

    kiosk = create_app({"DATA_DIR": str(term_dir), "TESTING": True}).test_client()
    village = kiosk.get(f"/villages/{VILLAGE}").get_data(as_text=True)
    assert "刘集村委会" in village and "刘集村2027年一季度财务收支" in village
    notice = kiosk.get(f"/notices/{notice_id}")
    assert notice.status_code == 200 and "刘集村一季度财务公示" in notice.get_data(as_text=True)
    codes = [parse_qs(urlsplit(unescape(src)).query)["url"][0]
             for src in re.findall(r'src="(/qr\.(?:svg|png)\?[^"]+)"', notice.get_data(as_text=True))]
    assert codes, "the notice page on the terminal has no QR code"
    assert all(c.startswith(PUBLIC_URL + "/") for c in codes), codes
    assert f"{PUBLIC_URL}/notices/{notice_id}" in codes
    # A resident's receipt QR and every board code start there too, never at 127.0.0.1.
    board_html = kiosk.get("/display/").get_data(as_text=True)
    assert "127.0.0.1" not in board_html
