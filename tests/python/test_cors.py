"""CORS as a browser sees it, header by header: preflight and answers, for any origin by default
and for a configured list."""

import urllib.request

from conftest import Tegata


def request(url, method="GET", headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(req) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}


def preflight(url, origin):
    return request(url + "/", "OPTIONS", {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id",
    })


def test_any_origin_by_default(tegata):
    status, headers = preflight(tegata.url, "https://app.example.com")
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    assert "x-amz-target" in headers["access-control-allow-headers"].lower()
    for path in ("/.well-known/openid-configuration", "/.well-known/jwks_uri"):
        status, headers = request(tegata.url + path, headers={"Origin": "https://app.example.com"})
        assert status == 200
        assert headers["access-control-allow-origin"] == "*"
    # The SDKs read the request id of answers, errors included.
    _, headers = request(tegata.url + "/.well-known/jwks_uri", headers={"Origin": "https://x.example"})
    assert "x-amzn-requestid" in headers["access-control-expose-headers"].lower()


def test_configured_origins_only(tmp_path):
    server = Tegata(tmp_path / "data", ["--cors-allowed-origins", "https://app.example.com, http://localhost:5173"])
    try:
        for origin in ("https://app.example.com", "http://localhost:5173"):
            _, headers = preflight(server.url, origin)
            assert headers["access-control-allow-origin"] == origin
            assert "origin" in headers.get("vary", "").lower()
        _, headers = preflight(server.url, "https://evil.example")
        assert "access-control-allow-origin" not in headers
        _, headers = request(server.url + "/.well-known/jwks_uri", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in headers
    finally:
        server.stop()


def test_a_bad_origin_list_stops_the_server_with_a_clear_message(tmp_path):
    import subprocess
    import os
    binary = os.environ.get("TEGATA_BIN")
    result = subprocess.run(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
         "--cors-allowed-origins", "app.example.com"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert "cors_allowed_origins" in result.stderr and "app.example.com" in result.stderr
