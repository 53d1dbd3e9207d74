#!/usr/bin/env python3
"""Healing time and CPU of an HA replica's outage (deploy/README.md, "Healing gaps").

Two release `argus` replicas scrape node_exporter and a test exporter with N series every
SCRAPE; replica B is SIGKILLed for OUTAGE seconds and restarted. Prints B's backfill log
lines, B's wall time and CPU from exec to ready, A's extra CPU while serving the remote
reads, and whether both answer the outage window with the same raw samples.

    cargo build --release -p argus-server
    scripts/ha-heal-bench.py [SCRAPE=1s] [OUTAGE=60] [SERIES=10000]

Ports 29090-29101 on 127.0.0.1; work files in /tmp/argus-ha-bench.
"""
import sys

if len(sys.argv) > 1 and sys.argv[1] == "exporter":
    sys.argv = sys.argv[1:]
    # A test exporter with N gauge series whose values change on every scrape.
    import http.server, random, sys
    N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    port = int(sys.argv[1])
    names = [f'bench_metric_{i // 100}{{shard="{i % 100}",pod="p{i % 7}"}}' for i in range(N)]
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = "\n".join(f"{n} {random.random():.6f}" for n in names) + "\n"
            b = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)
        def log_message(self, *a):
            pass
    http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
    raise SystemExit(0)

# Healing time and CPU of a 60 s outage: two release argus replicas scrape node_exporter and
# a 10k-series test exporter every SCRAPE seconds; B is SIGKILLed for OUTAGE s and restarted.
import os, re, subprocess, sys, time, urllib.request, json, shutil, signal
BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "argus")
SCRAPE = sys.argv[1] if len(sys.argv) > 1 else "1s"
OUTAGE = int(sys.argv[2]) if len(sys.argv) > 2 else 60
W = "/tmp/argus-ha-bench"
SERIES = sys.argv[3] if len(sys.argv) > 3 else "10000"
shutil.rmtree(W, ignore_errors=True); os.makedirs(W)
procs = []
def spawn(args, log):
    p = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    procs.append(p); return p
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def ready(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1).status == 200
    except Exception:
        return False
def q(port, expr):
    d = urllib.parse.urlencode({"query": expr}).encode()
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query", d))["data"]["result"]
import urllib.parse
spawn(["/usr/bin/prometheus-node-exporter", "--web.listen-address=127.0.0.1:29100"], f"{W}/ne.log")
spawn([sys.executable, os.path.abspath(__file__), "exporter", "29101", SERIES], f"{W}/ex.log")
open(f"{W}/cfg.yml", "w").write(f"""global:
  scrape_interval: {SCRAPE}
scrape_configs:
- job_name: node
  static_configs: [{{targets: ['127.0.0.1:29100']}}]
- job_name: bench
  static_configs: [{{targets: ['127.0.0.1:29101']}}]
""")
common = [f"--config.file={W}/cfg.yml", "--adapter.listen-address=", "--cluster.peer=127.0.0.1:29094", "--cluster.peer=127.0.0.1:29095", "--cluster.backfill.timeout=2m"]
def start(name, web, cl):
    return spawn([BIN, f"--storage.tsdb.path={W}/{name}", f"--web.listen-address=127.0.0.1:{web}", f"--cluster.listen-address=127.0.0.1:{cl}", f"--cluster.replica-name={name}"] + common, f"{W}/{name}.log")
try:
  a = start("a", 29090, 29094); b = start("b", 29091, 29095)
  while not (ready(29090) and ready(29091)): time.sleep(0.2)
  time.sleep(20)
  print("series on A:", q(29090, "count({__name__=~'.+'})")[0]["value"][1])
  b.kill(); b.wait(); t_kill = time.time()
  time.sleep(OUTAGE)
  a_cpu0, t0 = cpu(a.pid), time.time()
  b = start("b", 29091, 29095)
  t_start = time.time()
  while not ready(29091): time.sleep(0.05)
  t_ready = time.time(); b_cpu = cpu(b.pid)
  a_cpu1, t1 = cpu(a.pid), time.time()
  log = re.sub(r"\x1b\[[0-9;]*m", "", open(f"{W}/b.log").read())
  for l in log.splitlines():
      if "Backfilled" in l or "Start-up backfill" in l or "WAL replay completed" in l:
          print(l)
  time.sleep(10)
  a_cpu2, t2 = cpu(a.pid), time.time()
  steady = (a_cpu2 - a_cpu1) / (t2 - t1)
  print(f"outage {OUTAGE}s at scrape interval {SCRAPE}")
  print(f"B: exec -> ready {t_ready - t_start:.2f}s wall, {b_cpu:.2f}s CPU (WAL replay + backfill + start-up)")
  print(f"A: {a_cpu1 - a_cpu0:.2f}s CPU during B's start ({t1 - t0:.2f}s); steady {steady:.3f} CPU-s/s -> extra {(a_cpu1 - a_cpu0) - steady * (t1 - t0):.2f}s")
  # Compare a window inside the outage.
  end = t_start - 1; rng = int((end - t_kill - 3) * 1000)
  def raw(port):
      d = urllib.parse.urlencode({"query": f"{{job=~'bench|node'}}[{rng}ms]", "time": f"{end:.3f}"}).encode()
      r = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query", d))["data"]["result"]
      return sorted((json.dumps(x["metric"], sort_keys=True), x["values"]) for x in r)
  ra, rb = raw(29090), raw(29091)
  print("outage window identical on both:", ra == rb, "series", len(ra), "samples", sum(len(v) for _, v in ra))
finally:
  for p in procs:
      try: p.send_signal(signal.SIGKILL)
      except Exception: pass
