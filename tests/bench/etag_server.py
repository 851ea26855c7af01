"""Baseline for manifest 304s: waitress answering conditional GETs for one file, as plainly as it can.

    python tests/bench/etag_server.py FILE PORT THREADS

ETag from the file's size and modification time (what a static server does); 304 when
If-None-Match matches, the file otherwise.
"""
from __future__ import annotations

import os
import sys

from waitress import serve


def make_app(path: str):
    def app(environ, start_response):
        st = os.stat(path)
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 Not Modified", [("ETag", etag)])
            return [b""]
        with open(path, "rb") as f:
            body = f.read()
        start_response("200 OK", [("Content-Type", "application/json"), ("ETag", etag),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


if __name__ == "__main__":
    serve(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), threads=int(sys.argv[3]),
          ident="static")
