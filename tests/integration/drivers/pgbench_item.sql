-- SPDX-License-Identifier: GPL-2.0-only
-- pgbench script of one statement with a parameter (a literal in -M simple, $1 otherwise);
-- one statement, so pgbench's per-transaction log (-l) times each execution of it.
\set id random(1, 50)
select name from items where id = :id;
