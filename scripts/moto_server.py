"""moto's server, with DynamoDB requests handled one at a time.

DynamoDB applies a conditional write atomically: two concurrent writes
conditioned on the same item never both pass. moto's threaded server checks a
condition and then writes, without a lock, so under concurrency two
conditional writes can both pass (seen as a rare second group from twenty
concurrent creates under one Idempotency-Key, and a lane granting more than
its burst). The tests exercise exactly those guarantees, so this runs moto's
own WSGI app with one lock around DynamoDB requests; every other service stays
concurrent (an SQS long poll must not hold DynamoDB up).

    usage: python scripts/moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()


def serve(environ, start_response):
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target.startswith("DynamoDB_"):
        return app(environ, start_response)
    with dynamodb:
        # The whole answer inside the lock: the write and its reply are one step.
        return list(app(environ, start_response))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    run_simple(
        args.host,
        args.port,
        serve,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
