"""The sidecar client's HTTP/1.1 connection pool against servers that answer byte by byte.

Each server here is a real loopback socket whose answers the test writes by hand, so framing
(Content-Length, chunked, close-delimited, HEAD), keep-alive reuse, stale connections, bad
answers and timeouts are all exercised on the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from dapr_actors_fastapi import SidecarClient, SidecarTimeout, SidecarUnavailable

Answer = Callable[
    [bytes], Awaitable[bytes | None]
]  # request head+body -> raw answer (None: hang up)


class HandMadeServer:
    """Reads one request at a time per connection and writes whatever ``answer`` returns."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.hang_up_after_answer = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + (await reader.readexactly(length) if length else b"")
                self.requests.append(request)
                raw = await self.answer(request)
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if self.hang_up_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            pass  # the listener closed while this one still waited (the timeout test)
        finally:
            writer.close()


@asynccontextmanager
async def client_for(
    answer: Answer, **options: float
) -> AsyncIterator[tuple[SidecarClient, HandMadeServer]]:
    server = HandMadeServer(answer)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    client = SidecarClient(endpoint=f"http://127.0.0.1:{port}", api_token="secret", **options)
    await client.open()
    try:
        yield client, server
    finally:
        await client.close()
        listener.close()
        await listener.wait_closed()


def fixed(raw: bytes) -> Answer:
    async def answer(request: bytes) -> bytes | None:
        return raw

    return answer


OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'


async def test_requests_reuse_one_keep_alive_connection_and_carry_the_token() -> None:
    async with client_for(fixed(OK)) as (client, server):
        for _ in range(5):
            response = await client.request("POST", "/v1.0/x", body=b"[1]", content_type="a/b")
            assert (response.status, response.json()) == (200, {"a": 1})
            assert response.headers["content-type"] == "application/json"
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /v1.0/x HTTP/1.1\r\n")
    assert b"\r\ndapr-api-token: secret\r\n" in first
    assert b"\r\nContent-Length: 3\r\n" in first
    assert first.endswith(b"\r\n\r\n[1]")


async def test_concurrent_requests_each_get_their_own_connection_and_answer() -> None:
    async def echo_path(request: bytes) -> bytes:
        await asyncio.sleep(0)  # let the other requests in meanwhile
        path = request.split(b" ")[1]
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path)

    async with client_for(echo_path) as (client, server):
        answers = await asyncio.gather(*(client.request("GET", f"/item/{n}") for n in range(10)))
        assert [answer.body for answer in answers] == [f"/item/{n}".encode() for n in range(10)]
    assert 1 <= server.connections <= 10


async def test_chunked_and_close_delimited_bodies_are_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    async with client_for(fixed(chunked)) as (client, _):
        assert (await client.request("GET", "/c")).body == b"hello world"

    async with client_for(fixed(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")) as (client, server):
        server.hang_up_after_answer = True  # the end of the connection ends the body
        assert (await asyncio.wait_for(client.request("GET", "/d"), 5)).body == b"until the end"
        # That connection cannot be reused: the next request opens another.
        assert (await asyncio.wait_for(client.request("GET", "/d"), 5)).status == 200
        assert server.connections == 2


async def test_an_answer_to_head_ends_with_its_headers() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    async with client_for(fixed(head)) as (client, _):
        response = await asyncio.wait_for(client.request("HEAD", "/h"), 5)
        assert (response.status, response.body) == (200, b"")


def drop_the_second_request(served: list[bytes]) -> Answer:
    """Serve the first request, then close the connection on the next one without answering
    (as a server does that dropped an idle keep-alive connection), then serve again."""

    async def answer(request: bytes) -> bytes | None:
        if len(served) == 1:
            served.append(b"dropped")
            return None
        served.append(request.split(b" ")[1])
        return OK

    return answer


async def test_an_idempotent_request_on_a_dropped_keep_alive_connection_is_sent_again() -> None:
    served: list[bytes] = []
    async with client_for(drop_the_second_request(served)) as (client, server):
        await client.request("PUT", "/first", body=b"1")
        answer = await asyncio.wait_for(client.request("PUT", "/second", body=b"2"), 5)
        assert answer.status == 200
        assert served == [b"/first", b"dropped", b"/second"]
        assert server.connections == 2


async def test_a_post_on_a_dropped_connection_fails_rather_than_risk_running_twice() -> None:
    served: list[bytes] = []
    async with client_for(drop_the_second_request(served)) as (client, _):
        await client.request("POST", "/first", body=b"1")
        with pytest.raises(SidecarUnavailable, match="closed the connection before answering"):
            await asyncio.wait_for(client.request("POST", "/second", body=b"2"), 5)
        assert served == [b"/first", b"dropped"]


async def test_a_server_that_hangs_up_mid_answer_is_unavailable_and_not_retried() -> None:
    async def partial(request: bytes) -> bytes | None:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"

    async with client_for(partial) as (client, server):
        server.hang_up_after_answer = True
        with pytest.raises(SidecarUnavailable, match="closed the connection before answering"):
            await asyncio.wait_for(client.request("POST", "/p", body=b"x"), 5)
        assert len(server.requests) == 1


async def test_an_invalid_answer_is_a_clear_error() -> None:
    async with client_for(fixed(b"SMTP ready\r\n\r\n")) as (client, _):
        with pytest.raises(SidecarUnavailable, match="invalid HTTP response"):
            await asyncio.wait_for(client.request("GET", "/x"), 5)


async def test_a_timeout_closes_the_connection_and_the_next_request_uses_a_new_one() -> None:
    slow = True

    async def sometimes_slow(request: bytes) -> bytes:
        if slow:
            await asyncio.sleep(10)
        return OK

    async with client_for(sometimes_slow) as (client, server):
        with pytest.raises(SidecarTimeout, match=r"did not answer within 0\.2s"):
            await client.request("GET", "/slow", timeout=0.2)
        slow = False
        assert (await client.request("GET", "/fast")).status == 200
        assert server.connections == 2


async def test_line_breaks_in_headers_are_refused_before_sending() -> None:
    async with client_for(fixed(OK)) as (client, server):
        with pytest.raises(ValueError, match="line break"):
            await client.request("GET", "/x", headers={"x-evil": "a\r\nHost: other"})
    assert server.requests == []


async def test_paths_that_are_not_encoded_yet_are_encoded() -> None:
    async with client_for(fixed(OK)) as (client, server):
        await client.request("GET", "/v1.0/invoke/app/method/a b/é?q=1 2")
    assert server.requests[0].startswith(b"GET /v1.0/invoke/app/method/a%20b/%C3%A9?q=1+2 ")
