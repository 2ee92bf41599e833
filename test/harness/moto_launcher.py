"""Starts moto_server on 127.0.0.1 with a fix for its signature check, and prints the bound port.

moto re-computes SigV4 signatures from werkzeug's *decoded and re-quoted* URL, so correctly signed
requests whose key or query holds characters such as ( ' ! * ü or %2B fail with
SignatureDoesNotMatch. This launcher rebuilds the URL moto verifies from the raw request line,
encoding each path segment and query component the way SigV4 canonicalises them (RFC 3986).

Usage: python3 moto_launcher.py [--host 127.0.0.1] [--port 0]
Prints "PORT <n>" on stdout once the server accepts connections.
"""

import argparse
import logging
import os
import signal
import sys
from urllib.parse import quote, unquote, urlsplit

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

UNRESERVED = "-_.~"


def canonical_path(raw_path: str) -> str:
    """Each segment decoded once, then encoded as SigV4 expects for S3 (slashes kept)."""
    return "/".join(quote(unquote(seg), safe=UNRESERVED) for seg in raw_path.split("/"))


def canonical_query(raw_query: str) -> str:
    """Each key and value decoded once and re-encoded; empty values keep their '='."""
    pairs = []
    for pair in raw_query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        pairs.append(quote(unquote(key), safe=UNRESERVED) + "=" + quote(unquote(value), safe=UNRESERVED))
    return "&".join(pairs)


_original_setup_class = BaseResponse.setup_class
_original_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action


def setup_class(self, request, full_url, headers, *args, **kwargs):
    _original_setup_class(self, request, full_url, headers, *args, **kwargs)
    environ = getattr(request, "environ", None)
    raw_uri = environ.get("RAW_URI") if environ else None
    if raw_uri:
        parts = urlsplit(raw_uri)
        query = canonical_query(parts.query)
        scheme_host = f"{urlsplit(full_url).scheme}://{urlsplit(full_url).netloc}"
        self._signed_uri = scheme_host + canonical_path(parts.path) + ("?" + query if query else "")


def authenticate(self, *args, **kwargs):
    signed_uri = getattr(self, "_signed_uri", None)
    if signed_uri is None:
        return _original_authenticate(self, *args, **kwargs)
    decoded_uri = self.uri
    self.uri = signed_uri
    try:
        return _original_authenticate(self, *args, **kwargs)
    finally:
        self.uri = decoded_uri


BaseResponse.setup_class = setup_class
ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True)
    os.environ["MOTO_PORT"] = str(server.server_port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
