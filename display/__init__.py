"""Noticeboards: what is on screen now, and the full-screen board views."""
