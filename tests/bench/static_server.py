"""The baseline: waitress serving files from a folder, as plainly as it can.

    python tests/bench/static_server.py FOLDER PORT
"""
from __future__ import annotations

import sys
from pathlib import Path

from waitress import serve


def make_app(folder: Path):
    def app(environ, start_response):
        path = (folder / environ.get("PATH_INFO", "/").lstrip("/")).resolve()
        if path.parent != folder or not path.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        body = path.read_bytes()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


if __name__ == "__main__":
    folder = Path(sys.argv[1]).resolve()
    serve(make_app(folder), host="127.0.0.1", port=int(sys.argv[2]), threads=8, ident="static")
