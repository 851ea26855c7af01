"""The pinyin input method's table: letters → Chinese candidates, most common first.

Built once per instance into a small SQLite file in the data folder (``ime-pinyin.sqlite3``,
about 5 MB) from two PyPI packages' data: pypinyin's readings of characters and words, and
jieba's word frequencies for the order. Building loads pypinyin's dictionaries (about 55 MB),
so it runs in ``kiosk init`` or in a child process (``python -m kiosk.pinyin_table PATH``);
the serving process only reads the file with ``sqlite3`` and never imports either package.

Characters are GB 2312's 6,763 (level 1, the 3,755 common ones, ranks before level 2); words
are jieba's of two to four such characters that occur often enough to be worth offering.
"""
from __future__ import annotations

import os
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

# Bump when the table's layout or content rules change: an older file is rebuilt.
FORMAT_VERSION = 1
FILE_NAME = "ime-pinyin.sqlite3"
MAX_LETTERS = 40
LETTERS = re.compile(r"[a-z]{1,%d}" % MAX_LETTERS)
MIN_WORD_FREQ = 20        # jieba counts: rarer words only crowd the candidate bar
MAX_WORDS = 120_000
# Words residents write at a 政务公开 kiosk: offered before jieba's general-news order
# would put them (公示 would come tenth after 公式, 公使, 攻势 …).
KIOSK_WORDS = ("公示", "公开", "低保", "补贴", "补助", "救助", "医保", "社保", "养老", "户口",
               "残疾", "残疾人", "五保", "特困", "危房", "改造", "扶贫", "耕地", "名单", "发放",
               "申请", "姓名", "地址", "村委会", "居委会", "镇政府", "乡政府", "县政府", "身份证",
               "政府信息", "信息公开", "征求意见", "村务", "财务", "医疗", "教育", "低保户")
KIOSK_WORD_WEIGHT = 50_000_000

SCHEMA = """
CREATE TABLE hanzi (text TEXT NOT NULL, full TEXT NOT NULL, weight INTEGER NOT NULL);
CREATE TABLE word (text TEXT NOT NULL, full TEXT NOT NULL, initials TEXT NOT NULL,
                   weight INTEGER NOT NULL);
CREATE TABLE syllable (full TEXT PRIMARY KEY) WITHOUT ROWID;
"""
INDEXES = """
CREATE INDEX hanzi_full ON hanzi (full, weight DESC);
CREATE INDEX word_full ON word (full, weight DESC);
CREATE INDEX word_initials ON word (initials, weight DESC);
"""


# ---------------------------------------------------------------- building (child process)

def gb2312_characters() -> list[tuple[str, int]]:
    """GB 2312's Han characters with their level (1: 常用, 2: 次常用), via Python's codec."""
    chars = []
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                ch = bytes((row, cell)).decode("gb2312")
            except UnicodeDecodeError:
                continue   # the unassigned cells at the end of level 1
            chars.append((ch, 1 if row < 0xD8 else 2))
    return chars


def _jieba_frequencies() -> dict[str, int]:
    import jieba  # noqa: PLC0415  (build time only)
    path = Path(jieba.__file__).with_name("dict.txt")
    freq: dict[str, int] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                freq[parts[0]] = freq.get(parts[0], 0) + int(parts[1])
    return freq


