"""``musicvae-tf serve``: the local web studio (sample, interpolate, inpaint in the browser)."""

from __future__ import annotations

import argparse

HELP = ("a local web studio: sample, interpolate and inpaint in the browser, play the results and "
        "download them as MIDI")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``serve``."""
    parser.add_argument("--model", nargs="+", metavar="NAME_OR_DIR", default=None,
                        help="models to offer: run dirs, .keras files or shipped names (default: "
                        "folk-mel_2bar folk-hierdec-mel_16bar folk-inpaint)")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")


def run(args: argparse.Namespace) -> int:
    """Check the model names and bind the port (mistakes fail before the models load), load, serve."""
    import socket

    import uvicorn

    from musicvae_tf.pretrained import resolve_model
    from musicvae_tf.studio.app import create_app
    from musicvae_tf.studio.service import DEFAULT_MODELS, Studio

    names = args.model or DEFAULT_MODELS
    for name in names:
        resolve_model(name)  # a misspelt model fails now, not after the others have loaded
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    studio = Studio.load(names)
    for model in studio.models.values():
        uses = [use for use, able in (("sample, interpolate", model.trained), (
            f"inpaint ({model.describe()['inpaint_method']})", model.inpainter)) if able is not None]
        print(f"loaded {model.name}: {model.data_config.num_bars}-bar {model.config.family}, {', '.join(uses)}")
    loopback = args.host in _LOOPBACK
    app = create_app(studio, allowed_hosts=["127.0.0.1", "localhost", "::1"] if loopback else None)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"studio at http://{host}:{args.port}/ (Ctrl-C stops it)")
    if not loopback:
        print(f"note: listening on {args.host}, so other machines can reach this studio")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
    return 0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port must lie in 1..65535, got {value}")
    return value
