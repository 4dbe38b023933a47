"""A small, fast static feed host for benchmarks, run as its own process.

Python's http.server spends more time per request than carnews does, so it would
measure itself rather than carnews. This one keeps every file in memory, keeps
connections alive (HTTP/1.1) and answers conditional GETs with 304, as real feed
hosts do: `python bench/feedhost.py DIRECTORY PORT`.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from email.utils import formatdate
from pathlib import Path


def load(directory: Path) -> dict[str, tuple[bytes, str, str]]:
    files = {}
    modified = formatdate(usegmt=True)
    for path in directory.iterdir():
        body = path.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        files["/" + path.name] = (body, etag, modified)
    return files


async def serve(files: dict[str, tuple[bytes, str, str]], port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await reader.readuntil(b"\r\n\r\n"):
                lines = request.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
                }
                found = files.get(path)
                if found is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    continue
                body, etag, modified = found
                validators = f"ETag: {etag}\r\nLast-Modified: {modified}\r\n".encode()
                if headers.get("if-none-match") == etag:
                    writer.write(b"HTTP/1.1 304 Not Modified\r\n" + validators + b"\r\n")
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n" + validators
                        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
                    )  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(load(Path(sys.argv[1])), int(sys.argv[2])))
