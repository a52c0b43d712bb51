"""Writes tlslite.pcap + tlslite.keylog: 3DES-EDE-CBC and RC4 connections, which the OpenSSL 3 of
make_capture.sh cannot negotiate, between a tlslite-ng 0.8.2 client and server (pure-Python TLS) on
loopback. Run as root in a venv with tlslite-ng, beside tcpdump:

    tcpdump -i lo -U -w tlslite.pcap "tcp portrange 44321-44330" &
    python tlslite_capture.py cert.pem key.pem tlslite.keylog

then `python3 tshark_plaintext.py tlslite.pcap tlslite.keylog 5 44321-44330 > tlslite.tshark.json`.
tlslite-ng writes no key log itself: the NSS line is made from the client session's master secret.
"""

import socket
import sys
import threading


def main() -> None:
    from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

    cert = X509CertChain()
    with open(sys.argv[1]) as handle:
        cert.parsePemList(handle.read())
    with open(sys.argv[2]) as handle:
        key = parsePEMKey(handle.read(), private=True)
    keylog = open(sys.argv[3], "w")  # noqa: SIM115 (written line by line, closed at exit)
    cases = [
        ((3, 1), "3des", "sha"),
        ((3, 3), "3des", "sha"),
        ((3, 1), "rc4", "sha"),
        ((3, 2), "rc4", "md5"),
        ((3, 2), "3des", "sha"),
    ]
    port = 44321
    for version, cipher, mac in cases:
        settings = HandshakeSettings()
        settings.minVersion = settings.maxVersion = version
        settings.cipherNames = [cipher]
        settings.macNames = [mac]
        settings.keyExchangeNames = ["rsa"]
        settings.useEncryptThenMAC = False
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        body = f"case {port} {version} {cipher} {mac}\n".encode() * 300

        def serve(listener=listener, settings=settings, body=body):
            sock, _ = listener.accept()
            conn = TLSConnection(sock)
            conn.handshakeServer(certChain=cert, privateKey=key, settings=settings)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            conn.close()

        thread = threading.Thread(target=serve)
        thread.start()
        client = TLSConnection(socket.create_connection(("127.0.0.1", port)))
        client.handshakeClientCert(settings=settings)
        keylog.write(f"CLIENT_RANDOM {client._clientRandom.hex()} {bytes(client.session.masterSecret).hex()}\n")
        keylog.flush()
        client.write(
            f"GET /case-{port}.txt HTTP/1.0\r\nHost: legacy.test\r\n"
            f"User-Agent: tlslite-case/{cipher}-{mac}\r\n\r\n".encode()
        )
        got = b""
        while True:
            data = client.recv(65536)
            if not data:
                break
            got += data
        client.close()
        thread.join()
        listener.close()
        print(port, version, cipher, mac, len(got), client.getCipherName(), client.version)
        port += 1


if __name__ == "__main__":
    main()
