"""Real nginx and Icecast2 (Debian's packages) for the streaming tests, each started on a free
loopback port from the example config the repository ships in ``deploy/``, with only its
addresses, folders and passwords rewritten, and stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conformance.conftest import missing
from tests.server import free_port, stop

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "sessionhub-hls.conf"
ICECAST_CONFIG = DEPLOY / "icecast" / "icecast.xml"

# nginx needs a main config around the site file (Debian's /etc/nginx/nginx.conf does this).
NGINX_MAIN = """\
{user}
daemon off;
master_process on;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}: {log.read_text()}")


def debian_binary(name: str, path: str) -> str:
    """The program from Debian's package (``path``: where it installs it, off root's PATH)."""
    found = shutil.which(name) or (path if Path(path).exists() else None)
    if found is None:
        missing(name, f"apt-get install -y {name}")
    assert found is not None
    return found


def nginx_site(
    sessionhub_urls: list[str],
    port: int,
    root: Path,
    *,
    cache: Path | None,
    key: str | None,
    access_log: Path,
) -> str:
    """The shipped site file with the CHANGE lines set (and the cache lines on, and the
    streaming key sent, if asked)."""
    text = NGINX_SITE.read_text()
    upstreams = "\n".join(f"    server {url.removeprefix('http://')};" for url in sessionhub_urls)
    text = text.replace(
        "    server 127.0.0.1:8080;  # CHANGE: every sessionhub instance, one line each", upstreams
    )
    text = text.replace("listen 8081;", f"listen 127.0.0.1:{port};")
    text = text.replace("root streams;", f"root {root};")
    text = text.replace("access_log streams.log", f"access_log {access_log}")
    if cache is not None:
        text = text.replace("# cache: ", "").replace("/var/cache/nginx/sessionhub", str(cache))
    line = 'proxy_set_header X-Sessionhub-Key "change-me-streaming-key";'
    assert line in text
    text = text.replace(line, f'proxy_set_header X-Sessionhub-Key "{key or "no-key"}";')
    return text


@contextlib.contextmanager
def running_nginx(
    sessionhub_urls: list[str],
    root: Path,
    *,
    cache: bool = False,
    key: str | None = None,
    access_log: Path | None = None,
) -> Iterator[str]:
    """nginx from the shipped site file; its access log (the site's own) in ``access_log``
    when given."""
    binary = debian_binary("nginx", "/usr/sbin/nginx")
    folder = Path(tempfile.mkdtemp(prefix="nginx-"))
    port = free_port()
    (folder / "site.conf").write_text(
        nginx_site(
            sessionhub_urls,
            port,
            root,
            cache=folder / "cache" if cache else None,
            key=key,
            access_log=access_log or folder / "streams.log",
        )
    )
    # As root, workers run as root too, so they can read the test's files.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(NGINX_MAIN.format(folder=folder, user=user))
    log = folder / "error.log"
    process = subprocess.Popen(
        [binary, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-e", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process, "nginx", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


ICECAST_ADMIN_PASSWORD = "icecast-admin-password"
ICECAST_SOURCE_PASSWORD = "icecast-source-password"


def icecast_admin_url(port: int) -> str:
    return f"http://admin:{ICECAST_ADMIN_PASSWORD}@127.0.0.1:{port}"


@dataclass
class Icecast:
    url: str
    process: subprocess.Popen[bytes]
    logs: Path  # the folder of its console.log (start-up), error.log and access.log


@contextlib.contextmanager
def running_icecast(sessionhub_url: str, port: int, key: str) -> Iterator[Icecast]:
    """Icecast from the shipped config on ``port`` (chosen beforehand: sessionhub is told its
    admin URL, ``icecast_admin_url(port)``, before Icecast starts), sending ``key``."""
    binary = debian_binary("icecast2", "/usr/bin/icecast2")
    folder = Path(tempfile.mkdtemp(prefix="icecast-"))
    text = ICECAST_CONFIG.read_text()
    text = text.replace("http://127.0.0.1:8080", sessionhub_url)
    text = text.replace("change-me-streaming-key", key)
    text = text.replace("<port>8000</port>", f"<port>{port}</port>")
    text = text.replace("change-me-admin", ICECAST_ADMIN_PASSWORD)
    text = text.replace("change-me-source", ICECAST_SOURCE_PASSWORD)
    text = text.replace("/var/log/icecast2", str(folder))
    text = text.replace("/run/icecast2/icecast.pid", str(folder / "icecast.pid"))
    if os.geteuid() != 0:  # only root may change owner; as anyone else, stay who we are
        text = text.replace("<changeowner>", "<!--").replace("</changeowner>", "-->")
    else:  # the icecast2 user writes the logs once Icecast has dropped root
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam("icecast2")
            os.chown(folder, account.pw_uid, account.pw_gid)
    config = folder / "icecast.xml"
    config.write_text(text)
    config.chmod(0o644)
    folder.chmod(0o755)
    log = folder / "error.log"
    # what Icecast says before its log is open (config warnings) goes to its standard error
    with (folder / "console.log").open("wb") as console:
        process = subprocess.Popen([binary, "-c", str(config)], stdout=console, stderr=console)
    try:
        wait_for_port(port, process, "icecast2", log)
        yield Icecast(f"http://127.0.0.1:{port}", process, folder)
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)
