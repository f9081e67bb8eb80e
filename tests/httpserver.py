"""A local HTTP file server for download tests, with switches for the failures that
matter: an error status for a path (500, 404, ...) and a truncated body that still
announces the full Content-Length (the case a naive downloader reports as success).
"""
from __future__ import annotations

import collections
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse


class FileServer:
    """Serve ``root`` on 127.0.0.1 (a free port) from a background thread.

    ``status[path] = 500`` answers that path with the status; ``truncate.add(path)`` sends
    half the file under a full Content-Length; ``hits[path]`` counts requests.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.status: dict[str, int] = {}
        self.truncate: set[str] = set()
        self.hits: collections.Counter[str] = collections.Counter()
        handler = functools.partial(_Handler, directory=str(self.root))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)  # short poll: quick shutdown
        self._thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self.running = False

    def __enter__(self) -> "FileServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_GET(self):
        owner: FileServer = self.server.owner
        path = urlparse(self.path).path
        owner.hits[path] += 1
        if path in owner.status:
            self.send_error(owner.status[path])
            return
        if path in owner.truncate:
            data = (owner.root / path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()
