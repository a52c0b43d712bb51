#!/bin/sh
# Re-creates legacy.pcap + legacy.keylog + legacy.tshark.tsv + legacy.tshark.json: one HTTP/1.0 GET per TLS version / cipher
# suite below, between `openssl s_server -WWW` and `openssl s_client -keylogfile` on loopback, recorded
# with tcpdump; then what TShark decrypts from them. Needs root (tcpdump), openssl 3 with the legacy
# provider (SEED), tshark. Run from this folder: sh make_capture.sh
set -e
here=$(pwd)
work=$(mktemp -d)
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 3650 -subj /CN=legacy.test 2>/dev/null
mkdir www
tcpdump -i lo -w legacy.pcap -U 'tcp portrange 44301-44320' 2>/dev/null & dump=$!
sleep 1
port=44301
while read -r ver cipher size; do
  # the response: a file whose text names the case, repeated to `size` bytes (several records when large)
  python3 -c "import sys; line = f'case {sys.argv[1]} {sys.argv[2]} {sys.argv[3]}\n'; sys.stdout.write((line * (int(sys.argv[4]) // len(line) + 1))[: int(sys.argv[4])])" "$port" "$ver" "$cipher" "$size" > "www/case-$port.txt"
  (cd www && exec openssl s_server -provider legacy -provider default -accept "$port" -cert ../cert.pem -key ../key.pem \
      "$ver" -cipher "$cipher:@SECLEVEL=0" -WWW -naccept 1 >/dev/null 2>&1) & server=$!
  sleep 0.5
  printf 'GET /case-%s.txt HTTP/1.0\r\nHost: legacy.test\r\nUser-Agent: legacy-case/%s\r\n\r\n' "$port" "$cipher" |
    openssl s_client -provider legacy -provider default -connect "127.0.0.1:$port" "$ver" -cipher "$cipher:@SECLEVEL=0" \
      -keylogfile legacy.keylog -ign_eof -quiet >/dev/null 2>&1 || true
  wait "$server" || true
  port=$((port + 1))
done <<CASES
-tls1 AES128-SHA 20000
-tls1_1 AES256-SHA 20000
-tls1 CAMELLIA256-SHA 3000
-tls1_2 CAMELLIA128-SHA256 3000
-tls1_2 SEED-SHA 3000
-tls1 SEED-SHA 3000
-tls1_2 DHE-RSA-CAMELLIA256-SHA256 3000
-tls1_2 NULL-SHA256 1000
-tls1_2 ARIA128-GCM-SHA256 1000
CASES
sleep 1
kill "$dump"; wait "$dump" || true
tshark -r legacy.pcap -o tls.keylog_file:legacy.keylog -d tcp.port==44301-44320,tls -Y http -T fields \
  -E header=y -E separator=/t -e tcp.stream -e http.request.method -e http.request.uri -e http.user_agent \
  -e http.response.code -e http.file_data > legacy.tshark.tsv 2>/dev/null
python3 "$here/tshark_plaintext.py" legacy.pcap legacy.keylog 9 > legacy.tshark.json
cp legacy.pcap legacy.keylog legacy.tshark.tsv legacy.tshark.json "$here/"
rm -rf "$work"
