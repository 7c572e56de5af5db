# Helpers shared by the benchmark scripts (sourced).

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 10 s for URL to answer 2xx.
wait_for() { for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; return 1; }

# wrk, the load generator, from Debian when it is missing.
need_wrk() { command -v wrk >/dev/null || { local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y wrk >/dev/null; }; }
