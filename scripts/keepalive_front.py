"""A keep-alive HTTP/1.1 front for moto's server, for benchmarks only.

moto's server (werkzeug) closes every connection, so a client measured
against it pays a new TCP connection and its setup on every request; in
Lambda the SDK keeps its DynamoDB connection alive. This front keeps the
client's connection open and forwards each request to moto (over a
connection of its own), so the client's CPU per request is what it would be
on a warm connection. The front's own CPU is in its own process.

    usage: python scripts/keepalive_front.py LISTEN_PORT MOTO_URL
"""

import http.client
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = urllib.parse.urlsplit(sys.argv[2])


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go as separate writes: with Nagle on, the body waits
    # for the client's (delayed) ACK of the headers, ~40 ms a request.
    disable_nagle_algorithm = True

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Front).serve_forever()