def build(path: str | os.PathLike) -> Path:
    """Write the table to ``path`` (atomically: a half-built file is never seen)."""
    from pypinyin import Style, lazy_pinyin, pinyin  # noqa: PLC0415  (build time only)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    freq = _jieba_frequencies()
    chars = gb2312_characters()
    known = {ch for ch, _ in chars}
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(SCHEMA)
        hanzi_rows = []
        for ch, level in chars:
            # Level 1 before level 2 whatever jieba says; then jieba's count.
            base = freq.get(ch, 0) + (10_000_000 if level == 1 else 0)
            readings = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
            for i, reading in enumerate(dict.fromkeys(readings)):
                if reading.isascii() and reading.isalpha():
                    # A character's other readings come after its usual one (的 is de, not dí).
                    hanzi_rows.append((ch, reading, base if i == 0 else base // 20))
        conn.executemany("INSERT INTO hanzi VALUES (?, ?, ?)", hanzi_rows)
        conn.executemany("INSERT OR IGNORE INTO syllable VALUES (?)",
                         sorted({(r[1],) for r in hanzi_rows}))
        for w in KIOSK_WORDS:
            freq[w] = freq.get(w, 0) + KIOSK_WORD_WEIGHT
        words = sorted(((n, w) for w, n in freq.items()
                        if 2 <= len(w) <= 4 and n >= MIN_WORD_FREQ and all(c in known for c in w)),
                       reverse=True)[:MAX_WORDS]
        word_rows = []
        for n, w in words:
            syllables = lazy_pinyin(w, style=Style.NORMAL, errors="ignore")
            if len(syllables) != len(w) or not all(s.isascii() and s.isalpha() for s in syllables):
                continue
            word_rows.append((w, "".join(syllables), "".join(s[0] for s in syllables), n))
        conn.executemany("INSERT INTO word VALUES (?, ?, ?, ?)", word_rows)
        conn.executescript(INDEXES)
        conn.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()
    os.replace(tmp, path)
    return path


def is_current(path: str | os.PathLike) -> bool:
    """A table of this format exists at ``path``."""
    if not Path(path).is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION
        finally:
            conn.close()
    except sqlite3.Error:
        return False


# ---------------------------------------------------------------- looking up (serve process)

@dataclass(frozen=True)
class Candidate:
    text: str
    letters: int      # how many of the typed letters it stands for (from the left)


def segment(letters: str, syllables) -> list[str]:
    """Split typed letters into syllables, longest first (``zhangsan`` → zhang, san); the
    last piece may be the start of a syllable (``zhangs`` → zhang, s)."""
    out, i = [], 0
    while i < len(letters):
        for j in range(min(len(letters), i + 6), i, -1):
            if letters[i:j] in syllables:
                out.append(letters[i:j])
                i = j
                break
        else:
            out.append(letters[i:])
            break
    return out


class Table:
    """Read-only lookups in a built table; one per process, safe to share between threads."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        conn = self._connect()
        try:
            self.syllables = frozenset(r[0] for r in conn.execute("SELECT full FROM syllable"))
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                               check_same_thread=False)

    def candidates(self, letters: str, limit: int = 30) -> list[Candidate]:
        """Words that spell all the letters and the first syllable's most common characters,
        then words starting with the letters, then more characters of the first syllable
        (``zhangsan``: 长三 …, 长, 张, 掌, 章 for ``zhang``, then 张三丰 …)."""
        if not LETTERS.fullmatch(letters):
            raise ValueError(letters)
        parts = segment(letters, self.syllables)
        n = len(letters)
        found: list[Candidate] = []
        conn = self._connect()
        try:
            def add(sql: str, args: tuple, used: int, cap: int) -> None:
                seen = {c.text for c in found}
                for (text,) in conn.execute(sql, args + (cap,)):
                    if text not in seen and len(found) < limit:
                        seen.add(text)
                        found.append(Candidate(text, used))

            # Initials only (dbgs, bj): the words they abbreviate; after the characters when the
            # letters also begin a syllable (zh, sh: 这, 是 before 之后, 事后).
            initials = n > 1 and not any(ch in "aeiouv" for ch in letters)
            begins = any(s.startswith(letters) for s in self.syllables)
            if initials and not begins:
                add("SELECT text FROM word WHERE initials = ? ORDER BY weight DESC LIMIT ?",
                    (letters,), n, 10)
            first = parts[0]
            chars = "SELECT text FROM hanzi WHERE full = ? ORDER BY weight DESC LIMIT ?"
            if len(parts) > 1:
                add("SELECT text FROM word WHERE full = ? ORDER BY weight DESC LIMIT ?",
                    (letters,), n, 4)
                # Names are no dictionary words: the first syllable's common characters come
                # early (王小明 is 小 then 明), before rarer words and completions.
                if first in self.syllables:
                    add(chars, (first,), len(first), 4)
                add("SELECT text FROM word WHERE full = ? ORDER BY weight DESC LIMIT ?",
                    (letters,), n, 10)
                add("SELECT text FROM word WHERE full > ? AND full < ? ORDER BY weight DESC "
                    "LIMIT ?", (letters, letters + "{"), n, 5)
            if first in self.syllables:
                add(chars, (first,), len(first), limit)
            if len(parts) == 1:
                # The start of a syllable (zh, zhan): characters of every syllable it begins.
                add("SELECT text FROM hanzi WHERE full > ? AND full < ? ORDER BY weight DESC "
                    "LIMIT ?", (first, first + "{"), len(first), limit)
            if initials and begins:
                add("SELECT text FROM word WHERE initials = ? ORDER BY weight DESC LIMIT ?",
                    (letters,), n, 10)
        finally:
            conn.close()
        return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kiosk.pinyin_table PATH", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)   # a background chore: residents' requests come first
    build(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
