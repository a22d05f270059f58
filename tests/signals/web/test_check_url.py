import asyncio

import httpx

from artlineage.signals.web import check_url


def _site(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/robots.txt":
        return httpx.Response(200, text="User-agent: GPTBot\nDisallow: /\n")
    if request.url.path in ("/.well-known/tdmrep.json", "/ai.txt"):
        return httpx.Response(404)
    return httpx.Response(200, headers={"content-type": "image/png", "x-robots-tag": "noai"})


async def _resolver(host, port):
    return ["93.184.216.34"]


def _check() -> object:
    return check_url("http://art.test/a.png", transport=httpx.MockTransport(_site), resolver=_resolver, retries=0)


def _summary(result) -> tuple:
    return sorted((e.reader, e.field, e.value) for e in result.evidence)


def test_check_url_gives_the_same_answer_inside_a_running_event_loop():
    outside = _check()

    async def notebook_cell():  # Jupyter runs cells inside a running loop
        asyncio.get_running_loop()
        return _check()

    inside = asyncio.run(notebook_cell())
    expected = [("robots", "User-agent: gptbot", "Disallow: /"), ("x-robots-tag", "X-Robots-Tag", "noai")]
    assert _summary(outside) == expected
    assert _summary(inside) == expected
