"""display.schedule with a frozen clock: what a noticeboard shows at a given moment."""
from datetime import datetime, time, timedelta, timezone

import pytest

from display import schedule

CST = timezone(timedelta(hours=8))
COUNTY, TOWN, VILLAGE, OTHER_VILLAGE = "340499000000", "340499100000", "340499100201", "340499100202"
LEVEL = {COUNTY: "county", TOWN: "township", VILLAGE: "village", OTHER_VILLAGE: "village"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def board(**kw) -> dict:
    b = {"slug": "b", "jurisdiction_code": VILLAGE, "chain": [COUNTY, TOWN, VILLAGE],
         "area": [COUNTY, TOWN, VILLAGE], "levels": [], "domains": [], "windows": [],
         "orientation": "landscape", "slide_seconds": 10, "poll_seconds": 30}
    b.update(kw)
    return b


_ids = iter(range(1, 10_000))


def notice(code=VILLAGE, subject=None, priority="普通", published="2024-05-01T00:00:00Z",
           start="2024-05-01", end="2024-05-07", expires=None, status="published", **kw) -> dict:
    n = {"id": next(_ids), "jurisdiction_code": code, "subject_code": subject or code,
         "jurisdiction_level": LEVEL[code], "priority": priority, "published_at": published,
         "period_start": start, "period_end": end, "expires_on": expires, "status": status,
         "kind": "公示", "title": "示例公示", "body": "正文。", "fields": {}, "table_columns": [],
         "table_rows": [], "domain_id": 1}
    n.update(kw)
    return n


def shown(b, notices, moment):
    return [n["id"] for n in schedule.screen(b, notices, moment).notices]


# --- publicity period ---------------------------------------------------------------------

def test_period_start_and_end_are_inclusive_local_days():
    n = notice(published="2024-04-30T16:00:00Z", start="2024-05-01", end="2024-05-07")
    b = board()
    assert shown(b, [n], at("2024-04-30T23:59:59")) == []          # the day before
    assert shown(b, [n], at("2024-05-01T00:00:00")) == [n["id"]]   # 00:00 CST = 16:00Z the day before
    assert shown(b, [n], at("2024-05-07T23:59:59")) == [n["id"]]   # last day, last second
    assert shown(b, [n], at("2024-05-08T00:00:00")) == []          # gone at midnight


def test_not_before_publication_time_even_inside_the_period():
    n = notice(published="2024-05-01T02:00:00Z", start="2024-05-01")   # 10:00 CST
    assert shown(board(), [n], at("2024-05-01T09:59")) == []
    assert shown(board(), [n], at("2024-05-01T10:00")) == [n["id"]]


def test_without_period_until_expiry_and_drafts_never():
    open_ended = notice(start=None, end=None, expires=None)
    expiring = notice(start=None, end=None, expires="2024-05-03")
    draft = notice(status="draft")
    withdrawn = notice(status="withdrawn")
    ids = shown(board(), [open_ended, expiring, draft, withdrawn], at("2024-05-03T12:00"))
    assert sorted(ids) == sorted([open_ended["id"], expiring["id"]])
    assert shown(board(), [open_ended, expiring], at("2024-05-04T00:00")) == [open_ended["id"]]


def test_expiry_before_period_end_wins():
    n = notice(end="2024-05-07", expires="2024-05-05")
    assert shown(board(), [n], at("2024-05-05T20:00")) == [n["id"]]
    assert shown(board(), [n], at("2024-05-06T08:00")) == []
    assert schedule.ends_at(n, at("2024-05-02T08:00")) == at("2024-05-06T00:00")


def test_days_remaining():
    n = notice(start="2024-05-01", end="2024-05-07")
    first = schedule.screen(board(), [n], at("2024-05-01T09:00")).slides[0].period
    assert (first.total, first.day, first.remaining) == (7, 1, 7)
    last = schedule.screen(board(), [n], at("2024-05-07T09:00")).slides[0].period
    assert (last.day, last.remaining) == (7, 1)


# --- ordering and filters -----------------------------------------------------------------

def test_priority_then_recency():
    old_important = notice(priority="重要", published="2024-04-20T00:00:00Z", start="2024-04-20")
    new_plain = notice(published="2024-05-02T00:00:00Z", start="2024-05-02")
    older_plain = notice(published="2024-04-25T00:00:00Z", start="2024-04-25")
    newer_important = notice(priority="重要", published="2024-04-28T00:00:00Z", start="2024-04-28")
    ids = shown(board(), [older_plain, old_important, new_plain, newer_important], at("2024-05-03T10:00"))
    assert ids == [newer_important["id"], old_important["id"], new_plain["id"], older_plain["id"]]


def test_area_levels_and_domains():
    mine = notice(code=VILLAGE)
    town_about_me = notice(code=TOWN, subject=VILLAGE)
    town_about_neighbour = notice(code=TOWN, subject=OTHER_VILLAGE)
    neighbour = notice(code=OTHER_VILLAGE)
    county = notice(code=COUNTY, domain_id=7)
    everything = [mine, town_about_me, town_about_neighbour, neighbour, county]
    moment = at("2024-05-03T10:00")
    assert sorted(shown(board(), everything, moment)) == sorted(
        [mine["id"], town_about_me["id"], county["id"]])
    assert shown(board(levels=["county"]), everything, moment) == [county["id"]]
    assert sorted(shown(board(domains=[1]), everything, moment)) == sorted(
        [mine["id"], town_about_me["id"]])


# --- windows ------------------------------------------------------------------------------

@pytest.mark.parametrize("clock, inside", [
    ("21:59", False), ("22:00", True), ("23:59", True), ("00:00", True), ("05:59", True),
    ("06:00", False), ("12:00", False)])
def test_window_across_midnight(clock, inside):
    windows = [{"start": "22:00", "end": "06:00"}]
    assert schedule.in_windows(windows, time.fromisoformat(clock)) is inside


def test_windows_decide_resting():
    n = notice()
    b = board(windows=[{"start": "07:30", "end": "12:00"}, {"start": "14:00", "end": "21:00"}])
    assert schedule.screen(b, [n], at("2024-05-03T07:29")).mode == "resting"
    assert schedule.screen(b, [n], at("2024-05-03T07:30")).mode == "notices"
    assert schedule.screen(b, [n], at("2024-05-03T13:00")).mode == "resting"
    assert schedule.screen(b, [n], at("2024-05-03T20:59")).mode == "notices"
    assert schedule.screen(b, [n], at("2024-05-03T21:00")).slides == []
    night = board(windows=[{"start": "18:00", "end": "02:00"}])
    assert schedule.screen(night, [n], at("2024-05-04T01:30")).mode == "notices"
    assert schedule.screen(night, [n], at("2024-05-04T02:00")).mode == "resting"


def test_empty_board_gets_the_fallback_slide():
    ended = notice(end="2024-04-30")
    scr = schedule.screen(board(), [ended], at("2024-05-03T10:00"))
    assert scr.mode == "fallback"
    assert len(scr.slides) == 1 and scr.slides[0].notice is None
    assert schedule.screen(board(), [], at("2024-05-03T10:00")).mode == "fallback"


# --- emergencies --------------------------------------------------------------------------

def test_emergency_preempts_its_jurisdiction_and_below_only():
    plain = notice(code=VILLAGE)
    flood = notice(code=COUNTY, priority="紧急", start="2024-05-03", end="2024-05-05",
                   published="2024-05-03T00:00:00Z")
    moment = at("2024-05-03T10:00")
    village = schedule.screen(board(), [plain, flood], moment)
    assert village.mode == "emergency" and village.notices == [flood] and village.hidden == 1
    assert all(s.emergency for s in village.slides)
    # a village emergency does not take over the county's board
    water = notice(code=OTHER_VILLAGE, priority="紧急")
    county = board(jurisdiction_code=COUNTY, chain=[COUNTY],
                   area=[COUNTY, TOWN, VILLAGE, OTHER_VILLAGE])
    county_plain = notice(code=COUNTY)
    assert schedule.screen(county, [county_plain, water], moment).mode == "notices"
    # nor the neighbouring village's
    assert schedule.screen(board(), [plain, water], moment).mode == "notices"
    # it shows even outside the windows and whatever the level filter, until it ends
    closed = board(windows=[{"start": "08:00", "end": "09:00"}], levels=["village"])
    assert schedule.screen(closed, [plain, flood], moment).mode == "emergency"
    assert schedule.screen(closed, [plain, flood], at("2024-05-06T10:00")).mode == "resting"
    assert schedule.screen(board(), [plain, flood], at("2024-05-06T10:00")).mode == "notices"


def test_a_board_rotates_at_most_max_notices_and_points_to_the_rest():
    many = [notice(published=f"2024-05-01T{h:02d}:{m:02d}:00Z", title=f"公示{h}-{m}")
            for h in range(6) for m in range(0, 60, 2)]                     # 180 live notices
    urgentish = notice(priority="重要", published="2024-04-30T00:00:00Z")
    scr = schedule.screen(board(), many + [urgentish], at("2024-05-03T10:00"))
    assert len(scr.notices) == schedule.MAX_NOTICES
    assert scr.more == len(many) + 1 - schedule.MAX_NOTICES
    assert scr.notices[0] is urgentish                        # priority first, then the newest
    newest = sorted(many, key=lambda n: n["published_at"], reverse=True)
    assert scr.notices[1:] == newest[:schedule.MAX_NOTICES - 1]
    assert scr.slides[-1].key == "more" and scr.slides[-1].notice is None
    few = schedule.screen(board(), many[:5], at("2024-05-03T10:00"))
    assert few.more == 0 and all(s.key != "more" for s in few.slides)


# --- paging -------------------------------------------------------------------------------

def test_long_tables_are_paged_and_no_row_is_lost():
    rows = [[str(i), f"张*{i}", "3404**********1234", "1,050.00"] for i in range(1, 41)]
    n = notice(table_columns=["序号", "姓名", "身份证号", "金额（元）"], table_rows=rows,
               body="根据有关规定，现将名单公示如下。")
    for orientation in ("landscape", "portrait"):
        slides = schedule.screen(board(orientation=orientation), [n], at("2024-05-03T10:00")).slides
        assert len(slides) > 3
        assert [r for s in slides for r in s.rows] == rows
        assert [s.page for s in slides] == list(range(1, len(slides) + 1))
        assert {s.pages for s in slides} == {len(slides)}
        budget = schedule.LAYOUTS[orientation]["table_lines"] + 2
        assert max(len(s.rows) for s in slides) <= budget
    portrait = schedule.screen(board(orientation="portrait"), [n], at("2024-05-03T10:00")).slides
    landscape = schedule.screen(board(), [n], at("2024-05-03T10:00")).slides
    assert len(portrait) < len(landscape)       # a tall screen holds more rows


@pytest.mark.parametrize("count", [9, 12, 17, 25])
def test_table_pages_are_as_few_as_fit_and_evened_out(count):
    columns, rows = ["姓名", "金额（元）"], [[f"张*{i}", "1,230.00"] for i in range(count)]
    fewest = schedule.table_pages(columns, rows, 35, 8, 8)           # a greedy split needs this many
    greedy_pages = -(-count // 7)                                     # 7 rows + header per page
    assert len(fewest) == greedy_pages
    assert [r for page in fewest for r in page] == rows
    assert max(len(p) for p in fewest) - min(len(p) for p in fewest) <= 1   # no lonely last row
    # A first page with room for only two rows keeps its two; the rest are spread evenly.
    pages = schedule.table_pages(columns, rows, 35, 8, 3)
    assert len(pages[0]) == 2 and [r for page in pages for r in page] == rows
    assert max(len(p) for p in pages[1:]) - min(len(p) for p in pages[1:]) <= 1


def test_a_wide_list_is_paged_as_the_browser_lays_it_out():
    """Seven columns on a landscape board: short cells stay on one line, an ID number cannot
    break, so the headers wrap and every row takes one line (not two: a page of three rows
    and half a slide empty, as the board showed before)."""
    columns = ["序号", "姓名", "身份证号", "村民小组", "补贴面积（亩）", "补贴标准（元/亩）", "补贴金额（元）"]
    rows = [[str(i), "李*山", f"3404**********{6000 + i}", "一组", "6.50", "105.00", "682.50"]
            for i in range(1, 11)]
    chars = schedule.LAYOUTS["landscape"]["table_chars"]
    widths = schedule._column_chars(columns, rows, chars)
    assert widths[2] >= schedule.text_width(rows[0][2])             # the ID keeps its width
    assert sum(widths) <= chars + 1e-9
    pages = schedule.table_pages(columns, rows, chars, 8, 8)
    assert [len(p) for p in pages] == [5, 5]                        # header (two lines) + 6 fit


def test_long_body_becomes_an_excerpt_ending_with_an_ellipsis():
    body = "。".join(["这是一段很长的公示正文内容用于测试摘要功能"] * 40) + "。"
    n = notice(body=body)
    slide = schedule.screen(board(), [n], at("2024-05-03T10:00")).slides[0]
    assert slide.truncated and slide.excerpt.endswith("……")
    assert len(slide.excerpt) < len(body) // 3
    short = schedule.screen(board(), [notice(body="短。")], at("2024-05-03T10:00")).slides[0]
    assert short.excerpt == "短。" and not short.truncated


def test_changes_at_is_the_next_moment_the_screen_may_change():
    now = at("2024-05-03T10:00")
    plain = notice()
    assert schedule.changes_at(board(), [plain], now) == at("2024-05-04T00:00")   # midnight
    windows = board(windows=[{"start": "07:30", "end": "12:00"}, {"start": "22:00", "end": "06:00"}])
    assert schedule.changes_at(windows, [plain], now) == at("2024-05-03T12:00")
    assert schedule.changes_at(windows, [plain], at("2024-05-03T23:00")) == at("2024-05-04T00:00")
    later = notice(published="2024-05-03T03:30:00Z")                              # 11:30 here
    assert schedule.changes_at(board(), [plain, later], now) == at("2024-05-03T11:30")
    assert schedule.changes_at(board(), [plain, later], at("2024-05-03T11:30")) == at("2024-05-04T00:00")
    # Nothing changes in between: the screen at the start and just before the moment agree.
    before = at("2024-05-03T11:29:59")
    assert shown(board(), [plain, later], now) == shown(board(), [plain, later], before)
    assert shown(board(), [plain, later], at("2024-05-03T11:30")) != shown(board(), [plain, later], before)


# --- picture slides -------------------------------------------------------------

def _pic(n: int) -> dict:
    return {"sha256": f"{n:064x}", "mime": "image/png", "width": 800, "height": 1200, "size": 10}


def test_pictures_follow_the_text_and_a_picture_alone_is_just_the_picture():
    leaflet = notice(id=7)
    leaflet["attachments"] = [{"name": "明白卡.png", "mime": "image/png", "shown": [_pic(1)]},
                              {"name": "两页.pdf", "mime": "application/pdf", "shown": [_pic(2), _pic(3)]},
                              {"name": "长文件.pdf", "mime": "application/pdf",
                               "shown": [_pic(i) for i in range(10, 13)]}]
    s = schedule.screen(board(), [leaflet], at("2024-05-02T10:00:00"))
    assert [sl.picture["name"] if sl.picture else "text" for sl in s.slides] == [
        "text", "明白卡.png", "两页.pdf", "两页.pdf"]                     # 3-page PDF: kiosk only
    assert [(sl.picture["page"], sl.picture["pages"]) for sl in s.slides[2:]] == [(1, 2), (2, 2)]
    assert len({sl.key for sl in s.slides}) == 4
    only = notice(id=8, body="")
    only["attachments"] = [{"name": "图解.png", "mime": "image/png", "shown": [_pic(4)]}]
    s = schedule.screen(board(), [only], at("2024-05-02T10:00:00"))
    assert len(s.slides) == 1 and s.slides[0].picture["sha256"] == _pic(4)["sha256"]
    many = notice(id=9)
    many["attachments"] = [{"name": f"{i}.png", "mime": "image/png", "shown": [_pic(20 + i)]} for i in range(9)]
    assert len(schedule.board_pictures(many)) == schedule.MAX_PICTURES


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("count", [2, 3, 4])
def test_a_short_list_fills_one_slide(orientation, count):
    """A 3-row list with a long body and four key figures is one slide, not two half-empty ones:
    the excerpt shrinks first, then the key figures give way."""
    rows = [[str(i), f"张*{i}", "3404**********1234", "一组", "1,050.00"] for i in range(1, count + 1)]
    body = "根据有关规定，经农户申报、村级核实、乡镇审核，现将名单予以公示。" * 4
    fields = {"补贴年度": "2026年度", "补贴标准": "每亩105元", "发放户数": f"{count}户", "发放总额": "3,150元"}
    n = notice(table_columns=["序号", "姓名", "身份证号", "村民小组", "金额（元）"], table_rows=rows,
               body=body, fields=fields, title="杏花村2026年度耕地地力保护补贴发放名单公示")
    slides = schedule.screen(board(orientation=orientation), [n], at("2024-05-03T10:00")).slides
    assert len(slides) == 1 and slides[0].rows == rows
    assert slides[0].truncated                     # the QR code says 扫码看全文
    # A list too long for one slide keeps its excerpt and key figures on the first page.
    long = notice(table_columns=n["table_columns"], table_rows=rows * 8, body=body, fields=fields)
    first = schedule.screen(board(orientation=orientation), [long], at("2024-05-03T10:00")).slides[0]
    assert first.pages > 1 and first.excerpt and first.fields


def test_a_board_rotates_only_its_own_chain_of_publishers():
    """A village's board: its village, its township, the county; the county hall's board: the
    county's own notices (about any place), not every township's."""
    county_note = notice(code=COUNTY)
    county_about_village = notice(code=COUNTY, subject=VILLAGE)
    town_note = notice(code=TOWN, subject=VILLAGE)
    village_note = notice(code=VILLAGE)
    neighbour = notice(code=OTHER_VILLAGE)
    everything = [county_note, county_about_village, town_note, village_note, neighbour]
    moment = at("2024-05-03T10:00")
    assert set(shown(board(), everything, moment)) == {
        county_note["id"], county_about_village["id"], town_note["id"], village_note["id"]}
    hall = board(jurisdiction_code=COUNTY, chain=[COUNTY], area=[COUNTY, TOWN, VILLAGE, OTHER_VILLAGE])
    assert set(shown(hall, everything, moment)) == {county_note["id"], county_about_village["id"]}


def _card(n: int, answer: str = "每亩110元。") -> dict:
    return {"key": f"qa-1-{n}", "q": f"第{n}个问题？", "a": answer, "document_id": 1,
            "document_title": "耕地地力保护补贴实施方案", "doc_number": "淮川农〔2025〕3号", "issuer": "县农业农村局"}


def test_qa_cards_follow_the_notices_and_replace_the_fallback():
    b, moment = board(), at("2024-05-03T10:00:00")
    scr = schedule.screen(b, [notice()], moment, qa_cards=[_card(1), _card(2)])
    assert scr.mode == "notices" and [s.key for s in scr.slides][-2:] == ["qa-1-1", "qa-1-2"]
    assert scr.slides[0].notice is not None and scr.slides[-1].qa["q"] == "第2个问题？"
    alone = schedule.screen(b, [], moment, qa_cards=[_card(1)])
    assert alone.mode == "notices" and [s.key for s in alone.slides] == ["qa-1-1"]
    assert schedule.screen(b, [], moment).mode == "fallback"
    urgent = schedule.screen(b, [notice(priority="紧急")], moment, qa_cards=[_card(1)])
    assert urgent.mode == "emergency" and all(s.qa is None for s in urgent.slides)


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_a_long_answer_is_cut_at_a_sentence_and_points_to_the_qr_code(orientation):
    long = "补贴资金由县财政局通过一卡通直接发放到户。" * 20
    (slide,) = schedule.qa_slides([_card(1, long)], board(orientation=orientation))
    assert slide.truncated and slide.excerpt.endswith("……") and len(slide.excerpt) < len(long)
    (short,) = schedule.qa_slides([_card(1)], board(orientation=orientation))
    assert not short.truncated and short.excerpt == "每亩110元。"
