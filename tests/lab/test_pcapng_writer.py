"""pcapng output: block structure, the Decryption Secrets Block, and scapy's reader."""

from __future__ import annotations

import struct
from pathlib import Path

from scapy.utils import PcapNgReader

from toolkit.lab.framing import Frame
from toolkit.lab.pcapng_writer import DSB_TYPE, EPB_TYPE, IDB_TYPE, SECRETS_TLS_KEYLOG, SHB_TYPE, write_pcapng


def _blocks(data: bytes) -> list[tuple[int, bytes]]:
    blocks, offset = [], 0
    while offset < len(data):
        kind, length = struct.unpack_from("<II", data, offset)
        assert length % 4 == 0 and struct.unpack_from("<I", data, offset + length - 4)[0] == length
        blocks.append((kind, data[offset + 8 : offset + length - 4]))
        offset += length
    return blocks


def _write(tmp_path: Path, keylog: list[str]) -> Path:
    frames = [Frame(1_588_237_200_000_000 + i, bytes([i]) * (60 + i)) for i in range(3)]
    path = tmp_path / "x.pcapng"
    with open(path, "wb") as out:
        write_pcapng(out, frames, keylog=keylog, application="toolkit.lab test", comment="a comment")
    return path


def test_blocks_in_order_with_the_key_log(tmp_path: Path) -> None:
    keylog = ["CLIENT_RANDOM " + "ab" * 32 + " " + "cd" * 48, "CLIENT_TRAFFIC_SECRET_0 " + "01" * 32 + " " + "02" * 48]
    blocks = _blocks(_write(tmp_path, keylog).read_bytes())
    assert [kind for kind, _ in blocks] == [SHB_TYPE, IDB_TYPE, DSB_TYPE, EPB_TYPE, EPB_TYPE, EPB_TYPE]
    secrets_type, length = struct.unpack_from("<II", blocks[2][1])
    assert secrets_type == SECRETS_TLS_KEYLOG == 0x544C534B
    assert blocks[2][1][8 : 8 + length].decode().splitlines() == keylog
    assert b"toolkit.lab test" in blocks[0][1]


def test_no_dsb_without_keys(tmp_path: Path) -> None:
    assert DSB_TYPE not in [kind for kind, _ in _blocks(_write(tmp_path, []).read_bytes())]


def test_scapy_reads_the_packets(tmp_path: Path) -> None:
    with PcapNgReader(str(_write(tmp_path, ["CLIENT_RANDOM aa bb"]))) as reader:
        packets = list(reader)
    assert [len(bytes(p)) for p in packets] == [60, 61, 62]
    assert [int(p.time * 1_000_000) for p in packets] == [1_588_237_200_000_000 + i for i in range(3)]
