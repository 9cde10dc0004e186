"""A loopback HTTP server for the download tests (127.0.0.1 only, never the internet).

It serves a directory with byte ranges and can inject faults: cut a file's response at a
byte offset (the connection is closed mid-body) and flip one byte of a file. With
``hub_repo`` set it also stands in for the Hugging Face hub's endpoint, answering the few
routes the real ``huggingface_hub`` client calls for a download (auth-check, revision info,
tree listing, resolve), so the hub code path runs through that client unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Fault:
    """Act at byte ``offset`` of a file, ``times`` more times (``None``: every time)."""

    offset: int
    times: int | None = None

    def fire(self) -> bool:
        if self.times is None:
            return True
        if self.times > 0:
            self.times -= 1
            return True
        return False


@dataclass
class ServerState:
    root: Path
    overrides: dict[str, bytes] = field(default_factory=dict)  # served instead of / besides root
    cut: dict[str, Fault] = field(default_factory=dict)
    corrupt: dict[str, Fault] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    hub_repo: str | None = None
    token: str | None = None  # hub stand-in: the token it accepts (None: open repo)
    hub_extra: list[dict] = field(default_factory=list)  # extra entries in a part's tree listing
    lock: threading.Lock = field(default_factory=threading.Lock)

    def content(self, rel: str) -> bytes | None:
        if rel in self.overrides:
            return self.overrides[rel]
        if not rel or any(p in ("", ".", "..") for p in rel.split("/")):
            return None
        path = self.root / rel
        return path.read_bytes() if path.is_file() else None


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    # -- plumbing

    def _json(self, status: int, payload, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str | None = None) -> None:
        self._json(status, {"error": code or "error"}, {"X-Error-Code": code} if code else None)

    def _send_file(self, rel: str) -> None:
        state = self.server.state
        data = state.content(rel)
        if data is None:
            self._error(404, "EntryNotFound" if state.hub_repo else None)
            return
        start, end, status = 0, len(data) - 1, 200
        header = self.headers.get("Range")
        if header:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
            if match is not None and not match[1] and match[2]:  # a suffix: the last N bytes (zarr's shard index)
                match = re.fullmatch(r"(\d+)-(\d+)", f"{max(len(data) - int(match[2]), 0)}-{len(data) - 1}")
            if match is None or not match[1] or int(match[1]) >= max(len(data), 1):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = int(match[1])
            end = min(int(match[2]) if match[2] else len(data) - 1, len(data) - 1)
            status = 206
        body = bytearray(data[start : end + 1])
        corrupt = state.corrupt.get(rel)
        if corrupt is not None and start <= corrupt.offset <= end and corrupt.fire():
            body[corrupt.offset - start] ^= 0xFF
        cut = state.cut.get(rel)
        cut_at = None
        if cut is not None and start <= cut.offset <= end and cut.fire():
            cut_at = cut.offset - start
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.end_headers()
        if self.command == "HEAD":
            return
        if cut_at is not None:  # a transfer cut mid-file: part of the body, then the line drops
            self.wfile.write(bytes(body[:cut_at]))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(bytes(body))

    # -- hub stand-in

    def _authorized(self) -> bool:
        state = self.server.state
        if state.token is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {state.token}":
            return True
        self._error(401 if "Authorization" not in self.headers else 403, "GatedRepo")
        return False

    def _tree(self, sub: str, recursive: bool) -> list[dict]:
        state = self.server.state
        base = state.root / sub if sub else state.root
        if not base.is_dir():
            return []
        entries = []
        children = sorted(base.rglob("*") if recursive else base.iterdir())
        for child in children:
            rel = child.relative_to(state.root).as_posix()
            if child.is_dir():
                entries.append({"type": "directory", "path": rel, "oid": "0" * 40, "size": 0})
                continue
            data = child.read_bytes()
            entry = {"type": "file", "path": rel, "size": len(data), "oid": _git_blob_sha1(data)}
            if not rel.endswith(".json"):  # binaries are LFS files: their sha256 is listed
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        if sub and recursive:
            entries.extend(state.hub_extra)
        return entries

    def _hub(self, path: str, query: str) -> bool:
        """Answer a hub route; False if ``path`` is not one."""
        state = self.server.state
        api = f"/api/datasets/{state.hub_repo}"
        if path == f"{api}/auth-check":
            if self._authorized():
                self._json(200, {})
            return True
        if path.startswith(f"{api}/revision/"):
            revision = unquote(path[len(f"{api}/revision/") :])
            if revision == "no-such-revision":
                self._error(404, "RevisionNotFound")
            else:
                self._json(200, {"id": state.hub_repo, "sha": COMMIT, "private": False, "gated": "manual"})
            return True
        if path == api:
            self._json(200, {"id": state.hub_repo, "sha": COMMIT})
            return True
        if path.startswith(f"{api}/tree/"):
            rest = unquote(path[len(f"{api}/tree/") :])
            revision, _, sub = rest.partition("/")
            if revision != COMMIT:
                self._error(404, "RevisionNotFound")
                return True
            self._json(200, self._tree(sub, "recursive=true" in query.lower()))
            return True
        resolve = f"/datasets/{state.hub_repo}/resolve/"
        if path.startswith(resolve):
            if self._authorized():
                revision, _, rel = unquote(path[len(resolve) :]).partition("/")
                self._send_file(rel)
            return True
        return False

    # -- verbs

    def _route(self) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        with state.lock:
            state.requests.append((self.command, unquote(url.path).lstrip("/"), self.headers.get("Range")))
        if state.hub_repo is not None:
            if not self._hub(url.path, url.query):
                self._error(404)
            return
        self._send_file(unquote(url.path).lstrip("/"))

    def do_GET(self) -> None:  # noqa: N802
        self._route()

    def do_HEAD(self) -> None:  # noqa: N802
        self._route()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: ServerState


class LoopbackServer:
    """``with LoopbackServer(root) as server: server.url`` - stopped and joined on exit."""

    def __init__(self, root: Path, **state) -> None:
        self.state = ServerState(root=Path(root), **state)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=lambda: self._server.serve_forever(poll_interval=0.05), name="loopback-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def file_requests(self, rel: str) -> list[str | None]:
        """Range headers of every GET that asked for ``rel`` (mirror path or hub resolve URL)."""
        with self.state.lock:
            return [r for m, p, r in self.state.requests if m == "GET" and (p == rel or p.endswith(f"/resolve/{COMMIT}/{rel}"))]

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
