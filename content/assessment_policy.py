"""Assessment of policy interpretation (政策解读): the dashboard's figures for content.policies.

For the documents of a scope first published in a period (Beijing dates):

* published without an interpretation — a 主动公开 document in the 解读 scope
  (``needs_interpretation``) none of whose interpretations came out with it (at the
  same approval) — they can only exist where the county lets such documents through
  (setting ``policy_interpretation_required = false``) or where an interpretation was
  added later;
* late interpretations — an interpretation first published more than
  ``policy_interpretation_late_days`` days after its document (released together is the
  rule: 同步组织、同步审签、同步部署).

The computation lives here; content.assessment only calls ``figures`` and ``tables``.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date

from . import policies

PUB_DAY = "date({col}, '+8 hours')"      # published_at is UTC; the dashboard counts Beijing days


@dataclass
class PolicyFigures:
    late_days: int
    documents: int = 0                    # first published in the period
    in_scope: int = 0                     # of them: 主动公开 and in the 解读 scope
    interpreted: int = 0                  # of those: released with an interpretation
    without: list[dict] = field(default_factory=list)
    late: list[dict] = field(default_factory=list)
    interpretations: int = 0              # interpretations first published in the period


def _in(values) -> str:
    return ",".join("?" * len(values)) or "NULL"


def figures(conn: sqlite3.Connection, codes, start: date, end: date,
            late_days: int | None = None) -> PolicyFigures:
    codes = list(codes)
    late_days = policies.late_days() if late_days is None else late_days
    fig = PolicyFigures(late_days=late_days)
    day = PUB_DAY.format(col="d.published_at")
    docs = conn.execute(
        f"""SELECT d.id, d.title, d.doc_number, d.issuer, d.jurisdiction_code, j.name AS jurisdiction,
                   d.needs_interpretation, d.disclosure, {day} AS published_on,
                   (SELECT count(*) FROM policy_interpretation x WHERE x.document_id = d.id
                    AND x.published_at <= d.published_at) AS released_with
            FROM policy_document d JOIN jurisdiction j ON j.code = d.jurisdiction_code
            WHERE d.published_at IS NOT NULL AND d.status IN ('published', 'withdrawn')
              AND d.jurisdiction_code IN ({_in(codes)}) AND {day} BETWEEN ? AND ?
            ORDER BY {day}, d.id""", [*codes, start.isoformat(), end.isoformat()]).fetchall()
    fig.documents = len(docs)
    for d in docs:
        if d["needs_interpretation"] and d["disclosure"] == "主动公开":
            fig.in_scope += 1
            if d["released_with"]:
                fig.interpreted += 1
            else:
                fig.without.append(dict(d))
    xday = PUB_DAY.format(col="x.published_at")
    rows = conn.execute(
        f"""SELECT x.id, x.form, x.title, d.id AS document_id, d.title AS document_title, d.doc_number,
                   j.name AS jurisdiction, {day} AS document_on, {xday} AS published_on,
                   julianday({xday}) - julianday({day}) AS days_after
            FROM policy_interpretation x JOIN policy_document d ON d.id = x.document_id
            JOIN jurisdiction j ON j.code = d.jurisdiction_code
            WHERE d.published_at IS NOT NULL AND d.jurisdiction_code IN ({_in(codes)})
              AND {xday} BETWEEN ? AND ?
            ORDER BY {xday}, x.id""", [*codes, start.isoformat(), end.isoformat()]).fetchall()
    fig.interpretations = len(rows)
    fig.late = [dict(r, days_after=int(r["days_after"])) for r in rows if r["days_after"] > late_days]
    return fig


def tables(fig: PolicyFigures | None) -> list:
    """The dashboard's and the export's tables (content.assessment.Table)."""
    from .assessment import Table, share  # noqa: PLC0415  (assessment imports this module)
    if fig is None:
        return []
    summary = Table("policy", "政策解读", ["本期发布的政策文件", "属于解读范围", "与解读同步发布",
                                          "同步解读率", "未同步解读", "本期发布的解读", "滞后发布的解读"],
                    percent={3},
                    note=f"解读范围：主动公开且标为需要解读的文件。解读在文件发布 {fig.late_days} 天以后才发布的计为滞后。")
    summary.rows.append([fig.documents, fig.in_scope, fig.interpreted, share(fig.interpreted, fig.in_scope),
                         len(fig.without), fig.interpretations, len(fig.late)])
    without = Table("policy_without", "发布时没有解读的政策文件", ["文件", "文号", "发文机关", "所属区划", "发布日期"])
    without.rows = [[d["title"], d["doc_number"] or "—", d["issuer"], d["jurisdiction"], date.fromisoformat(d["published_on"])]
                    for d in fig.without]
    late = Table("policy_late", "滞后发布的政策解读", ["政策文件", "解读形式", "解读标题", "所属区划",
                                                      "文件发布", "解读发布", "滞后天数"])
    late.rows = [[r["document_title"], r["form"], r["title"] or "—", r["jurisdiction"],
                  date.fromisoformat(r["document_on"]), date.fromisoformat(r["published_on"]), r["days_after"]]
                 for r in fig.late]
    return [summary, without, late]
