"""The two load generators of ``load_test.py``: wrk with a Lua script, and a small asyncio HTTP/1.1 client.

wrk (C) is preferred because client and server share the two cores: a Python client takes CPU the
server would otherwise use. Both POST prebuilt multipart bodies, optionally with a new boundary per request,
and return the same dict of counts and latency percentiles.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _common import percentile

WRK_LUA = """
local bodies, n, i = {}, 0, 0
local boundary = "%(boundary)s"
function init(args)
  for _, path in ipairs(args) do
    local f = assert(io.open(path, "rb")); n = n + 1; bodies[n] = f:read("*all"); f:close()
  end
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  -- each wrk thread has its own Lua state: seed each differently, or they send the same "fresh" boundaries
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%%x+)") or "0", 16) %% 1000003)
end
local fresh = %(fresh)s
function request()
  i = i %% n + 1
  if not fresh then return wrk.format("POST", "%(path)s", nil, bodies[i]) end
  -- a new boundary per request, as browsers and HTTP libraries send (same length, hex: no pattern magic)
  local b = string.format("%%08x%%08x%%08x%%08x", math.random(0, 2147483646), math.random(0, 2147483646),
                          math.random(0, 2147483646), math.random(0, 2147483646))
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. b
  return wrk.format("POST", "%(path)s", nil, (bodies[i]:gsub(boundary, b)))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"mean_us": %%.1f}\\n', summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def multipart(name: str, data: bytes, boundary: str) -> bytes:
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode()


def run_wrk(url: str, bodies: list[Path], boundary: str, path: str, concurrency: int, seconds: float,
            tmp: Path, fresh: bool = False) -> dict[str, Any]:
    script = tmp / "post.lua"
    script.write_text(WRK_LUA % {"boundary": boundary, "path": path, "fresh": "true" if fresh else "false"})
    cmd = ["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
           "--timeout", "10s", "-s", str(script), url, "--", *map(str, bodies)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stderr.strip() or out.stdout.strip()}")
    r = json.loads(line[8:])
    errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return {"requests": r["requests"], "seconds": r["duration_us"] / 1e6, "non_200": r["status"],
            "socket_errors": errors, "p50_ms": r["p50_us"] / 1e3, "p90_ms": r["p90_us"] / 1e3,
            "p99_ms": r["p99_us"] / 1e3, "max_ms": r["max_us"] / 1e3, "mean_ms": r["mean_us"] / 1e3}


async def _client(port: int, requests: list[bytes], deadline: float, lat: list[float], bad: list[int],
                  offset: int, boundary: str = "") -> None:
    reader = writer = None
    i = offset
    while time.perf_counter() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            t = time.perf_counter()
            req = requests[i % len(requests)]
            if boundary:  # --boundary fresh: a new one per request, as real clients send
                req = req.replace(boundary.encode(), uuid.uuid4().hex.encode())
            writer.write(req)
            i += 1
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode("latin-1").partition(":")
                if key.lower() == "content-length":
                    length = int(value)
                elif key.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            await reader.readexactly(length)
            lat.append((time.perf_counter() - t) * 1e3)
            if status != 200:
                bad[0] += 1
            if close:
                writer.close()
                writer = None
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            bad[1] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


def run_python(port: int, bodies: list[bytes], boundary: str, path: str, concurrency: int,
               seconds: float, fresh: bool = False) -> dict[str, Any]:
    reqs = [(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: keep-alive\r\n"
             f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(b)}\r\n\r\n").encode()
            + b for b in bodies]
    lat: list[float] = []
    bad = [0, 0]

    async def go() -> float:
        t0 = time.perf_counter()
        deadline = t0 + seconds
        await asyncio.gather(*(_client(port, reqs, deadline, lat, bad, k, boundary if fresh else "")
                               for k in range(concurrency)))
        return time.perf_counter() - t0

    took = asyncio.run(go())
    return {"requests": len(lat), "seconds": took, "non_200": bad[0], "socket_errors": bad[1],
            "p50_ms": percentile(lat, 0.5), "p90_ms": percentile(lat, 0.9), "p99_ms": percentile(lat, 0.99),
            "max_ms": max(lat) if lat else None, "mean_ms": sum(lat) / len(lat) if lat else None}


if __name__ == "__main__":  # run by hand, it said nothing at all, --help included
    print("load_clients.py holds load_test.py's load generators and measures nothing itself: run "
          "python benchmarks/load_test.py (--help says how)", file=sys.stderr)
    sys.exit(0 if {"-h", "--help"} & set(sys.argv[1:]) else 2)
