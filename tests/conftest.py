"""Shared fixtures: a real HTTP server on 127.0.0.1 that serves files from a dict, and artefact paths."""
import http.server, os, threading
from pathlib import Path

import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}   # path -> (status, body bytes, headers dict)

    def do_GET(self):
        self.server.hits.append(self.path)
        status, body, headers = self.routes.get(self.path, (404, b'not found', {}))
        self.send_response(status)
        headers = {'Content-Length': str(len(body)), **headers}
        for k, v in headers.items(): self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args): pass


@pytest.fixture
def http_server():
    "Serve `server.routes[path] = (status, body, headers)` on 127.0.0.1; yields the server (with `.url(path)`)."
    handler = type('Handler', (_Handler,), {'routes': {}})
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    srv.routes, srv.hits = handler.routes, []
    srv.url = lambda path: f'http://127.0.0.1:{srv.server_address[1]}{path}'
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown(); srv.server_close()


@pytest.fixture(scope='session')
def artifacts():
    "Folder for test artefacts (screenshots, reports): $ARTIFACTS, else ./test-artifacts."
    d = Path(os.environ.get('ARTIFACTS') or 'test-artifacts')
    d.mkdir(parents=True, exist_ok=True)
    return d
