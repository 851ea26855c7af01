"""Inspect an uploaded PDF for active content before anyone may download it.

Residents never get a PDF (screens show page images made on the hub); staff
download the original, so it must not carry scripts, launch or submit actions,
links, embedded files or forms that call out.  The check reads the file the way
a PDF reader does, not as plain bytes:

* names are decoded (``/J#61vaScript`` is ``/JavaScript``);
* strings and comments are skipped as the syntax says, so words inside text
  never count, and an object hidden inside a string, comment or stream body (a
  reader reaches it through the cross-reference table) makes the file refused;
* object streams (``/Type /ObjStm``, compressed) are inflated with a bound on the
  output and every object in them is read at the offset its header gives.

Whatever cannot be read fully (encryption, an object stream with another filter,
a string or stream that never ends, too deep nesting, too much to inflate) is
refused too: a file we cannot inspect is not a file we pass.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

# Name → what staff are told it is.
ACTIVE_NAMES = {
    "JavaScript": "脚本（JavaScript）", "JS": "脚本（JavaScript）",
    "Launch": "启动程序的动作", "AA": "自动触发的动作", "URI": "网址链接",
    "SubmitForm": "向外提交表单的动作", "ImportData": "导入数据的动作",
    "EmbeddedFile": "嵌入的文件", "EmbeddedFiles": "嵌入的文件", "FileAttachment": "文件附件",
    "RichMedia": "多媒体内容", "XFA": "动态表单（XFA）", "GoToR": "打开其他文件的动作",
    "GoToE": "打开嵌入文件的动作", "Rendition": "多媒体动作", "Movie": "多媒体内容",
    "Sound": "声音", "Hide": "隐藏动作",
}
# An /OpenAction that is only a destination (an array: which page to show first) is harmless;
# an action dictionary other than /GoTo is refused.
OPEN_ACTION = "OpenAction"

MAX_INFLATE_PER_STREAM = 16 * 1024 * 1024
MAX_INFLATE_TOTAL = 64 * 1024 * 1024
MAX_DEPTH = 64
# Tokens read outside stream bodies (about 3 µs each): real files, whose bulk is in streams,
# have far fewer; a file made of nothing but syntax is refused within a few seconds.
MAX_TOKENS = 400_000

_WS = b"\x00\t\n\x0c\r "
_DELIM = b"()<>[]{}/%"
_REGULAR = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]+")
_WS_RUN = re.compile(rb"[\x00\t\n\x0c\r ]+")
_HEX_STRING = re.compile(rb"<([0-9A-Fa-f\x00\t\n\x0c\r ]*)>")
# "12 0 obj": an object header, also when comments stand between its parts.
_SEP = rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)+"
_OBJ_HEADER = re.compile(rb"\d+" + _SEP + rb"\d+" + _SEP + rb"obj(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])")
_STRING_SPECIAL = re.compile(rb"[()\\]")
_ENDSTREAM = re.compile(rb"(?:\r\n|\r|\n)?endstream")


class Unreadable(Exception):
    """The file cannot be inspected fully."""


@dataclass(frozen=True)
class Name:
    value: str


@dataclass(frozen=True)
class Ref:
    num: int
    gen: int


class _Keyword(str):
    pass


@dataclass
class Report:
    found: set            # Chinese descriptions of the active content found
    encrypted: bool = False


@dataclass
class _Budget:
    """What one inspection may still spend, shared by the parsers of nested object streams."""
    inflate: int = MAX_INFLATE_TOTAL
    tokens: int = MAX_TOKENS


class _Parser:
    def __init__(self, data: bytes, report: Report, budget: _Budget):
        self.data = data
        self.pos = 0
        self.report = report
        self.budget = budget

    # --- tokens ---------------------------------------------------------------
    def _skip_space(self) -> None:
        data, n = self.data, len(self.data)
        while self.pos < n:
            m = _WS_RUN.match(data, self.pos)
            if m:
                self.pos = m.end()
                continue
            if data[self.pos:self.pos + 1] == b"%":
                end = self.pos
                while end < n and data[end] not in b"\r\n":
                    end += 1
                _no_hidden_object(data[self.pos + 1:end])
                self.pos = end
                continue
            break

    def _string(self) -> bytes:
        """A literal string from just after its '(' (nesting and escapes as in the syntax)."""
        data, depth, start = self.data, 1, self.pos
        i = self.pos
        while True:
            m = _STRING_SPECIAL.search(data, i)
            if m is None:
                raise Unreadable("字符串没有结束")
            i = m.start()
            c = data[i]
            if c == 0x5C:                 # backslash: the next byte is taken as it is
                i += 2
                continue
            depth += 1 if c == 0x28 else -1
            i += 1
            if depth == 0:
                self.pos = i
                body = data[start:i - 1]
                _no_hidden_object(body)
                return body

    def token(self):
        """The next token: a value, '<<', '>>', '[', ']', a keyword, or None at the end."""
        self._skip_space()
        data = self.data
        if self.pos >= len(data):
            return None
        self.budget.tokens -= 1
        if self.budget.tokens < 0:
            raise Unreadable("文件结构过于复杂")
        c = data[self.pos:self.pos + 1]
        two = data[self.pos:self.pos + 2]
        if two in (b"<<", b">>"):
            self.pos += 2
            return two.decode()
        if c in (b"[", b"]", b"{", b"}"):
            self.pos += 1
            return c.decode()
        if c == b"(":
            self.pos += 1
            return self._string()
        if c == b"<":
            m = _HEX_STRING.match(data, self.pos)
            if not m:
                raise Unreadable("十六进制字符串格式错误")
            self.pos = m.end()
            return m.group(1)
        if c == b"/":
            m = _REGULAR.match(data, self.pos + 1)
            raw = m.group(0) if m else b""
            self.pos += 1 + len(raw)
            return Name(_decode_name(raw))
        if c == b")" or c == b">":
            self.pos += 1               # stray delimiter: readers skip it, so do we
            return _Keyword(c.decode())
        m = _REGULAR.match(data, self.pos)
        self.pos = m.end()
        word = m.group(0)
        if re.fullmatch(rb"[+-]?\d+", word):
            return int(word)
        if re.fullmatch(rb"[+-]?(\d+\.\d*|\.\d+)", word):
            return float(word)
        return _Keyword(word.decode("latin-1"))

    # --- objects --------------------------------------------------------------
    def value(self, tok, depth: int = 0):
        """Complete the value that starts with ``tok`` (arrays, dictionaries, references)."""
        if depth > MAX_DEPTH:
            raise Unreadable("嵌套层数过多")
        if isinstance(tok, Name):
            self._note_name(tok)
            return tok
        if tok == "[":
            items = []
            while True:
                t = self.token()
                if t is None:
                    raise Unreadable("数组没有结束")
                if t == "]":
                    return self._refs(items)
                items.append(self.value(t, depth + 1))
        if tok == "<<":
            items = []
            while True:
                t = self.token()
                if t is None:
                    raise Unreadable("字典没有结束")
                if t == ">>":
                    items = self._refs(items)
                    d = {}
                    for k, v in zip(items[0::2], items[1::2]):
                        if isinstance(k, Name):
                            d[k.value] = v
                    self._check_dict(d)
                    return d
                items.append(self.value(t, depth + 1))
        return tok

    @staticmethod
    def _refs(items: list) -> list:
        """Fold 'num gen R' into references."""
        out = []
        for item in items:
            if (item == "R" and isinstance(item, _Keyword) and len(out) >= 2
                    and type(out[-1]) is int and type(out[-2]) is int):
                gen, num = out.pop(), out.pop()
                out.append(Ref(num, gen))
            else:
                out.append(item)
        return out

    def _note_name(self, name: Name) -> None:
        what = ACTIVE_NAMES.get(name.value)
        if what:
            self.report.found.add(what)
        if name.value == "Encrypt":
            self.report.encrypted = True

    def _check_dict(self, d: dict) -> None:
        # An action kept as a separate object (a reference) is checked where that object
        # stands: its /S names a harmful kind (caught by name) or is harmless (/GoTo).
        action = d.get(OPEN_ACTION)
        if isinstance(action, dict) and action.get("S") != Name("GoTo"):
            self.report.found.add("打开文件时自动执行的动作")

    # --- the file -------------------------------------------------------------
    def scan(self) -> None:
        """Read every top-level token; inflate object streams; skip other stream bodies."""
        last = None
        while True:
            tok = self.token()
            if tok is None:
                return
            if tok == "stream" and isinstance(tok, _Keyword):
                self._stream(last if isinstance(last, dict) else {})
                last = None
                continue
            last = self.value(tok)

    def _stream(self, d: dict) -> None:
        data = self.data
        if data[self.pos:self.pos + 2] == b"\r\n":
            self.pos += 2
        elif data[self.pos:self.pos + 1] in (b"\n", b"\r"):
            self.pos += 1
        start = self.pos
        end = None
        length = d.get("Length")
        if type(length) is int and 0 <= length <= len(data) - start:
            m = _ENDSTREAM.match(data, start + length)
            if m:
                end = start + length
                after = m.end()
        if end is None:
            found = data.find(b"endstream", start)
            if found < 0:
                raise Unreadable("数据流没有结束")
            end, after = found, found + len(b"endstream")
        body = data[start:end]
        self.pos = after
        if _is_object_stream(d):
            self._object_stream(d, body)
        else:
            _no_hidden_object(body)

    def _object_stream(self, d: dict, body: bytes) -> None:
        filters = d.get("Filter")
        filters = filters if isinstance(filters, list) else [filters] if filters is not None else []
        if filters == [Name("FlateDecode")]:
            parms = d.get("DecodeParms")
            if isinstance(parms, list):
                parms = parms[0] if parms else None
            if isinstance(parms, dict) and parms.get("Predictor") not in (None, 1):
                raise Unreadable("对象流使用了预测编码")
            plain = _inflate(body, self.budget)
        elif not filters:
            plain = body
        else:
            raise Unreadable("对象流使用了无法检查的压缩方式")
        n, first = d.get("N"), d.get("First")
        if type(n) is not int or type(first) is not int or not (0 <= first <= len(plain)) or n < 0:
            raise Unreadable("对象流的结构不正确")
        header = _Parser(plain[:first], self.report, self.budget)
        offsets = []
        for _ in range(n):
            num, off = header.token(), header.token()
            if type(num) is not int or type(off) is not int or not 0 <= off <= len(plain) - first:
                raise Unreadable("对象流的目录不正确")
            offsets.append(off)
        # Each object where its header says it is (a reader goes there), and the whole body in
        # order as well, so nothing between the objects escapes either.
        for off in offsets:
            p = _Parser(plain, self.report, self.budget)
            p.pos = first + off
            tok = p.token()
            if tok is not None:
                p.value(tok)
        _Parser(plain[first:], self.report, self.budget).scan_objects()

    def scan_objects(self) -> None:
        while True:
            tok = self.token()
            if tok is None:
                return
            self.value(tok)


def _decode_name(raw: bytes) -> str:
    out = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    return out.decode("latin-1")


def _is_object_stream(d: dict) -> bool:
    # A reader uses a stream as an object stream when the xref says so; it needs /N and /First.
    return d.get("Type") == Name("ObjStm") or ("N" in d and "First" in d)


def _inflate(body: bytes, budget: _Budget) -> bytes:
    limit = min(MAX_INFLATE_PER_STREAM, budget.inflate)
    z = zlib.decompressobj()
    try:
        out = z.decompress(body, limit + 1)
    except zlib.error as e:
        raise Unreadable("压缩数据已损坏") from e
    if len(out) > limit or z.unconsumed_tail:
        raise Unreadable("压缩数据解压后过大")
    budget.inflate -= len(out)
    return out


def _no_hidden_object(region: bytes) -> None:
    """An object header inside text a scanner skips could be reached through the xref."""
    if b"obj" in region and _OBJ_HEADER.search(region):
        raise Unreadable("在字符串、注释或数据流中藏有对象")


def inspect(data: bytes) -> Report:
    """What active content the PDF holds; raise Unreadable when it cannot be read fully."""
    report = Report(found=set())
    _Parser(data, report, _Budget()).scan()
    if report.encrypted:
        raise Unreadable("文件已加密")
    return report
