-- SPDX-License-Identifier: GPL-2.0-only
-- pgbench script of one statement, so that pgbench's per-transaction log (-l) is the latency
-- of each execution of it (tests/integration/test_conformance_pg.py).
select pg_sleep(0.01);
