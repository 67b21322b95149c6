# SPDX-License-Identifier: Apache-2.0
"""Crash safety on both back ends: a node killed with SIGKILL in the middle of a stream of
refresh-token rotations, while API keys are being created (and some of those CLI processes are
killed too), loses nothing it acknowledged and leaves nothing half-done: every token and key a
client received is in the store, every refresh family has exactly one current token, and the
store's own consistency check passes."""
import hashlib
import json
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import BIN, Keygate, World, session_pg
from test_password_refresh import password_grant, refresh


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_kill_9_in_a_stream_of_rotations_and_key_creations(tmp_path, store):
    kg = Keygate(tmp_path / "data", db=session_pg().createdb() if store == "postgresql" else False,
                 extra=["--refresh-grace", "120"])
    world = World(kg)
    kg.cli("workspace", "create", "--tenant", "contoso", "ws")
    kg.start()
    keys = []  # every API key whose creation was acknowledged
    stop = threading.Event()

    def rotations(chain):
        t = password_grant(world).json()
        chain.append(t["refresh_token"])
        while not stop.is_set():
            try:
                r = refresh(world, chain[-1])
            except Exception:
                return  # the server is gone
            if r.status_code != 200:
                return
            chain.append(r.json()["refresh_token"])

    def creations():
        rnd = random.Random(7)
        while not stop.is_set():
            p = subprocess.Popen([BIN, "key", "create", "--tenant", "contoso", "--workspace", "ws",
                                  "--name", f"k{len(keys)}", "--role", "Reader", "--json",
                                  *kg.store_args()], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            if rnd.random() < 0.3:  # some creations die half-way
                time.sleep(rnd.random() * 0.03)
                p.send_signal(signal.SIGKILL)
            out, _ = p.communicate()
            if p.returncode == 0:
                keys.append(json.loads(out)["id"])

    chains = [[] for _ in range(3)]  # every refresh token each client was given, in order
    threads = [threading.Thread(target=rotations, args=(c,)) for c in chains]
    threads.append(threading.Thread(target=creations))
    for t in threads:
        t.start()
    time.sleep(2.5)
    kg.proc.send_signal(signal.SIGKILL)  # mid-stream: requests are in flight
    kg.proc.wait()
    kg.log.close()
    kg.proc = None
    stop.set()
    for t in threads:
        t.join()
    assert sum(len(c) for c in chains) > 10 and keys, "the stream did not run"

    kg.start()  # at once: a token whose rotation was committed but never delivered is still in
    # its grace period, so each client carries on from the last token it received
    for chain in chains:
        r = refresh(world, chain[-1])
        assert r.status_code == 200, r.text
    assert kg.get("/readyz").status_code == 200

    kg.integrity_check()
    for chain in chains:
        for rt in chain:  # every refresh token a client received was recorded
            h = hashlib.sha256(rt.encode()).hexdigest()
            assert kg.sql(f"select count(*) from refresh_tokens where hash = '{h}'").strip() == "1"
    # no family is half-rotated: exactly one current token each, and every used one carries the
    # response that replaced it
    rows = kg.sql("select family_id, count(*) from refresh_tokens where used_at = 0 "
                  "group by family_id").split()
    assert len(rows) == len(chains) and all(r.endswith("|1") for r in rows), rows
    assert kg.sql("select count(*) from refresh_tokens where used_at <> 0 and grace is null"
                  ).strip() == "0"
    listed = {k["id"] for k in kg.cli("key", "list", "--tenant", "contoso")}
    assert set(keys) <= listed, "an acknowledged key creation was lost"
