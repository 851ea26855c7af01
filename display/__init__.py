"""Noticeboards (电子公示栏): full-screen rotating 公示 boards.

* ``schedule`` — what a board shows now, a pure function of board, notices and clock;
* ``views`` — ``/display/`` (the list), ``/display/<board>`` (one board, full screen),
  ``/display/<board>/slides`` (its poll: 204 when unchanged, the new deck otherwise) and
  ``/display/emergency`` (the kiosk home's emergency banner);
* ``static/board.js`` — clock, rotation (a class moves between existing slides), poll
  with exponential backoff while the server is away.

Board settings live in the ``board`` table (content/migrations/0003_boards.sql) and
are read by ``content.boards``.
"""
