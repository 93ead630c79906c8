"""The test server listens on the loopback address only."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.labelstudio


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, from the kernel's tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def test_label_studio_binds_127_0_0_1_only(label_studio):
    addresses = listening_addresses(label_studio.server.port)
    assert addresses == {"0100007F"}, addresses  # 127.0.0.1 in the kernel's byte order, nothing else
