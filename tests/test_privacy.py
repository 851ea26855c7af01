"""Privacy guard: a corpus of personal numbers in prose and tables, and of ordinary numbers."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from content import privacy
from content.privacy import (is_bank_card, is_mobile, is_valid_id_number, mask_all, mask_bank_card,
                             mask_id, mask_mobile, mask_name, mask_table, scan_notice, scan_text)

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id18(region: str, born: date, seq: int) -> str:
    base = f"{region}{born:%Y%m%d}{seq:03d}"
    return base + "10X98765432"[sum(int(d) * w for d, w in zip(base, _W)) % 11]


def wrong_check(number: str) -> str:
    right = number[-1]
    return number[:-1] + next(c for c in "0123456789X" if c != right)


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        if privacy._luhn(body + d):
            return body + d
    raise AssertionError


RNG = random.Random(20260315)
REGIONS = ["340402", "340421", "110105", "440305", "650102", "510107", "230103", "820000"]


def _valid_ids(n: int) -> list[str]:
    out = []
    for _ in range(n):
        born = date(1930, 1, 1) + timedelta(days=RNG.randrange(0, 33000))
        out.append(id18(RNG.choice(REGIONS), born, RNG.randrange(1000)))
    return out


VALID_IDS = ["340402198001011238", "11010519491231002X"] + _valid_ids(60)
VALID_OLD_IDS = ["340402800101123", "110105491231002", "650102991130456"]
INVALID_IDS = ([wrong_check(i) for i in VALID_IDS[:30]]
               + ["340402198013011235",   # month 13
                  "340402190002301231",   # 1900-02-30
                  "990402198001011234",   # no province 99
                  "340402209901011234",   # born in the future
                  "340402801301123"])     # old number, month 13
VALID_MOBILES = ["13812345678", "15955667788", "17705541234", "19912345678", "16612345678",
                 "18655443322", "14712345678"]
INVALID_MOBILES = ["12812345678", "10012345678", "1381234567", "138123456789"]
VALID_CARDS = ([luhn_complete("622202", 19, RNG) for _ in range(8)]
               + [luhn_complete("621700", 19, RNG) for _ in range(4)]
               + [luhn_complete("62284", 16, RNG) for _ in range(4)]
               + [luhn_complete("436742", 16, RNG) for _ in range(4)]
               + [luhn_complete("5187", 16, RNG) for _ in range(4)]
               + [luhn_complete("955880", 19, RNG) for _ in range(2)])
INVALID_CARDS = ([c[:-1] + str((int(c[-1]) + 1) % 10) for c in VALID_CARDS[:10]]   # Luhn fails
                 + [luhn_complete("1306", 19, RNG),                                  # not a card prefix
                    luhn_complete("7777", 16, RNG), luhn_complete("2019", 16, RNG)])


# --- the checks themselves ----------------------------------------------------------

@pytest.mark.parametrize("number", VALID_IDS + VALID_OLD_IDS)
def test_valid_id_numbers(number):
    assert is_valid_id_number(number)


@pytest.mark.parametrize("number", INVALID_IDS)
def test_invalid_id_numbers(number):
    assert not is_valid_id_number(number)


def test_id_check_digit_x_and_lowercase():
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert not is_valid_id_number("110105194912310021")


def test_mobiles_and_cards():
    assert all(is_mobile(m) for m in VALID_MOBILES)
    assert not any(is_mobile(m) for m in INVALID_MOBILES)
    assert is_mobile("+86 138 1234 5678")
    assert not is_mobile("0554-1234567")
    assert all(is_bank_card(c) for c in VALID_CARDS)
    assert not any(is_bank_card(c) for c in INVALID_CARDS)
    assert not is_bank_card("12600") and not is_bank_card("340499101000")


def test_masks():
    assert mask_id("340402198001011238") == "3404**********1238"
    assert mask_id("340402800101123") == "3404*******1123"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("+8613812345678") == "+86138****5678"
    assert mask_bank_card("6222021234567890123") == "6222***********0123"
    assert mask_bank_card("6222 0212 3456 7890") == "6222 **** **** 7890"
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("张*丰") == "张*丰"


# --- the corpus: personal numbers inside prose and tables ---------------------------

PROSE = [
    "经村民代表会议评议，{n}同志符合条件。",
    "申请人：王小明，身份证号：{n}，现住杏花村3组。",
    "联系电话{n}（工作日8:00-17:30）",
    "补贴资金已打入户主账户 {n}，请注意查收。",
    "如有异议，请联系{n}。",
    "（{n}）",
    "号码为“{n}”",
]


def _written_forms(kind: str, n: str) -> list[str]:
    forms = [n]
    if kind == "身份证号":
        forms.append(n.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")))
        if len(n) == 18:
            forms.append(f"{n[:6]} {n[6:14]} {n[14:]}")
    elif kind == "手机号":
        forms += [f"{n[:3]} {n[3:7]} {n[7:]}", f"{n[:3]}-{n[3:7]}-{n[7:]}", f"+86{n}", f"+86 {n}"]
    else:
        forms.append(" ".join(n[i:i + 4] for i in range(0, len(n), 4)))
    return forms


def _corpus():
    cases = []
    for kind, numbers in (("身份证号", VALID_IDS + VALID_OLD_IDS), ("手机号", VALID_MOBILES),
                          ("银行卡号", VALID_CARDS)):
        for i, n in enumerate(numbers):
            for form in _written_forms(kind, n):
                cases.append((kind, form, PROSE[i % len(PROSE)].format(n=form)))
    return cases


CORPUS = _corpus()


def test_every_valid_number_in_prose_is_found_and_masked():
    missed, wrong_kind, leaked = [], [], []
    for kind, form, text in CORPUS:
        findings = scan_text(text)
        if [f.text for f in findings] != [form]:
            missed.append((form, text, findings))
        elif findings[0].kind != kind:
            wrong_kind.append((form, findings[0].kind))
        masked = mask_all(text)
        if scan_text(masked) or _digits_of(form) in _digits_of(masked):
            leaked.append(masked)
    assert len(CORPUS) > 250
    assert missed == []
    assert wrong_kind == []
    assert leaked == []


def _digits_of(text: str) -> str:
    return "".join(ch for ch in text.translate(privacy._FULLWIDTH) if ch.isdigit())


def test_invalid_numbers_raise_no_alarm():
    for n in INVALID_IDS + INVALID_MOBILES + INVALID_CARDS:
        for template in PROSE:
            text = template.format(n=n)
            assert scan_text(text) == [], text
            assert mask_all(text) == text


def test_table_of_recipients_is_found_and_masked():
    columns = ["序号", "户主姓名", "身份证号", "联系电话", "银行卡号", "保障人数", "月保障金额（元）"]
    rows = [[i + 1, name, VALID_IDS[i], VALID_MOBILES[i % len(VALID_MOBILES)],
             VALID_CARDS[i % len(VALID_CARDS)], 3, 1260]
            for i, name in enumerate(["张三丰", "李四", "欧阳小明", "王五", "赵六", "孙七", "周八", "吴九"])]
    rows.append(["合计", "", "", "", "", 24, 10080])
    findings = privacy.scan_table(columns, rows)
    assert len(findings) == 8 * 3
    assert findings[0].where == "表格第1行「身份证号」列"
    assert {f.kind for f in findings} == {"身份证号", "手机号", "银行卡号"}
    masked = mask_table(columns, rows)
    assert privacy.scan_table(columns, masked) == []
    assert masked[0][1] == "张*丰" and masked[1][1] == "李*" and masked[2][1] == "欧**明"
    assert masked[0][2] == mask_id(VALID_IDS[0])
    assert masked[0][5:] == [3, 1260]                # figures untouched, still numbers
    assert masked[-1] == rows[-1]                    # 合计 is not a name
    assert rows[0][1] == "张三丰"                     # the input is not changed in place


def test_name_columns():
    assert privacy.is_name_column("姓名")
    assert privacy.is_name_column("户主")
    assert privacy.is_name_column("申请人")
    assert not privacy.is_name_column("与户主关系")
    assert not privacy.is_name_column("申请人身份证号")
    assert mask_table(["户主", "与户主关系"], [["李建国", "本人"], ["王秀英", "配偶"]]) == \
        [["李*国", "本人"], ["王*英", "配偶"]]
    assert mask_table(["家庭成员"], [["张三（户主）、李四"]]) == [["张*（户主）、李*"]]


def test_scan_notice_names_every_place():
    idn, mobile, card = VALID_IDS[0], VALID_MOBILES[0], VALID_CARDS[0]
    findings = scan_notice(
        title=f"关于{idn}的公示",
        body=f"第一段没有号码，金额12,600元。\n\n第二段联系{mobile}。",
        fields={"联系电话": mobile, "补贴总额": "105000元"},
        table_columns=["姓名", "银行卡号"], table_rows=[["张三", "已遮挡"], ["李四", card]],
        attachment_names=["名单.pdf", f"{idn}.jpg"])
    wheres = [(f.kind, f.where) for f in findings]
    assert wheres == [("身份证号", "标题"), ("手机号", "正文第2段"), ("手机号", "字段「联系电话」"),
                      ("银行卡号", "表格第2行「银行卡号」列"), ("身份证号", "附件名（第2个）")]
    assert findings[1].masked == mask_mobile(mobile)
    # The same call with a notice dict, as the editor passes it.
    as_dict = scan_notice({"title": f"关于{idn}的公示", "body": f"x\n\n第二段联系{mobile}。",
                           "fields": {"联系电话": mobile},
                           "table_columns": ["姓名", "银行卡号"],
                           "table_rows": [["张三", "已遮挡"], ["李四", card]],
                           "attachments": [{"name": "名单.pdf"}, {"name": f"{idn}.jpg"}]})
    assert [(f.kind, f.where) for f in as_dict] == wheres


# --- ordinary numbers in notices: no false alarms -----------------------------------

ORDINARY = [
    "本次发放耕地地力保护补贴资金共计12,600元，涉及农户105户，补贴面积1,234.56亩。",
    "补贴标准为每亩105000分之一，合计105000元。",
    "公示时间：2026年3月15日至2026年3月21日（20260315—20260321）。",
    "服务热线：12345，客服 400-800-1234，短号 96180。",
    "根据《淮川县人民政府关于印发……的通知》（淮川政〔2026〕12号）和皖民发〔2025〕103号文件。",
    "杏花村行政区划代码340499101201，东湖镇340499101000，邮政编码232001。",
    "统一社会信用代码：91340400MA2N0XYZ3K，组织机构代码 12340400485960812X 号文。",
    "项目总投资3,456.78万元，其中中央资金1200万元，已完成投资的85.5%。",
    "2019 2020 2021 2022 年度连续评为先进村。",
    "开户行：中国工商银行淮川支行，对公账号 1306 0123 4567 8901 234 56。",
    "合同编号 HC-2026-0315-001，招标编号 HCZB20260315001。",
    "全县户籍人口 1034567 人，常住人口 987654 人，GDP 23456789 万元。",
    "受理时间每周一至周五 08:30-12:00、14:30-17:30，咨询热线 12345。",
    "第2026031501号公告；批次号 202603150001；流水号 2026031512345678901234。",
    "东湖镇2025年低保资金支出 3456789.12 元，月人均 680 元。",
]


def _ordinary_generated(n: int) -> list[str]:
    rng = random.Random(7)
    out = []
    for _ in range(n):
        amount = rng.randrange(1, 10_000_000)
        day = date(2000, 1, 1) + timedelta(days=rng.randrange(0, 12000))
        out.append(f"发放金额{amount}元（{amount:,}元），日期{day:%Y%m%d}，{day:%Y-%m-%d}，"
                   f"热线{rng.randrange(10000, 99999)}，"
                   f"代码3404{rng.randrange(10**7, 10**8)}，面积{rng.randrange(1, 99999)}.{rng.randrange(100):02d}平方米，"
                   f"文号淮川政〔{day.year}〕{rng.randrange(1, 300)}号。")
    return out


def test_ordinary_numbers_raise_no_alarm():
    texts = ORDINARY + _ordinary_generated(3000)
    alarms = [(t, scan_text(t)) for t in texts if scan_text(t)]
    assert alarms == []
    assert all(mask_all(t) == t for t in texts)


def test_ordinary_table_raises_no_alarm():
    columns = ["序号", "村名", "行政区划代码", "面积（亩）", "补贴金额（元）", "发放日期", "监督电话"]
    rows = [[i, "杏花村", f"3404991012{i:02d}", 1234.5 + i, 105000 + i * 37, "20260315",
             "0554-1234567"] for i in range(1, 60)]
    office = {privacy.phone_digits("0554-1234567")}
    assert privacy.scan_table(columns, rows, office) == []
    assert mask_table(columns, rows, office) == rows
    # The same landline not marked as a published office number is a finding in every row.
    assert len(privacy.scan_table(columns, rows)) == 59


def test_masked_numbers_are_not_found_again():
    text = "身份证号3404**********1238，电话138****5678，卡号6222 **** **** 7890。"
    assert scan_text(text) == []


# --- the battery: formats × places, through the guard every submit and approve runs -------

_CARD = luhn_complete("622202", 19, random.Random(5))
_BAD_LUHN = _CARD[:-1] + str((int(_CARD[-1]) + 1) % 10)
_ID = "340421198001011237"
_OLD = "340402800101123"
_MOB = "13812345678"


def _place(noun: str, where: tuple, value) -> dict:
    """A record of ``noun`` with ``value`` at ``where`` (a field, key data, a table, …)."""
    data = {"jurisdiction_code": "340499100201", "title": "普通标题"}
    kind = where[0]
    if kind == "field":
        data[where[1]] = value
    elif kind == "key":
        data["fields"] = {value: "张三"}
    elif kind == "kv":
        data["fields"] = {where[1]: value}
    elif kind == "header":
        data.update(table_columns=["序号", value], table_rows=[["1", "甲"]])
    elif kind == "cells":
        data.update(table_columns=[f"第{i}项" for i in range(len(value))], table_rows=[value])
    elif kind == "attachment":
        data["attachments"] = [{"name": value, "sha256": "a" * 64, "mime": "application/pdf", "size": 1}]
    elif kind == "list":
        data[where[1]] = ["第一步", value]
    elif kind == "materials":
        data["materials"] = [{"name": "申请书", "spec": "原件", "copies": "1", "note": value}]
    elif kind == "documents":
        data["documents"] = [{"title": "征求意见稿", "text": value}]
    elif kind == "qa":         # a policy's 简明问答 (content.policies); keys are letters only
        data["interpretations"] = [{"key": "ghijklmnopabcdefghijklmnopabcdef", "form": "简明问答", "title": "",
                                    "body": "", "qa": [{"q": "找谁办？", "a": value}]}]
    return data


MUST_FIND = [
    ("notice", ("field", "publisher"), f"杏花村委员会 {_MOB}", "手机号"),
    ("notice", ("field", "online_url"), f"https://x.invalid/apply?id={_ID}", "身份证号"),
    ("notice", ("field", "online_url"), "https://x.invalid/a?sfz=%33%34%30%34%32%31198001011237", "身份证号"),
    ("notice", ("key",), f"联系人{_MOB}", "手机号"),
    ("notice", ("kv", "联系电话"), "138 1234 5678", "手机号"),
    ("notice", ("header",), f"电话{_MOB}", "手机号"),
    ("notice", ("cells",), ["张三", "１３８１２３４５６７８"], "手机号"),
    ("notice", ("cells",), ["张三", _ID[:6], _ID[6:]], "身份证号"),
    ("notice", ("cells",), ["张三", "138", "1234", "5678"], "手机号"),
    ("notice", ("cells",), ["张三", *(_CARD[i:i + 4] for i in range(0, 19, 4))], "银行卡号"),
    ("notice", ("field", "body"), "电话138－1234\u30005678", "手机号"),
    ("notice", ("field", "body"), "电话138\u00a01234\u00a05678", "手机号"),
    ("notice", ("field", "body"), "电话138\u200b1234\u200b5678", "手机号"),
    ("notice", ("field", "body"), "证号3404\u00ad2119\u00ad8001\u00ad011237", "身份证号"),
    ("notice", ("field", "body"), "电话138.1234.5678", "手机号"),
    ("notice", ("field", "body"), "电话138/1234/5678", "手机号"),
    ("notice", ("field", "body"), "电话138_1234_5678", "手机号"),
    ("notice", ("field", "body"), "电话138—1234–5678", "手机号"),
    ("notice", ("field", "title"), f"Tel{_MOB}", "手机号"),
    ("notice", ("field", "title"), f"ID{_ID}", "身份证号"),
    ("notice", ("field", "body"), f"0086 {_MOB}", "手机号"),
    ("notice", ("field", "body"), "+86-138-1234-5678", "手机号"),
    ("notice", ("field", "body"), "电话" + _MOB.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")), "手机号"),
    ("notice", ("field", "body"), "电话①③⑧①②③④⑤⑥⑦⑧", "手机号"),
    ("notice", ("field", "body"), f"老身份证{_OLD}", "身份证号"),
    ("notice", ("field", "body"), "卡号 " + " ".join(_CARD[i:i + 4] for i in range(0, 19, 4)), "银行卡号"),
    ("notice", ("attachment",), f"{_ID}.pdf", "身份证号"),
    ("guide", ("field", "phone"), "0554-7654321", "固定电话"),
    ("guide", ("list", "steps"), f"携带身份证{_ID}到窗口", "身份证号"),
    ("guide", ("materials",), f"咨询{_MOB}", "手机号"),
    ("consultation", ("field", "body"), f"联系人手机{_MOB}", "手机号"),
    ("consultation", ("field", "result_summary"), f"采纳了{_ID}的意见", "身份证号"),
    ("consultation", ("documents",), f"起草人电话{_MOB}", "手机号"),
    ("board", ("field", "name"), f"公示栏管理员{_MOB}", "手机号"),
    ("board", ("field", "fallback_text"), f"值班{_MOB}", "手机号"),
    ("catalogue_item", ("field", "content_elements"), f"经办人{_MOB}", "手机号"),
    ("village_item", ("field", "content"), "申请人11010519491231002X", "身份证号"),
    ("handbook", ("field", "description"), f"咨询{_MOB}", "手机号"),
    ("matter", ("field", "description"), f"联系{_MOB}", "手机号"),
    ("policy_document", ("qa",), f"请联系王会计{_MOB}", "手机号"),
    ("policy_document", ("field", "withheld_reason"), f"申请人{_ID}涉及个人隐私", "身份证号"),
]

MUST_NOT = [
    ("notice", ("field", "body"), "公示时间：2026年3月15日至2026年3月21日", None),
    ("notice", ("field", "body"), "公示期（20260315—20260321）", None),
    ("notice", ("field", "body"), "共计发放 12,600.00 元", None),
    ("notice", ("field", "body"), "项目总投资 13812345678元", None),           # phone-like amount
    ("notice", ("field", "body"), "结余 13812345678.50", None),               # phone-like decimal
    ("notice", ("field", "body"), "依据皖政办〔2020〕12号文件", None),
    ("notice", ("field", "body"), "淮川政〔2026〕103号", None),
    ("notice", ("field", "body"), "邮政编码 232001", None),
    ("notice", ("field", "body"), "统一社会信用代码 91340400MA2N0XYZ3K", None),
    ("notice", ("field", "body"), "编号 340421198001011236", None),            # check digit fails
    ("notice", ("field", "body"), "行政区划代码340499100201", None),
    ("notice", ("field", "body"), "政务服务便民热线 12345", None),
    ("notice", ("field", "body"), "客服 400-800-1234", None),
    ("notice", ("field", "body"), "2019 2020 2021 2022 年连续评为先进村", None),
    ("notice", ("field", "body"), "身份证号 3404**********1237", None),
    ("notice", ("field", "body"), "电话 138****5678", None),
    ("notice", ("field", "body"), "完成投资的85.5%", None),
    ("notice", ("kv", "补贴面积合计"), "1,234.56亩", None),
    ("notice", ("field", "body"), f"卡号 {_BAD_LUHN}", None),
    ("notice", ("field", "body"), "对公账号 1306 0123 4567 8901", None),
    ("notice", ("field", "body"), "受理时间 08:30-12:00、14:30-17:30", None),
    ("notice", ("cells",), ["2", "王*明", "10.00", "105.00", "1,050.00"], None),
    ("notice", ("cells",), ["13", "8", "105", "1,365.00"], None),
    ("notice", ("cells",), ["张*", "1.50", "100", "150.00"], None),            # 1.50100150.00
    ("notice", ("cells",), ["1", "150", "100", "15000"], None),                # 15010015000
    ("notice", ("field", "body"), "户籍人口 1034567 人", None),
    ("notice", ("field", "body"), "第2026031501号公告", None),
    ("notice", ("field", "body"), "流水号 2026031512345678901234", None),
    ("notice", ("field", "body"), "书号 978-7-5321-1234-5", None),
    ("notice", ("field", "body"), "坐标 117.0123456, 32.6543210", None),
    ("guide", ("field", "fee"), "不收费；工本费 20 元", None),
    # A sha256 whose digits include 16925115707 (mobile-shaped): a digest, not a number.
    ("notice", ("attachment",), "9ae2bdd7beedc2e766c6b76585530e16925115707dc7a06ab5ee4aa2776b2c7b.pdf", None),
    ("consultation", ("field", "body"), "征求意见时间为 2026-03-15 至 2026-04-14", None),
    ("catalogue_item", ("field", "time_limit_text"), "信息形成之日起20个工作日内", None),
    ("village_item", ("field", "content"), "收入 123456.78 元，支出 98,765 元，凭证号 20250331001", None),
    ("board", ("field", "fallback_text"), "往期公示可在查询机查阅（2026年第1期）", None),
    ("policy_document", ("field", "doc_number"), "淮川政办〔2026〕103号", None),
    ("policy_document", ("qa",), "每亩110元，公示7天，2025年12月31日前发放到户", None),
]


@pytest.mark.parametrize("noun, where, value, expected", MUST_FIND + MUST_NOT,
                         ids=[f"{'find' if e else 'pass'}-{n}-{'-'.join(map(str, w))}-{i}"
                              for i, (n, w, _v, e) in enumerate(MUST_FIND + MUST_NOT)])
def test_guard_battery(noun, where, value, expected):
    from content import editing
    findings = editing.privacy_findings(editing.entity(noun), _place(noun, where, value))
    assert [f.kind for f in findings] == ([expected] if expected else []), findings
    if expected:   # and one-click masking leaves nothing behind
        masked = editing.masked(editing.entity(noun), _place(noun, where, value))
        assert editing.privacy_findings(editing.entity(noun), masked) == [], masked


def test_battery_is_large_and_balanced():
    assert len(MUST_FIND) >= 25 and len(MUST_NOT) >= 25 and len(MUST_FIND) + len(MUST_NOT) >= 50
    assert {n for n, *_ in MUST_FIND} >= set(__import__("content.editing").editing.ENTITIES)


def test_marked_office_numbers_pass_and_others_do_not():
    office = {privacy.phone_digits("0554-4801345")}
    text = "监督电话：0554-4801345，村民张三家中电话（0554）7654321"
    assert [f.text for f in scan_text(text, allowed=office)] == ["0554）7654321"]
    assert mask_all(text, office) == "监督电话：0554-4801345，村民张三家中电话（0554）*****21"
    assert [f.kind for f in scan_text(text)] == ["固定电话", "固定电话"]
