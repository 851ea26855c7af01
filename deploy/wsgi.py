"""WSGI entry point, for running the kiosk under a WSGI server other than `kiosk serve`.

`kiosk serve` is the normal way (see the systemd units here): it reads the same settings
and, on a terminal, also runs the sync loop, which this entry point does not. Use this
for a hub or a standalone instance under, for example, waitress-serve:

    cd /opt/kiosk/src/deploy && \
    KIOSK_DATA_DIR=/var/lib/kiosk KIOSK_CONFIG=/etc/kiosk/hub.toml \
    /opt/kiosk/venv/bin/waitress-serve --listen=127.0.0.1:8080 wsgi:app

Settings come from $KIOSK_CONFIG over the data folder's kiosk.toml, as for `kiosk serve`.
"""
from __future__ import annotations

import os

from kiosk import config, create_app


def make_app():
    settings = config.serve_settings({}, os.environ.get("KIOSK_CONFIG") or None)
    return create_app({**settings["app_config"], "DATA_DIR": str(settings["data_dir"])})


app = application = make_app()
